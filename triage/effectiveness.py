"""Alert effectiveness: per detector, how analysts' outcomes turned out, over time, and a
warning when a detector alerts about too many of the staff in a week.

*Confirmed* outcomes are those that went somewhere (referred to PSD, an intelligence case);
*dismissed* ones ended scrutiny (false positive, no further action: the queue's
``DISMISSALS``). Duplicates, open alerts and closures awaiting a second approver count as
alerts but neither confirmed nor dismissed. The effectiveness ratio is
``confirmed / (confirmed + dismissed)``, bucketed by the week or month of the alert's time
(when the detector saw it), so a period's figure firms up as its alerts are decided.

The share of staff a detector alerted about in a week is the distinct officers it named that
week over the force's staff count (:class:`StaffCount`); above
:data:`STAFF_SHARE_WARNING` it is flagged: a detector that judges one in seven of the force
is judging the force, not conduct.

>>> from datetime import UTC, datetime
>>> period_start(datetime(2026, 3, 5, 12, tzinfo=UTC), "week").isoformat()
'2026-03-02'
>>> period_start(datetime(2026, 3, 5, 12, tzinfo=UTC), "month").isoformat()
'2026-03-01'
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Literal

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from triage.base import DISMISSALS, Outcome, Status
from triage.store import Store
from triage.store.detectors import OutcomeRow

log = logging.getLogger(__name__)

CONFIRMED = frozenset({Outcome.REFERRED_TO_PSD.value, Outcome.INTELLIGENCE_CASE.value})
DISMISSED = frozenset(o.value for o in DISMISSALS)
#: a detector alerting about more than this share of staff in a week is flagged (issue 17);
#: the Prometheus rule ``ProbityDetectorAlertsTooManyStaff`` uses the same
STAFF_SHARE_WARNING = 0.15
#: the metric's effectiveness ratio is over alerts timed in this many days
METRIC_WINDOW_DAYS = 90

Period = Literal["week", "month"]


def period_start(t: datetime | date, period: Period) -> date:
    """The first day (UTC) of the ISO week (Monday) or month ``t`` falls in."""
    day = t.astimezone(UTC).date() if isinstance(t, datetime) else t
    if period == "week":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def period_starts(until: date, period: Period, count: int) -> list[date]:
    """``count`` consecutive period starts, oldest first, the last holding ``until``."""
    last = period_start(until, period)
    if period == "week":
        return [last - timedelta(weeks=count - 1 - i) for i in range(count)]
    out = [last]
    for _ in range(count - 1):
        prev = out[-1] - timedelta(days=1)
        out.append(prev.replace(day=1))
    return out[::-1]


def ratio(confirmed: int, dismissed: int) -> float | None:
    """``confirmed / (confirmed + dismissed)``; None before any alert is decided."""
    decided = confirmed + dismissed
    return confirmed / decided if decided else None


@dataclass
class Bucket:
    """One detector's alerts of one week or month."""

    start: date
    alerts: int = 0
    confirmed: int = 0
    dismissed: int = 0

    @property
    def ratio(self) -> float | None:
        return ratio(self.confirmed, self.dismissed)


@dataclass(frozen=True)
class StaffWarning:
    """A week in which the detector named more than the warning share of staff."""

    week: date
    officers: int
    share: float


@dataclass
class DetectorEffectiveness:
    detector: str
    buckets: list[Bucket]
    alerts: int = 0
    confirmed: int = 0
    dismissed: int = 0
    undecided: int = 0  # open, awaiting a second approver, or closed as a duplicate
    most_staff_week: StaffWarning | None = None  # the week it named the most staff
    warnings: list[StaffWarning] = field(default_factory=list)

    @property
    def ratio(self) -> float | None:
        return ratio(self.confirmed, self.dismissed)


def effectiveness(
    rows: Iterable[OutcomeRow], *, until: date, period: Period, count: int, staff: int | None
) -> list[DetectorEffectiveness]:
    """Per detector (by id), its alerts in the ``count`` periods ending with ``until``'s,
    and the weeks in which it named more than :data:`STAFF_SHARE_WARNING` of ``staff``
    (none when the staff count is unknown)."""
    starts = period_starts(until, period, count)
    first, end = starts[0], until + timedelta(days=1)
    out: dict[str, DetectorEffectiveness] = {}
    index = {s: i for i, s in enumerate(starts)}
    weekly: defaultdict[tuple[str, date], set[str]] = defaultdict(set)
    for r in rows:
        day = r.time.astimezone(UTC).date()
        if not first <= day < end:
            continue
        d = out.get(r.detector)
        if d is None:
            d = out[r.detector] = DetectorEffectiveness(r.detector, [Bucket(s) for s in starts])
        b = d.buckets[index[period_start(day, period)]]
        b.alerts += 1
        d.alerts += 1
        closed = r.status == Status.CLOSED.value
        if closed and r.outcome in CONFIRMED:
            b.confirmed += 1
            d.confirmed += 1
        elif closed and r.outcome in DISMISSED:
            b.dismissed += 1
            d.dismissed += 1
        else:
            d.undecided += 1
        weekly[(r.detector, period_start(day, "week"))].add(r.officer)
    for (detector, week), officers in sorted(weekly.items()):
        d = out[detector]
        share = len(officers) / staff if staff else 0.0
        seen = StaffWarning(week, len(officers), share)
        if d.most_staff_week is None or seen.officers > d.most_staff_week.officers:
            d.most_staff_week = seen
        if staff and share > STAFF_SHARE_WARNING:
            d.warnings.append(seen)
    return sorted(out.values(), key=lambda d: (-len(d.warnings), d.detector))


