"""The association graph: who is linked to whom, through what, since when, and on whose word.

Nodes are typed by a prefix: ``staff:S1``, ``person:P-1``, ``address:<normalised>``,
``phone:<normalised>``, ``vehicle:<normalised>``, ``ocg:<group>`` (and ``other:`` for link
types outside the contract). Edges are undirected networkx edges whose data maps a relation
name to a :class:`Link` (who said so: the event ids; first and last event time).

Edges come from reference events (``staff.upsert`` addresses and phones, ``person.link``,
``association.declared``, ``watchlist.upsert`` of ``ocg_nominal`` with its group) and from
activity (``call.made``: officer to number; ``lookup_threshold`` look-ups of a person with no
purpose and no task: officer to person). :meth:`AssociationGraph.observe` remembers which
edges (and which new OCG nominals) each event brought, so detectors search only near what
changed: two balls of radius ``k - 1`` around the new edge's ends, never through a hub (a
node of more than ``hub_degree`` links, e.g. a switchboard number) nor through an OCG target.

The graph is current state, not versioned by event time like :mod:`detectors.state`: the
pipeline feeds it reference events first (in event-time order), then activity. The worker
reads activity partitions interleaved: each officer's events come in that officer's order,
but officers on different partitions do not come in global event-time order (in a replay one
partition may run a day ahead of another), and a reference event may be judged after later
ones were applied. So what the detectors conclude must not depend on that arrival order:
a relation records when it came to exist (:attr:`Link.since`), so a path can be judged as of
when it closed (:func:`closed_at`); the look-up log is kept in event-time order; and pruning
follows each officer's own clock, with ``lag_allowance_h`` for partitions running behind.

>>> from datetime import UTC, datetime
>>> g = AssociationGraph()
>>> t = datetime(2026, 3, 1, tzinfo=UTC)
>>> g.add_link("staff:S1", "phone:447700900999", "called", "ph-1", t)
True
>>> g.add_link("person:P-1", "phone:447700900999", "uses_phone", "int-5", t)
True
>>> g.mark_nominal("person:P-1")
True
>>> [p.nodes for p in g.paths_through("person:P-1", "phone:447700900999", k=3,
...                                   source=is_staff, target=g.is_target)]
[('staff:S1', 'phone:447700900999', 'person:P-1')]
"""

from __future__ import annotations

import itertools
from bisect import bisect_left, bisect_right, insort
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import networkx as nx

from detectors.common import PERSON_RECORD_KINDS, persons_of
from detectors.state import ReferenceView, normalise_value
from models.events import (
    AssociationAttrs,
    CallAttrs,
    Event,
    PersonLinkAttrs,
    StaffAttrs,
    WatchlistAttrs,
    WatchlistRemovedAttrs,
)

#: ``person.link`` link types and the node kind and relation they make
LINK_TYPES: dict[str, tuple[str, str]] = {
    "address": ("address", "lives_at"),
    "phone": ("phone", "uses_phone"),
    "vehicle": ("vehicle", "uses_vehicle"),
    "person": ("person", "associate_of"),
}
#: how a relation reads in an explanation: ``<src> <verb> <dst>`` (or ``{dst}`` placed)
VERBS: dict[str, str] = {
    "lives_at": "lives at",
    "uses_phone": "uses",
    "uses_vehicle": "uses",
    "associate_of": "is linked to",
    "declared": "declared an association with",
    "member_of": "is an OCG nominal of",
    "called": "called",
    "looked_up": "looked up {dst} with no purpose given and no task",
    "linked_to": "is linked to",
}
OCG_LIST = "ocg_nominal"


def node(kind: str, value: str) -> str:
    """The node id of an entity: ids kept as given, identifiers (phones...) normalised.

    >>> node("phone", "+44 7700 900-999"), node("staff", "S1")
    ('phone:07700900999', 'staff:S1')
    """
    if kind in ("staff", "person", "ocg"):
        return f"{kind}:{value}"
    return f"{kind}:{normalise_value(value)}"


def kind_of(n: str) -> str:
    return n.partition(":")[0]


def is_staff(n: str) -> bool:
    return n.startswith("staff:")


