"""The association graph: which events make which edges, and the bounded path search."""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable
from datetime import UTC, datetime

import networkx as nx
from hypothesis import given, settings
from hypothesis import strategies as st

from detectors.association.ocg_path import OcgPath
from detectors.graph.association import AssociationGraph
from detectors.graph.deriver import EdgeDeriver
from detectors.graph.model import GraphPath, NewEdge, is_staff
from detectors.graph.paths import closed_at
from detectors.reference.state import ReferenceState
from engine.pipeline import Pipeline
from models.edges import EdgeRecord
from models.events import Event, decode_obj

T = datetime(2026, 3, 1, tzinfo=UTC)


def _feed(graph: AssociationGraph, events: list[Event]) -> ReferenceState:
    ref = ReferenceState()
    for e in events:
        ref.apply(e)
        graph.observe(e, ref.at(e.time))
    return ref


def test_edges_from_every_source_kind(event_factory: Callable[..., Event]) -> None:
    g = AssociationGraph()
    _feed(g, [
        event_factory("staff.upsert", id="hr-1",
                      attrs={"staff_id": "S1", "addresses": ["1 High St"], "phones": ["0711"]}),
        event_factory("person.link", id="l1",
                      attrs={"person": "P-1", "link": "vehicle", "value": "AB12 CDE"}),
        event_factory("person.link", id="l2", attrs={"person": "P-1", "link": "person",
                                                      "value": "P-2"}),
        event_factory("association.declared", id="d1",
                      attrs={"staff_id": "S1", "person": "P-2", "relationship": "brother"}),
        event_factory("watchlist.upsert", id="w1",
                      attrs={"list": "ocg_nominal", "person": "P-2", "group": "OCG-A"}),
        event_factory("watchlist.upsert", id="w2", attrs={"list": "vip", "person": "P-3"}),
        event_factory("call.made", id="c1", actor="S1", attrs={"number": "+44 700"}),
    ])
    rels = {
        (link.src, v if link.src == u else u, r)
        for u, v, data in g.g.edges(data=True)
        for r, link in data.items()
    }
    assert rels == {
        ("staff:S1", "address:1highst", "lives_at"),
        ("staff:S1", "phone:0711", "uses_phone"),
        ("person:P-1", "vehicle:ab12cde", "uses_vehicle"),
        ("person:P-1", "person:P-2", "associate_of"),
        ("staff:S1", "person:P-2", "declared"),
        ("person:P-2", "ocg:OCG-A", "member_of"),
        ("staff:S1", "phone:44700", "called"),
    }
    assert g.new_edges_for("c1") == [NewEdge("staff:S1", "phone:44700", "called")]
    assert g.new_targets_for("w1") == ["person:P-2"] and g.new_edges_for("w2") == []
    assert g.is_target("person:P-2") and not g.is_target("person:P-3")
    assert g.declarers("person:P-2") == ["staff:S1"]
    assert g.links("staff:S1", "person:P-2")[0].detail == "brother"
    assert g.label("phone:44700") == "phone +44 700"


def test_a_newer_staff_upsert_ends_addresses_whatever_order_versions_come_in(
    event_factory: Callable[..., Event],
) -> None:
    """Each upsert gives the addresses from its time until the next that leaves them out;
    a replaced address stays known with its end (history), an absent list changes nothing."""
    g = AssociationGraph()
    _feed(g, [
        event_factory("staff.upsert", id="hr-1", time="2026-03-01T00:00:00Z",
                      attrs={"staff_id": "S1", "addresses": ["1 High St"], "phones": ["0711"]}),
        event_factory("staff.upsert", id="hr-2", time="2026-03-05T00:00:00Z",
                      attrs={"staff_id": "S1", "addresses": ["2 Low Rd"]}),
        event_factory("staff.upsert", id="hr-0", time="2026-02-01T00:00:00Z",
                      attrs={"staff_id": "S1", "addresses": ["9 Old Lane"]}),
    ])
    spans = {
        other: [(link.first.date().isoformat(), link.until and link.until.date().isoformat())
                for link in g.links("staff:S1", other)]
        for other in g.g.adj["staff:S1"]
    }
    assert spans == {
        "address:9oldlane": [("2026-02-01", "2026-03-01")],
        "address:1highst": [("2026-03-01", "2026-03-05")],
        "address:2lowrd": [("2026-03-05", None)],
        "phone:0711": [("2026-03-01", None)],  # phones absent from the later upserts: kept
    }
    assert g.new_edges_for("hr-0") == [NewEdge("staff:S1", "address:9oldlane", "lives_at")]


