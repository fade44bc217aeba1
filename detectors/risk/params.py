"""Parameters of the ``risk.*`` detectors (interpreted: see detectors/access/params.py)."""

from __future__ import annotations

from detectors.base import DetectorParams, param


class RiskAccumulationParams(DetectorParams):
    """``risk.accumulation``."""

    inputs: tuple[str, ...] | None = param(
        None,
        "ids of the detectors whose findings add to the risk; unset: every detector declaring "
        "feeds_risk; ['*']: every detector reading activity except risk.*",
    )
    half_life_days: float = param(14.0, "half-life of a concern's weight", unit="days", gt=0)
    threshold: float = param(30.0, "decayed risk that raises", unit="risk", quieter="up")
    min_findings: int = param(2, "fewest findings among the concerns", unit="findings")
    min_categories: int = param(2, "fewest categories of findings (or min_detectors)",
                                unit="categories")  # fmt: skip
    min_detectors: int = param(3, "fewest detectors behind the findings (or min_categories)",
                               unit="detectors")  # fmt: skip
    min_days: int = param(2, "fewest distinct days of the concerns", unit="days")
    step: float = param(20.0, "risk rise since the last alert that raises again", unit="risk")
    weak_weight: float = param(8.0, "weight of a weak signal (off-duty episode below the "
                               "line, export without purpose)", unit="risk")  # fmt: skip
    export_channels: tuple[str, ...] = param(
        ("usb", "email", "download"), "channels of an export that is a weak signal"
    )
    cap: float = param(
        24.0, "most risk one source adds while its concerns last (a detector, or a built-in "
        "weak signal): one chatty feed cannot reach the line alone", unit="risk", gt=0,
    )
    caps: tuple[tuple[str, float], ...] = param(
        (), "caps of single sources instead of cap, e.g. [['insider.unusual_logon', 16]]",
        unit="risk",
    )
    agreement_min: int = param(
        3, "fewest independent sources (each its own detector family and its own system) "
        "for the agreement bonus", unit="sources", ge=2,
    )
    agreement_bonus: float = param(
        0.1, "bonus per independent source beyond the first, as a share of the risk, once "
        "agreement_min agree", unit="share", ge=0,
    )
    weights: tuple[tuple[str, float], ...] = param(
        (("low", 5.0), ("medium", 15.0), ("high", 30.0), ("critical", 50.0)),
        "weight of a finding by severity", unit="risk",
    )