def sparkline(
    values: list[float | None], width: int = 120, height: int = 28, pad: int = 3
) -> list[list[tuple[float, float]]]:
    """SVG points for a 0..1 series, one list per unbroken run (a period with no decided
    alert breaks the line rather than pretending it was 0); the template draws each run as a
    line and each point as a dot, so a lone period still shows."""
    if not values:
        return []
    step = (width - 2 * pad) / max(len(values) - 1, 1)
    runs: list[list[tuple[float, float]]] = [[]]
    for i, v in enumerate(values):
        if v is None:
            if runs[-1]:
                runs.append([])
            continue
        runs[-1].append((round(pad + i * step, 1), round(height - pad - v * (height - 2 * pad), 1)))
    return [r for r in runs if r]


class StaffCount:
    """The force's staff count: the staff the HR feed named, as the coverage service counts
    them (``staff.known``), else the ``triage.staff_count`` setting, else unknown."""

    def __init__(self, from_coverage: Callable[[], int | None], declared: int | None) -> None:
        self._from_coverage = from_coverage
        self.declared = declared

    def __call__(self) -> tuple[int | None, str]:
        """The count and where it came from (``coverage service``, ``setting`` or ``none``)."""
        known = self._from_coverage()
        if known:
            return known, "coverage service (staff the HR feed named)"
        if self.declared:
            return self.declared, "setting triage.staff_count"
        return None, "none"


class EffectivenessCollector(Collector):
    """Per detector, on the queue's registry, computed when scraped (at most every
    ``cache_s``; the store query reads ``METRIC_WINDOW_DAYS`` of alerts):

    * ``probity_queue_detector_effectiveness_ratio``: confirmed / (confirmed + dismissed) of
      the alerts timed in the last 90 days (absent before one is decided);
    * ``probity_queue_detector_decided_alerts``: how many that ratio is over;
    * ``probity_queue_detector_staff_alerted``: distinct staff named in the last 7 days;
    * ``probity_queue_detector_staff_alerted_ratio``: the same over the staff count (absent
      while the count is unknown);
    * ``probity_queue_staff``: the staff count used.

    Every alert counts here (labels carry only the detector id); the pages apply each
    viewer's conflict-of-interest rule."""

    def __init__(
        self, store: Store, staff: StaffCount, *, cache_s: float = 60.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:  # fmt: skip
        self._store, self._staff, self._cache_s, self._clock = store, staff, cache_s, clock
        self._lock = threading.Lock()
        self._cached: tuple[float, list[Metric]] | None = None

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            if self._cached is None or time.monotonic() - self._cached[0] >= self._cache_s:
                self._cached = (time.monotonic(), self._metrics())
            yield from self._cached[1]

    def _metrics(self) -> list[Metric]:
        now = self._clock()
        rows = self._store.outcome_rows(None, now - timedelta(days=METRIC_WINDOW_DAYS))
        staff, _ = self._staff()
        decided: defaultdict[str, list[int]] = defaultdict(lambda: [0, 0])
        named: defaultdict[str, set[str]] = defaultdict(set)
        week_ago = now - timedelta(days=7)
        for r in rows:
            counts = decided[r.detector]
            if r.status == Status.CLOSED.value and r.outcome in CONFIRMED:
                counts[0] += 1
            elif r.status == Status.CLOSED.value and r.outcome in DISMISSED:
                counts[1] += 1
            if r.time >= week_ago:
                named[r.detector].add(r.officer)
        g = GaugeMetricFamily
        eff = g("probity_queue_detector_effectiveness_ratio",
                "confirmed / (confirmed + dismissed) of the detector's alerts timed in the last "
                "90 days (confirmed: referred to PSD or an intelligence case; dismissed: false "
                "positive or no further action)", labels=["detector"])
        n = g("probity_queue_detector_decided_alerts",
              "the detector's alerts of the last 90 days confirmed or dismissed",
              labels=["detector"])
        alerted = g("probity_queue_detector_staff_alerted",
                    "distinct staff the detector alerted about in the last 7 days",
                    labels=["detector"])
        share = g("probity_queue_detector_staff_alerted_ratio",
                  "distinct staff the detector alerted about in the last 7 days over the "
                  "force's staff count", labels=["detector"])  # fmt: skip
        for detector in sorted(decided):
            confirmed, dismissed = decided[detector]
            n.add_metric([detector], confirmed + dismissed)
            effective = ratio(confirmed, dismissed)
            if effective is not None:
                eff.add_metric([detector], effective)
            alerted.add_metric([detector], len(named[detector]))
            if staff:
                share.add_metric([detector], len(named[detector]) / staff)
        out: list[Metric] = [eff, n, alerted, share]
        if staff:
            out.append(g("probity_queue_staff", "the staff count the shares are over",
                         value=staff))  # fmt: skip
        return out
