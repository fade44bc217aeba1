"""Reading a path found in the graph: who is on it, its evidence, when it closed, how to describe
it."""

from __future__ import annotations

from datetime import datetime

from detectors.graph.association import AssociationGraph
from detectors.graph.model import VERBS, GraphPath, ident


def persons_on(path: GraphPath) -> list[str]:
    """Person ids on a path, in order."""
    return [ident(n) for n in path.nodes if n.startswith("person:")]


def evidence_of(graph: AssociationGraph, path: GraphPath) -> list[str]:
    """Every event id behind a path's links, in path order."""
    out: dict[str, None] = {}
    for a, b in path.pairs():
        for link in graph.links(a, b):
            out.update(dict.fromkeys(link.evidence))
    return list(out)


def closed_at(graph: AssociationGraph, path: GraphPath, floor: datetime) -> datetime:
    """When a path came to exist: the latest of its hops' :attr:`Link.since` (a hop exists
    from its earliest relation), and ``floor`` (e.g. the declaration that makes the path
    matter). The same whatever order the events arrived in, so a path is judged (declared?
    tasked? reviewed?) as of this moment, not as of the event that happened to find it.
    """
    hops = [min(link.since for link in graph.links(a, b)) for a, b in path.pairs()]
    return max([floor, *hops])


def describe(graph: AssociationGraph, path: GraphPath) -> list[str]:
    """One sentence per hop, with the events behind it: ``S1 called phone +44... (ph-1)``."""
    out = []
    for a, b in path.pairs():
        parts = []
        for link in graph.links(a, b):
            dst = b if link.src == a else a
            extra = f" ({link.detail})" if link.detail else ""
            times = f", {link.count} times" if link.count > 1 else ""
            ids = ", ".join(link.evidence[:3]) + ("..." if len(link.evidence) > 3 else "")
            verb = VERBS.get(link.relation, link.relation)
            said = verb.format(dst=graph.label(dst)) if "{dst}" in verb else (
                f"{verb} {graph.label(dst)}"
            )
            until = f" until {link.until.date().isoformat()}" if link.until else ""
            parts.append(
                f"{graph.label(link.src)} {said}{extra} "
                f"(since {link.first.date().isoformat()}{until}{times}; {ids})"
            )
        out.append("; ".join(parts))
    return out


def relation_of(graph: AssociationGraph, a: str, b: str) -> tuple[str, list[str]]:
    """A hop's relation name(s) and its evidence, for an alert's ``path``."""
    links = graph.links(a, b)
    evidence: dict[str, None] = {}
    for link in links:
        evidence.update(dict.fromkeys(link.evidence))
    return "+".join(link.relation for link in links), list(evidence)
