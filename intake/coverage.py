"""Source coverage, Kafka-free: which declared sources are silent or below volume, how much of
each source's activity names a member of staff, and which rostered staff no source shows at
work. What "all systems monitored" means, as numbers.

A :class:`CoverageTracker` is fed every event (activity and reference) with the wall-clock
time it arrived; ``streams.coverage`` runs one over the topics (``probity coverage``). The
figures are Prometheus metrics on the registry passed in (computed when scraped) and one JSON
document (:meth:`CoverageTracker.report`), which the ACU queue can show.

Days are UTC days of event time. The *reported day* is the last complete one: the day before
the newest event's, so a replay and a live feed report alike and a day is not judged while
its events still arrive.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from intake.sources import Source, SourcesFile
from models.events import Event, attr_or_none

#: a day with fewer events than this share of the declared volume is "below volume" (the
#: Prometheus rule ``ProbityCoverageBelowVolume`` uses the same)
BELOW_VOLUME_RATIO = 0.5
#: undeclared sources beyond this many are pooled under ``_overflow`` (bounded label values)
MAX_SOURCES = 256
OVERFLOW = "_overflow"
#: distinct unresolved account names counted per source (more are counted, not named)
MAX_UNRESOLVED = 1000
#: unresolved account names a report lists per source, the most frequent first
TOP_UNRESOLVED = 10


@dataclass
class _SourceState:
    events: int = 0
    activity: int = 0
    resolved: int = 0
    last_seen: float | None = None  # wall clock, Unix seconds
    by_day: defaultdict[date, int] = field(default_factory=lambda: defaultdict(int))
    unresolved: Counter[str] = field(default_factory=Counter)


class CoverageTracker:
    """Counts per source and the staff seen at work per day, from the events it is fed.

    :meth:`observe` is called by the runtime for every event, in any order across sources;
    nothing in it raises for an event the contract accepts. Thread-safe: the runtime feeds it
    from its consumer thread while scrapes and :meth:`report` read it from others.
    """

    def __init__(
        self,
        sources: SourcesFile,
        registry: CollectorRegistry | None = None,
        *,
        days: int = 35,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.declared: dict[str, Source] = sources.by_name()
        self.days = days
        self.clock = clock
        self._sources: dict[str, _SourceState] = {n: _SourceState() for n in self.declared}
        self._staff: set[str] = set()
        self._rostered: defaultdict[date, set[str]] = defaultdict(set)
        self._active: defaultdict[date, set[str]] = defaultdict(set)
        self._newest: date | None = None
        self._lock = threading.RLock()
        if registry is not None:
            registry.register(_CoverageCollector(self))

    # -- feeding ---------------------------------------------------------------------------

    def observe(self, event: Event, arrived: float | None = None) -> None:
        """One event, arrived at wall-clock ``arrived`` (default: now)."""
        with self._lock:
            self._observe(event, arrived if arrived is not None else self.clock())

    def _observe(self, event: Event, arrived: float) -> None:
        day = event.time.astimezone(UTC).date()
        state = self._state(event.source)
        state.events += 1
        state.by_day[day] += 1
        state.last_seen = max(state.last_seen or 0.0, arrived)
        if self._newest is None or day > self._newest:
            self._newest = day
            self._prune()
        if event.is_reference:
            self._reference(event, day)
            return
        state.activity += 1
        actor = event.actor
        if actor is None:
            return
        if actor in self._staff and not attr_or_none(event.attrs, "unresolved_account"):
            state.resolved += 1
        elif actor in state.unresolved or len(state.unresolved) < MAX_UNRESOLVED:
            state.unresolved[actor] += 1
        self._active[day].add(actor)

    def _reference(self, event: Event, day: date) -> None:
        staff_id = attr_or_none(event.attrs, "staff_id")
        if not isinstance(staff_id, str):
            return
        if event.kind == "staff.upsert":
            self._staff.add(staff_id)
        elif event.kind == "shift.rostered":
            start = attr_or_none(event.attrs, "start")
            when = _day_of(start) if start is not None else day
            self._rostered[when].add(staff_id)

    def _state(self, source: str) -> _SourceState:
        state = self._sources.get(source)
        if state is None:
            if len(self._sources) >= len(self.declared) + MAX_SOURCES:
                source = OVERFLOW
            state = self._sources.setdefault(source, _SourceState())
        return state

    def _prune(self) -> None:
        assert self._newest is not None
        oldest = self._newest - timedelta(days=self.days)
        for per_day in (self._rostered, self._active):
            for d in [d for d in per_day if d < oldest]:
                del per_day[d]
        for state in self._sources.values():
            for d in [d for d in state.by_day if d < oldest]:
                del state.by_day[d]

    # -- figures ---------------------------------------------------------------------------

    @property
    def day(self) -> date | None:
        """The reported day: the last complete UTC day (the day before the newest event's)."""
        return None if self._newest is None else self._newest - timedelta(days=1)

    def staff_coverage(self, day: date | None = None) -> dict[str, Any]:
        """Staff known (from the HR feed), those rostered on ``day`` (default: the reported
        day), how many some source showed at work that day, and who was not seen."""
        with self._lock:
            return self._staff_coverage(day or self.day)

    def _staff_coverage(self, day: date | None) -> dict[str, Any]:
        rostered = self._rostered.get(day, set()) if day else set()
        active = self._active.get(day, set()) if day else set()
        unseen = sorted(rostered - active)
        return {
            "day": day.isoformat() if day else None,
            "known": len(self._staff),
            "rostered": len(rostered),
            "seen": len(rostered) - len(unseen),
            "unseen": len(unseen),
            "coverage": (len(rostered) - len(unseen)) / len(rostered) if rostered else None,
            "unseen_staff": unseen,
        }

    def sources(self) -> list[dict[str, Any]]:
        """One row per source (declared first, then any other that sent events)."""
        with self._lock:
            return self._rows()

    def _rows(self) -> list[dict[str, Any]]:
        now = self.clock()
        day = self.day
        rows = []
        names = [*self.declared, *sorted(set(self._sources) - set(self.declared))]
        for name in names:
            st = self._sources[name]
            src = self.declared.get(name)
            age = None if st.last_seen is None else max(0.0, now - st.last_seen)
            on_day = st.by_day.get(day, 0) if day else None
            ratio = (on_day / src.expected_daily if src and src.expected_daily and
                     on_day is not None else None)  # fmt: skip
            rows.append({
                "source": name,
                "declared": src is not None,
                "owner": src.owner if src else None,
                "format": src.format if src else None,
                "expected_daily": src.expected_daily if src else None,
                "longest_silence_s": src.longest_silence_s if src else None,
                "events": st.events,
                "last_seen": None if st.last_seen is None else
                datetime.fromtimestamp(st.last_seen, UTC).isoformat(),
                "last_seen_age_s": age,
                "events_on_day": on_day,
                "volume_ratio": ratio,
                "resolved_ratio": st.resolved / st.activity if st.activity else None,
                "unresolved_accounts": [
                    {"account": a, "events": n}
                    for a, n in st.unresolved.most_common(TOP_UNRESOLVED)
                ],
                "silent": src is not None and (age is None or age > src.longest_silence_s),
                "below_volume": ratio is not None and ratio < BELOW_VOLUME_RATIO,
            })  # fmt: skip
        return rows

    def report(self) -> dict[str, Any]:
        """Everything, as one JSON-ready document (``GET /coverage`` of ``probity coverage``)."""
        with self._lock:
            return {
                "day": self.day.isoformat() if self.day else None,
                "sources": self._rows(),
                "staff": self._staff_coverage(self.day),
            }


def _day_of(value: object) -> date:
    if isinstance(value, datetime):
        return value.astimezone(UTC).date()
    return datetime.fromisoformat(str(value)).astimezone(UTC).date()


class _CoverageCollector(Collector):
    """The tracker's figures as Prometheus metrics, computed when scraped."""

    def __init__(self, tracker: CoverageTracker) -> None:
        self.tracker = tracker

    def collect(self) -> Iterator[Metric]:
        t = self.tracker
        report = t.report()
        rows = report["sources"]
        g = GaugeMetricFamily
        events = CounterMetricFamily(
            "probity_coverage_source_events", "events received from the source", labels=["source"]
        )
        age = g("probity_coverage_source_last_seen_age_seconds",
                "seconds since an event from the source last arrived (wall clock)",
                labels=["source"])
        silence = g("probity_coverage_source_longest_silence_seconds",
                    "the longest normal gap the sources file declares", labels=["source"])
        expected = g("probity_coverage_source_expected_daily_events",
                     "events a normal day, as the sources file declares", labels=["source"])
        on_day = g("probity_coverage_source_day_events",
                   "events of the reported day (the last complete UTC day of event time)",
                   labels=["source"])
        volume = g("probity_coverage_source_volume_ratio",
                   "events of the reported day over the declared daily volume", labels=["source"])
        resolved = g("probity_coverage_source_resolved_ratio",
                     "share of the source's activity events whose actor is a member of staff",
                     labels=["source"])  # fmt: skip
        for r in rows:
            labels = [r["source"]]
            events.add_metric(labels, r["events"])
            if r["last_seen_age_s"] is not None:
                age.add_metric(labels, r["last_seen_age_s"])
            if r["declared"]:
                silence.add_metric(labels, r["longest_silence_s"])
                expected.add_metric(labels, r["expected_daily"])
            if r["events_on_day"] is not None:
                on_day.add_metric(labels, r["events_on_day"])
            if r["volume_ratio"] is not None:
                volume.add_metric(labels, r["volume_ratio"])
            if r["resolved_ratio"] is not None:
                resolved.add_metric(labels, r["resolved_ratio"])
        yield from (events, age, silence, expected, on_day, volume, resolved)
        staff = report["staff"]
        yield g("probity_coverage_staff_known",
                "staff the HR feed (staff.upsert) has named", value=staff["known"])
        yield g("probity_coverage_rostered_staff",
                "staff rostered on the reported day", value=staff["rostered"])
        yield g("probity_coverage_rostered_staff_unseen",
                "staff rostered on the reported day with no activity from any source",
                value=staff["unseen"])  # fmt: skip
        if staff["coverage"] is not None:
            yield g("probity_coverage_rostered_staff_ratio",
                    "share of the staff rostered on the reported day that some source showed "
                    "at work", value=staff["coverage"])  # fmt: skip