def test_observe_is_idempotent_and_evidence_accumulates(
    event_factory: Callable[..., Event],
) -> None:
    g = AssociationGraph(max_evidence=2)
    calls = [event_factory("call.made", id=f"c{i}", actor="S1", attrs={"number": "0700"})
             for i in range(4)]
    _feed(g, [calls[0], calls[0], *calls[1:]])
    (link,) = g.links("staff:S1", "phone:0700")
    assert (link.count, link.evidence) == (4, ["c0", "c1"])
    assert g.new_edges_for("c0") and not g.new_edges_for("c1")


def test_looked_up_edge_after_threshold_untasked_no_purpose_lookups(
    event_factory: Callable[..., Event],
) -> None:
    def view(i: int, person: str, **kw: object) -> Event:
        return event_factory("record.view", id=f"v-{person}-{i}", actor="S1",
                             time=f"2026-03-0{i + 1}T10:00:00Z",
                             record={"type": "person", "id": person}, **kw)

    g = AssociationGraph(deriver=EdgeDeriver(lookup_threshold=3))
    _feed(g, [
        event_factory("task.assigned", id="t1", attrs={"ref": "INC-1", "staff_ids": ["S1"],
                                                       "subjects": ["P-T"]}),
        *[view(i, "P-A") for i in range(3)],
        *[view(i, "P-T") for i in range(3)],  # tasked
        *[view(i, "P-P", purpose="INC-9") for i in range(3)],  # purpose given
        *[view(i, "P-B") for i in range(2)],  # not enough
    ])
    assert list(g.g.adj["staff:S1"]) == ["person:P-A"]
    assert g.new_edges_for("v-P-A-2") == [NewEdge("staff:S1", "person:P-A", "looked_up")]
    assert g.links("staff:S1", "person:P-A")[0].evidence == ["v-P-A-0", "v-P-A-1", "v-P-A-2"]


def test_stale_lookups_are_swept(event_factory: Callable[..., Event]) -> None:
    """Pending counts (in the officer's state, by the officer's own clock) and the
    convergence log (in the graph, by the newest record) follow the retention."""
    g = AssociationGraph(lookup_retention_h=24, lag_allowance_h=0, sweep_every=1,
                         deriver=EdgeDeriver(lookup_retention_h=24))
    _feed(g, [
        event_factory("watchlist.upsert", id="w1", time="2026-03-01T00:00:00Z",
                      attrs={"list": "ocg_nominal", "person": "P-N", "group": "OCG-A"}),
        event_factory("record.view", id="v1", actor="S1", time="2026-03-01T10:00:00Z",
                      record={"type": "person", "id": "P-N"}),
        event_factory("record.view", id="v2", actor="S1", time="2026-03-01T11:00:00Z",
                      record={"type": "person", "id": "P-Q"}),
    ])
    state = g._officer_states["S1"]
    assert set(state["pending"]) == {"P-N", "P-Q"} and g.lookups("OCG-A", T, T.replace(day=9))
    _feed(g, [
        event_factory("record.view", id="v3", actor="S1", time="2026-03-05T10:00:00Z",
                      record={"type": "person", "id": "P-Z"}),
        event_factory("watchlist.upsert", id="w2", time="2026-03-05T10:00:00Z",
                      attrs={"list": "ocg_nominal", "person": "P-M", "group": "OCG-B"}),
    ])
    assert set(state["pending"]) == {"P-Z"} and not g.lookups("OCG-A", T, T.replace(day=9))


