"""A person a member of staff declared is themselves within ``hops`` links of an OCG (a nominal, or
linked to one): the declaration was honest, but the association needs a vetting review."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from detectors.association._common import EDGE_KINDS, _changed_paths, _gone, _path_hops
from detectors.association.params import DeclaredLinkedParams
from detectors.base import GraphDetector, StateView
from detectors.graph.association import AssociationGraph
from detectors.graph.model import EPOCH, GraphPath, ident, is_staff
from detectors.graph.paths import closed_at, describe, evidence_of
from detectors.lib.common import PERSON_RECORD_KINDS, plural
from detectors.registry import register
from models.alerts import Category, Finding, PathHop
from models.events import Event


@register
class DeclaredLinked(GraphDetector[DeclaredLinkedParams]):
    """A person a member of staff declared is themselves within ``hops`` links of an OCG
    (a nominal, or linked to one): the declaration was honest, but the association needs a
    vetting review.

    Not raised when a ``vetting.review.completed`` for that member of staff, on record when the
    declaration and the associate's path both stood, has an event time at or after both (the
    review could have weighed it). Raised as of when the declaration arrives, or when a later
    link, or a later listing, brings the associate near an OCG, whatever order the worker
    judges the events in. One alert per officer, associate and OCG.
    """

    id = "association.declared_linked"
    Params = DeclaredLinkedParams
    kinds = EDGE_KINDS - PERSON_RECORD_KINDS - {"call.made"}
    category = Category.INAPPROPRIATE_ASSOCIATION
    needs_feeds = ("vetting",)
    description = "Declared associate linked to an OCG, with no vetting review since."

    def __init__(self, params: DeclaredLinkedParams | None = None, /, **overrides: Any) -> None:
        super().__init__(params, **overrides)
        p = self.params
        self.hops = p.hops
        self.score = p.score

    @classmethod
    def test_params(cls) -> list[dict[str, Any]]:
        return [{"hops": 3}]  # fmt: skip

    def judge(self, event: Event, view: StateView) -> list[Finding]:
        graph = view.graph
        if not isinstance(graph, AssociationGraph):
            return []
        best: dict[tuple[str, str, str], tuple[GraphPath, str, datetime]] = {}
        for path in _changed_paths(graph, event, k=self.hops, source="declared"):
            if any(is_staff(n) for n in path.nodes):
                continue  # via a member of staff: that officer's own path, not the associate's
            person = ident(path.source)
            near = closed_at(graph, path, graph.listed_since(path.target) or EPOCH)
            for staff_node in graph.declarers(path.source):
                staff_id = ident(staff_node)
                if not view.owns(staff_id):
                    continue
                decl_link = next(
                    (x for x in graph.links(staff_node, path.source) if x.relation == "declared"),
                    None,
                )
                if decl_link is None:
                    continue
                since = max(near, decl_link.since)  # the declared associate is near an OCG
                ref = view.ref.at(since)  # judged as of then, whatever the arrival order
                declared = [f for f in ref.associations(staff_id) if f.value.person == person]
                if not declared or _gone(ref, staff_id):
                    continue
                if any(r.time >= since for r in ref.reviews_completed(staff_id)):
                    continue
                for group in graph.groups_of(path.target):
                    key = (staff_id, person, group)
                    old = best.get(key)
                    if old is None or (path.hops, path.nodes) < (old[0].hops, old[0].nodes):
                        best[key] = (path, declared[0].event_id, since)
        out = []
        for (staff_id, person, group), (path, decl_id, since) in sorted(best.items()):
            ref = view.ref.at(since)
            decl = next(f for f in ref.associations(staff_id) if f.event_id == decl_id)
            reviews = ref.reviews_completed(staff_id)
            last_review = max(reviews, key=lambda r: r.time) if reviews else None
            staff_hop = PathHop.model_validate(
                {"from": staff_id, "to": person, "relation": "declared", "evidence": [decl_id]}
            )
            how = (
                f"{person} is an OCG nominal of {group}"
                if path.hops == 0
                else f"{person} is {plural(path.hops, 'link')} from {group}: "
                + "; then ".join(describe(graph, path))
            )
            out.append(
                self.finding(
                    event,
                    officer=staff_id,
                    time=since,
                    severity="medium",
                    score=self.score + (10 if path.hops == 0 else 0),
                    title=f"{staff_id}'s declared associate {person} is linked to {group}",
                    explanation=(
                        f"{staff_id} declared {person}"
                        f"{' (' + decl.value.relationship + ')' if decl.value.relationship else ''}"
                        f" on {decl.time.date().isoformat()} ({decl_id}). {how}. "
                        + (
                            f"The last vetting review of {staff_id} ({last_review.event_id}, "
                            f"{last_review.time.date().isoformat()}) came before "
                            + ("the declaration" if last_review.time < decl.time else "this link")
                            if last_review
                            else f"No vetting review of {staff_id} has been completed"
                        )
                        + ". The declaration was honest; the association needs review."
                    ),
                    evidence=list(dict.fromkeys([event.id, decl_id, *evidence_of(graph, path)])),
                    subjects=[person],
                    path=[staff_hop, *_path_hops(graph, path)],
                    dedup=f"declared_linked|{person}|{group}",
                    facts={"hops": path.hops, "max_hops": self.hops, "group": group,
                           "declaration": decl_id,
                           "last_review": last_review.event_id if last_review else None},
                )
            )
        return out
