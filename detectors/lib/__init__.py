"""Helpers detectors share (time, per-subject books, purpose, name and lexicon matchers).
Pure functions and small classes: no detectors here."""