def test_the_convergence_log_keeps_what_a_partition_running_behind_still_needs(
    event_factory: Callable[..., Event],
) -> None:
    """Records of S2's partition run days ahead of S1's: S1's look-up stays in the log while
    within the retention plus the lag allowance of the newest record."""
    g = AssociationGraph(lookup_retention_h=24, lag_allowance_h=72, sweep_every=1)

    def view(i: str, actor: str, when: str, person: str) -> Event:
        return event_factory("record.view", id=i, actor=actor, time=when,
                             record={"type": "person", "id": person})

    listed = event_factory("watchlist.upsert", id="w1", time="2026-02-01T00:00:00Z",
                           attrs={"list": "ocg_nominal", "person": "P-N", "group": "OCG-A"})
    _feed(g, [
        listed,
        view("s1-a", "S1", "2026-03-01T09:00:00Z", "P-N"),
        view("s2-a", "S2", "2026-03-03T09:00:00Z", "P-N"),
        view("s2-b", "S2", "2026-03-05T08:00:00Z", "P-N"),
    ])
    assert [x.event_id for x in g.lookups("OCG-A", T, T.replace(day=9))] == [
        "s1-a", "s2-a", "s2-b"]
    # the newest record 6 days on: kept are look-ups within 24 + 72 h of it
    _feed(g, [listed, view("s2-c", "S2", "2026-03-07T10:00:00Z", "P-N")])
    assert [x.event_id for x in g.lookups("OCG-A", T, T.replace(day=9))] == ["s2-b", "s2-c"]


def test_the_lookup_log_is_in_event_time_order_whatever_the_arrival_order(
    event_factory: Callable[..., Event],
) -> None:
    g = AssociationGraph()
    _feed(g, [
        event_factory("watchlist.upsert", id="w1", time="2026-02-01T00:00:00Z",
                      attrs={"list": "ocg_nominal", "person": "P-N", "group": "OCG-A"}),
        *[event_factory("record.view", id=f"v{i}", actor=f"S{i}", time=when,
                        record={"type": "person", "id": "P-N"})
          for i, when in enumerate(["2026-03-02T10:00:00Z", "2026-03-01T10:00:00Z",
                                    "2026-03-03T10:00:00Z", "2026-03-01T10:00:00Z"])],
    ])
    got = g.lookups("OCG-A", T, T.replace(day=9))
    assert [x.event_id for x in got] == ["v1", "v3", "v0", "v2"]


def test_a_lookup_edge_exists_from_the_lookup_that_reached_the_threshold(
    event_factory: Callable[..., Event],
) -> None:
    """A path through it closed then, not at the first look-up (judged as of that moment)."""
    g = AssociationGraph(deriver=EdgeDeriver(lookup_threshold=2))
    _feed(g, [
        event_factory("record.view", id=f"v{i}", actor="S1", time=f"2026-03-0{i + 1}T10:00:00Z",
                      record={"type": "person", "id": "P-A"})
        for i in range(2)
    ])
    (link,) = g.links("staff:S1", "person:P-A")
    assert link.first == T.replace(hour=10) and link.since == T.replace(day=2, hour=10)
    path = GraphPath(("staff:S1", "person:P-A"))
    assert closed_at(g, path, T) == T.replace(day=2, hour=10)


def test_reference_changes_outlive_the_activity_memory(event_factory: Callable[..., Event]) -> None:
    """The worker applies all reference data before judging it: a reference event's new
    edges must still be known after much activity."""
    g = AssociationGraph(remember_events=2)
    _feed(g, [
        event_factory("person.link", id="l1", attrs={"person": "P-1", "link": "phone",
                                                      "value": "0700"}),
        *[event_factory("call.made", id=f"c{i}", actor="S1", attrs={"number": f"07{i}"})
          for i in range(5)],
    ])
    assert g.new_edges_for("l1") == [NewEdge("person:P-1", "phone:0700", "uses_phone")]
    assert not g.new_edges_for("c0") and g.new_edges_for("c4")


def test_removal_from_the_nominal_list_ends_the_target(event_factory: Callable[..., Event]) -> None:
    g = AssociationGraph()
    _feed(g, [
        event_factory("watchlist.upsert", id="w1",
                      attrs={"list": "ocg_nominal", "person": "P-2", "group": "OCG-A"}),
        event_factory("watchlist.removed", id="w2", time="2026-03-03T00:00:00Z",
                      attrs={"list": "ocg_nominal", "person": "P-2"}),
    ])
    (member,) = g.links("person:P-2", "ocg:OCG-A")
    assert g.listed_until("person:P-2") == member.until == T.replace(day=3)


