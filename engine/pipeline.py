"""The processing core, free of Kafka: reference state, officer state, detectors, alerts.

The faust worker wraps one :class:`Pipeline`; golden tests and the offline runner use it
directly. Every method is deterministic in its inputs (event time, never the wall clock,
except ``raised_at`` on alerts).
"""

from __future__ import annotations

import logging
import time as _time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from detectors.base import Detector, FindingsDetector, StateView
from detectors.graph.deriver import EdgeDeriver
from detectors.officers import OfficerStates
from detectors.reference.state import ReferenceState
from detectors.reference.view import ReferenceView
from detectors.registry import registered
from engine.alerts import EvidenceBook, build_alert
from engine.codec import SEEN_KEY, SEEN_WIDTH, has_token, seen_token
from engine.coverage import Coverage, FeedCoverage
from engine.graph_judge import GraphJudge, reads_graph
from engine.hooks import PipelineHooks
from models.alerts import Alert, Category, Finding
from models.events import Event, attr_or_none

log = logging.getLogger(__name__)

GRAPH_KEY = "_graph"  # the edge deriver's slot of an officer's state
#: the detector id and officer of the operational alert raised while a feed is missing
COVERAGE_DETECTOR = "engine.coverage"
COVERAGE_OFFICER = "force"
#: the category an operational alert about a feed points to
FEED_CATEGORY = {"vetting": Category.VETTING}
#: no span of event time known free of coverage gaps (see ``Pipeline._free``)
_NOT_FREE = (-1, datetime.max.replace(tzinfo=UTC), datetime.min.replace(tzinfo=UTC))


#: a detector that reads findings, its id, and the ids whose findings it reads
_Reader = tuple[FindingsDetector, str, frozenset[str]]
#: a detector that judges a kind: itself, its id, its judge, whether it needs feeds, and the
#: attributes of which an event of that kind must carry one for it to matter (None: any)
_Judge = tuple[Detector, str, Callable[[Event, StateView], list[Finding]], bool,
               tuple[str, ...] | None]  # fmt: skip


def _carries(event: Event, names: tuple[str, ...]) -> bool:
    """Whether ``event`` has one of the attributes ``names`` set (not None, empty or 0)."""
    attrs = event.attrs
    return any(attr_or_none(attrs, n) for n in names)


def _everyone(_staff_id: str) -> bool:
    return True


