"""Helpers the association detectors share: paths a record closed, hops, explanations."""

from __future__ import annotations

from detectors.graph.association import AssociationGraph
from detectors.graph.model import GraphPath, is_staff
from detectors.graph.paths import relation_of
from detectors.lib.common import PERSON_RECORD_KINDS
from detectors.reference.view import ReferenceView
from models.alerts import PathHop
from models.events import Event

#: the kinds whose events can add an edge or an OCG target to the graph
EDGE_KINDS = frozenset(
    {"staff.upsert", "person.link", "association.declared", "watchlist.upsert", "call.made"}
) | PERSON_RECORD_KINDS


def _path_hops(graph: AssociationGraph, path: GraphPath) -> list[PathHop]:
    hops = []
    for a, b in path.pairs():
        relation, evidence = relation_of(graph, a, b)
        hops.append(
            PathHop.model_validate(
                {"from": graph.label(a), "to": graph.label(b), "relation": relation,
                 "evidence": evidence}
            )
        )
    return hops


def _task_explains(ref: ReferenceView, staff_id: str, names: set[str]) -> list[str]:
    """Refs of tasks assigned to ``staff_id`` naming any of ``names`` (persons or groups)."""
    return sorted(
        f.value.ref for f in ref.tasks_of(staff_id) if names & set(f.value.subjects or ())
    )


def _gone(ref: ReferenceView, staff_id: str) -> bool:
    """A leaver is no longer the ACU's to alert about (paths through them still count)."""
    fact = ref.staff(staff_id)
    return fact is not None and fact.value.status == "left"


def _changed_paths(
    graph: AssociationGraph,
    event: Event,
    *,
    k: int,
    source: str,
) -> list[GraphPath]:
    """Paths (source to OCG target, at most ``k`` hops) this event's changes closed.

    ``source`` is ``"staff"`` (any member of staff) or ``"declared"`` (a declared associate).
    """
    want = is_staff if source == "staff" else graph.is_declared_person
    out: list[GraphPath] = []
    for edge in graph.new_edges_for(event.id):
        if source == "declared" and edge.relation == "declared":
            # a new declaration: how close is the associate to an OCG (not through the officer)
            out += graph.paths_from(edge.v, k=k, want=graph.is_target, blocked=edge.u)
        else:
            out += graph.paths_through(edge.u, edge.v, k=k, source=want, target=graph.is_target)
    for target in graph.new_targets_for(event.id):
        for p in graph.paths_from(target, k=k, want=want):
            out.append(GraphPath(tuple(reversed(p.nodes))))
    return out


def _ordinal(n: int) -> str:
    """``3rd``.

    >>> _ordinal(1), _ordinal(2), _ordinal(3), _ordinal(4), _ordinal(11), _ordinal(22)
    ('1st', '2nd', '3rd', '4th', '11th', '22nd')
    """
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"
