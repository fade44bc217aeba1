"""The association graph: who is linked to whom, through what, since when, and on whose word.

Nodes are typed by a prefix: ``staff:S1``, ``person:P-1``, ``address:<normalised>``,
``phone:<normalised>``, ``vehicle:<normalised>``, ``ocg:<group>`` (and ``other:`` for link
types outside the contract). Edges are undirected networkx edges whose data maps a relation
name to a :class:`Link` (who said so: the event ids; first and last event time; until when
it stood, if it ended).

The graph is fed :class:`~models.edges.EdgeRecord` s, never raw activity: reference events
that change it (``staff.upsert`` addresses and phones, ``person.link``,
``association.declared``, ``watchlist.upsert``/``removed`` of ``ocg_nominal`` with its group)
and what the officers' workers derive from activity with each officer's own state
(:class:`EdgeDeriver`): calls (officer to number) while their evidence still grows,
``looked_up`` edges when an officer's look-ups of a person with no purpose and no task reach
``lookup_threshold``, and untasked look-ups of OCG nominals for the convergence log. So the
graph's cost follows the slowly changing graph, not the volume of activity.

:meth:`AssociationGraph.apply` remembers which edges (and which new OCG nominals) each record
brought, so detectors search only near what changed: two balls of radius ``k - 1`` around the
new edge's ends, never through a hub (a node of more than ``hub_degree`` links, e.g. a
switchboard number) nor through an OCG target.

Records arrive in no particular event-time order (officers' partitions are read interleaved,
reference events judged as their partitions come), so nothing concluded may depend on the
arrival order: a relation records when it came to exist (:attr:`Link.since`) and, once
replaced (an officer's address after a later ``staff.upsert``, a nominal taken off the list),
when it ended (:attr:`Link.until`); a path counts only if its links stood together at some
moment, and is judged as of when it closed (:func:`closed_at`), even when a link had been
replaced by the time the record arrived. The look-up log is kept in event-time order.

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
[('staff:S1', 'phone:447700900999', 'person:P-1')]"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import networkx as nx

from detectors.graph.deriver import EdgeDeriver
from detectors.graph.model import (
    EPOCH,
    FOREVER,
    LINK_TYPES,
    OCG_LIST,
    GraphPath,
    Link,
    Lookup,
    NewEdge,
    Span,
    ident,
    kind_of,
    node,
)
from detectors.reference.view import ReferenceView
from models.edges import EdgeRecord
from models.events import (
    AssociationAttrs,
    CallAttrs,
    Event,
    PersonLinkAttrs,
    StaffAttrs,
    WatchlistAttrs,
    WatchlistRemovedAttrs,
)


@dataclass
class AssociationGraph:
    """Association graph (networkx) plus the small indexes the path checks need.

    ``hub_degree``: nodes with more links are never passed through; ``max_evidence``: event
    ids kept per relation (the count goes on); ``remember_events``: how many recent activity
    records' changes :meth:`new_edges_for` still knows (a record is judged right after it is
    applied; a reference event's changes are kept as long as the graph);
    ``lookup_retention_h``: how long the convergence log keeps a look-up, and
    ``lag_allowance_h`` longer for partitions running behind the newest record;
    ``sweep_every``: records between two sweeps of that log. ``deriver``: used by
    :meth:`observe` only (tools and tests that feed events straight in).
    """

    hub_degree: int = 500
    max_evidence: int = 20
    remember_events: int = 10_000
    lookup_retention_h: float = 30 * 24.0
    lag_allowance_h: float = 7 * 24.0
    sweep_every: int = 50_000
    deriver: EdgeDeriver = field(default_factory=EdgeDeriver)
    g: nx.Graph = field(default_factory=nx.Graph)

    def __post_init__(self) -> None:
        self._changes: OrderedDict[str, tuple[list[NewEdge], list[str]]] = OrderedDict()
        # kept as long as the graph: tuples (no spare room; no targets, the shared empty one)
        self._ref_changes: dict[str, tuple[tuple[NewEdge, ...], tuple[str, ...]]] = {}
        self._applied_ref: set[str] = set()
        self._nominals: set[str] = set()
        self._listed: dict[str, datetime] = {}  # nominal -> when first listed
        self._delisted: dict[str, datetime] = {}  # nominal -> when taken off the list
        self._declarers: dict[str, set[str]] = defaultdict(set)
        # staff -> versions (time, event id, addresses, phones), in time order
        self._staff_versions: dict[str, list[tuple[datetime, str, Any, Any]]] = {}  # fmt: skip
        self._ended: set[tuple[str, str]] = set()  # node pairs with a relation that ended
        self._lookups: dict[str, list[Lookup]] = defaultdict(list)
        self._officer_states: dict[str, dict[str, Any]] = defaultdict(dict)  # for ``observe``
        # how an identifier node reads (the value as given, before normalising): here, not in
        # networkx's attribute dict of the node, where one entry took a table of its own
        self._labels: dict[str, str] = {}
        self._newest: datetime | None = None
        self.applied = 0

    # -- writing --------------------------------------------------------------------------

    def observe(self, event: Event, ref: ReferenceView) -> None:
        """Derive an event's record (with officer states held here) and apply it: for tools
        and tests that feed events straight in. The pipeline derives on the officer's worker
        and applies through the graph agent instead."""
        if event.is_reference:
            record = self.deriver.reference(event)
        else:
            record = self.deriver.activity(
                event, ref, self._officer_states[event.actor or ""]
            )
        if record is not None:
            self.apply(record)

    def apply(self, record: EdgeRecord) -> bool:
        """Take the edges a record implies; False if it was applied before (idempotent:
        records are redelivered after a restart)."""
        event = record.event
        if event.id in self._changes or event.id in self._applied_ref:
            return False
        t = event.time
        if self._newest is None or t > self._newest:
            self._newest = t
        self.applied += 1
        if self.applied % self.sweep_every == 0:
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
                if p in self._delisted and t >= self._delisted[p]:
                    del self._delisted[p]  # listed again after its removal
                if a.group:
                    self._link(edges, p, node("ocg", a.group), "member_of", event.id, t)
        elif isinstance(a, WatchlistRemovedAttrs):
            if a.list == OCG_LIST and a.person:
                self._delist(node("person", a.person), t)
        elif isinstance(a, CallAttrs) and event.actor and a.number:
            s, ph = node("staff", event.actor), node("phone", a.number)
            self._link(edges, s, ph, "called", event.id, t, label=a.number)
        for w in record.lookups:
            found = Lookup(t, event.id, event.actor or "", w.person)
            log = self._lookups[w.key]
            if found not in log:
                insort(log, found)  # event-time order, whatever the arrival order
        if record.looked_up and event.actor:
            s = node("staff", event.actor)
            for c in record.looked_up:
                p = node("person", c.person)
                for when, ev in c.evidence:
                    self._link(edges, s, p, "looked_up", ev, when, opened=c.opened)
        if event.is_reference:
            self._applied_ref.add(event.id)
            if edges or targets:
                self._ref_changes[event.id] = (tuple(edges), tuple(targets))
            return True
        self._changes[event.id] = (edges, targets)
        while len(self._changes) > self.remember_events:
            self._changes.popitem(last=False)
        return True

    def _on_staff(self, event: Event, a: StaffAttrs) -> list[NewEdge]:
        """Addresses and phones of a member of staff over time: each upsert gives them from
        its time until the next upsert that leaves them out (an absent list: not known, so
        the previous one stands). Versions may come in any order: the links are worked out
        again from all of them, so a replaced address stays known, with its end."""
        s = node("staff", a.staff_id)
        versions = self._staff_versions.setdefault(s, [])
        addresses = None if a.addresses is None else tuple(a.addresses)
        phones = None if a.phones is None else tuple(a.phones)
        insort(versions, (event.time, event.id, addresses, phones), key=lambda v: v[:2])
        edges: list[NewEdge] = []
        for idx, kind, relation in ((2, "address", "lives_at"), (3, "phone", "uses_phone")):
            spans: dict[str, tuple[datetime, datetime, datetime | None, list[str], str]] = {}
            current: set[str] = set()
            for v in versions:
                values: tuple[str, ...] | None = v[2] if idx == 2 else v[3]
                if values is None:
                    continue
                here = {node(kind, x): x for x in values}
                for n in current - set(here):
                    first, last, _, ids, label = spans[n]
                    spans[n] = (first, last, v[0], ids, label)
                for n, label in here.items():
                    old = spans.get(n)
                    if old is None or n not in current:
                        ids = old[3] if old else []
                        spans[n] = (old[0] if old else v[0], v[0], None, [*ids, v[1]], label)
                    else:
                        spans[n] = (old[0], v[0], None, [*old[3], v[1]], old[4])
                current = set(here)
            for n, (first, last, until, ids, label) in spans.items():
                if event.id in ids:
                    self._link(edges, s, n, relation, event.id, event.time, label=label)
                link = (self.g.adj.get(s, {}).get(n) or {}).get(relation)
                if link is None:
                    continue
                link.first, link.last, link.until = first, last, until
                link.evidence = ids[: self.max_evidence]
                link.count = len(ids)
                if until is not None:
                    self._ended.update(((s, n), (n, s)))
        return edges

    def _delist(self, person_node: str, t: datetime) -> None:
        """Taken off the OCG list at ``t``: still known as a nominal until then."""
        listed = self._listed.get(person_node)
        if listed is None or t < listed:
            return  # a removal older than the listing we know says nothing about it
        old = self._delisted.get(person_node)
        self._delisted[person_node] = t if old is None else min(old, t)
        for other in [o for o in self.g.adj.get(person_node, {}) if kind_of(o) == "ocg"]:
            link = self.g.adj[person_node][other].get("member_of")
            if link is not None and (link.until is None or t < link.until):
                link.until = t
                self._ended.update(((person_node, other), (other, person_node)))

    def sweep(self) -> None:
        """Forget convergence look-ups no one can need any more, so that state follows the
        retention, not the volume of activity ever seen. Called every ``sweep_every`` records
        by :meth:`apply`: an entry stays until it is older than the retention plus
        ``lag_allowance_h`` before the newest record, as a partition running behind may
        still need it."""
        if self._newest is None:
            return
        retention = timedelta(hours=self.lookup_retention_h)
        floor = self._newest - retention - timedelta(hours=self.lag_allowance_h)
        for group in list(self._lookups):
            log = self._lookups[group]
            del log[: sum(1 for x in log if x.time < floor)]
            if not log:
                del self._lookups[group]

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
            self.g.add_node(v)
            self._labels[v] = label
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

    # -- reading --------------------------------------------------------------------------

    def _changed(self, event_id: str) -> tuple[Sequence[NewEdge], Sequence[str]]:
        return self._ref_changes.get(event_id) or self._changes.get(event_id) or ((), ())

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

    def listed_until(self, n: str) -> datetime | None:
        """When a nominal was taken off the OCG list (None while listed)."""
        return self._delisted.get(n)

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
        return f"{kind} {self._labels.get(n, ident(n))}"

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

    def _timed(self) -> bool:
        """Whether any relation or listing ever ended: only then do paths need their links'
        times checked (every path of links that never ended stood from when it closed)."""
        return bool(self._ended or self._delisted)

    @staticmethod
    def _span_of(data: dict[str, Link]) -> Span:
        """When an edge stood: from its earliest relation, until its last one ended."""
        lo = min(link.since for link in data.values())
        ends = [link.until for link in data.values()]
        return lo, FOREVER if None in ends else max(e for e in ends if e is not None)

    def _listing(self, n: str) -> Span:
        """When a target was one: a nominal from its listing until its removal."""
        return self._listed.get(n, EPOCH), self._delisted.get(n, FOREVER)

    def _ball(
        self,
        start: str,
        blocked: str | None,
        radius: int,
        *,
        expand_start: bool = False,
        spans: dict[str, Span] | None = None,
    ) -> dict[str, tuple[str | None, int]]:
        """Nodes within ``radius`` of ``start`` (parent, distance), never passing through
        ``blocked``, a hub, or a target (the shorter path to that target is its own news).

        With ``spans`` (holding ``start``'s): only along links that stood together with the
        way there, and each node's span (when its way from ``start`` stood) is filled in."""
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
                if spans is not None:
                    lo, hi = spans[n]
                    for m, data in adj[n].items():
                        if m in seen or m == blocked:
                            continue
                        a, b = self._span_of(data)
                        a, b = max(a, lo), min(b, hi)
                        if a < b:  # the link stood while the way to ``n`` did
                            seen[m] = (n, depth)
                            spans[m] = (a, b)
                            nxt.append(m)
                    continue
                for m in adj[n]:
                    if m not in seen and m != blocked:
                        seen[m] = (n, depth)
                        nxt.append(m)
            frontier = nxt
        return seen

    def _target_near(self, start: str, blocked: str, radius: int) -> bool:
        """Whether ``self._ball(start, blocked, radius)`` holds a target, without building it:
        the outer layer, the biggest, is only looked at, and the search stops at the first.

        Every node id here is text: ``"ocg:" <= m < "ocg;"`` is ``m.startswith("ocg:")``
        without a method call (``;`` follows ``:``), and the outer layer is asked for
        nominals in one ``isdisjoint``; it is the inner loop of every new edge's check."""
        nominals, hub = self._nominals, self.hub_degree
        if start in nominals or "ocg:" <= start < "ocg;":
            return True
        adj: dict[str, dict[str, Any]] = self.g._adj
        seen = {start}
        frontier = [start]
        for depth in range(1, radius + 1):
            outer = depth == radius
            nxt = []
            for n in frontier:
                if n in nominals or "ocg:" <= n < "ocg;" or len(adj[n]) > hub:
                    continue  # as in ``_ball``: never passed through (the start is no target)
                nbrs = adj[n]
                if outer:  # a target among the neighbours (``seen`` never holds one)
                    if not nominals.isdisjoint(nbrs) and any(
                        m in nominals and m != blocked for m in nbrs
                    ):
                        return True
                    for m in nbrs:  # a loop, not ``any``: half the time here
                        if "ocg:" <= m < "ocg;" and m != blocked:
                            return True
                    continue
                for m in nbrs:
                    if m == blocked or m in seen:
                        continue
                    if m in nominals or "ocg:" <= m < "ocg;":
                        return True
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
        spans_u: dict[str, Span] | None = None
        spans_v: dict[str, Span] | None = None
        if self._timed():
            edge = self._span_of(self.g._adj[u][v])
            spans_u, spans_v = {u: edge}, {v: edge}
        ball_u = self._ball(u, v, k - 1, spans=spans_u)
        ball_v = self._ball(v, u, k - 1, spans=spans_v)
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
        for near, far, targets, at_s, at_t in (
            (ball_u, ball_v, targets_v, spans_u, spans_v),
            (ball_v, ball_u, targets_u, spans_v, spans_u),
        ):
            if not targets:
                continue
            sources = [(n, d) for n, (_, d) in near.items() if source(n)]
            for s, ds in sources:
                for t, dt in targets:
                    if ds + dt + 1 > k or s == t:
                        continue
                    if at_s is not None and at_t is not None and not self._stood(
                        at_s[s], at_t[t], t
                    ):
                        continue  # its links never stood together (with the target listed)
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
        spans: dict[str, Span] | None = None
        if self._timed():
            spans = {start: self._listing(start)}
        ball = self._ball(start, blocked, k, expand_start=True, spans=spans)
        return [
            GraphPath(tuple(reversed(self._walk(ball, n))))
            for n in sorted(ball)
            if want(n) and (spans is None or self._stood(spans[n], (EPOCH, FOREVER), n))
        ]

    def _stood(self, a: Span, b: Span, target: str) -> bool:
        """Whether two halves of a path and its target's listing stood at one moment."""
        listed = self._listing(target) if target in self._nominals else (EPOCH, FOREVER)
        return max(a[0], b[0], listed[0]) < min(a[1], b[1], listed[1])

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
            "ended": len(self._ended) // 2,
            "lookups_logged": sum(len(log) for log in self._lookups.values()),
        }


def _time_of(x: Lookup) -> datetime:
    return x.time
