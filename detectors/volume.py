"""How many look-ups, and where the data went: volume against baselines, bursts then exports.

Baselines are robust (median and MAD) over the officer's own history, with a warm-up gate so
a new starter or a quiet week does not alarm. Control-room staff look up hundreds of records
a shift; what matters is a shift far above *their own* norm and above their role's.
"""

from __future__ import annotations

import bisect
import math
import statistics
from collections import deque
from itertools import pairwise
from typing import Any

from detectors.base import Detector, StateView
from detectors.common import plural
from detectors.purpose import LOOKUP_KINDS, at, epoch, role_of, when
from detectors.registry import register
from models.alerts import Category, Finding
from models.events import Event, ExportAttrs, FileCopiedAttrs, WebAttrs

HOUR = 3600.0
DAY = 86400.0
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


@register
class VolumeAnomaly(Detector):
    """Look-ups in one shift far above the officer's own baseline and their role peers'.

    A shift is the rostered shift covering the look-up (``tolerance_min`` either side), else
    the calendar day. The baseline is the median and MAD of the officer's last
    ``history_shifts`` shifts; no alert until ``warmup_shifts`` are known. A shift is
    anomalous when its count exceeds all of: median + ``k`` x robust sd, ``ratio`` x median,
    and median + ``min_excess``; and, when the worker has seen at least ``peer_min`` shifts of
    the same role, the role's median + ``k`` x robust sd. Raised once per shift, the moment the
    count crosses the line.

    Role peers are a sample kept in the detector instance: each worker sees the shifts of the
    officers its partitions hold (a random sample of the role, since activity is keyed by
    officer). It is rebuilt from the stream after a restart; until then only the officer's
    own baseline applies.
    """

    id = "access.volume_anomaly"
    kinds = LOOKUP_KINDS
    category = Category.MISUSE_OF_SYSTEMS
    description = "Look-ups per shift far above the officer's own and their role's baseline."

    def __init__(
        self,
        *,
        k: float = 6.0,
        ratio: float = 2.5,
        min_excess: int = 30,
        warmup_shifts: int = 5,
        history_shifts: int = 30,
        peer_min: int = 20,
        peer_sample: int = 400,
        tolerance_min: float = 60.0,
        score: float = 60.0,
    ) -> None:
        self.k = k
        self.ratio = ratio
        self.min_excess = min_excess
        self.warmup_shifts = warmup_shifts
        self.history_shifts = history_shifts
        self.peer_min = peer_min
        self.peer_sample = peer_sample
        self.tolerance_s = tolerance_min * 60
        self.score = score
        self._peers: dict[str, deque[int]] = {}
        self._ranked: dict[str, list[float]] = {}  # each role's peers, sorted

    def evaluate(self, event: Event, view: StateView) -> list[Finding]:
        officer = event.actor
        if officer is None or event.kind not in self.kinds:
            return []
        state = view.state
        shift = view.ref.shift_at(officer, event.time, self.tolerance_s)
        key = shift.event_id if shift else "day:" + event.time.date().isoformat()
        role = role_of(officer, view.ref) or "unknown"
        current = state.get("current")
        if current is None or current["key"] != key:
            if current is not None:
                self._close(state, current, role)
            counted = shift is not None or not view.ref.has_shifts(officer)
            current = state["current"] = {
                "key": key, "n": 0, "first": event.id, "ids": [], "alerted": 0,
                "counted": int(counted),
                "start": epoch(shift.start) if shift else epoch(event.time),
                "end": epoch(shift.end) if shift else None,
                **self._lines(state, role),
            }  # fmt: skip
        current["n"] += 1
        ids: list[str] = current["ids"]
        ids.append(event.id)
        del ids[:-20]
        line, peer_line = current.get("line"), current.get("peer_line")
        n = current["n"]
        if current["alerted"] or line is None or n <= line:
            return []
        if peer_line is not None and n <= peer_line:
            return []
        current["alerted"] = 1
        history: list[int] = state.get("history", [])
        med, sd = current["median"], current["sd"]
        over = n / med if med else float("inf")
        peer_text = (
            f"; role peers ({role}, {current['peer_n']} shifts seen) median "
            f"{current['peer_median']:.0f}, line {peer_line:.0f}"
            if peer_line is not None
            else f"; too few {role} shifts seen yet for a role baseline"
        )
        shift_text = (
            f"rostered shift {at(current['start'])} to {at(current['end'])}"
            if current["end"] is not None
            else f"{event.time.date().isoformat()} (no rostered shift)"
        )
        return [
            self.finding(
                event,
                officer=officer,
                severity="high" if over >= 2 * self.ratio else "medium",
                score=min(90.0, self.score + 5 * (over - self.ratio)),
                title=f"{officer} made {n} look-ups in one shift, {over:.1f}x their median",
                explanation=(
                    f"{officer} made {plural(n, 'look-up')} by {when(event.time)} in the "
                    f"{shift_text}. Baseline: median {med:.0f} per shift over their last "
                    f"{len(history)} shifts (robust sd {sd:.1f}); alert line {line:.0f} "
                    f"(median + {self.k:g} sd, at least {self.ratio:g}x median and "
                    f"+{self.min_excess}){peer_text}."
                ),
                evidence=ids,
                facts={"lookups": n, "median": med, "robust_sd": sd, "line": line,
                       "peer_line": peer_line, "history_shifts": len(history), "role": role},
                dedup=f"{key}:{current['first']}",
            )
        ]

    def _lines(self, state: Any, role: str) -> dict[str, Any]:
        """The officer's and the role's alert lines, fixed when a shift starts."""
        history: list[int] = state.get("history", [])
        if len(history) < self.warmup_shifts:
            return {"line": None, "peer_line": None}
        med, sd = robust([float(h) for h in history])
        out: dict[str, Any] = {
            "median": med, "sd": sd, "peer_line": None,
            "line": max(med + self.k * sd, self.ratio * med, med + self.min_excess),
        }  # fmt: skip
        peers = self._peers.get(role)
        if peers is not None and len(peers) >= self.peer_min:
            ranked = self._ranked.get(role)
            if ranked is None or len(ranked) != len(peers):
                ranked = self._ranked[role] = sorted(float(p) for p in peers)
            pmed, psd = robust_sorted(ranked)
            out.update(peer_line=max(pmed + self.k * psd, self.ratio * pmed), peer_median=pmed,
                       peer_n=len(peers))  # fmt: skip
        return out

    def _close(self, state: Any, current: dict[str, Any], role: str) -> None:
        """A finished shift joins the history (off-roster spells of rostered staff do not)."""
        if not current.get("counted", 1):
            return
        history: list[int] = state.setdefault("history", [])
        history.append(int(current["n"]))
        del history[: -self.history_shifts]
        peers = self._peers.setdefault(role, deque(maxlen=self.peer_sample))
        n = int(current["n"])
        ranked = self._ranked.get(role)
        if ranked is not None and len(ranked) == len(peers):  # kept sorted alongside
            if peers and len(peers) == peers.maxlen:
                del ranked[bisect.bisect_left(ranked, float(peers[0]))]  # about to drop out
            if peers.maxlen != 0:
                bisect.insort(ranked, float(n))
        peers.append(n)


