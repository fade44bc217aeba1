"""Imports every built-in detector module so each registers itself. Add new modules here."""

from detectors import (  # noqa: F401  # noqa: F401  (issue 4)  # noqa: F401  (issue 3: misuse)
    access,
    association,
    audit,
    conduct,
    field,
    lookups,
    messages,
    offduty,
    risk,
    vetting,
    volume,
)
