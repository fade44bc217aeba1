"""Imports every built-in detector module so each registers itself. Add new modules here."""

from detectors import access, audit  # noqa: F401
from detectors import association  # noqa: F401
from detectors import conduct, messages, vetting  # noqa: F401  (issue 4)
from detectors import field, lookups, offduty, risk, volume  # noqa: F401  (issue 3: misuse)
