"""Policing-purpose reconciliation helpers: what links an officer to a subject."""

from __future__ import annotations

from detectors.lib.purpose import forms, justify, opened_contact, persons_reached, targets
from detectors.reference.state import ReferenceState
from tests.detectors.misuse_helpers import ev, link, task, ts, view


def test_a_task_naming_officer_and_subject_justifies_without_a_purpose() -> None:
    state = ReferenceState()
    state.apply(task("INC-1", ["S1"], ["P-1"]))
    e = view("v", "S1", "P-1", ts(0))
    why = justify(e, "S1", "P-1", state.at(e.time))
    assert why.kind == "task" and why.ref == "INC-1"


def test_purpose_naming_an_unrelated_task_is_no_purpose() -> None:
    state = ReferenceState()
    state.apply(task("INC-9", ["S2"], ["P-9"]))
    e = view("v", "S1", "P-1", ts(0), purpose="INC-9")
    assert justify(e, "S1", "P-1", state.at(e.time)).kind == "none"


def test_purpose_unknown_to_tasking_is_unverified_and_trust_is_a_choice() -> None:
    e = view("v", "S1", "P-1", ts(0), purpose="CAD-77")
    why = justify(e, "S1", "P-1", ReferenceState().at(e.time))
    assert why.kind == "purpose"
    assert why.accepted(True) and not why.accepted(False)
    assert "CAD-77" in why.absent("S1", "P-1")


def test_person_linked_to_a_task_subject_is_reached_by_that_task() -> None:
    state = ReferenceState()
    state.apply_all([task("OP-1", ["S1"], ["P-1"]), link("P-2", "person", "P-1")])
    e = view("v", "S1", "P-2", ts(0))
    assert justify(e, "S1", "P-2", state.at(e.time)).kind == "task"
    assert justify(e, "S3", "P-2", state.at(e.time)).kind == "none"


def test_task_assigned_after_the_look_up_does_not_justify_it() -> None:
    state = ReferenceState()
    state.apply(task("INC-1", ["S1"], ["P-1"], time=ts(1)))
    e = view("v", "S1", "P-1", ts(0))
    assert justify(e, "S1", "P-1", state.at(e.time)).kind == "none"


def test_broad_searches_target_nobody_narrow_ones_their_subjects() -> None:
    broad = ev(
        "s1",
        "record.search",
        ts(0),
        actor="S1",
        record={"type": "query", "id": "q"},
        subjects=["P-1", "P-2", "P-3"],
        attrs={"query": "Smith", "results": 3},
    )
    narrow = ev(
        "s2",
        "record.search",
        ts(0),
        actor="S1",
        record={"type": "query", "id": "q"},
        subjects=["P-1"],
        attrs={"query": "Smith", "results": 1},
    )
    assert targets(broad) == [] and targets(narrow) == ["P-1"]


def test_contact_fields_and_phone_forms() -> None:
    assert opened_contact(view("v", "S1", "P-1", ts(0), fields=("summary", "contact_details")))
    assert not opened_contact(view("v", "S1", "P-1", ts(0)))
    assert forms("07700 900444") == forms("+44 7700 900444")
    state = ReferenceState()
    state.apply(link("P-1", "phone", "+447700900444"))
    assert persons_reached("07700900444", state.at(view("v", "S1", "P-1", ts(0)).time)) == {"P-1"}


def test_a_task_on_an_ocg_reaches_its_other_nominals() -> None:
    state = ReferenceState()
    state.apply_all(
        [
            ev(
                "w1",
                "watchlist.upsert",
                ts(-5),
                attrs={"list": "ocg_nominal", "person": "P-1", "group": "OCG-A"},
            ),
            ev(
                "w2",
                "watchlist.upsert",
                ts(-5),
                attrs={"list": "ocg_nominal", "person": "P-2", "group": "OCG-A"},
            ),
            ev(
                "w3",
                "watchlist.upsert",
                ts(-5),
                attrs={"list": "ocg_nominal", "person": "P-3", "group": "OCG-B"},
            ),
            task("OP-1", ["S1"], ["P-1"]),
            task("OP-2", ["S2"], ["OCG-B"]),
        ]
    )
    e = view("v", "S1", "P-2", ts(0))
    assert justify(e, "S1", "P-2", state.at(e.time)).kind == "task"
    assert justify(e, "S1", "P-3", state.at(e.time)).kind == "none"
    assert justify(e, "S2", "P-3", state.at(e.time)).kind == "task"
