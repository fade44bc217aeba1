"""Event-time helpers: epoch seconds (memoised per event time) and texts for explanations."""

from __future__ import annotations

from datetime import UTC, datetime

MIN = 60.0
HOUR = 3600.0
DAY = 86400.0



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
