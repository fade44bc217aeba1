"""Parameters of the ``vetting.*`` detectors (interpreted: see detectors/access/params.py)."""

from __future__ import annotations

from detectors.base import DetectorParams, param


class BarredMatchParams(DetectorParams):
    """``vetting.barred_match``."""

    barred_score: float = param(92.0, "score of a barred-list match", unit="points",
                                ge=0, le=100)  # fmt: skip
    advisory_score: float = param(70.0, "score of an advisory-list match", unit="points",
                                  ge=0, le=100)  # fmt: skip
    min_similarity: float = param(0.8, "least name similarity (Jaro-Winkler) that matches",
                                  ge=0, le=1, fewer=0.9, more=0.75)  # fmt: skip
    day_month_swap: bool = param(True, "match a date of birth with day and month swapped")
    swap_min_similarity: float = param(0.95, "least name similarity when the date is swapped",
                                       ge=0, le=1)  # fmt: skip


class LapsedAccessParams(DetectorParams):
    """``vetting.lapsed_access``."""

    withdrawn_score: float = param(85.0, "score when vetting was withdrawn", unit="points",
                                   ge=0, le=100)  # fmt: skip
    expired_score: float = param(65.0, "score when vetting expired", unit="points",
                                 ge=0, le=100)  # fmt: skip
    missing_score: float = param(55.0, "score when no vetting is on record", unit="points",
                                 ge=0, le=100)  # fmt: skip
    alert_on_missing: bool = param(True, "raise for staff with no vetting on record", fewer=False)


class VettingExpiringParams(DetectorParams):
    """``vetting.expiring``."""

    within_days: int = param(
        60, "remind this long before vetting expires", unit="days", quieter="down"
    )
    score: float = param(20.0, "score of a reminder", unit="points", ge=0, le=100)


class ReviewOverdueParams(DetectorParams):
    """``vetting.review_overdue``."""

    review_days: int = param(28, "days after a misconduct outcome to review vetting",
                             unit="days", quieter="up")  # fmt: skip
    score: float = param(60.0, "score of an alert", unit="points", ge=0, le=100)