@dataclass(slots=True)
class Link:
    """One relation between two nodes: ``src`` is its subject (``S1`` *lives at* ...)."""

    relation: str
    src: str
    first: datetime
    last: datetime
    evidence: list[str]
    count: int = 1
    detail: str | None = None  # e.g. the declared relationship
    opened: datetime | None = None  # set when the relation exists later than its first event

    @property
    def since(self) -> datetime:
        """When the relation came to exist: its first event, or (``looked_up``) the look-up
        that reached the threshold."""
        return self.opened or self.first


@dataclass(frozen=True, slots=True)
class NewEdge:
    """A relation between ``u`` and ``v`` first seen with one event."""

    u: str
    v: str
    relation: str


@dataclass(frozen=True, slots=True)
class GraphPath:
    """A simple path from a source (e.g. a member of staff) to a target (e.g. an OCG)."""

    nodes: tuple[str, ...]

    @property
    def source(self) -> str:
        return self.nodes[0]

    @property
    def target(self) -> str:
        return self.nodes[-1]

    @property
    def hops(self) -> int:
        return len(self.nodes) - 1

    def pairs(self) -> Iterator[tuple[str, str]]:
        return itertools.pairwise(self.nodes)


@dataclass(frozen=True, slots=True, order=True)
class Lookup:
    """One look-up of an OCG nominal by an officer with no task for that person or group
    (ordered by event time, then event id: the log's order whatever the arrival order)."""

    time: datetime
    event_id: str
    officer: str
    person: str