@dataclass
class Pipeline:
    """Reference state + per-officer state + detectors = alerts.

    ``officers`` maps officer id to that officer's state dict (the worker backs it with a
    faust table); ``owns`` tells whether this worker answers for a member of staff.

    The association graph is judged apart (:mod:`engine.graph_judge`; the worker's graph agent,
    :mod:`streams.graph_agent`, runs it on the edges topic): the pipeline derives
    edge records from the events it judges and hands them to ``edges`` (``take(record) ->
    alerts``): the worker's outbox to the edges topic, or, given a ``graph`` and no
    ``edges``, a :class:`~engine.graph_judge.GraphJudge` in this process (offline runs), to
    which the detectors that read the graph then go.

    Reference coverage: a detector that declares ``needs_feeds`` is not run at event times
    when one of those feeds has records for under ``min_feed_share`` of the staff known then
    (a vetting system not yet connected: everyone would look unvetted), and its findings
    timed then are dropped; instead, one operational alert (``engine.coverage``) per feed
    and stretch names the inactive detectors. Judging resumes from the event time the feed
    covers enough staff, and a second operational alert (``facts.resumed_at``) says so, so
    the queue can tell which detectors are inactive now. Which of these were raised is
    :meth:`coverage_memory`, which the worker keeps with officer state so that a restart
    neither repeats them nor forgets to say that a stretch ended.

    Weak findings (``Finding.weak``) raise no alert: they go only to the detectors reading
    findings (risk accumulation), which say when they add up.
    """

    detectors: list[Detector]
    reference: ReferenceState = field(default_factory=ReferenceState)
    officers: MutableMapping[str, dict[str, Any]] = field(default_factory=dict)
    owns: Callable[[str], bool] = field(default=lambda _s: True)
    seen_per_officer: int = 256
    hooks: PipelineHooks = field(default_factory=PipelineHooks)
    clock: datetime | None = None  # event-time clock: the latest event time processed
    graph: Any = None  # an AssociationGraph: judge the graph in this process
    edges: Any = None  # where derived edge records go: ``take(record) -> list[Alert]``
    min_feed_share: float = 0.5  # below it, detectors needing the feed are inactive
    evidence: EvidenceBook = field(default_factory=EvidenceBook)  # digests for the alerts

    def __post_init__(self) -> None:
        if self.graph is not None and self.edges is None:
            on_graph = [d for d in self.detectors if reads_graph(d)]
            self.edges = GraphJudge(on_graph, self.reference, graph=self.graph, hooks=self.hooks,
                                    evidence=self.evidence)  # fmt: skip
        self._deriver: EdgeDeriver = getattr(self.graph, "deriver", None) or EdgeDeriver()
        self._by_kind: dict[str, list[Detector]] = defaultdict(list)
        for det in self.detectors:
            if self.edges is not None and reads_graph(det):
                continue  # judged where the graph is
            for kind in det.kinds:
                self._by_kind[kind].append(det)
        # per kind: the detectors that judge the event, then those that read their findings
        # (each with the ids of the detectors it reads); each with its id (the key of its
        # slot), looked up once here, not per event
        available = {**registered(), **{d.id: type(d) for d in self.detectors}}
        inputs = {d.id: d.inputs(available) for d in self.detectors
                  if isinstance(d, FindingsDetector)}  # fmt: skip
        self._split: dict[str, tuple[list[_Judge], list[_Reader]]] = {
            kind: (
                [(d, d.id, d.judge, bool(d.needs_feeds), d.needs_attrs.get(kind))
                 for d in dets if not isinstance(d, FindingsDetector)],
                [(d, d.id, inputs[d.id]) for d in dets if isinstance(d, FindingsDetector)],
            )
            for kind, dets in self._by_kind.items()
        }
        judged_here = [d for d in self.detectors if not isinstance(d, FindingsDetector)
                       and any(d in dets for dets in self._by_kind.values())]  # fmt: skip
        for det in self.detectors:
            if isinstance(det, FindingsDetector):
                det.bind(judged_here)
        self._tickers = [d for d in self.detectors if d.tick_every_s]
        self._last_tick: dict[str, datetime] = {}
        self._states = OfficerStates(self.officers)
        self.coverage = FeedCoverage(
            {f for d in self.detectors for f in d.needs_feeds}, min_share=self.min_feed_share
        )
        self._gated_raised: set[tuple[str, datetime]] = set()
        self._resumed_raised: set[tuple[str, datetime]] = set()
        #: per feed, the stretches raised (here or, remembered, before) and not yet resumed
        self._open_stretches: dict[str, set[datetime]] = {}
        #: (coverage version, from, until): no feed short then and no stretch open, so the
        #: detectors needing feeds judge every event in it without asking :meth:`inactive`
        self._free: tuple[int, datetime, datetime] = _NOT_FREE
        #: bumped whenever what was raised about coverage changes (see coverage_memory)
        self.coverage_changes = 0
        self._pending: list[Alert] = []  # operational alerts not yet returned
        if isinstance(self.edges, GraphJudge) and self.coverage.feeds:
            self.edges.gate = self.inactive

    def reads(self, kind: str) -> bool:
        return kind in self._by_kind

    # -- one event ----------------------------------------------------------------------

    def process(self, event: Event, raw: bytes | None = None) -> list[Alert]:
        """Apply a reference event or judge an activity event; alerts that result. ``raw``:
        the bytes the event was decoded from, when the caller has them (the evidence book
        keeps them, cheaper than working out what to keep of the event)."""
        if event.is_reference:
            return self.process_reference(event, raw)
        return self.process_activity(event, raw)

    def apply_reference(self, event: Event) -> bool:
        """Take a reference event into state (and the graph) without judging it.

        Idempotent: False for an event seen before. Every worker's reference follower calls
        this for every reference event, so each holds all reference data."""
        if not self.reference.apply(event):
            return False
        self.coverage.record(event.kind, attr_or_none(event.attrs, "staff_id"), event.time)
        self._advance(event.time)
        return True

    def process_reference(self, event: Event, raw: bytes | None = None) -> list[Alert]:
        """Apply a reference event (if new), then run the detectors that read its kind.

        Called once per event by whoever owns it (the worker holding its partition); a
        redelivery judges again, giving the same deterministic alert ids.
        """
        self.apply_reference(event)
        self.evidence.note(event, raw)
        staff_id = attr_or_none(event.attrs, "staff_id")
        # whoever judges a reference event answers for every officer it concerns (a list
        # change re-checks all staff), not only for the officers of its own partitions
        alerts = self._run(event, officer=staff_id, with_state=False, owns=_everyone)
        if self.edges is not None:
            record = self._deriver.reference(event)
            if record is not None:  # published once: by whoever judges the event
                alerts = alerts + self.edges.take(record)
        return self._with_pending(alerts)

    def process_activity(self, event: Event, raw: bytes | None = None) -> list[Alert]:
        """Judge one activity event with its officer's state; redeliveries are skipped."""
        officer = event.actor
        if officer is None:
            return []
        officer_state = self.officers.get(officer)
        if officer_state is None:
            officer_state = self.officers[officer] = {}
        blob = officer_state.get(SEEN_KEY) or ""
        if isinstance(blob, list):  # a state written before tokens
            blob = "".join(seen_token(i) for i in blob)
        token = seen_token(event.id)
        if has_token(blob, token):
            return []
        blob += token
        keep = self.seen_per_officer * SEEN_WIDTH
        officer_state[SEEN_KEY] = blob[-keep:] if len(blob) > keep else blob
        t = event.time
        self._advance(t)
        self.evidence.note(event, raw)
        ref = self.reference.at(t)
        alerts = self._run(event, officer=officer, with_state=True, ref=ref, state=officer_state)
        if self.edges is not None and event.kind in self._deriver.kinds:
            slot = officer_state.get(GRAPH_KEY)
            if slot is None:
                slot = officer_state[GRAPH_KEY] = {}
            record = self._deriver.activity(event, ref, slot)
            if record is not None:
                alerts = alerts + self.edges.take(record)
        return self._with_pending(alerts) if self._pending else alerts

    def _run(
        self,
        event: Event,
        *,
        officer: str | None,
        with_state: bool,
        owns: Callable[[str], bool] | None = None,
        ref: ReferenceView | None = None,
        state: dict[str, Any] | None = None,
    ) -> list[Alert]:
        split = self._split.get(event.kind)
        if split is None:
            return []
        judges, readers = split
        # one view per event, its ``state`` swapped per detector: views are cheap to read
        # but building one per detector per event was a visible share of the run time
        view = StateView(
            now=event.time,
            officer=officer,
            ref=ref if ref is not None else self.reference.at(event.time),
            owns=owns or self.owns,
            graph=self.graph,
        )
        officer_state = state
        if officer_state is None and with_state and officer:
            officer_state = self._states.officer(officer)
        held = officer_state if officer_state is not None else {}
        findings: list[Finding] = []
        call = self._call
        # untimed (nine batches in ten in the worker): the detector is called here, without
        # the wrapper's frame and clock reads, ~1 us per detector per event
        direct = self.hooks.on_detector_time is None
        # the empty slot a detector without one is handed; replaced once written to, so
        # most calls allocate nothing
        spare: dict[str, Any] = {}
        t = event.time
        free = self._free
        free_now = free[0] == self.coverage.version and free[1] <= t < free[2]
        for det, det_id, judge, gated, needs in judges:
            if gated and not free_now and self.inactive(det, t, event):
                continue
            if needs is not None and not _carries(event, needs):
                continue  # nothing to this detector (a message without attachments)
            slot = held.get(det_id)
            view.state = slot if slot is not None else spare
            if direct:
                try:
                    found = judge(event, view)
                except Exception as exc:  # a detector bug must not stop the stream
                    found = self._failed(det, exc)
                if found:
                    findings.extend(self._passed(found))
            else:
                found = call(det, judge, event, view)
                if found:
                    findings.extend(found)
            # a slot is kept only once it holds something: most detectors keep nothing
            # about most officers
            if slot is None and (view.state or spare):
                if view.state and officer_state is not None:
                    officer_state[det_id] = view.state
                spare = {}
        # detectors that judge the others' findings (risk accumulation) see this event's
        view.officer_state = held
        for det, det_id, reads in readers:
            if det.needs_feeds and self.inactive(det, event.time, event):
                continue
            slot = held.get(det_id)
            view.state = slot if slot is not None else {}
            own = [f for f in findings
                   if f.officer == officer and f.detector in reads] if findings else []  # fmt: skip
            if direct:
                try:
                    found = det.on_findings(own, event, view)
                except Exception as exc:  # a detector bug must not stop the stream
                    found = self._failed(det, exc)
                if found:
                    findings.extend(self._passed(found))
            else:
                findings.extend(call(det, det.on_findings, own, event, view))
            if slot is None and view.state and officer_state is not None:
                officer_state[det_id] = view.state
        if not findings:
            return []
        # weak findings went to the readers above; alone they raise nothing
        return [self._alert(f) for f in findings if not f.weak]

    def _alert(self, finding: Finding) -> Alert:
        """The alert of one finding, with its evidence digests and what reference data at
        the finding's time adds (the officer's unit, sensitive people)."""
        return build_alert(finding, evidence=self.evidence.get, ref=self.reference.at(finding.time))

    def _call(self, det: Detector, fn: Callable[..., list[Finding]], *args: Any) -> list[Finding]:
        timed = self.hooks.on_detector_time
        start = _time.perf_counter() if timed else 0.0
        try:
            findings = fn(*args)
        except Exception as exc:  # a detector bug must not stop the stream
            return self._failed(det, exc)
        finally:
            if timed:
                timed(det.id, _time.perf_counter() - start)
        return self._passed(findings) if findings else []

    def _failed(self, det: Detector, exc: Exception) -> list[Finding]:
        log.exception("detector failed", extra={"detector": det.id}, exc_info=exc)
        if self.hooks.on_detector_error:
            self.hooks.on_detector_error(det.id, exc)
        return []

    def _passed(self, findings: list[Finding]) -> list[Finding]:
        """Findings not suppressed, each reported to ``on_finding``."""
        out = []
        for finding in findings:
            if self.hooks.is_suppressed and self.hooks.is_suppressed(finding):
                continue
            if self.hooks.on_finding:
                self.hooks.on_finding(finding)
            out.append(finding)
        return out

    # -- time ---------------------------------------------------------------------------

    def _advance(self, t: datetime) -> None:
        if self.clock is None or t > self.clock:
            self.clock = t

    def tick(self) -> list[Alert]:
        """Run due :meth:`Detector.on_tick` hooks at the event-time clock."""
        if self.clock is None:
            return []
        alerts: list[Alert] = []
        for det in self._tickers:
            every = timedelta(seconds=det.tick_every_s or 0)
            last = self._last_tick.get(det.id)
            if last is not None and self.clock - last < every:
                continue
            self._last_tick[det.id] = self.clock
            if det.needs_feeds and self.inactive(det, self.clock, None):
                continue
            view = StateView(
                now=self.clock,
                officer=None,
                ref=self.reference.at(self.clock),
                owns=self.owns,
                graph=self.graph,
            )
            if det.needs_feeds:
                view.feeds_from = {
                    feed: since for feed in det.needs_feeds
                    if (since := self.coverage.covering_since(feed, self.clock)) is not None
                }  # fmt: skip
            found = self._call(det, det.on_tick, view)
            if det.needs_feeds:  # what fell due while the feed was missing is not judged
                found = [f for f in found if not self.inactive(det, f.time, None)]
            alerts.extend(self._alert(f) for f in found if not f.weak)
        if self.hooks.on_coverage is not None:
            for feed in sorted(self.coverage.feeds):
                self._report_coverage(feed, self.clock)
        return alerts

    # -- reference coverage -------------------------------------------------------------

    def inactive(self, det: Detector, t: datetime, event: Event | None) -> bool:
        """Whether ``det`` may not judge at ``t``: a feed it needs covers too few staff.

        The first time a stretch of low coverage stops a detector on an activity ``event``,
        one operational alert is queued (returned with the event's alerts); its id depends only
        on the feed and when the stretch began, so every worker raises the same one. The first
        activity event judged after such a stretch ended queues its resumption alert."""
        for feed in det.needs_feeds:
            since = self.coverage.gated_since(feed, t)
            if since is None:
                if event is not None and self._open_stretches.get(feed):
                    self._resumed(feed, event)
                continue
            if (
                event is not None
                and not event.is_reference  # staff using systems: what would have flooded
                and (feed, since) not in self._gated_raised
            ):
                self._gated_raised.add((feed, since))
                self._open_stretches.setdefault(feed, set()).add(since)
                self.coverage_changes += 1
                self._pending.append(build_alert(self._operational(feed, since, event)))
                self._free = _NOT_FREE
            return True
        if not any(self._open_stretches.values()):
            span = self.coverage.clear_span(t)
            if span is not None:
                self._free = (self.coverage.version, *span)
        return False

    def _resumed(self, feed: str, event: Event) -> None:
        """Queue one resumption alert per stretch that ended before ``event`` (same feed)."""
        if event.is_reference:
            return
        resumed_at = self.coverage.covering_since(feed, event.time)
        if resumed_at is None:
            return
        ended = sorted(s for s in self._open_stretches[feed] if s < resumed_at)
        for since in ended:
            self._open_stretches[feed].discard(since)
            self._resumed_raised.add((feed, since))
            self.coverage_changes += 1
            self._pending.append(build_alert(self._resumption(feed, since, resumed_at, event)))

    def coverage_memory(self) -> dict[str, list[list[str]]]:
        """What this pipeline has raised about coverage, JSON-able: the stretches (feed, start)
        whose "inactive" alert and whose "resumed" alert were raised. The worker keeps it in
        its state changelog so that a restarted worker raises neither twice and still says
        when a stretch it raised before the restart ends (:meth:`remember_coverage`)."""
        return {
            "raised": sorted([f, t.isoformat()] for f, t in self._gated_raised),
            "resumed": sorted([f, t.isoformat()] for f, t in self._resumed_raised),
        }

    def remember_coverage(self, memory: Mapping[str, Any]) -> None:
        """Take in a :meth:`coverage_memory` kept before (a restart, or partitions another
        worker held): added to what this pipeline raised, never taking anything away."""
        raised = {(str(f), datetime.fromisoformat(t)) for f, t in memory.get("raised") or ()}
        resumed = {(str(f), datetime.fromisoformat(t)) for f, t in memory.get("resumed") or ()}
        if raised <= self._gated_raised and resumed <= self._resumed_raised:
            return
        self._gated_raised |= raised
        self._resumed_raised |= resumed
        self._free = _NOT_FREE
        for feed, since in self._gated_raised - self._resumed_raised:
            self._open_stretches.setdefault(feed, set()).add(since)
        for feed, since in self._resumed_raised:
            self._open_stretches.get(feed, set()).discard(since)
        self.coverage_changes += 1

    def inactive_detectors(self, feed: str) -> list[str]:
        """Ids of the detectors (this pipeline's and its graph judge's) needing ``feed``."""
        return sorted(d.id for d in self.detectors if feed in d.needs_feeds)

    def _coverage_finding(
        self, feed: str, cov: Coverage, t: datetime, event: Event, facts: dict[str, Any],
        **text: Any,
    ) -> Finding:
        """An operational ``engine.coverage`` finding about ``feed`` (its share ``cov`` at
        ``t``): ``facts`` add to the feed's figures; ``text`` is severity, score, title,
        explanation and dedup."""
        return Finding(
            detector=COVERAGE_DETECTOR,
            category=FEED_CATEGORY.get(feed, Category.MISUSE_OF_SYSTEMS),
            officer=COVERAGE_OFFICER,
            time=t,
            evidence=[event.id],
            facts={"feed": feed, "share": cov.share, "covered": cov.covered,
                   "staff": cov.staff, "min_share": self.min_feed_share, **facts,
                   "operational": True},
            **text,
        )  # fmt: skip

    def _operational(self, feed: str, since: datetime, event: Event) -> Finding:
        cov = self.coverage.at(feed, event.time)
        inactive = self.inactive_detectors(feed)
        share = f"{cov.share:.0%}"
        self._report_coverage(feed, event.time)
        return self._coverage_finding(
            feed, cov, event.time, event, {"inactive": inactive, "since": since.isoformat()},
            severity="medium",
            score=50.0,
            title=f"{feed} records exist for {share} of staff: "
            f"{len(inactive)} detectors inactive",
            explanation=(
                f"{feed} records exist for {share} of staff ({cov.covered} of {cov.staff}) "
                f"as of {event.time.isoformat()}: {', '.join(inactive)} inactive until the "
                f"{feed} feed covers {self.min_feed_share:.0%} of staff; judging resumes from "
                f"the event time it does. A feed problem, not an integrity one: check that "
                f"the {feed} system is connected."
            ),
            dedup=f"coverage|{feed}|{since.isoformat()}",
        )

    def _resumption(
        self, feed: str, since: datetime, resumed_at: datetime, event: Event
    ) -> Finding:
        cov = self.coverage.at(feed, resumed_at)
        detectors = self.inactive_detectors(feed)
        share = f"{cov.share:.0%}"
        return self._coverage_finding(
            feed, cov, resumed_at, event,
            {"resumed": detectors, "since": since.isoformat(),
             "resumed_at": resumed_at.isoformat()},
            severity="low",
            score=10.0,
            title=f"{feed} records exist for {share} of staff again: "
            f"{len(detectors)} detectors judging",
            explanation=(
                f"{feed} records exist for {share} of staff ({cov.covered} of {cov.staff}) "
                f"as of {resumed_at.isoformat()}: {', '.join(detectors)}, inactive since "
                f"{since.isoformat()}, judge again from then. Nothing they would have seen "
                f"in between was judged; replay that stretch if it matters."
            ),
            dedup=f"coverage-resumed|{feed}|{since.isoformat()}",
        )  # fmt: skip

    def _report_coverage(self, feed: str, t: datetime) -> None:
        report = self.hooks.on_coverage
        if report is None:
            return
        cov = self.coverage.at(feed, t)
        gated = self.coverage.gated_since(feed, t) is not None
        report(feed, cov.share, tuple(self.inactive_detectors(feed)) if gated else ())

    def _with_pending(self, alerts: list[Alert]) -> list[Alert]:
        if not self._pending:
            return alerts
        out, self._pending = self._pending + alerts, []
        return out

    # -- offline ------------------------------------------------------------------------

    def run(
        self, events: Iterable[Event], raws: Sequence[bytes | None] | None = None
    ) -> list[Alert]:
        """Process events as the worker would: reference first (they take effect from their
        event time), then activity in order, ticking as event time passes. Alerts are
        de-duplicated by id, first occurrence kept. ``raws``: the bytes each event was
        decoded from, in the same order, as the worker has them (see :meth:`process`)."""
        events = list(events)
        given: Sequence[bytes | None] = [None] * len(events) if raws is None else raws
        if len(given) != len(events):
            raise ValueError(f"{len(given)} raws for {len(events)} events")
        out: dict[str, Alert] = {}
        for e, raw in zip(events, given, strict=True):
            if e.is_reference:
                for a in self.process_reference(e, raw):
                    out.setdefault(a.id, a)
        for a in self.tick():
            out.setdefault(a.id, a)
        for e, raw in zip(events, given, strict=True):
            if not e.is_reference:
                for a in self.process_activity(e, raw):
                    out.setdefault(a.id, a)
        for a in self.tick():
            out.setdefault(a.id, a)
        return list(out.values())
