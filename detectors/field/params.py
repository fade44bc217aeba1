"""Parameters of the ``field.*`` detectors (interpreted: see detectors/access/params.py)."""

from __future__ import annotations

from detectors.base import DetectorParams, param


class RepeatStopParams(DetectorParams):
    """``field.repeat_stop``."""

    min_stops: int = param(
        3, "stops of one person in the window that raise", unit="stops", quieter="up"
    )
    window_days: float = param(60.0, "window of stops judged together", unit="days")
    score: float = param(65.0, "score of an alert", unit="points", ge=0, le=100)


class NoBodyWornVideoParams(DetectorParams):
    """``field.no_bwv``."""

    before_min: float = param(30.0, "an activation this long before an encounter covers it",
                              unit="min")  # fmt: skip
    after_min: float = param(15.0, "and this long after its duration", unit="min")
    window_days: float = param(30.0, "window of stops without video for the repeat",
                               unit="days")  # fmt: skip
    repeat_min: int = param(3, "stops without video in the window that raise again",
                            unit="stops", quieter="up")  # fmt: skip
    judge_missing_flag: bool = param(False, "judge encounters whose record says nothing of video")
    usual_share: float = param(0.8, "share of covered encounters that makes video usual",
                               ge=0, le=1)  # fmt: skip
    common_share: float = param(0.15, "share of officers without video that makes it common",
                                ge=0, le=1)  # fmt: skip
    common_min: int = param(50, "officers known before the force-wide share applies",
                            unit="officers")  # fmt: skip
    score: float = param(55.0, "base score of an alert", unit="points", ge=0, le=100)


class BwvDeletedParams(DetectorParams):
    """``field.bwv_deleted``."""

    lookback_days: float = param(90.0, "encounters this far back make footage the officer's",
                                 unit="days")  # fmt: skip
    recent_h: float = param(72.0, "a deletion this soon after the officer's encounter",
                            unit="h", quieter="down")  # fmt: skip
    score: float = param(85.0, "score of an alert", unit="points", ge=0, le=100)
    exempt_roles: tuple[str, ...] = param(
        ("system", "service", "retention", "digital_evidence"),
        "role words whose staff delete footage as their job",
    )
