"""Imports every built-in detector module so each registers itself. Add new modules here."""

from detectors import access, audit  # noqa: F401