def _chain(g: AssociationGraph, *nodes: str) -> None:
    for a, b in itertools.pairwise(nodes):
        g.add_link(a, b, "linked_to", f"{a}-{b}", T)


def test_paths_through_respects_k_hubs_and_targets() -> None:
    g = AssociationGraph(hub_degree=3)
    g.mark_nominal("person:N")
    _chain(g, "staff:S", "address:a", "person:X", "person:N")
    found = g.paths_through("address:a", "person:X", k=3, source=is_staff, target=g.is_target)
    assert [p.nodes for p in found] == [("staff:S", "address:a", "person:X", "person:N")]
    assert g.paths_through("address:a", "person:X", k=2, source=is_staff,
                           target=g.is_target) == []
    # make address:a a hub: no path may pass through it any more
    for i in range(3):
        g.add_link("address:a", f"person:H{i}", "lives_at", f"h{i}", T)
    assert g.paths_through("address:a", "person:X", k=3, source=is_staff,
                           target=g.is_target) == []
    # a path through a target stops at that target
    g2 = AssociationGraph()
    g2.mark_nominal("person:N1")
    g2.mark_nominal("person:N2")
    _chain(g2, "staff:S", "person:N1", "person:N2")
    found = g2.paths_through("person:N1", "person:N2", k=3, source=is_staff, target=g2.is_target)
    assert found == []


def test_neighbourhood_is_bounded_and_hubs_not_expanded() -> None:
    g = AssociationGraph(hub_degree=2)
    _chain(g, "staff:S", "phone:1", "person:A", "person:B", "person:C")
    for i in range(3):
        g.add_link("phone:1", f"person:H{i}", "uses_phone", f"h{i}", T)
    sub = g.neighbourhood("staff:S", 2)
    assert set(sub) == {"staff:S", "phone:1"}  # phone:1 is a hub: shown, not expanded
    g.hub_degree = 10
    assert set(g.neighbourhood("staff:S", 2)) == {
        "staff:S", "phone:1", "person:A", "person:H0", "person:H1", "person:H2"
    }


@st.composite
def _graphs(draw: st.DrawFn) -> tuple[list[tuple[int, int]], dict[int, str], tuple[int, int]]:
    n = draw(st.integers(4, 10))
    pairs = [(a, b) for a in range(n) for b in range(a + 1, n)]
    edges = draw(st.lists(st.sampled_from(pairs), min_size=1, max_size=18, unique=True))
    kinds = {i: draw(st.sampled_from(["staff", "person", "nominal", "phone"])) for i in range(n)}
    new = draw(st.sampled_from(edges))
    return edges, kinds, new


@settings(max_examples=150, deadline=None)
@given(_graphs(), st.integers(1, 4))
def test_paths_through_finds_exactly_the_paths_the_new_edge_creates(
    case: tuple[list[tuple[int, int]], dict[int, str], tuple[int, int]], k: int
) -> None:
    """Against networkx on the whole graph: every (staff, target) pair within ``k`` only
    thanks to the new edge is found, and every path returned is a real simple path of at most
    ``k`` hops through the new edge (targets are never passed through)."""
    edges, kinds, (u, v) = case
    name = {i: f"{'person' if kind == 'nominal' else kind}:{i}" for i, kind in kinds.items()}
    g = AssociationGraph(hub_degree=1000)
    for i, kind in kinds.items():
        if kind == "nominal":
            g.mark_nominal(name[i])
    for a, b in edges:
        g.add_link(name[a], name[b], "linked_to", f"e{a}-{b}", T)
    found = g.paths_through(name[u], name[v], k=k, source=is_staff, target=g.is_target)
    for p in found:
        assert p.hops <= k and len(set(p.nodes)) == len(p.nodes)
        assert all(g.g.has_edge(a, b) for a, b in p.pairs())
        assert {name[u], name[v]} in [{a, b} for a, b in p.pairs()]
        assert not any(g.is_target(n) for n in p.nodes[1:-1])
    got = {(p.source, p.target) for p in found}
    staff = [n for n in g.g if is_staff(n)]
    targets = [n for n in g.g if g.is_target(n)]
    for s in staff:
        for t in targets:
            h = g.g.subgraph([n for n in g.g if not g.is_target(n) or n == t])
            without = nx.restricted_view(h, [], [(name[u], name[v])])
            d_with = nx.single_source_shortest_path_length(h, s, cutoff=k).get(t)
            d_without = nx.single_source_shortest_path_length(without, s, cutoff=k).get(t)
            if d_with is not None and d_without is None:
                assert (s, t) in got, (s, t)


