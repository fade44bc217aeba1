"""Person look-up detectors: the alerts analysts should get, and the ordinary work they must not."""

from __future__ import annotations

import json
from typing import Any

from detectors.access.no_purpose import NoPurpose
from detectors.access.vulnerable_victim import VulnerableVictim
from detectors.base import StateView
from detectors.reference.state import ReferenceState
from models.events import Event
from tests.detectors.misuse_helpers import RunDetectors, ev, link, staff, task, ts, view, watch

WARM = view("warm", "S1", "P-0", ts(-4, 9))  # the officer's first unlinked look-up, days before


def test_repeated_unlinked_views_raise_once_with_figures(run_detectors: RunDetectors) -> None:
    views = [view(f"v{i}", "S1", "P-1", ts(i, 22)) for i in range(6)]
    alerts = run_detectors([staff("S1"), *views], only={"access.no_purpose"})
    assert len(alerts) == 1
    a = alerts[0]
    assert a.evidence == ["v0", "v1", "v2", "v3", "v4"]
    assert "5 times on 5 days" in a.explanation and "no purpose was given" in a.explanation


def test_contact_details_count_double_and_a_busy_desk_needs_more(
    run_detectors: RunDetectors,
) -> None:
    contact = [view(f"c{i}", "S1", "P-1", ts(i, 9), fields=("contact_details",)) for i in range(3)]
    assert len(run_detectors([staff("S1"), WARM, *contact], only={"access.no_purpose"})) == 1
    busy = [view(f"b{i}", "S1", f"P-{100 + i}", ts(i // 100, 8, i % 100)) for i in range(300)]
    events = [staff("S1"), WARM, *busy, *contact]
    assert run_detectors(events, only={"access.no_purpose"}) == []


def test_no_pattern_before_the_warm_up_nor_among_habitual_revisits(
    run_detectors: RunDetectors,
) -> None:
    contact = [view(f"c{i}", "S1", "P-1", ts(i, 9), fields=("contact_details",)) for i in range(3)]
    assert run_detectors([staff("S1"), *contact], only={"access.no_purpose"}) == []
    regulars = [view(f"r{p}-{d}", "S1", f"P-{p}", ts(d, 8)) for p in (7, 8, 9) for d in (0, 1)]
    events = [staff("S1"), WARM, *regulars, *contact]
    assert run_detectors(events, only={"access.no_purpose"}) == []


def test_views_on_one_day_are_not_a_pattern(run_detectors: RunDetectors) -> None:
    views = [view(f"v{i}", "S1", "P-1", ts(0, 9, i)) for i in range(8)]
    assert run_detectors([staff("S1"), *views], only={"access.no_purpose"}) == []


def test_ocg_nominal_twice_with_no_link_but_not_when_tasked(run_detectors: RunDetectors) -> None:
    ref = [
        staff("S1"),
        staff("S2", "cid"),
        watch("ocg_nominal", "P-9", group="OCG-A"),
        task("OP-1", ["S2"], ["P-9"]),
    ]
    views = [
        view("a1", "S1", "P-9", ts(0, 9)),
        view("a2", "S1", "P-9", ts(0, 10)),
        view("b1", "S2", "P-9", ts(0, 9)),
        view("b2", "S2", "P-9", ts(0, 10)),
    ]
    alerts = run_detectors([*ref, *views], only={"access.no_purpose"})
    assert [(a.officer, a.evidence, a.severity) for a in alerts] == [("S1", ["a1", "a2"], "high")]
    assert "OCG-A" in alerts[0].explanation


def test_state_is_pruned_by_event_time() -> None:
    det = NoPurpose()
    state: dict[str, Any] = {}
    ref = ReferenceState()
    for i in range(40):
        e = view(f"v{i}", "S1", f"P-{i}", ts(i, 9))
        det.evaluate(e, StateView(now=e.time, officer="S1", ref=ref.at(e.time), state=state))
    assert len(state["views"]) <= 15  # only the last 14 days of subjects
    assert len(state["per_day"]) <= 15
    json.dumps(state)


def test_self_household_associate_and_colleague(run_detectors: RunDetectors) -> None:
    ref = [
        staff("S1", phones=["+447700900123"]),
        staff("S2"),
        staff("S4", "professional_standards"),
        link("P-1", "phone", "07700 900123"),
        ev(
            "as-1",
            "association.declared",
            ts(-2),
            attrs={"staff_id": "S1", "person": "P-2", "relationship": "partner"},
        ),
    ]
    # household: a purpose is not enough
    views = [
        view("h", "S1", "P-1", ts(0, 9), purpose="CAD-1"),
        view("a", "S1", "P-2", ts(0, 10)),
        view("c", "S1", "S2", ts(0, 11)),
        view("c2", "S1", "S2", ts(0, 12)),  # same colleague again: same alert's worth
        view("p", "S4", "S2", ts(0, 11)),  # professional standards: their job
        view("k", "S2", "S1", ts(0, 13), purpose="INC-5"),
    ]  # colleague with a purpose
    alerts = run_detectors([*ref, *views], only={"access.self_family_colleague"})
    got = sorted((a.officer, a.evidence[0], a.facts["relation"]) for a in alerts)
    assert got == [("S1", "a", "associate"), ("S1", "c", "colleague"), ("S1", "h", "household")]


def test_vip_with_task_is_work_without_is_browsing(run_detectors: RunDetectors) -> None:
    ref = [staff("S1"), staff("S2"), watch("vip", "P-8"), task("CRM-1", ["S2"], ["P-8"])]
    views = [view("x", "S1", "P-8", ts(0, 22)), view("y", "S2", "P-8", ts(0, 9))]
    alerts = run_detectors([*ref, *views], only={"access.vip_browsing"})
    assert [(a.officer, a.evidence) for a in alerts] == [("S1", ["x"])]


def test_complainant_lookup_only_after_the_complaint(run_detectors: RunDetectors) -> None:
    complaint = ev(
        "c-1",
        "complaint.logged",
        ts(1),
        attrs={
            "staff_id": "S1",
            "complaint": "CO-1",
            "complainant": "P-5",
            "category": "incivility",
        },
    )
    views = [view("before", "S1", "P-5", ts(0)), view("after", "S1", "P-5", ts(2))]
    alerts = run_detectors([staff("S1"), complaint, *views], only={"access.complainant_lookup"})
    assert [a.evidence for a in alerts] == [["after", "c-1"]]
    assert "CO-1" in alerts[0].explanation


def _victim_ref(extra: tuple[Event, ...] = ()) -> list[Event]:
    return [
        staff("S1"),
        watch("vulnerable_victim", "P-4", group="domestic_abuse"),
        link("P-4", "phone", "+447700900444"),
        *extra,
    ]


def test_vulnerable_victim_sequence_scores_higher_as_it_completes(
    run_detectors: RunDetectors,
) -> None:
    events = [
        *_victim_ref(),
        view("v1", "S1", "P-4", ts(0, 23), fields=("contact_details",)),
        view("v2", "S1", "P-4", ts(1, 23)),
        ev("call", "call.made", ts(2, 1), actor="S1", attrs={"number": "07700900444"}),
        ev("call2", "call.made", ts(2, 2), actor="S1", attrs={"number": "07700900444"}),
    ]
    alerts = sorted(run_detectors(events, only={"access.vulnerable_victim"}), key=lambda a: a.time)
    assert [a.facts["stage"] for a in alerts] == ["views", "contact"]
    assert alerts[1].score > alerts[0].score and alerts[1].severity == "critical"
    assert alerts[1].evidence == ["v1", "v2", "call"]


def test_assigned_domestic_abuse_job_with_calls_is_silent(run_detectors: RunDetectors) -> None:
    events = [
        *_victim_ref((task("DA-1", ["S1"], ["P-4"]),)),
        *(view(f"v{i}", "S1", "P-4", ts(i, 9), fields=("contact_details",)) for i in range(4)),
        ev("call", "call.made", ts(4, 10), actor="S1", attrs={"number": "+447700900444"}),
        ev(
            "msg",
            "message.sent",
            ts(4, 11),
            actor="S1",
            attrs={"channel": "sms", "to": ["+447700900444"], "text": "as agreed"},
        ),
    ]
    assert run_detectors(events, only={"access.vulnerable_victim"}) == []


def test_call_without_any_prior_view_is_not_this_pattern() -> None:
    state = ReferenceState()
    state.apply_all(_victim_ref())
    call = ev("call", "call.made", ts(0), actor="S1", attrs={"number": "+447700900444"})
    view_ = StateView(now=call.time, officer="S1", ref=state.at(call.time), state={})
    assert VulnerableVictim().evaluate(call, view_) == []


def test_a_hub_address_is_no_household(run_detectors: RunDetectors) -> None:
    hostel = "1 Station Rd"
    ref = [staff("S1", addresses=[hostel]), *(link(f"P-{i}", "address", hostel) for i in range(12))]
    views = [view("v", "S1", "P-3", ts(0, 9))]
    assert run_detectors([*ref, *views], only={"access.self_family_colleague"}) == []


def test_two_days_need_a_denser_pattern_than_three(run_detectors: RunDetectors) -> None:
    two_days = [
        view("a", "S1", "P-1", ts(0, 9)),
        view("b", "S1", "P-1", ts(0, 10)),
        view("c", "S1", "P-1", ts(1, 9), fields=("contact_details",)),
    ]
    assert run_detectors([staff("S1"), WARM, *two_days], only={"access.no_purpose"}) == []
    denser = [*two_days, view("d", "S1", "P-1", ts(1, 11), fields=("contact_details",))]
    alerts = run_detectors([staff("S1"), WARM, *denser], only={"access.no_purpose"})
    assert [a.evidence for a in alerts] == [["a", "b", "c", "d"]]


def test_person_record_linked_to_a_staff_id_is_that_member_of_staff(
    run_detectors: RunDetectors,
) -> None:
    ref = [staff("S1"), staff("S2"), link("P-1", "person", "S1"), link("P-2", "person", "S2")]
    views = [view("own", "S1", "P-1", ts(0, 9)), view("col", "S1", "P-2", ts(0, 10))]
    alerts = run_detectors([*ref, *views], only={"access.self_family_colleague"})
    assert sorted((a.evidence[0], a.facts["relation"]) for a in alerts) == [
        ("col", "colleague"),
        ("own", "self"),
    ]


def test_a_busy_desk_keeps_a_bounded_book() -> None:
    det, ref = NoPurpose(), ReferenceState()
    state: dict[str, Any] = {}
    for i in range(2600):
        e = view(f"v{i}", "S1", f"P-{i}", ts(i // 1300, 8, i % 600 / 10))
        det.evaluate(e, StateView(now=e.time, officer="S1", ref=ref.at(e.time), state=state))
    assert len(state["views"]) <= 1000 + 1300  # swept to the cap each day, one day's growth
    assert "P-2599" in state["views"]


def test_officers_named_on_an_incident_are_not_looked_up(run_detectors: RunDetectors) -> None:
    incident = ev(
        "i",
        "record.view",
        ts(0, 9),
        actor="S1",
        record={"type": "incident", "id": "I-1"},
        subjects=["S1", "S2", "P-3"],
        attrs={"fields": ["summary"]},
    )
    assert (
        run_detectors([staff("S1"), staff("S2"), incident], only={"access.self_family_colleague"})
        == []
    )


def _incident(id_: str, actor: str, time: str, subjects: list[str]) -> Event:
    return ev(
        id_,
        "record.view",
        time,
        actor=actor,
        record={"type": "incident", "id": "I-" + id_},
        subjects=subjects,
        attrs={"fields": ["summary"]},
    )


def test_a_record_merely_naming_a_vip_counts_only_when_repeated(
    run_detectors: RunDetectors,
) -> None:
    ref = [staff("S1"), staff("S2"), watch("vip", "P-8")]
    once = [_incident("a", "S1", ts(0, 9), ["P-8", "P-1", "P-2"])]
    twice = [_incident("b", "S2", ts(0, 9), ["P-8"]), _incident("c", "S2", ts(1, 9), ["P-8"])]
    alerts = run_detectors([*ref, *once, *twice], only={"access.vip_browsing"})
    assert [(a.officer, a.evidence) for a in alerts] == [("S2", ["b", "c"])]
    assert "incident I-c naming P-8" in alerts[0].explanation


def test_mentions_of_a_victim_count_half_and_never_complete_a_sequence(
    run_detectors: RunDetectors,
) -> None:
    mentions = [_incident(f"m{i}", "S1", ts(i, 9), ["P-4", "P-1"]) for i in range(6)]
    call = ev("call", "call.made", ts(4, 10), actor="S1", attrs={"number": "07700900444"})
    alerts = run_detectors([*_victim_ref(), *mentions[:2], call], only={"access.vulnerable_victim"})
    assert alerts == []  # 2 mentions weigh 1 view, and no own record was opened
    alerts = run_detectors([*_victim_ref(), *mentions], only={"access.vulnerable_victim"})
    # six mentions weigh three views: the line
    assert [a.evidence for a in alerts] == [[f"m{i}" for i in range(6)]]
