"""Risk accumulation over other detectors' findings (ids ``risk.*``)."""