def test_the_deriver_sends_calls_only_while_their_evidence_grows(
    event_factory: Callable[..., Event],
) -> None:
    """The graph agent's cost must not follow call volume: an (officer, number) edge is
    sent while it has fewer than ``max_evidence`` events; the last ``max_numbers`` numbers
    are remembered (one forgotten is sent again: its evidence is already full, no harm)."""
    deriver = EdgeDeriver(max_evidence=2, max_numbers=2)
    state: dict[str, object] = {}
    ref = ReferenceState().at(T)

    def call(i: int, number: str) -> bool:
        e = event_factory("call.made", id=f"c{i}", actor="S1", attrs={"number": number})
        return deriver.activity(e, ref, state) is not None

    sent = [call(i, n) for i, n in enumerate(["0700", "0700", "07-00", "0711", "0722",
                                              "0700"])]  # fmt: skip
    assert sent == [True, True, False, True, True, True]
    assert list(state["calls"]) == ["0722", "0700"]  # type: ignore[call-overload]


def test_the_deriver_sends_the_threshold_crossing_and_the_lookups_of_nominals(
    event_factory: Callable[..., Event],
) -> None:
    deriver = EdgeDeriver(lookup_threshold=3, max_evidence=4)
    ref_state = ReferenceState()
    ref_state.apply(event_factory("watchlist.upsert", id="w1", time="2026-02-01T00:00:00Z",
                                  attrs={"list": "ocg_nominal", "person": "P-N",
                                         "group": "OCG-A"}))
    ref_state.apply(event_factory("task.assigned", id="t1", time="2026-02-01T00:00:00Z",
                                  attrs={"ref": "OP-1", "staff_ids": ["S1"],
                                         "subjects": ["P-T"]}))
    state: dict[str, object] = {}

    def view(i: int, person: str, **kw: object) -> tuple[list[str], list[list[str]]]:
        e = event_factory("record.view", id=f"v{i}", actor="S1",
                          time=f"2026-03-0{i + 1}T10:00:00Z",
                          record={"type": "person", "id": person}, **kw)
        record = deriver.activity(e, ref_state.at(e.time), state)
        if record is None:
            return [], []
        assert record.event.attrs.model_dump() == {}  # what was read stays on the worker
        return ([w.key for w in record.lookups],
                [[i for _, i in c.evidence] for c in record.looked_up])

    got = [view(0, "P-A"), view(1, "P-T"), view(2, "P-A"), view(3, "P-T"), view(4, "P-A"),
           view(5, "P-A"), view(6, "P-N", purpose="INC-1"), view(7, "P-A"), view(8, "P-A")]
    assert got == [
        ([], []), ([], []), ([], []), ([], []),  # below the threshold; tasked
        ([], [["v0", "v2", "v4"]]),  # the crossing, with its evidence
        ([], [["v5"]]),  # the edge's evidence grows: sent
        (["OCG-A"], []),  # a nominal, untasked (purpose or not): for convergence
        ([], []), ([], []),  # the edge holds max_evidence events: no more records
    ]


def _judged(events: list[Event]) -> list[tuple[str, str]]:
    return [(a.officer, a.time.date().isoformat())
            for a in Pipeline([OcgPath()], graph=AssociationGraph()).run(events)]


