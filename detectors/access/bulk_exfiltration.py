"""A burst of look-ups followed by data leaving (USB, email, download, upload): one sequence."""

from __future__ import annotations

import statistics
from typing import Any

from detectors.access.params import BulkExfiltrationParams
from detectors.base import EventDetector, StateView
from detectors.lib.common import plural
from detectors.lib.purpose import LOOKUP_KINDS
from detectors.lib.times import DAY, HOUR, at, epoch, when
from detectors.lib.volume import in_order, leaving
from detectors.registry import register
from models.alerts import Category, Finding
from models.events import Event


@register
class BulkExfiltration(EventDetector[BulkExfiltrationParams]):
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
    Params = BulkExfiltrationParams
    feeds_risk = True
    kinds = LOOKUP_KINDS | frozenset({"record.export", "file.copied", "web.visited"})
    category = Category.UNAUTHORISED_DISCLOSURE
    description = "A burst of look-ups followed by data leaving by USB, email or download."

    def __init__(self, params: BulkExfiltrationParams | None = None, /, **overrides: Any) -> None:
        super().__init__(params, **overrides)
        p = self.params
        self.window_s = p.window_h * HOUR
        self.window_h = p.window_h
        self.burst_min = p.burst_min
        self.factor = p.factor
        self.warmup_hours = p.warmup_hours
        self.history_s = p.history_days * DAY
        self.channels = p.channels
        self.bulk_count = p.bulk_count
        self.score = p.score

    @classmethod
    def test_params(cls) -> list[dict[str, Any]]:
        return [{"burst_min": 5, "window_h": 1.0},
                {"channels": ("usb",), "bulk_count": 5}]  # fmt: skip

    def judge(self, event: Event, view: StateView) -> list[Finding]:
        officer = event.actor
        if officer is None:
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
            ordered = in_order(recent, hours)
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
            ordered = in_order(recent, hours)
        state["ordered"] = int(ordered)
