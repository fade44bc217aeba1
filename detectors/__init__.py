"""Integrity-risk detectors: pure classes from (event, state view) to findings. No I/O."""