def test_a_path_through_an_address_replaced_before_it_is_judged_still_counts(
    event_factory: Callable[..., Event],
) -> None:
    """S1 lived at 1 High St from 1 to 10 March; a nominal's link to that address on 3 March
    closes a path that stood, even though the move reached the graph first. A link made
    after the move closes nothing: the two links never stood together."""

    def events(linked: str) -> list[Event]:
        return [
            event_factory("staff.upsert", id="hr-1", source="hr", time="2026-03-01T00:00:00Z",
                          attrs={"staff_id": "S1", "addresses": ["1 High St"]}),
            event_factory("staff.upsert", id="hr-2", source="hr", time="2026-03-10T00:00:00Z",
                          attrs={"staff_id": "S1", "addresses": ["2 Low Rd"]}),
            event_factory("watchlist.upsert", id="w1", time="2026-02-01T00:00:00Z",
                          attrs={"list": "ocg_nominal", "person": "P-N", "group": "OCG-A"}),
            event_factory("person.link", id="l1", time=linked,
                          attrs={"person": "P-N", "link": "address", "value": "1 HIGH ST"}),
        ]

    assert _judged(events("2026-03-03T00:00:00Z")) == [("S1", "2026-03-03")]
    assert _judged(events("2026-03-12T00:00:00Z")) == []
    (alert,) = Pipeline([OcgPath()], graph=AssociationGraph()).run(events("2026-03-03T00:00:00Z"))
    assert "S1 lives at address 1 High St (since 2026-03-01 until 2026-03-10" in alert.explanation
    reordered = events("2026-03-03T00:00:00Z")
    assert _judged([reordered[3], *reordered[:3]]) == [("S1", "2026-03-03")]


def test_a_path_to_a_nominal_counts_only_while_they_were_listed(
    event_factory: Callable[..., Event],
) -> None:
    def events(called: str) -> list[Event]:
        return [
            event_factory("watchlist.upsert", id="w1", time="2026-02-01T00:00:00Z",
                          attrs={"list": "ocg_nominal", "person": "P-N", "group": "OCG-A"}),
            event_factory("watchlist.removed", id="w2", time="2026-03-10T00:00:00Z",
                          attrs={"list": "ocg_nominal", "person": "P-N"}),
            event_factory("person.link", id="l1", time="2026-02-01T00:00:00Z",
                          attrs={"person": "P-N", "link": "person", "value": "P-X"}),
            event_factory("person.link", id="l2", time="2026-02-01T00:00:00Z",
                          attrs={"person": "P-X", "link": "phone", "value": "0799"}),
            event_factory("call.made", id="c1", source="switch", actor="S1", time=called,
                          attrs={"number": "0799"}),
        ]

    assert _judged(events("2026-03-05T00:00:00Z")) == [("S1", "2026-03-05")]
    assert _judged(events("2026-03-12T00:00:00Z")) == []


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(1, 28), st.one_of(st.none(), st.sets(st.sampled_from("ABCD")))),
        min_size=1, max_size=6, unique_by=lambda v: v[0],
    ),
    st.randoms(use_true_random=False),
)
def test_an_officers_addresses_over_time_do_not_depend_on_the_order_upserts_come_in(
    versions: list[tuple[int, set[str] | None]], rng: random.Random
) -> None:
    def upsert(day: int, addresses: set[str] | None) -> EdgeRecord:
        return EdgeRecord(event=decode_obj({
            "id": f"hr-{day}", "time": f"2026-03-{day:02d}T00:00:00Z", "source": "hr",
            "kind": "staff.upsert",
            "attrs": {"staff_id": "S1", "addresses": sorted(addresses) if addresses is not None
                      else None}}))  # fmt: skip

    def spans(order: list[tuple[int, set[str] | None]]) -> dict[str, tuple[object, ...]]:
        g = AssociationGraph()
        for day, addresses in order:
            g.apply(upsert(day, addresses))
        return {
            other: (link.first, link.last, link.until, link.count, tuple(link.evidence))
            for other in g.g.adj.get("staff:S1", {})
            for link in g.links("staff:S1", other)
        }

    shuffled = list(versions)
    rng.shuffle(shuffled)
    in_order = spans(sorted(versions, key=lambda v: v[0]))
    assert spans(shuffled) == in_order
    latest = [a for _, a in sorted(versions, key=lambda v: v[0]) if a is not None]
    current = {k for k, (_, _, until, _, _) in in_order.items() if until is None}
    assert current == {f"address:{a.lower()}" for a in (latest[-1] if latest else ())}
