"""Reference state, versioned by event time (facts, the state, the view detectors read)."""
