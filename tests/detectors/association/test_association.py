"""The association detectors: golden data run with an association graph, and the rules that
golden data does not show on its own (hubs, cross-staff paths, ownership, no graph)."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from detectors.association.convergence import Convergence
from detectors.association.declared_linked import DeclaredLinked
from detectors.association.nominal_contact import NominalContact
from detectors.association.ocg_path import OcgPath
from detectors.base import Detector
from detectors.graph.association import AssociationGraph
from detectors.registry import build
from engine.pipeline import Pipeline
from models.alerts import Alert
from models.events import Event, decode_event, decode_obj
from simulation.generator import Force

DATA = Path(__file__).parents[1] / "data"
CASES = [
    (folder.name, events, events.with_name(events.name.replace("events.jsonl", "expected.jsonl")))
    for folder in sorted(DATA.glob("association.*"))
    for events in sorted(folder.glob("*events.jsonl"))
]


def _run(events: list[Event], only: str, **params: object) -> list[Alert]:
    dets = [d for d in build({only: params} if params else None) if d.id == only]
    return Pipeline(dets, graph=AssociationGraph()).run(events)


def _association() -> list[Detector]:
    return [d for d in build() if d.id.startswith("association.")]


def run_interleaved(
    events: list[Event], detectors: list[Detector], rng: random.Random, *, burst: int = 200
) -> list[Alert]:
    """Process events as the worker may: every reference event applied first, in event-time
    order (the reference follower), then the reference agent's judging and each officer's
    activity stream interleaved at random, in runs of 1 to ``burst`` events, each stream in
    its own order (partitions are consumed interleaved, not in global event-time order, so
    one officer may be days ahead of another). Alerts de-duplicated by id, first kept."""
    pipe = Pipeline(detectors, graph=AssociationGraph())
    refs = sorted((e for e in events if e.is_reference), key=lambda e: (e.time, e.id))
    for e in refs:
        pipe.apply_reference(e)
    streams: dict[str, list[Event]] = {}
    for e in events:
        if not e.is_reference and e.actor is not None:
            streams.setdefault(e.actor, []).append(e)
    queues = [refs[::-1], *(s[::-1] for s in streams.values())]
    out: dict[str, Alert] = {}
    while queues:
        i = rng.randrange(len(queues))
        for _ in range(rng.randint(1, burst)):
            if not queues[i]:
                break
            for a in pipe.process(queues[i].pop()):
                out.setdefault(a.id, a)
        if not queues[i]:
            queues.pop(i)
    for a in pipe.tick():
        out.setdefault(a.id, a)
    return list(out.values())


def _ids(alerts: list[Alert]) -> dict[str, tuple[str, str]]:
    """Alert ids with what they are about. Not the time: when two paths link an officer to
    the same OCG, which one an order finds first (and so the alert's date) may differ."""
    return {a.id: (a.detector, a.officer) for a in alerts}


@pytest.mark.parametrize(("detector", "events", "expected"), CASES,
                         ids=[f"{d}/{e.name}" for d, e, _ in CASES])
def test_golden_alerts_do_not_depend_on_the_order_partitions_are_read(
    detector: str, events: Path, expected: Path
) -> None:
    evs = [decode_event(line) for line in events.read_bytes().splitlines() if line.strip()]
    want = _ids(Pipeline(_association(), graph=AssociationGraph()).run(evs))
    for seed in range(8):
        got = _ids(run_interleaved(evs, _association(), random.Random(seed), burst=3))
        assert got == want, f"interleaving {seed}"


@pytest.fixture(scope="module", params=[1, 2, 3])
def simulated(request: pytest.FixtureRequest) -> tuple[list[Event], dict[str, Any]]:
    force = Force(staff=150, days=21, seed=request.param)
    return [decode_obj(o) for o in force.events()], force.labels()


def test_simulated_force_gives_the_same_alerts_whatever_the_interleaving(
    simulated: tuple[list[Event], dict[str, Any]],
) -> None:
    """Issue 5: through the worker, partitions are read interleaved; the association alerts
    (ids, so detectors and officers) must be those of time order, in which every association
    scenario is found and no association look-alike raised."""
    events, labels = simulated
    want = _ids(Pipeline(_association(), graph=AssociationGraph()).run(events))
    scenarios = [c for c in labels["scenarios"] if c["category"] == "inappropriate_association"]
    assert {c["kind"].partition(":")[0] for c in scenarios} == {
        "ocg_path", "nominal_contact", "convergence", "declared_linked"}
    for case in scenarios:
        assert any(d in case["detectors"] and o in case["officers"] for d, o in want.values())
    for case in labels["lookalikes"]:
        raised = {(d, o) for d, o in want.values() if d.startswith("association.")}
        assert not {(d, o) for d in case["detectors"] for o in case["officers"]} & raised
    for seed in range(2):
        got = _ids(run_interleaved(events, _association(), random.Random(seed)))
        assert got == want, f"interleaving {seed}: {set(got) ^ set(want)}"


def test_a_late_lookup_completes_the_window_of_lookups_already_seen(
    event_factory: Callable[..., Event],
) -> None:
    """S3's partition runs behind: its 08:00 look-up arrives after S1's and S2's later ones;
    it brings S2's window to three officers, so S2 is raised then (the alert of time order)."""
    nominal = event_factory("watchlist.upsert", id="w1", time="2026-03-01T00:00:00Z",
                            attrs={"list": "ocg_nominal", "person": "P-N1", "group": "OCG-A"})

    def view(i: str, actor: str, hour: int) -> Event:
        return event_factory("record.view", id=i, actor=actor, time=f"2026-03-02T{hour:02d}:00:00Z",
                             record={"type": "person", "id": "P-N1"})

    s1, s2, s3 = view("v1", "S1", 10), view("v2", "S2", 12), view("v3", "S3", 8)
    in_order = Pipeline([Convergence()], graph=AssociationGraph()).run([nominal, s3, s1, s2])
    pipe = Pipeline([Convergence()], graph=AssociationGraph())
    pipe.process(nominal)
    assert pipe.process(s1) == [] and pipe.process(s2) == []
    (late,) = pipe.process(s3)
    assert _ids([late]) == _ids(in_order)
    assert (late.officer, late.time.hour, sorted(late.evidence)) == ("S2", 12, ["v1", "v2", "v3"])
    assert "completed by v3" in late.explanation
    # the one graph answers for every officer, whichever worker's partitions they are on
    owned = Pipeline([Convergence()], graph=AssociationGraph(), owns=lambda s: s != "S2")
    assert _ids([a for e in (nominal, s1, s2, s3) for a in owned.process(e)]) == _ids([late])


@settings(max_examples=60, deadline=None)
@given(
    looks=st.lists(
        st.tuples(st.integers(0, 5), st.integers(0, 7 * 24), st.sampled_from(["P-N1", "P-N2"])),
        min_size=1, max_size=25,
    ),
    seed=st.integers(0, 2**16),
)
def test_convergence_alerts_are_the_same_in_any_arrival_order(
    looks: list[tuple[int, int, str]], seed: int
) -> None:
    """Random look-ups of two nominals of one group by six officers over a week: any arrival
    order that keeps each officer's own order gives the alert ids of event-time order."""
    start = datetime(2026, 3, 1, tzinfo=UTC)
    events = [
        decode_obj({"id": f"w{i}", "time": "2026-02-01T00:00:00Z", "source": "intel",
                    "kind": "watchlist.upsert",
                    "attrs": {"list": "ocg_nominal", "person": p, "group": "OCG-A"}})
        for i, p in enumerate(["P-N1", "P-N2"])
    ]
    for n, (officer, hour, person) in enumerate(sorted(looks, key=lambda x: (x[1], x[0]))):
        events.append(decode_obj({
            "id": f"v{n:02d}", "time": (start + timedelta(hours=hour)).isoformat(),
            "source": "athena", "kind": "record.view", "actor": f"S{officer}",
            "record": {"type": "person", "id": person}}))
    want = _ids(Pipeline([Convergence()], graph=AssociationGraph()).run(events))
    got = _ids(run_interleaved(events, [Convergence()], random.Random(seed), burst=2))
    assert got == want


def test_a_path_is_judged_as_of_when_it_closed_not_when_it_was_found(
    event_factory: Callable[..., Event],
) -> None:
    """The worker applies all reference data before judging it: judging the old link of a
    partner to a nominal finds the path through the partner's later move-in. Declared (and
    reviewed) before the move-in: nothing; declared only after the path closed: raised."""

    def events(declared: str) -> list[Event]:
        return [
            event_factory("watchlist.upsert", id="w1", time="2025-01-01T00:00:00Z",
                          attrs={"list": "ocg_nominal", "person": "P-N1", "group": "OCG-A"}),
            event_factory("person.link", id="l1", time="2025-02-01T00:00:00Z",
                          attrs={"person": "P-PT", "link": "person", "value": "P-N1"}),
            event_factory("staff.upsert", id="hr-1", time="2025-01-01T00:00:00Z",
                          attrs={"staff_id": "S1", "addresses": ["1 High St"]}),
            event_factory("vetting.review.completed", id="vr-1", time=declared,
                          attrs={"staff_id": "S1"}),
            event_factory("association.declared", id="d1", time=declared,
                          attrs={"staff_id": "S1", "person": "P-PT", "relationship": "partner"}),
            event_factory("person.link", id="l2", time="2026-03-05T00:00:00Z",
                          attrs={"person": "P-PT", "link": "address", "value": "1 High St"}),
        ]

    for declared, raised in (("2025-11-01T00:00:00Z", []), ("2026-03-09T00:00:00Z", ["S1"])):
        evs = events(declared)
        want = Pipeline(_association(), graph=AssociationGraph()).run(evs)
        assert [(a.detector, a.officer) for a in want] == [
            ("association.ocg_path", o) for o in raised
        ]
        for seed in range(4):
            got = run_interleaved(evs, _association(), random.Random(seed), burst=1)
            assert _ids(got) == _ids(want)
        if raised:
            assert want[0].time.isoformat() == "2026-03-05T00:00:00+00:00"


def test_calls_to_a_shared_number_are_not_contact_with_a_nominal_on_it(
    event_factory: Callable[..., Event],
) -> None:
    """A hostel switchboard on record for many residents, one a nominal: not raised; the
    nominal's household number (a few people) still is; ``max_persons`` is the line."""

    def events(residents: int) -> list[Event]:
        return [
            event_factory("watchlist.upsert", id="w1", time="2026-03-01T00:00:00Z",
                          attrs={"list": "ocg_nominal", "person": "P-N1", "group": "OCG-A"}),
            *[event_factory("person.link", id=f"l{i}", time="2026-03-01T00:00:00Z",
                            attrs={"person": p, "link": "phone", "value": "01905 600100"})
              for i, p in enumerate(["P-N1", *[f"P-R{n}" for n in range(residents)]])],
            event_factory("call.made", id="c1", actor="S1", time="2026-03-02T10:00:00Z",
                          attrs={"number": "+441905600100"}),
        ]

    assert [a.officer for a in _run(events(2), NominalContact.id)] == ["S1"]
    assert [a.officer for a in _run(events(7), NominalContact.id)] == ["S1"]  # 8 people
    assert _run(events(8), NominalContact.id) == []  # 9 people: a shared number
    assert _run(events(30), NominalContact.id) == []
    assert _run(events(30), NominalContact.id, max_persons=40) != []
    everything = Pipeline(_association(), graph=AssociationGraph()).run(events(30))
    assert everything == []


def test_every_association_detector_has_golden_data() -> None:
    ids = {OcgPath.id, NominalContact.id, Convergence.id, DeclaredLinked.id}
    assert ids <= {d for d, _, _ in CASES}


@pytest.fixture
def force(event_factory: Callable[..., Event]) -> Callable[..., list[Event]]:
    """A nominal P-N1 of OCG-A with phone 0700; ``force(*more)`` appends events."""

    def make(*more: Event) -> list[Event]:
        return [
            event_factory("watchlist.upsert", id="w1", time="2026-03-01T00:00:00Z",
                          attrs={"list": "ocg_nominal", "person": "P-N1", "group": "OCG-A"}),
            event_factory("person.link", id="l1", time="2026-03-01T00:00:00Z",
                          attrs={"person": "P-N1", "link": "phone", "value": "0700"}),
            *more,
        ]

    return make


def test_one_link_closes_paths_for_every_member_of_staff_near_it(
    force: Callable[..., list[Event]], event_factory: Callable[..., Event]
) -> None:
    staff = [
        event_factory("staff.upsert", id=f"hr-{s}", time="2026-03-01T00:00:00Z",
                      attrs={"staff_id": s, "addresses": ["1 High St"]})
        for s in ("S1", "S2")
    ]
    closing = event_factory("person.link", id="l2", time="2026-03-02T00:00:00Z",
                            attrs={"person": "P-N1", "link": "address", "value": "1 high st"})
    alerts = _run(force(*staff, closing), OcgPath.id)
    assert sorted(a.officer for a in alerts) == ["S1", "S2"]
    assert all(a.evidence[0] == "l2" and len(a.path or []) == 2 for a in alerts)
    assert "l2 closed a path of 2 links" in alerts[0].explanation


def test_the_worker_judging_a_reference_event_raises_for_every_officer(
    force: Callable[..., list[Event]], event_factory: Callable[..., Event]
) -> None:
    events = force(
        *[event_factory("staff.upsert", id=f"hr-{s}", time="2026-03-01T00:00:00Z",
                        attrs={"staff_id": s, "addresses": ["1 High St"]}) for s in ("S1", "S2")],
        event_factory("person.link", id="l2", time="2026-03-02T00:00:00Z",
                      attrs={"person": "P-N1", "link": "address", "value": "1 High St"}),
    )
    # a reference event is judged once, by the worker holding its partition, which answers
    # for every officer it concerns: both, whatever activity partitions that worker owns
    pipe = Pipeline([OcgPath()], graph=AssociationGraph(), owns=lambda s: s == "S2")
    assert sorted(a.officer for a in pipe.run(events)) == ["S1", "S2"]


def test_leavers_are_not_alerted_about_but_paths_through_them_count(
    force: Callable[..., list[Event]], event_factory: Callable[..., Event]
) -> None:
    events = force(
        event_factory("staff.upsert", id="hr-1", time="2026-03-01T00:00:00Z",
                      attrs={"staff_id": "S1", "addresses": ["1 High St"], "status": "left"}),
        event_factory("staff.upsert", id="hr-2", time="2026-03-01T00:00:00Z",
                      attrs={"staff_id": "S2", "addresses": ["1 High St"], "status": "active"}),
        event_factory("person.link", id="l2", time="2026-03-02T00:00:00Z",
                      attrs={"person": "P-N1", "link": "person", "value": "P-X"}),
        event_factory("call.made", id="c1", actor="S1", time="2026-03-03T00:00:00Z",
                      attrs={"number": "0799"}),
        event_factory("person.link", id="l3", time="2026-03-01T00:00:00Z",
                      attrs={"person": "P-X", "link": "phone", "value": "0799"}),
    )
    assert _run(events, OcgPath.id) == []  # S1 is 3 links away, but has left
    wide = _run(events, OcgPath.id, hops=5)
    assert [(a.officer, [h.to for h in a.path or []]) for a in wide] == [
        ("S2", ["address 1 High St", "S1", "phone 0799", "P-X", "P-N1"])
    ]


def test_alert_time_is_the_latest_evidence_even_when_activity_closes_the_path(
    force: Callable[..., list[Event]], event_factory: Callable[..., Event]
) -> None:
    """Offline, reference events come first: a call on day 3 can close a path whose other
    link was recorded on day 5; the alert is dated by its latest evidence (the contract)."""
    events = force(
        event_factory("person.link", id="l5", time="2026-03-05T00:00:00Z",
                      attrs={"person": "P-X", "link": "phone", "value": "0799"}),
        event_factory("person.link", id="l6", time="2026-03-01T00:00:00Z",
                      attrs={"person": "P-X", "link": "person", "value": "P-N1"}),
        event_factory("call.made", id="c1", actor="S1", time="2026-03-03T00:00:00Z",
                      attrs={"number": "0799"}),
    )
    (alert,) = _run(events, OcgPath.id)
    assert alert.evidence[0] == "c1" and "l5" in alert.evidence
    assert alert.time.isoformat() == "2026-03-05T00:00:00+00:00"


def test_hubs_are_not_passed_through(
    force: Callable[..., list[Event]], event_factory: Callable[..., Event]
) -> None:
    """A switchboard number everyone calls must not link every caller to the nominal."""
    calls = [
        event_factory("call.made", id=f"c{i}", actor=f"S{i}", time="2026-03-02T09:00:00Z",
                      attrs={"number": "101"})
        for i in range(6)
    ]
    nominal_calls = event_factory("person.link", id="l3", time="2026-03-01T00:00:00Z",
                                  attrs={"person": "P-N1", "link": "phone", "value": "101"})
    alerts = Pipeline([OcgPath()], graph=AssociationGraph(hub_degree=4)).run(
        force(nominal_calls, *calls)
    )
    assert alerts == []
    # the same with a high cap: the number is no hub, and each caller is 2 hops away (not a
    # call to the nominal's *own* number? it is: that is nominal_contact's, so still none)
    many = Pipeline([OcgPath(), NominalContact()], graph=AssociationGraph()).run(
        force(nominal_calls, *calls)
    )
    assert {a.detector for a in many} == {NominalContact.id}


def test_new_nominal_closes_paths_to_staff_already_linked(
    event_factory: Callable[..., Event],
) -> None:
    """A listing, not a link, can be what closes a path: search from the new target."""
    events = [
        event_factory("staff.upsert", id="hr-1", time="2026-03-01T00:00:00Z",
                      attrs={"staff_id": "S1", "phones": ["0711"]}),
        event_factory("person.link", id="l1", time="2026-03-01T00:00:00Z",
                      attrs={"person": "P-X", "link": "phone", "value": "0711"}),
        event_factory("person.link", id="l2", time="2026-03-01T00:00:00Z",
                      attrs={"person": "P-X", "link": "person", "value": "P-Y"}),
        event_factory("watchlist.upsert", id="w9", time="2026-03-05T00:00:00Z",
                      attrs={"list": "ocg_nominal", "person": "P-Y"}),
    ]
    alerts = _run(events, OcgPath.id)
    assert [(a.officer, a.evidence[0], a.facts["group"]) for a in alerts] == [("S1", "w9", "P-Y")]
    assert [h.to for h in alerts[0].path or []] == ["phone 0711", "P-X", "P-Y"]


def test_hops_parameter_widens_the_search(
    force: Callable[..., list[Event]], event_factory: Callable[..., Event]
) -> None:
    events = force(
        event_factory("staff.upsert", id="hr-1", time="2026-03-01T00:00:00Z",
                      attrs={"staff_id": "S1", "addresses": ["1 High St"]}),
        event_factory("person.link", id="l2", time="2026-03-01T00:00:00Z",
                      attrs={"person": "P-A", "link": "address", "value": "1 High St"}),
        event_factory("person.link", id="l3", time="2026-03-01T00:00:00Z",
                      attrs={"person": "P-B", "link": "person", "value": "P-N1"}),
        event_factory("person.link", id="l4", time="2026-03-02T00:00:00Z",
                      attrs={"person": "P-A", "link": "person", "value": "P-B"}),
    )
    assert _run(events, OcgPath.id) == []
    wide = _run(events, OcgPath.id, hops=4)
    assert [(a.officer, a.facts["hops"]) for a in wide] == [("S1", 4)]


def test_detectors_find_nothing_without_a_graph(
    force: Callable[..., list[Event]], event_factory: Callable[..., Event]
) -> None:
    events = force(
        event_factory("staff.upsert", id="hr-1", time="2026-03-01T00:00:00Z",
                      attrs={"staff_id": "S1", "phones": ["0700"]}),
        event_factory("association.declared", id="d1", time="2026-03-01T00:00:00Z",
                      attrs={"staff_id": "S1", "person": "P-N1"}),
    )
    dets = [OcgPath(), DeclaredLinked(), Convergence()]
    assert Pipeline(dets).run(events) == []
    assert Pipeline(dets, graph=AssociationGraph()).run(events) != []


def test_alerts_are_deterministic(force: Callable[..., list[Event]],
                                  event_factory: Callable[..., Event]) -> None:
    events = force(
        *[event_factory("staff.upsert", id=f"hr-{s}", time="2026-03-01T00:00:00Z",
                        attrs={"staff_id": s, "addresses": ["1 High St"]}) for s in "ABC"],
        event_factory("person.link", id="l2", time="2026-03-02T00:00:00Z",
                      attrs={"person": "P-N1", "link": "address", "value": "1 High St"}),
    )
    first = [(a.id, a.explanation, a.path) for a in _run(events, OcgPath.id)]
    second = [(a.id, a.explanation, a.path) for a in _run(events, OcgPath.id)]
    assert first == second and len(first) == 3
