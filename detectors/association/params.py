"""Parameters of the ``association.*`` detectors (interpreted: see detectors/access/params.py
for why the models are kept apart from the compiled detector modules)."""

from __future__ import annotations

from detectors.base import DetectorParams, param


class OcgPathParams(DetectorParams):
    """``association.ocg_path``."""

    hops: int = param(3, "longest path from a member of staff to an OCG target", unit="links",
                      ge=1, fewer=2, more=4)  # fmt: skip
    score: float = param(90.0, "score of a direct path", unit="points", ge=0, le=100)
    score_step: float = param(10.0, "score less per link beyond the first", unit="points")


class NominalContactParams(DetectorParams):
    """``association.nominal_contact``."""

    score: float = param(85.0, "score of an alert", unit="points", ge=0, le=100)
    window_h: float = param(168.0, "later calls to the same nominal within this are counted",
                            unit="h", quieter="up")  # fmt: skip
    max_persons: int = param(8, "a number on record for more people is shared, not own",
                             unit="people")  # fmt: skip


class ConvergenceParams(DetectorParams):
    """``association.convergence``."""

    min_officers: int = param(3, "distinct untasked officers in the window that raise",
                              unit="officers", fewer=4, more=2)  # fmt: skip
    window_h: float = param(336.0, "window of look-ups of one group", unit="h")
    score: float = param(75.0, "score of an alert", unit="points", ge=0, le=100)
    full_h: float = param(48.0, "look-ups within this long keep the full score", unit="h")
    fall_per_day: float = param(2.0, "score less per day the look-ups take beyond full_h",
                                unit="points", ge=0)  # fmt: skip


class DeclaredLinkedParams(DetectorParams):
    """``association.declared_linked``."""

    hops: int = param(2, "longest path from the declared associate to an OCG target",
                      unit="links", ge=1, fewer=1, more=3)  # fmt: skip
    score: float = param(60.0, "score of an alert", unit="points", ge=0, le=100)