def _in_order(recent: list[list[Any]], hours: dict[str, int]) -> int:
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


@register
class BulkExfiltration(Detector):
    """A burst of look-ups followed by data leaving (USB, email, download, upload): one sequence.

    A burst is the look-ups within ``window_h`` hours before the export: at least
    ``burst_min``, and more than ``factor`` x the officer's own median look-ups per active
    window (their hourly median over ``history_days``; before ``warmup_hours`` active hours
    are known, twice ``burst_min``). An export of at least ``bulk_count`` records with no
    purpose stands for its own burst. An export whose purpose names a task the officer is
    assigned to is case work, not exfiltration. Printing is not data leaving. One alert per burst; a
    second export in the same burst is folded in.
    """

    id = "access.bulk_exfiltration"
    kinds = LOOKUP_KINDS | frozenset({"record.export", "file.copied", "web.visited"})
    category = Category.UNAUTHORISED_DISCLOSURE
    description = "A burst of look-ups followed by data leaving by USB, email or download."

    def __init__(
        self,
        *,
        window_h: float = 3.0,
        burst_min: int = 30,
        factor: float = 3.0,
        warmup_hours: int = 10,
        history_days: float = 28.0,
        channels: tuple[str, ...] = ("usb", "email", "download"),
        bulk_count: int = 30,
        score: float = 80.0,
    ) -> None:
        self.window_s = window_h * HOUR
        self.window_h = window_h
        self.burst_min = burst_min
        self.factor = factor
        self.warmup_hours = warmup_hours
        self.history_s = history_days * DAY
        self.channels = channels
        self.bulk_count = bulk_count
        self.score = score

    def evaluate(self, event: Event, view: StateView) -> list[Finding]:
        officer = event.actor
        if officer is None or event.kind not in self.kinds:
            return []
        state, now = view.state, epoch(event.time)
        if event.kind in LOOKUP_KINDS:
            self._lookup(state, now, event.id)
            return []
        out = leaving(event, self.channels)
        if out is None or self._tasked(event, officer, view):
            return []
        how, count = out
        recent: list[list[Any]] = [
            e for e in state.get("recent", []) if now - e[0] <= self.window_s
        ]
        hours: dict[str, int] = state.get("hours", {})
        current_hours = {str(int(e[0] // HOUR)) for e in recent}
        past = [n for h, n in hours.items() if h not in current_hours]
        if len(past) >= self.warmup_hours:
            per_hour = statistics.median(past)
            expected = per_hour * self.window_h
            line = max(float(self.burst_min), self.factor * expected)
            baseline = (
                f"their median is {per_hour:.0f} look-ups per active hour over "
                f"{len(past)} hours, {expected:.0f} per {self.window_h:g} h"
            )
        else:
            expected, line = 0.0, 2.0 * self.burst_min
            baseline = f"too little history for a baseline ({len(past)} active hours)"
        bulk = count is not None and count >= self.bulk_count and not event.purpose
        if len(recent) < line and not bulk:
            return []
        burst_start = recent[0][1] if recent else event.id
        bursts: dict[str, float] = state.setdefault("bursts", {})
        for b in [b for b, t in bursts.items() if now - t > self.history_s]:
            del bursts[b]
        if any(e[1] in bursts for e in recent):
            return []  # this burst already raised: later exports are the same episode
        bursts[burst_start] = now
        ids = [e[1] for e in recent]
        sample = ids if len(ids) <= 30 else [*ids[:10], *ids[-20:]]
        return [
            self.finding(
                event,
                officer=officer,
                severity="critical" if len(recent) >= 2 * line else "high",
                score=min(100.0, self.score + 5 * (len(recent) / line - 1)),
                title=f"{officer}: {len(recent)} look-ups then {how}",
                explanation=(
                    f"{officer} made {plural(len(recent), 'look-up')}"
                    f"{self._span(recent)} in the {self.window_h:g} h before, then {how}"
                    f"{f' of {count} records' if count is not None else ''} at "
                    f"{when(event.time)}. Baseline: {baseline}; burst line {line:.0f} "
                    f"(at least {self.burst_min}, {self.factor:g}x usual)"
                    f"{self._bulk_note(count) if bulk else ''}."
                    f"{' No purpose was given for the export.' if not event.purpose else ''}"
                ),
                evidence=[*sample, event.id],
                facts={"lookups": len(recent), "line": line, "expected": expected,
                       "channel": how, "count": count, "purpose": event.purpose},
                dedup=f"burst:{burst_start}",
            )
        ]

    @staticmethod
    def _tasked(event: Event, officer: str, view: StateView) -> bool:
        """An export under a task the officer is assigned to (a case file going to the CPS)."""
        task = view.ref.task(event.purpose) if event.purpose else None
        return task is not None and officer in (task.value.staff_ids or ())

    @staticmethod
    def _span(recent: list[list[Any]]) -> str:
        return f" between {at(recent[0][0])} and {at(recent[-1][0])}" if recent else ""

    def _bulk_note(self, count: int | None) -> str:
        return f"; the export alone holds {count} records (line {self.bulk_count})"

    def _lookup(self, state: Any, now: float, event_id: str) -> None:
        """Record a look-up: the window of recent ones, and the count per active hour.

        Both age out from their oldest end on nearly every look-up, and a busy desk keeps
        hundreds: while they are known to be in time order (``ordered``, the usual case) only
        the stale front is looked at, not every entry; out-of-order event times fall back to
        a full scan, which drops the same entries."""
        recent: list[list[Any]] = state.setdefault("recent", [])
        hours: dict[str, int] = state.setdefault("hours", {})
        h = str(int(now // HOUR))
        ordered = state.get("ordered")
        if ordered is None:  # a new slot, or one kept before the mark
            ordered = _in_order(recent, hours)
        if (recent and now < recent[-1][0]) or (
            h not in hours and hours and int(h) < int(next(reversed(hours)))
        ):
            ordered = 0
        recent.append([now, event_id])
        cutoff = now - self.window_s
        if recent[0][0] < cutoff:
            if ordered:
                stale = 1
                while stale < len(recent) and recent[stale][0] < cutoff:
                    stale += 1
                del recent[:stale]
            else:
                recent[:] = [e for e in recent if e[0] >= cutoff]
        del recent[:-2000]
        if h not in hours:
            oldest = int((now - self.history_s) // HOUR)
            if ordered:
                old: list[str] = []
                for k in hours:
                    if int(k) >= oldest:
                        break
                    old.append(k)
            else:
                old = [k for k in hours if int(k) < oldest]
            for k in old:
                del hours[k]
        hours[h] = hours.get(h, 0) + 1
        if not ordered:  # back in order once the out-of-order entries have aged out
            ordered = _in_order(recent, hours)
        state["ordered"] = int(ordered)