@dataclass
class AssociationGraph:
    """Association graph (networkx) plus the small indexes the path checks need.

    ``lookup_threshold``: no-purpose, untasked look-ups of one person by one officer that
    make a ``looked_up`` edge; ``hub_degree``: nodes with more links are never passed
    through; ``max_evidence``: event ids kept per relation (the count goes on);
    ``remember_events``: how many recent activity events' changes :meth:`new_edges_for`
    still knows (an activity event is judged right after it is observed; a reference event's
    changes are kept as long as the reference data, as the worker may judge it much later);
    ``lookup_retention_h``: how long look-ups are kept (pending counts, relative to their
    officer's own clock, and the convergence log); ``lag_allowance_h``: how far behind the
    newest event a partition may run and still find the look-ups it needs;
    ``sweep_every``: events between two sweeps of stale look-ups.
    """

    lookup_threshold: int = 3
    hub_degree: int = 500
    max_evidence: int = 20
    remember_events: int = 10_000
    lookup_retention_h: float = 30 * 24.0
    lag_allowance_h: float = 7 * 24.0
    sweep_every: int = 50_000
    g: nx.Graph = field(default_factory=nx.Graph)

    def __post_init__(self) -> None:
        self._changes: OrderedDict[str, tuple[list[NewEdge], list[str]]] = OrderedDict()
        self._ref_changes: dict[str, tuple[list[NewEdge], list[str]]] = {}
        self._nominals: set[str] = set()
        self._listed: dict[str, datetime] = {}  # nominal -> when first listed
        self._declarers: dict[str, set[str]] = defaultdict(set)
        self._staff_upserted: dict[str, datetime] = {}
        self._pending: dict[tuple[str, str], list[tuple[datetime, str]]] = {}
        self._lookups: dict[str, list[Lookup]] = defaultdict(list)
        self._clocks: dict[str, datetime] = {}  # officer -> their latest activity's time
        self._newest: datetime | None = None
        self._observed = 0

    # -- writing --------------------------------------------------------------------------

    def observe(self, event: Event, ref: ReferenceView) -> None:
        """Take the edges an event implies; called by the pipeline for every event, after a
        reference event is applied and before detectors see an activity event."""
        if event.id in self._changes or event.id in self._ref_changes:
            return
        t = event.time
        if self._newest is None or t > self._newest:
            self._newest = t
        if not event.is_reference and event.actor:
            clock = self._clocks.get(event.actor)
            if clock is None or t > clock:
                self._clocks[event.actor] = t
        self._observed += 1
        if self._observed % self.sweep_every == 0:
            self.sweep()
        edges: list[NewEdge] = []
        targets: list[str] = []
        a = event.attrs
        if isinstance(a, StaffAttrs):
            edges += self._on_staff(event, a)
        elif isinstance(a, PersonLinkAttrs):
            kinds = LINK_TYPES.get(a.link or "", ("other", "linked_to"))
            if a.value:
                p, other = node("person", a.person), node(kinds[0], a.value)
                self._link(edges, p, other, kinds[1], event.id, t, label=a.value)
        elif isinstance(a, AssociationAttrs):
            if a.person:
                s, p = node("staff", a.staff_id), node("person", a.person)
                self._link(edges, s, p, "declared", event.id, t, detail=a.relationship)
                self._declarers[p].add(s)
        elif isinstance(a, WatchlistAttrs):
            if a.list == OCG_LIST and a.person:
                p = node("person", a.person)
                if self.mark_nominal(p):
                    targets.append(p)
                if p not in self._listed or t < self._listed[p]:
                    self._listed[p] = t
                if a.group:
                    self._link(edges, p, node("ocg", a.group), "member_of", event.id, t)
        elif isinstance(a, WatchlistRemovedAttrs):
            if a.list == OCG_LIST and a.person:
                self._unmark_nominal(node("person", a.person))
        elif isinstance(a, CallAttrs) and event.actor and a.number:
            s, ph = node("staff", event.actor), node("phone", a.number)
            self._link(edges, s, ph, "called", event.id, t, label=a.number)
        elif event.kind in PERSON_RECORD_KINDS and event.actor:
            edges += self._on_lookup(event, event.actor, ref)
        if not (edges or targets):
            return
        if event.is_reference:
            self._ref_changes[event.id] = (edges, targets)
            return
        self._changes[event.id] = (edges, targets)
        while len(self._changes) > self.remember_events:
            self._changes.popitem(last=False)

    def _on_staff(self, event: Event, a: StaffAttrs) -> list[NewEdge]:
        """Addresses and phones of a member of staff; a newer upsert replaces the old ones."""
        s = node("staff", a.staff_id)
        edges: list[NewEdge] = []
        newest = self._staff_upserted.get(s)
        if newest is not None and event.time < newest:
            return edges  # an older version arriving late changes nothing current
        self._staff_upserted[s] = event.time
        for values, kind, relation in (
            (a.addresses, "address", "lives_at"),
            (a.phones, "phone", "uses_phone"),
        ):
            if values is None:
                continue  # absent: not known, so keep what we had
            keep = {node(kind, v) for v in values}
            for other in [o for o in self.g.adj.get(s, {}) if kind_of(o) == kind]:
                if other not in keep:
                    self.remove_link(s, other, relation)
            for v in values:
                self._link(edges, s, node(kind, v), relation, event.id, event.time, label=v)
        return edges

    def _on_lookup(self, event: Event, officer: str, ref: ReferenceView) -> list[NewEdge]:
        """Count untasked, no-purpose look-ups; log look-ups of OCG nominals for convergence."""
        edges: list[NewEdge] = []
        horizon = event.time - timedelta(hours=self.lookup_retention_h)  # the officer's clock
        tasked = ref.subjects_tasked(officer)
        for person in persons_of(event):
            if person in tasked:
                continue
            entry = ref.on_list(person, OCG_LIST)
            if entry is not None and (entry.group is None or entry.group not in tasked):
                log = self._lookups[entry.group or person]
                found = Lookup(event.time, event.id, officer, person)
                if found not in log:
                    insort(log, found)  # event-time order, whatever the arrival order
            if event.purpose:
                continue
            s, p = node("staff", officer), node("person", person)
            if "looked_up" in (self.g.adj.get(s, {}).get(p) or {}):
                self.add_link(s, p, "looked_up", event.id, event.time)  # already an edge
                continue
            key = (officer, person)
            seen = [x for x in self._pending.get(key, ()) if x[0] >= horizon]
            if event.id not in {i for _, i in seen}:
                seen.append((event.time, event.id))
            self._pending[key] = seen
            if len(seen) >= self.lookup_threshold:
                del self._pending[key]
                for when, ev in seen:
                    self._link(edges, s, p, "looked_up", ev, when, opened=event.time)
        return edges

    def sweep(self) -> None:
        """Forget look-ups no one can need any more, so that state follows the retention,
        not the volume of activity ever seen. Called every ``sweep_every`` events by
        :meth:`observe`.

        A pending count (one officer's look-ups of one person) is read only by that
        officer's later events, so it goes once older than ``lookup_retention_h`` before the
        officer's own clock; the convergence log is read across officers, so an entry stays
        until it is older than the retention plus ``lag_allowance_h`` before the newest event
        seen, as a partition running behind may still need it (as does a pending count of an
        officer gone quiet, until then)."""
        if self._newest is None:
            return
        retention = timedelta(hours=self.lookup_retention_h)
        floor = self._newest - retention - timedelta(hours=self.lag_allowance_h)
        for key in list(self._pending):
            clock = self._clocks.get(key[0], self._newest)
            if self._pending[key][-1][0] < max(clock - retention, floor):
                del self._pending[key]
        for group in list(self._lookups):
            log = self._lookups[group]
            del log[: sum(1 for x in log if x.time < floor)]
            if not log:
                del self._lookups[group]
        for officer in [o for o, clock in self._clocks.items() if clock < floor]:
            del self._clocks[officer]

    def _link(
        self,
        out: list[NewEdge],
        u: str,
        v: str,
        relation: str,
        event_id: str,
        time: datetime,
        *,
        label: str | None = None,
        detail: str | None = None,
        opened: datetime | None = None,
    ) -> None:
        if label is not None and v not in self.g:
            self.g.add_node(v, label=label)
        if self.add_link(u, v, relation, event_id, time, detail=detail, opened=opened):
            out.append(NewEdge(u, v, relation))

    def add_link(
        self,
        u: str,
        v: str,
        relation: str,
        event_id: str,
        time: datetime,
        *,
        detail: str | None = None,
        opened: datetime | None = None,
    ) -> bool:
        """Record that ``u`` *relation* ``v`` per one event; True if the relation is new.

        ``opened``: when the relation came to exist, if later than this event (a look-up
        edge exists from the look-up that reached the threshold)."""
        if u == v:
            return False
        adj = self.g.adj
        data: dict[str, Link] | None = adj[u].get(v) if u in adj else None
        if data is None:
            self.g.add_edge(u, v)
            data = adj[u][v]
        link = data.get(relation)
        if link is None:
            data[relation] = Link(relation, u, time, time, [event_id], detail=detail,
                                  opened=opened if opened is not None and opened > time else None)
            return True
        if event_id in link.evidence:
            return False
        link.count += 1
        if len(link.evidence) < self.max_evidence:
            link.evidence.append(event_id)
        link.first, link.last = min(link.first, time), max(link.last, time)
        if detail:
            link.detail = detail
        return False

    def remove_link(self, u: str, v: str, relation: str) -> None:
        data = self.g.adj.get(u, {}).get(v)
        if data is not None and data.pop(relation, None) is not None and not data:
            self.g.remove_edge(u, v)

    def mark_nominal(self, person_node: str) -> bool:
        """Make a person an OCG target; True if they were not one already."""
        if person_node in self._nominals:
            return False
        self._nominals.add(person_node)
        if person_node not in self.g:
            self.g.add_node(person_node)
        return True

    def _unmark_nominal(self, person_node: str) -> None:
        self._nominals.discard(person_node)
        self._listed.pop(person_node, None)
        for other in [o for o in self.g.adj.get(person_node, {}) if kind_of(o) == "ocg"]:
            self.remove_link(person_node, other, "member_of")

    # -- reading --------------------------------------------------------------------------

    def _changed(self, event_id: str) -> tuple[list[NewEdge], list[str]]:
        return self._ref_changes.get(event_id) or self._changes.get(event_id) or ([], [])

    def new_edges_for(self, event_id: str) -> list[NewEdge]:
        """The relations first seen with this event (any reference event; recent activity)."""
        return list(self._changed(event_id)[0])

    def new_targets_for(self, event_id: str) -> list[str]:
        """Persons that became OCG nominals with this event."""
        return list(self._changed(event_id)[1])

    def is_target(self, n: str) -> bool:
        """An OCG nominal or an OCG group."""
        return n in self._nominals or n.startswith("ocg:")

    def listed_since(self, n: str) -> datetime | None:
        """When a nominal was first put on the OCG list (None if unknown or not a nominal)."""
        return self._listed.get(n)

    def is_declared_person(self, n: str) -> bool:
        return bool(self._declarers.get(n))

    def declarers(self, person_node: str) -> list[str]:
        """Staff nodes that declared an association with this person."""
        return sorted(self._declarers.get(person_node, ()))

    def groups_of(self, target: str) -> list[str]:
        """The OCG names a target stands for: its own, or a nominal's groups (else its id)."""
        if target.startswith("ocg:"):
            return [ident(target)]
        groups = sorted(ident(o) for o in self.g.adj.get(target, {}) if o.startswith("ocg:"))
        return groups or [ident(target)]

    def links(self, u: str, v: str) -> list[Link]:
        """Relations on the edge ``u``-``v``, oldest first."""
        data = self.g.adj.get(u, {}).get(v) or {}
        return sorted(data.values(), key=lambda link: (link.first, link.relation))

    def label(self, n: str) -> str:
        """How a node reads to a person: ``S1``, ``P-9``, ``phone +44...``, ``OCG-RIVERSIDE``."""
        kind = kind_of(n)
        if kind in ("staff", "person", "ocg"):
            return ident(n)
        attrs = self.g.nodes[n] if n in self.g else {}
        return f"{kind} {attrs.get('label', ident(n))}"

    def lookups(self, key: str, since: datetime, until: datetime) -> list[Lookup]:
        """Untasked look-ups of an OCG (by group name, or a nominal's id) in a time range,
        in event-time order (then event id)."""
        log = self._lookups.get(key)
        if not log:
            return []
        lo = bisect_left(log, since, key=_time_of)
        return log[lo : bisect_right(log, until, lo=lo, key=_time_of)]

    def is_hub(self, n: str) -> bool:
        return len(self.g.adj[n]) > self.hub_degree

    # -- bounded search -------------------------------------------------------------------

    def _ball(
        self, start: str, blocked: str | None, radius: int, *, expand_start: bool = False
    ) -> dict[str, tuple[str | None, int]]:
        """Nodes within ``radius`` of ``start`` (parent, distance), never passing through
        ``blocked``, a hub, or a target (the shorter path to that target is its own news)."""
        seen: dict[str, tuple[str | None, int]] = {start: (None, 0)}
        frontier = [start]
        # the plain adjacency dicts: ``g.adj[n]`` wraps each in a view, and this is the
        # innermost loop of every path check; ``is_target`` is inlined for the same reason
        adj: dict[str, dict[str, Any]] = self.g._adj
        nominals, hub = self._nominals, self.hub_degree
        for depth in range(1, radius + 1):
            nxt = []
            for n in frontier:
                if not (n == start and expand_start) and (
                    n in nominals or n.startswith("ocg:") or len(adj[n]) > hub
                ):
                    continue
                for m in adj[n]:
                    if m not in seen and m != blocked:
                        seen[m] = (n, depth)
                        nxt.append(m)
            frontier = nxt
        return seen

    def _target_near(self, start: str, blocked: str, radius: int) -> bool:
        """Whether ``self._ball(start, blocked, radius)`` holds a target, without building it:
        the outer layer, the biggest, is only looked at, and the search stops at the first."""
        nominals, hub = self._nominals, self.hub_degree
        if start in nominals or start.startswith("ocg:"):
            return True
        adj: dict[str, dict[str, Any]] = self.g._adj
        seen = {start}
        frontier = [start]
        for depth in range(1, radius + 1):
            nxt = []
            for n in frontier:
                if n in nominals or n.startswith("ocg:") or len(adj[n]) > hub:
                    continue  # as in ``_ball``: never passed through (the start is no target)
                for m in adj[n]:
                    if m == blocked or m in seen:
                        continue
                    if m in nominals or m.startswith("ocg:"):
                        return True
                    if depth < radius:
                        seen.add(m)
                        nxt.append(m)
            frontier = nxt
        return False

    @staticmethod
    def _walk(ball: dict[str, tuple[str | None, int]], n: str) -> list[str]:
        out = [n]
        parent = ball[n][0]
        while parent is not None:
            out.append(parent)
            parent = ball[parent][0]
        return out  # n ... start

    def paths_through(
        self,
        u: str,
        v: str,
        *,
        k: int,
        source: Callable[[str], bool],
        target: Callable[[str], bool],
    ) -> list[GraphPath]:
        """Shortest simple paths of at most ``k`` hops from a source to a target that use the
        edge ``u``-``v``: one per (source, target) pair, sorted. Cost: two balls of radius
        ``k - 1`` around the edge's ends, with hubs not passed through."""
        if u not in self.g or v not in self.g or k < 1:
            return []
        if target == self.is_target and not (
            self._target_near(u, v, k - 1) or self._target_near(v, u, k - 1)
        ):
            return []  # the usual case: no target near the edge
        ball_u = self._ball(u, v, k - 1)
        ball_v = self._ball(v, u, k - 1)
        if target == self.is_target:  # the usual target, inlined: it is asked of every node
            nominals = self._nominals
            targets_u = [
                (n, d) for n, (_, d) in ball_u.items() if n in nominals or n.startswith("ocg:")
            ]
            targets_v = [
                (n, d) for n, (_, d) in ball_v.items() if n in nominals or n.startswith("ocg:")
            ]
        else:
            targets_u = [(n, d) for n, (_, d) in ball_u.items() if target(n)]
            targets_v = [(n, d) for n, (_, d) in ball_v.items() if target(n)]
        if not (targets_u or targets_v):
            return []  # the usual case: no target near the edge, so no source to look for
        best: dict[tuple[str, str], tuple[str, ...]] = {}
        for near, far, targets in ((ball_u, ball_v, targets_v), (ball_v, ball_u, targets_u)):
            if not targets:
                continue
            sources = [(n, d) for n, (_, d) in near.items() if source(n)]
            for s, ds in sources:
                for t, dt in targets:
                    if ds + dt + 1 > k or s == t:
                        continue
                    nodes = (*self._walk(near, s), *reversed(self._walk(far, t)))
                    if len(set(nodes)) != len(nodes):
                        continue
                    old = best.get((s, t))
                    if old is None or (len(nodes), nodes) < (len(old), old):
                        best[(s, t)] = nodes
        return [GraphPath(nodes) for _, nodes in sorted(best.items())]

    def paths_from(
        self,
        start: str,
        *,
        k: int,
        want: Callable[[str], bool],
        blocked: str | None = None,
    ) -> list[GraphPath]:
        """Shortest paths of at most ``k`` hops from ``start`` to every node ``want`` accepts
        (``start`` itself included, as a path of 0 hops), sorted; ``blocked`` is avoided."""
        if start not in self.g:
            return []
        ball = self._ball(start, blocked, k, expand_start=True)
        return [
            GraphPath(tuple(reversed(self._walk(ball, n))))
            for n in sorted(ball)
            if want(n)
        ]

    def neighbourhood(self, start: str, hops: int) -> nx.Graph:
        """The subgraph within ``hops`` of ``start`` (hubs included, not expanded): for export."""
        if start not in self.g:
            return nx.Graph()
        seen = {start}
        frontier = [start]
        adj = self.g.adj
        for _ in range(hops):
            nxt = []
            for n in frontier:
                if n != start and len(adj[n]) > self.hub_degree:
                    continue
                for m in adj[n]:
                    if m not in seen:
                        seen.add(m)
                        nxt.append(m)
            frontier = nxt
        return self.g.subgraph(seen)

    def stats(self) -> dict[str, Any]:
        return {
            "nodes": self.g.number_of_nodes(),
            "edges": self.g.number_of_edges(),
            "nominals": len(self._nominals),
            "pending_lookups": len(self._pending),
        }


def _time_of(x: Lookup) -> datetime:
    return x.time


def ident(n: str) -> str:
    """The id part of a node: ``staff:S1`` -> ``S1``."""
    return n.partition(":")[2]


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
            parts.append(
                f"{graph.label(link.src)} {said}{extra} "
                f"(since {link.first.date().isoformat()}{times}; {ids})"
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
