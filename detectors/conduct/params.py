"""Parameters of the ``conduct.*`` detectors (interpreted: see detectors/access/params.py)."""

from __future__ import annotations

from detectors.base import DetectorParams, param

DEFAULT_WEIGHTS: tuple[tuple[str, float], ...] = (
    ("sexual_misconduct", 3.0),
    ("abuse_of_position", 3.0),
    ("discrimination", 3.0),
    ("use_of_force", 2.0),
    ("corruption", 3.0),
    ("incivility", 1.0),
    ("other", 1.0),
)


class ComplaintPatternParams(DetectorParams):
    """``conduct.complaint_pattern``."""

    window_days: int = param(365, "window of complaints judged together", unit="days")
    min_count: int = param(2, "fewest complaints in the window", unit="complaints")
    threshold: float = param(5.0, "weight of the window's complaints that raises",
                             unit="weight", quieter="up")  # fmt: skip
    # pairs by default (immutable); settings may give a JSON object
    weights: tuple[tuple[str, float], ...] | dict[str, float] = param(
        DEFAULT_WEIGHTS, "weight of a complaint by category", unit="weight"
    )
    default_weight: float = param(1.0, "weight of a category not in weights", unit="weight")


class DiscriminationNotReferredParams(DetectorParams):
    """``conduct.discrimination_not_referred``."""

    refer_days: int = param(
        10, "days to refer a discrimination complaint", unit="days", quieter="up"
    )
    categories: tuple[str, ...] = param(
        ("discrimination",), "complaint categories that must be referred"
    )
    body: str = param("iopc", "the body a referral must name")
    score: float = param(65.0, "score of an alert", unit="points", ge=0, le=100)


class DiscriminatoryMessageParams(DetectorParams):
    """``conduct.discriminatory_message``."""

    lexicon_path: str = param("", "a force's own lexicon (TOML); empty: the built-in one")
    min_score: float = param(3.0, "lexicon weight of the words a message uses that raises",
                             unit="weight", quieter="up")  # fmt: skip
