"""What ``probity detectors`` prints: every detector's contract and parameters."""
