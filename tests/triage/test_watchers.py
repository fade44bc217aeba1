"""Who watches the ACU: alerts about ACU staff are the outside reviewer's alone, conflict
rules cover an alert's people (subjects, path nodes), and an alert goes only to someone
allowed to see it."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.triage.helpers import bearer
from triage.base import QueueFilter, Role
from triage.exceptions import Forbidden, NotFound

READERS = (Role.ANALYST, Role.SUPERVISOR, Role.HEAD_OF_UNIT)


def _seen(store, user):
    return {a.id for a in store.queue(QueueFilter(), user, audit=False).items}


def test_an_acu_members_alert_is_the_outside_reviewers_alone(store, users, alert_factory):
    """The review's step: an ACU member's alert, its unit given by staff reference data
    (the alert's ``officer_unit``, not the detector's facts), was visible to every analyst."""
    own = alert_factory(officer="S-ACU-9", officer_unit="acu", facts={})
    store.upsert_alert(own)
    for role in READERS:
        assert own.id not in _seen(store, users[role]), role
        with pytest.raises(NotFound):
            store.view_alert(own.id, users[role])
    reviewer = users[Role.REVIEWER]
    alert, _ = store.view_alert(own.id, reviewer)
    assert alert.restricted and alert.officer_unit == "acu"
    # the reviewer works it: assign to themselves, review, close
    store.assign(own.id, "reviewer", reviewer)
    store.start_review(own.id, reviewer)


def test_the_reviewer_sees_nothing_but_the_acus_alerts(store, users, alert_factory):
    ordinary = alert_factory(officer="S1001")
    acu = alert_factory(officer="S-ACU-7")  # on the staff list
    store.upsert_alerts([ordinary, acu])
    assert _seen(store, users[Role.REVIEWER]) == {acu.id}
    with pytest.raises(NotFound):
        store.view_alert(ordinary.id, users[Role.REVIEWER])
    with pytest.raises(NotFound):
        store.officer_timeline("S1001", users[Role.REVIEWER])


@pytest.mark.parametrize("where", ["subject", "path"])
def test_conflict_rules_cover_subjects_and_path_nodes(store, users, alert_factory, where):
    """The analyst declared S2002 as an associate: an alert naming S2002 as a subject or a
    path node is hidden from them; the head of unit sees it but may not work it."""
    fields = (
        {"subjects": ["S2002"]}
        if where == "subject"
        else {"path": [{"from": "S1001", "to": "+447700900111", "relation": "called"},
                       {"from": "+447700900111", "to": "S2002", "relation": "phone_of"}]}
    )  # fmt: skip
    tied = alert_factory(officer="S1001", **fields)
    look_alike = alert_factory(officer="S1001", subjects=["S2002X"])  # not the same person
    store.upsert_alerts([tied, look_alike])
    analyst, sup = users[Role.ANALYST], users[Role.SUPERVISOR]
    assert _seen(store, analyst) == {look_alike.id}
    with pytest.raises(NotFound):
        store.view_alert(tied.id, analyst)
    assert tied.id in _seen(store, sup)  # not the supervisor's associate
    with pytest.raises(Forbidden):  # nor can it be handed to the analyst
        store.assign(tied.id, "analyst", sup)
    head = store.create_user("head2", "correct horse battery staple", Role.HEAD_OF_UNIT,
                             "S-H2", associates=["S2002"])  # fmt: skip
    store.view_alert(tied.id, head)
    with pytest.raises(Forbidden):
        store.start_review(tied.id, head)


def test_an_alert_is_assigned_only_to_someone_allowed_to_see_it(store, users, alert_factory):
    ordinary, acu = alert_factory(officer="S1001"), alert_factory(officer="S-ACU-7")
    about_manager = alert_factory(officer="S3003")  # the analyst's line manager
    store.upsert_alerts([ordinary, acu, about_manager])
    sup, reviewer = users[Role.SUPERVISOR], users[Role.REVIEWER]
    for role in (Role.ANALYST, Role.SUPERVISOR, Role.HEAD_OF_UNIT):  # the ACU's own staff
        with pytest.raises(Forbidden, match="may not see"):
            store.assign(acu.id, role.value, reviewer)
    for role in (Role.AUDITOR, Role.ADMIN, Role.REVIEWER):  # no alert work / ACU's only
        with pytest.raises(Forbidden, match="may not see"):
            store.assign(ordinary.id, role.value, sup)
    with pytest.raises(Forbidden):
        store.assign(about_manager.id, "analyst", sup)
    assert store.assign(ordinary.id, "analyst", sup).assignee == "analyst"
    assert store.assign(acu.id, "reviewer", reviewer).assignee == "reviewer"
    assigned = [e for e in store.audit_entries() if e.action == "alert.assigned"]
    assert [e.detail["assignee"] for e in assigned] == ["analyst", "reviewer"]


def test_the_api_refuses_to_hand_an_alert_to_someone_who_may_not_see_it(app_env):
    api = TestClient(app_env["app"])
    sup = bearer(app_env["tokens"][Role.SUPERVISOR])
    reviewer = bearer(app_env["tokens"][Role.REVIEWER])
    a, acu = app_env["ordinary"].id, app_env["acu"].id
    r = api.post(f"/api/alerts/{a}/assign", json={"assignee": "auditor"}, headers=sup)
    assert r.status_code == 403 and "may not see" in r.json()["detail"]
    r = api.post(f"/api/alerts/{acu}/assign", json={"assignee": "analyst"}, headers=reviewer)
    assert r.status_code == 403
    assert api.get(f"/api/alerts/{acu}", headers=sup).status_code == 404
    assert api.get(f"/api/alerts/{acu}", headers=reviewer).status_code == 200
    head = bearer(app_env["tokens"][Role.HEAD_OF_UNIT])
    assert api.get(f"/api/alerts/{acu}", headers=head).status_code == 404
