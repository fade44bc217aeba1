"""Reference coverage: the share of staff each reference feed has a record for, over event time.

A detector that relies on a feed (:attr:`~detectors.base.Detector.needs_feeds`) cannot judge
anyone while that feed is missing: without a vetting system connected, everyone looks
unvetted. :class:`FeedCoverage` follows the reference events the engine applies and answers,
for a moment of event time, whether a feed covers at least ``min_share`` of the staff known
then; the engine runs such detectors only where it does (judging resumes from the event time
the feed arrives) and raises one operational alert per stretch of time it does not.

>>> from datetime import UTC, datetime
>>> cov = FeedCoverage(frozenset({"vetting"}), min_share=0.5)
>>> cov.record("staff.upsert", "S1", datetime(2026, 1, 1, tzinfo=UTC))
>>> cov.record("staff.upsert", "S2", datetime(2026, 1, 1, tzinfo=UTC))
>>> cov.record("vetting.changed", "S1", datetime(2026, 1, 5, tzinfo=UTC))
>>> cov.gated_since("vetting", datetime(2026, 1, 3, tzinfo=UTC))
datetime.datetime(2026, 1, 2, 0, 0, tzinfo=datetime.timezone.utc)
>>> cov.gated_since("vetting", datetime(2026, 1, 5, tzinfo=UTC)) is None
True
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from detectors.base import FEEDS

STAFF_KIND = "staff.upsert"
_DAY = timedelta(days=1)
_FIRST = datetime.min.replace(tzinfo=UTC)
_LAST = datetime.max.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Coverage:
    """A feed's coverage at one moment: ``covered`` of ``staff`` members have a record."""

    feed: str
    covered: int
    staff: int

    @property
    def share(self) -> float:
        """``covered / staff`` (1.0 when no staff is known: nothing to judge, nothing missing)."""
        return self.covered / self.staff if self.staff else 1.0


@dataclass
class _Timeline:
    """A feed's coverage as a step function of event time (one step per change)."""

    times: list[datetime] = field(default_factory=list)
    covered: list[int] = field(default_factory=list)
    staff: list[int] = field(default_factory=list)
    #: per step: the start of the stretch of gated steps it belongs to (None: not gated)
    gated: list[datetime | None] = field(default_factory=list)
    #: per step: the start of the stretch of covering steps it belongs to (None: gated)
    covering: list[datetime | None] = field(default_factory=list)


class FeedCoverage:
    """Which of ``feeds`` cover at least ``min_share`` of staff, at any event time.

    A member of staff counts ``grace`` after their earliest ``staff.upsert`` (a feed gets that
    long to catch up with a joiner); they are covered by a feed from the earliest event of its
    kinds (:data:`~detectors.base.FEEDS`) about them, but not before they count. Reference
    events may come in any order: the answer is always as of the time asked, from what has
    been recorded.
    """

    def __init__(
        self, feeds: Iterable[str], *, min_share: float = 0.5, grace: timedelta = _DAY
    ) -> None:
        self.feeds = frozenset(feeds)
        self.min_share = min_share
        self.grace = grace
        self._kinds = {kind: [f for f in self.feeds if kind in FEEDS[f]]
                       for f in self.feeds for kind in FEEDS[f]}  # fmt: skip
        self._staff: dict[str, datetime] = {}
        self._first: dict[str, dict[str, datetime]] = {f: {} for f in self.feeds}
        self._timelines: dict[str, _Timeline] = {}
        self.version = 0  # bumped whenever what was recorded changes an answer

    def record(self, kind: str, staff_id: str | None, time: datetime) -> None:
        """Note one applied reference event (of any kind; only staff and feed kinds count)."""
        if staff_id is None or not self.feeds:
            return
        if kind == STAFF_KIND:
            seen = self._staff.get(staff_id)
            if seen is None or time < seen:
                self._staff[staff_id] = time
                self._timelines.clear()
                self.version += 1
            return
        for feed in self._kinds.get(kind, ()):
            first = self._first[feed]
            seen = first.get(staff_id)
            if seen is None or time < seen:
                first[staff_id] = time
                self._timelines.pop(feed, None)
                self.version += 1

    def at(self, feed: str, t: datetime) -> Coverage:
        """The coverage of ``feed`` as of ``t``."""
        line = self._timeline(feed)
        i = bisect.bisect_right(line.times, t) - 1
        if i < 0:
            return Coverage(feed, 0, 0)
        return Coverage(feed, line.covered[i], line.staff[i])

    def gated_since(self, feed: str, t: datetime) -> datetime | None:
        """When the stretch of too little coverage that ``t`` falls in began (None: ``feed``
        covers enough staff at ``t``, or is not followed)."""
        if feed not in self.feeds:
            return None
        line = self._timeline(feed)
        i = bisect.bisect_right(line.times, t) - 1
        return line.gated[i] if i >= 0 else None

    def clear_span(self, t: datetime) -> tuple[datetime, datetime] | None:
        """The stretch of event time around ``t``, ``[from, until)``, in which no feed covers
        too few staff (None: one does at ``t``): until :attr:`version` changes, a caller may
        judge any ``t`` in it without asking per feed."""
        lo, hi = _FIRST, _LAST
        for feed in self.feeds:
            line = self._timeline(feed)
            times = line.times
            i = bisect.bisect_right(times, t) - 1
            if i >= 0:
                if line.gated[i] is not None:
                    return None
                lo = max(lo, times[i])
            if i + 1 < len(times):
                hi = min(hi, times[i + 1])
        return lo, hi

    def covering_since(self, feed: str, t: datetime) -> datetime | None:
        """When the stretch of enough coverage that ``t`` falls in began: judging resumed
        then (None: too little coverage at ``t``, or no staff known yet)."""
        line = self._timeline(feed)
        i = bisect.bisect_right(line.times, t) - 1
        return line.covering[i] if i >= 0 else None

    def _timeline(self, feed: str) -> _Timeline:
        line = self._timelines.get(feed)
        if line is not None:
            return line
        steps: dict[datetime, list[int]] = {}
        first = self._first[feed]
        for sid, joined in self._staff.items():
            since = joined + self.grace
            steps.setdefault(since, [0, 0])[0] += 1
            got = first.get(sid)
            if got is not None:
                steps.setdefault(max(since, got), [0, 0])[1] += 1
        line = _Timeline()
        staff = covered = 0
        start: datetime | None = None
        good: datetime | None = None
        for t in sorted(steps):
            staff += steps[t][0]
            covered += steps[t][1]
            low = staff > 0 and covered < self.min_share * staff
            start = (start or t) if low else None
            good = None if low else (good or t)
            line.covering.append(good)
            line.times.append(t)
            line.staff.append(staff)
            line.covered.append(covered)
            line.gated.append(start)
        self._timelines[feed] = line
        return line
