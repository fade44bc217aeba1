"""A new link closes a short path (at most ``hops`` links) from a member of staff to an OCG nominal
or group, and nothing explains it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from detectors.association._common import (
    EDGE_KINDS,
    _changed_paths,
    _gone,
    _path_hops,
    _task_explains,
)
from detectors.association.params import OcgPathParams
from detectors.base import GraphDetector, StateView
from detectors.graph.association import AssociationGraph
from detectors.graph.model import EPOCH, GraphPath, ident
from detectors.graph.paths import closed_at, describe, evidence_of, persons_on
from detectors.lib.common import plural
from detectors.reference.view import ReferenceView
from detectors.registry import register
from models.alerts import Category, Finding, Severity
from models.events import Event


@register
class OcgPath(GraphDetector[OcgPathParams]):
    """A new link closes a short path (at most ``hops`` links) from a member of staff to an
    OCG nominal or group, and nothing explains it.

    Explained: a task assigned to the officer names a person on the path or the group; paths
    through a person the officer declared belong to ``association.declared_linked``. One
    alert per officer and OCG (the shortest path wins; ties broken by node ids), about each
    member of staff whose path closes, even when the event is about someone else (a
    ``person.link`` of a nominal closes paths for every officer near that nominal).
    """

    id = "association.ocg_path"
    Params = OcgPathParams
    feeds_risk = True
    kinds = EDGE_KINDS
    category = Category.INAPPROPRIATE_ASSOCIATION
    description = "New link closes an undeclared, untasked short path from staff to an OCG."

    def __init__(self, params: OcgPathParams | None = None, /, **overrides: Any) -> None:
        super().__init__(params, **overrides)
        p = self.params
        self.hops = p.hops
        self.score = p.score
        self.score_step = p.score_step

    @classmethod
    def test_params(cls) -> list[dict[str, Any]]:
        return [{"hops": 2}, {"hops": 4}]  # fmt: skip

    def judge(self, event: Event, view: StateView) -> list[Finding]:
        graph = view.graph
        if not isinstance(graph, AssociationGraph):
            return []
        best: dict[tuple[str, str], tuple[GraphPath, datetime]] = {}
        for path in _changed_paths(graph, event, k=self.hops, source="staff"):
            staff_id = ident(path.source)
            if not view.owns(staff_id) or self._nominal_call(graph, path):
                continue
            closed = closed_at(graph, path, graph.listed_since(path.target) or EPOCH)
            ref = view.ref.at(closed)  # judged as of when the path closed
            if _gone(ref, staff_id):
                continue
            persons = set(persons_on(path))
            groups = graph.groups_of(path.target)
            if persons & {f.value.person for f in ref.associations(staff_id)}:
                continue  # declared: association.declared_linked's concern
            if _task_explains(ref, staff_id, persons | set(groups)):
                continue
            for group in groups:
                old = best.get((staff_id, group))
                if old is None or (path.hops, path.nodes) < (old[0].hops, old[0].nodes):
                    best[(staff_id, group)] = (path, closed)
        return [
            self._finding(event, view.ref.at(closed), graph, staff_id, group, path, closed)
            for (staff_id, group), (path, closed) in sorted(best.items())
        ]

    @staticmethod
    def _nominal_call(graph: AssociationGraph, path: GraphPath) -> bool:
        first = {link.relation for link in graph.links(path.nodes[0], path.nodes[1])}
        return path.hops == 2 and first == {"called"} and path.target.startswith("person:")

    def _finding(
        self,
        event: Event,
        ref: ReferenceView,
        graph: AssociationGraph,
        staff_id: str,
        group: str,
        path: GraphPath,
        closed: datetime,
    ) -> Finding:
        hops = _path_hops(graph, path)
        steps = describe(graph, path)
        persons = persons_on(path)
        target = graph.label(path.target)
        severity: Severity = "high" if path.hops <= 2 else "medium"
        tasks = ref.tasks_of(staff_id)
        return self.finding(
            event,
            officer=staff_id,
            time=closed,
            severity=severity,
            score=self.score - self.score_step * (path.hops - 1),
            title=f"{staff_id} is {plural(path.hops, 'link')} from {group} ({target})",
            explanation=(
                f"{event.kind} {event.id} closed a path of {plural(path.hops, 'link')} (the limit "
                f"is {self.hops}) from {staff_id} to {target}"
                f"{'' if target == group else ', a nominal of ' + group}: "
                + "; then ".join(steps)
                + f". {staff_id} has declared no association with "
                f"{', '.join(persons) if persons else 'anyone on this path'}, and "
                + (
                    f"none of {staff_id}'s {plural(len(tasks), 'task')} names them or {group}."
                    if tasks
                    else f"no task assigned to {staff_id} names them or {group}."
                )
            ),
            evidence=[event.id, *evidence_of(graph, path)],
            subjects=persons,
            path=hops,
            dedup=f"ocg_path|{group}",
            facts={"hops": path.hops, "max_hops": self.hops, "group": group,
                   "target": ident(path.target), "trigger": event.id,
                   "closed": closed.isoformat()},
        )
