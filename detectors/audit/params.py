"""Parameters of the ``audit.*`` detectors (interpreted: see detectors/access/params.py)."""

from __future__ import annotations

from detectors.base import DetectorParams, param


class MonitoringDisabledParams(DetectorParams):
    """``audit.monitoring_disabled``."""

    score: float = param(90.0, "score of an alert", unit="points", ge=0, le=100)
    settings_words: tuple[str, ...] = param(
        ("audit", "monitor", "logging", "log_level", "siem"),
        "words in a setting's name that make it a monitoring setting",
    )
    down_values: tuple[str, ...] = param(
        ("off", "false", "0", "no", "none", "disabled", "disable", "minimal", "min",
         "low", "errors_only", "error", "critical", "stopped", "paused", "suspended"),
        "values that turn monitoring off or down",
    )  # fmt: skip
