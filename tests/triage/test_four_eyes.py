"""Four eyes (issue 19), the review's own steps: one analyst closing another's alert with
".", a bulk "duplicates" close over the whole queue, a year-long suppression made and
used by one supervisor, the head of unit judging an alert about themselves."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from tests.triage.helpers import PASSWORD, bearer
from triage.base import Outcome, Role, Status, Suppression
from triage.exceptions import Forbidden, InvalidTransition, NotFound

WHY = "checked the duty roster: tasked to this record"


def _suppression(store, alert, creator: str, days: int = 30) -> Suppression:
    now = store.clock()
    return Suppression(detector=alert.detector, officer=alert.officer, source_alert=alert.id,
                       expires_at=now + timedelta(days=days),
                       reason="a training account for courses", created_by=creator,
                       created_at=now)  # fmt: skip


def test_only_the_assignee_or_a_supervisor_works_an_alert(store, users, alert_factory):
    analyst, sup = users[Role.ANALYST], users[Role.SUPERVISOR]
    other = store.create_user("other", PASSWORD, Role.ANALYST, "S-other")
    a = alert_factory(severity="medium")
    store.upsert_alert(a)
    store.assign(a.id, "other", sup)
    for step in (
        lambda: store.close(a.id, Outcome.FALSE_POSITIVE, WHY, analyst),
        lambda: store.start_review(a.id, analyst),
        lambda: store.add_note(a.id, "a note on someone else's work", analyst),
        lambda: store.assign(a.id, "analyst", analyst),  # taking it over
    ):
        with pytest.raises(Forbidden):
            step()
    assert store.close(a.id, Outcome.REFERRED_TO_PSD, WHY, other).status is Status.CLOSED
    b = alert_factory(severity="medium")
    store.upsert_alert(b)
    with pytest.raises(Forbidden):  # unassigned: take it first
        store.close(b.id, Outcome.REFERRED_TO_PSD, WHY, analyst)
    assert store.close(b.id, Outcome.REFERRED_TO_PSD, WHY, sup).closed_by == "supervisor"


@pytest.mark.parametrize("rationale", [".", "   ", "dup", "x" * 40, "ok ok"])
def test_a_rationale_must_say_something(sqlite_store, users, alert_factory, rationale):
    store, sup = sqlite_store, users[Role.SUPERVISOR]
    a = alert_factory(severity="low")
    store.upsert_alert(a)
    with pytest.raises(InvalidTransition, match="rationale"):
        store.close(a.id, Outcome.NO_FURTHER_ACTION, rationale, sup)


@pytest.mark.parametrize("outcome", [Outcome.FALSE_POSITIVE, Outcome.NO_FURTHER_ACTION])
@pytest.mark.parametrize("severity", ["high", "critical"])
def test_dismissing_a_serious_alert_needs_a_second_approver(
    store, users, alert_factory, outcome, severity
):
    analyst, sup, head = users[Role.ANALYST], users[Role.SUPERVISOR], users[Role.HEAD_OF_UNIT]
    a = alert_factory(severity=severity)
    store.upsert_alert(a)
    store.start_review(a.id, analyst)
    proposed = store.close(a.id, outcome, WHY, analyst)
    assert (proposed.status, proposed.proposed_by, proposed.closed_at) == (
        Status.PENDING_CLOSURE, "analyst", None)  # fmt: skip
    with pytest.raises(InvalidTransition):
        store.close(a.id, outcome, WHY, analyst)  # no second proposal over the first
    with pytest.raises(Forbidden):
        store.approve_closure(a.id, analyst)  # not a supervisor
    rejected = store.reject_closure(a.id, "the roster shows no such tasking", sup)
    assert (rejected.status, rejected.outcome) == (Status.IN_REVIEW, None)
    store.close(a.id, outcome, WHY, sup)
    with pytest.raises(Forbidden, match="second person"):
        store.approve_closure(a.id, sup)  # the proposer
    closed = store.approve_closure(a.id, head)
    assert (closed.status, closed.closed_by, closed.approved_by) == (
        Status.CLOSED, "supervisor", "head_of_unit")  # fmt: skip
    actions = [e.action for e in store.audit_entries()]
    assert actions.count("alert.closure_proposed") == 2 and "alert.closure_rejected" in actions
    assert store.verify_audit() == len(actions)


def test_other_outcomes_and_lower_severities_close_at_once(store, users, alert_factory):
    sup = users[Role.SUPERVISOR]
    low = alert_factory(severity="medium")
    psd = alert_factory(severity="critical")
    store.upsert_alerts([low, psd])
    assert store.close(low.id, Outcome.FALSE_POSITIVE, WHY, sup).status is Status.CLOSED
    assert store.close(psd.id, Outcome.REFERRED_TO_PSD, WHY, sup).status is Status.CLOSED


def test_bulk_close_stays_within_one_officer_and_detector(store, users, alert_factory):
    sup = users[Role.SUPERVISOR]
    keep = alert_factory(officer="S1001")
    same = alert_factory(officer="S1001")
    other_officer = alert_factory(officer="S1002")
    other_detector = alert_factory(officer="S1001", detector="access.canary")
    store.upsert_alerts([keep, same, other_officer, other_detector])
    for stray in (other_officer, other_detector):
        with pytest.raises(InvalidTransition, match="one officer and one detector"):
            store.bulk_close_duplicates([same.id, stray.id], keep.id, WHY, sup)
    assert store.status_counts()["closed"] == 0  # all or nothing
    assert store.bulk_close_duplicates([same.id], keep.id, WHY, sup) == [same.id]


def test_bulk_close_only_of_alerts_the_caller_works(store, users, alert_factory):
    analyst, sup = users[Role.ANALYST], users[Role.SUPERVISOR]
    store.create_user("other", PASSWORD, Role.ANALYST, "S-other")
    keep, mine, theirs = alert_factory(), alert_factory(), alert_factory()
    store.upsert_alerts([keep, mine, theirs])
    store.assign(mine.id, "analyst", sup)
    store.assign(theirs.id, "other", sup)
    with pytest.raises(Forbidden):
        store.bulk_close_duplicates([mine.id, theirs.id], keep.id, WHY, analyst)
    assert store.bulk_close_duplicates([mine.id], keep.id, WHY, analyst) == [mine.id]


def test_a_suppression_needs_a_second_supervisor_and_a_bounded_length(store, users, alert_factory):
    analyst, sup, head = users[Role.ANALYST], users[Role.SUPERVISOR], users[Role.HEAD_OF_UNIT]
    a = alert_factory(severity="medium")
    store.upsert_alert(a)
    with pytest.raises(InvalidTransition, match="at most 90 days"):
        store.create_suppression(_suppression(store, a, "supervisor", days=365), sup)
    with pytest.raises(Forbidden):
        store.create_suppression(_suppression(store, a, "analyst"), analyst)
    created = store.create_suppression(_suppression(store, a, "supervisor"), sup)
    assert created.approved_by is None and store.active_suppressions() == []
    with pytest.raises(Forbidden, match="second person"):
        store.approve_suppression(created.id, sup)
    with pytest.raises(Forbidden):
        store.approve_suppression(created.id, analyst)
    approved = store.approve_suppression(created.id, head)
    assert approved.approved_by == "head_of_unit" and approved.approved_at is not None
    assert [s.id for s in store.active_suppressions()] == [created.id]
    with pytest.raises(InvalidTransition):
        store.approve_suppression(created.id, head)


@pytest.mark.parametrize("unit", [None, "acu"])
def test_nobody_judges_or_suppresses_an_alert_about_themselves(store, users, alert_factory, unit):
    """The review's step: the head of unit read, closed and suppressed an alert about
    themselves. Now they cannot see it (whether or not it names their ACU unit), so cannot
    close it, and cannot suppress alerts about themselves."""
    head = users[Role.HEAD_OF_UNIT]
    own = alert_factory(officer=head.staff_id, severity="low", officer_unit=unit)
    store.upsert_alert(own)
    with pytest.raises(NotFound):
        store.view_alert(own.id, head)
    with pytest.raises(NotFound):
        store.close(own.id, Outcome.NO_FURTHER_ACTION, WHY, head)
    with pytest.raises(Forbidden):
        store.create_suppression(_suppression(store, own, "head_of_unit"), head)
    if unit == "acu":  # the outside reviewer sees and judges it
        store.view_alert(own.id, users[Role.REVIEWER])
        store.close(own.id, Outcome.NO_FURTHER_ACTION, WHY, users[Role.REVIEWER])


def test_the_api_refuses_the_reviews_steps(app_env, alert_factory):
    """Through the API as the review ran it: another analyst's alert, '.', a queue-wide
    bulk close, a year-long suppression."""
    store = app_env["store"]
    api = TestClient(app_env["app"])
    an, sup = (bearer(app_env["tokens"][r]) for r in (Role.ANALYST, Role.SUPERVISOR))
    store.create_user("other", PASSWORD, Role.ANALYST, "S-other")
    a = app_env["ordinary"]
    api.post(f"/api/alerts/{a.id}/assign", json={"assignee": "other"}, headers=sup)
    close = {"outcome": "false_positive", "rationale": WHY}
    assert api.post(f"/api/alerts/{a.id}/close", json=close, headers=an).status_code == 403
    dot = {"outcome": "false_positive", "rationale": "."}
    assert api.post(f"/api/alerts/{a.id}/close", json=dot, headers=sup).status_code == 409
    others = [alert_factory(officer=f"S20{i}") for i in range(5)]
    store.upsert_alerts(others)
    bulk = {"alert_ids": [x.id for x in others], "duplicate_of": a.id, "rationale": WHY}
    assert api.post("/api/alerts/bulk-close", json=bulk, headers=sup).status_code == 409
    year = {**close, "suppress": "officer", "suppress_days": 365}
    assert api.post(f"/api/alerts/{a.id}/close", json=year, headers=sup).status_code == 409
    assert store.status_counts()["closed"] == 0 and store.suppressions() == []
