"""Robust baselines (median, MAD) and what leaves the force: helpers of the volume detectors and
risk."""

from __future__ import annotations

import bisect
import math
import statistics
from itertools import pairwise
from typing import Any

from models.events import Event, ExportAttrs, FileCopiedAttrs, WebAttrs

MAD_TO_SD = 1.4826


def robust(values: list[float]) -> tuple[float, float]:
    """Median and MAD scaled to a standard deviation.

    >>> robust([10, 12, 11, 13, 50])
    (12, 1.4826)
    """
    med = statistics.median(values)
    mad = statistics.median(abs(v - med) for v in values)
    return med, mad * MAD_TO_SD


def robust_sorted(ranked: list[float]) -> tuple[float, float]:
    """:func:`robust` of values already sorted, without sorting (a role's peers, hundreds of
    shifts, asked at every shift start): the deviations below the median and those above it
    are two sorted runs, and the middle of both together is found by bisection.

    >>> robust_sorted([10.0, 11.0, 12.0, 13.0, 50.0])
    (12.0, 1.4826)
    """
    n = len(ranked)
    half = n // 2
    med = ranked[half] if n % 2 else (ranked[half - 1] + ranked[half]) / 2
    below = bisect.bisect_left(ranked, med)  # ranked[:below] < med <= ranked[below:]
    above = n - below

    def low(i: int) -> float:  # the i-th smallest deviation of the values below the median
        return med - ranked[below - 1 - i]  # == abs(v - med): IEEE rounding is symmetric

    def high(j: int) -> float:  # the j-th smallest deviation of the others
        return ranked[below + j] - med

    def kth(k: int) -> float:  # the k-th smallest deviation (0-based): i from low, k+1-i high
        lo, hi = max(0, k + 1 - above), min(k + 1, below)
        while lo < hi:
            i = (lo + hi) // 2
            if low(i) < high(k - i):
                lo = i + 1
            else:
                hi = i
        j = k + 1 - lo
        return max(low(lo - 1) if lo else -math.inf, high(j - 1) if j else -math.inf)

    mad = kth(half) if n % 2 else (kth(half - 1) + kth(half)) / 2
    return med, mad * MAD_TO_SD


def in_order(recent: list[list[Any]], hours: dict[str, int]) -> int:
    """1 when look-ups are kept in event-time order and hours in ascending order, else 0."""
    times = [e[0] for e in recent]
    keys = [int(k) for k in hours]
    return int(times == sorted(times) and all(a < b for a, b in pairwise(keys)))


def leaving(event: Event, channels: tuple[str, ...]) -> tuple[str, int | None] | None:
    """If the event sends data out of force systems: (how, record count if known)."""
    a = event.attrs
    if isinstance(a, ExportAttrs) and event.kind == "record.export":
        if (a.channel or "").casefold() in channels:
            return f"{a.channel} export{' to ' + a.destination if a.destination else ''}", a.count
        return None
    if isinstance(a, FileCopiedAttrs) and (a.destination or "") in ("removable", "cloud"):
        return f"file copied to {a.destination}", None
    if isinstance(a, WebAttrs) and a.action == "upload":
        return f"upload to {a.domain or a.url or 'the web'}", None
    return None
