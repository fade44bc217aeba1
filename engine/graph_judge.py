"""The graph judge: the association graph and the detectors that read it, free of Kafka.

Edge records in (:class:`models.edges.EdgeRecord`, derived by the pipeline where it judges
events), alerts out. The worker's graph agent (:mod:`streams.graph_agent`) feeds it from the
edges topic; offline (golden tests, ``Pipeline.run``) the pipeline hands its records straight
to one in the same process: the same records, the same judge, no broker.
"""

from __future__ import annotations

import logging
import time as _time
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from detectors.base import Detector, GraphDetector, StateView
from detectors.graph.association import AssociationGraph
from detectors.reference.state import ReferenceState
from engine.alerts import EvidenceBook, build_alert
from models.alerts import Alert, Finding
from models.edges import EdgeRecord
from models.events import Event

if TYPE_CHECKING:
    from engine.hooks import PipelineHooks

log = logging.getLogger(__name__)


def reads_graph(detector: Detector) -> bool:
    """Does this detector judge the graph (so it runs where the graph is, not per officer)?"""
    return isinstance(detector, GraphDetector)


def _everyone(_staff_id: str) -> bool:
    return True


class GraphJudge:
    """The graph and the detectors that read it, free of Kafka: records in, alerts out.

    ``reference``: the reference state the detectors judge against (the worker's, which its
    reference follower keeps complete; a reference record's own event is applied too, in
    case this worker has not read it yet). The one graph answers for every member of staff.
    """

    def __init__(
        self,
        detectors: Iterable[Detector],
        reference: ReferenceState,
        *,
        graph: AssociationGraph | None = None,
        hooks: PipelineHooks | None = None,
        make_graph: Callable[[], AssociationGraph] = AssociationGraph,
        evidence: EvidenceBook | None = None,
    ) -> None:
        self.detectors = list(detectors)
        #: the events behind the records taken, for the alerts' evidence digests (offline,
        #: the pipeline's own book)
        self.evidence = evidence if evidence is not None else EvidenceBook()
        self.reference = reference
        self.hooks = hooks
        self.make_graph = make_graph
        self.graph = graph if graph is not None else make_graph()
        #: ``gate(detector, time, event)``: whether a detector may not judge at ``time`` (a
        #: reference feed it needs is missing; :meth:`engine.pipeline.Pipeline.inactive`)
        self.gate: Callable[[Detector, datetime, Event | None], bool] | None = None
        self._by_kind: dict[str, list[Detector]] = {}
        for det in self.detectors:
            for kind in det.kinds:
                self._by_kind.setdefault(kind, []).append(det)

    def reset(self) -> None:
        """Forget the graph (to be rebuilt from the edges topic)."""
        self.graph = self.make_graph()

    def take(self, record: EdgeRecord, *, judge: bool = True) -> list[Alert]:
        """Apply one record; unless ``judge`` is off (a rebuild), judge what it changed.
        A record applied before is not judged again (it was when it came)."""
        event = record.event
        if event.is_reference:
            self.reference.apply(event)
        self.evidence.note(event)
        if not self.graph.apply(record) or not judge:
            return []
        detectors = self._by_kind.get(event.kind)
        if not detectors:
            return []
        view = StateView(
            now=event.time,
            officer=event.actor or getattr(event.attrs, "staff_id", None),
            ref=self.reference.at(event.time),
            owns=_everyone,
            graph=self.graph,
        )
        findings: list[Finding] = []
        gate = self.gate
        for det in detectors:
            gated = gate is not None and bool(det.needs_feeds)
            if gated and gate is not None and gate(det, event.time, event):
                continue
            view.state = {}
            found = self._call(det, event, view)
            if gated and gate is not None:
                found = [f for f in found if not gate(det, f.time, None)]
            findings.extend(found)
        return [
            build_alert(f, evidence=self.evidence.get, ref=self.reference.at(f.time))
            for f in findings if not f.weak
        ]  # fmt: skip

    def _call(self, det: Detector, event: Any, view: StateView) -> list[Finding]:
        hooks = self.hooks
        start = _time.perf_counter()
        try:
            found = det.evaluate(event, view)
        except Exception as exc:  # a detector bug must not stop the stream
            log.exception("detector failed", extra={"detector": det.id})
            if hooks is not None and hooks.on_detector_error:
                hooks.on_detector_error(det.id, exc)
            return []
        finally:
            if hooks is not None and hooks.on_detector_time:
                hooks.on_detector_time(det.id, _time.perf_counter() - start)
        out = []
        for finding in found:
            if hooks is not None and hooks.is_suppressed and hooks.is_suppressed(finding):
                continue
            if hooks is not None and hooks.on_finding:
                hooks.on_finding(finding)
            out.append(finding)
        return out
