"""Event-time helpers: epoch seconds (memoised per event time) and texts for explanations."""

from __future__ import annotations

from datetime import UTC, datetime

MIN = 60.0
HOUR = 3600.0
DAY = 86400.0


def spread_score(score: float, span_s: float, full_s: float, per_day: float,
                 floor: float = 0.0) -> float:  # fmt: skip
    """``score`` for acts spread over ``span_s`` seconds: whole within ``full_s``, then
    ``per_day`` points less per day beyond, never under ``floor``. A long window then sees
    slow behaviour without ranking it with the same behaviour done at once.

    >>> spread_score(85.0, 2 * DAY, 3 * DAY, 3.0), spread_score(85.0, 7 * DAY, 3 * DAY, 3.0)
    (85.0, 73.0)
    """
    late = max(0.0, span_s - full_s) / DAY
    return max(floor, score - per_day * late)


_EPOCH_MEMO: tuple[datetime | None, float] = (None, 0.0)


def epoch(t: datetime) -> float:
    """Epoch seconds of ``t``. Several detectors ask it of the same event time in a row:
    the last answer is kept (one tuple, replaced whole) and reused for the same object."""
    global _EPOCH_MEMO
    memo = _EPOCH_MEMO
    if memo[0] is t:
        return memo[1]
    seconds = t.timestamp()
    _EPOCH_MEMO = (t, seconds)
    return seconds


def at(seconds: float) -> str:
    """Epoch seconds as an RFC 3339 text for explanations."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M")


def when(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%d %H:%M")
