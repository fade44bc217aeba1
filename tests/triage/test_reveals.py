"""Reveals (issue 19), the review's own steps: any 10-character reason revealed anyone on
any visible alert (32 identities in a quarter of a second), and a wrong guess was an
unaudited 404 (a membership oracle)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.triage.helpers import bearer, enrol_totp, login
from triage.base import Role
from triage.exceptions import NotFound, QuotaExceeded

WHY = {"reason": "checking the link to the canary", "reference": "OP-HALYARD/14"}


def _reveal(api: TestClient, env, alert_id: str, pseudonym: str, role: Role = Role.ANALYST):
    return api.post(f"/api/alerts/{alert_id}/reveal", json={"subject": pseudonym, **WHY},
                    headers=bearer(env["tokens"][role]))  # fmt: skip


def test_only_on_an_alert_assigned_to_the_revealer(app_env):
    api, store = TestClient(app_env["app"]), app_env["store"]
    a = app_env["ordinary"]
    pseudo = app_env["app"].state.ctx.pseudonym("P-9003")
    assert _reveal(api, app_env, a.id, pseudo).status_code == 404  # visible, not assigned
    store.assign(a.id, "analyst", app_env["users"][Role.ANALYST])
    shown = _reveal(api, app_env, a.id, pseudo)
    assert shown.status_code == 200 and shown.json()["subject"] == "P-9003"
    # the supervisor sees the alert but it is not theirs
    assert _reveal(api, app_env, a.id, pseudo, Role.SUPERVISOR).status_code == 404
    revealed = [e for e in store.audit_entries() if e.action == "subject.revealed"]
    assert [e.detail["reference"] for e in revealed] == ["OP-HALYARD/14"]


def test_a_reason_and_a_reference_are_required(app_env):
    api = TestClient(app_env["app"])
    a = app_env["ordinary"]
    app_env["store"].assign(a.id, "analyst", app_env["users"][Role.ANALYST])
    pseudo = app_env["app"].state.ctx.pseudonym("P-9003")
    headers = bearer(app_env["tokens"][Role.ANALYST])
    url = f"/api/alerts/{a.id}/reveal"
    assert api.post(url, json={"subject": pseudo, "reason": WHY["reason"]},
                    headers=headers).status_code == 422  # fmt: skip
    assert api.post(url, json={"subject": pseudo, "reason": WHY["reason"], "reference": "x"},
                    headers=headers).status_code == 422  # fmt: skip
    assert api.post(url, json={"subject": pseudo, "reason": "short", "reference": "CASE-1"},
                    headers=headers).status_code == 409  # fmt: skip


def test_unknown_ids_are_answered_like_known_ones_and_audited(app_env):
    """A wrong alert id, a hidden alert (an ACU member's), someone else's alert and a wrong
    pseudonym all get the same answer, and every try is in the audit log."""
    api, store = TestClient(app_env["app"]), app_env["store"]
    a, acu = app_env["ordinary"], app_env["acu"]
    pseudo = app_env["app"].state.ctx.pseudonym("P-9003")
    answers = [
        _reveal(api, app_env, "no-such-alert", pseudo),
        _reveal(api, app_env, acu.id, app_env["app"].state.ctx.pseudonym(acu.subjects[0])),
        _reveal(api, app_env, a.id, pseudo),  # exists, visible, not assigned
        _reveal(api, app_env, a.id, "anon-0000000000000000"),
    ]
    assert {(r.status_code, r.text) for r in answers} == {(404, '{"detail":"not found"}')}
    refused = [e for e in store.audit_entries() if e.action == "subject.reveal_refused"]
    assert [(e.alert_id, e.detail["why"]) for e in refused] == [
        ("no-such-alert", "unknown"), (acu.id, "unknown"), (a.id, "not_assigned"),
        (a.id, "unknown")]  # fmt: skip
    assert all(e.detail["reference"] == "OP-HALYARD/14" for e in refused)
    registry = app_env["registry"]
    assert registry.get_sample_value("probity_queue_reveals_total", {"outcome": "refused"}) == 4


def test_a_daily_quota_stops_a_reveal_flood(app_env, alert_factory):
    store, api = app_env["store"], TestClient(app_env["app"])
    store.policy = replace(store.policy, reveal_daily_quota=5)
    analyst = app_env["users"][Role.ANALYST]
    alerts = [alert_factory(subjects=[f"P-{i}"]) for i in range(8)]
    store.upsert_alerts(alerts)
    codes = []
    for alert in alerts:
        store.assign(alert.id, "analyst", analyst)
        pseudo = app_env["app"].state.ctx.pseudonym(alert.subjects[0])
        codes.append(_reveal(api, app_env, alert.id, pseudo).status_code)
    assert codes == [200] * 5 + [429] * 3
    registry = app_env["registry"]
    assert registry.get_sample_value("probity_queue_reveals_total", {"outcome": "revealed"}) == 5
    assert registry.get_sample_value("probity_queue_reveals_total",
                                     {"outcome": "over_quota"}) == 3  # fmt: skip
    # the next UTC day the quota is fresh
    tomorrow = store.clock() + timedelta(days=1)
    store.clock = lambda: tomorrow
    pseudo = app_env["app"].state.ctx.pseudonym(alerts[-1].subjects[0])
    assert _reveal(api, app_env, alerts[-1].id, pseudo).status_code == 200


def test_the_quota_counts_refused_tries_too(store, users, alert_factory):
    """Guessing costs quota: a flood of wrong ids cannot probe for free."""
    store.policy = replace(store.policy, reveal_daily_quota=3)
    analyst = users[Role.ANALYST]
    for i in range(3):
        with pytest.raises(NotFound):
            store.reveal(f"guess-{i}", None, "fishing around", analyst, reference="CASE-1")
    a = alert_factory()
    store.upsert_alert(a)
    store.assign(a.id, "analyst", analyst)
    with pytest.raises(QuotaExceeded):
        store.reveal(a.id, "P-9003", "a real need now", analyst, reference="CASE-1")
    assert [e.detail["why"] for e in store.audit_entries()
            if e.action == "subject.reveal_refused"] == ["unknown"] * 3 + ["quota"]  # fmt: skip


# ------------------------------------------------------------------ two-person reveals
def test_a_sensitive_subject_takes_two_people(app_env, alert_factory):
    """A canary's (covert, VIP, vulnerable victim's) identity is shown only once a second,
    different supervisor approves; audited both ways; the requester cannot approve."""
    api, store = TestClient(app_env["app"]), app_env["store"]
    users = app_env["users"]
    a = alert_factory(detector="access.canary", subjects=["P-7001"], sensitive_subjects=["P-7001"])
    store.upsert_alert(a)
    store.assign(a.id, "analyst", users[Role.SUPERVISOR])
    pseudo = app_env["app"].state.ctx.pseudonym("P-7001")
    # a sensitive subject also needs a session with a fresh second factor (no token passes)
    assert _reveal(api, app_env, a.id, pseudo).status_code == 403
    enrol_totp(app_env["app"], store, users[Role.ANALYST])
    browser, csrf = login(app_env["app"], "analyst")

    def ask() -> Any:
        return browser.post(f"/api/alerts/{a.id}/reveal", json={"subject": pseudo, **WHY},
                            headers={"X-CSRF-Token": csrf})  # fmt: skip

    first = ask()
    assert first.status_code == 202 and "P-7001" not in first.text
    assert ask().status_code == 202  # still waiting: one request
    sup = bearer(app_env["tokens"][Role.SUPERVISOR])
    [req] = api.get("/api/reveal-requests", headers=sup).json()
    assert req["pseudonym"] == pseudo and req["requested_by"] == "analyst"
    assert "P-7001" not in str(req)
    # nobody decides their own request; an analyst decides none; an ACU reviewer sees none
    own = bearer(app_env["tokens"][Role.ANALYST])
    assert api.post(f"/api/reveal-requests/{req['id']}/approve", headers=own).status_code == 403
    reviewer = bearer(app_env["tokens"][Role.REVIEWER])
    assert api.get("/api/reveal-requests", headers=reviewer).json() == []
    assert api.post(f"/api/reveal-requests/{req['id']}/approve",
                    headers=reviewer).status_code == 404  # fmt: skip
    # approving is a sensitive act too: a browser session with a fresh second factor
    assert api.post(f"/api/reveal-requests/{req['id']}/approve", headers=sup).status_code == 403
    enrol_totp(app_env["app"], store, users[Role.SUPERVISOR])
    second, sup_csrf = login(app_env["app"], "supervisor")
    approved = second.post(f"/api/reveal-requests/{req['id']}/approve",
                           headers={"X-CSRF-Token": sup_csrf})  # fmt: skip
    assert approved.status_code == 200 and approved.json()["decided_by"] == "supervisor"
    shown = ask()
    assert shown.status_code == 200 and shown.json()["subject"] == "P-7001"
    assert ask().status_code == 202  # once: ask again
    actions = [(e.action, e.detail.get("approved_by")) for e in store.audit_entries()
               if e.action.startswith("subject.")]  # fmt: skip
    assert actions == [("subject.reveal_requested", None), ("subject.reveal_approved", None),
                       ("subject.revealed", "supervisor"),
                       ("subject.reveal_requested", None)]  # fmt: skip


def test_a_supervisor_asking_needs_another_and_a_decline_is_audited(store, users, alert_factory):
    from triage.exceptions import ApprovalPending, Forbidden

    a = alert_factory(subjects=["P-7002"], sensitive_subjects=["P-7002"])
    store.upsert_alert(a)
    sup, head = users[Role.SUPERVISOR], users[Role.HEAD_OF_UNIT]
    store.assign(a.id, "supervisor", sup)
    with pytest.raises(ApprovalPending) as asked:
        store.reveal(a.id, "P-7002", "checking the link", sup, reference="CASE-2")
    request = asked.value.request_id
    assert store.reveal_requests(sup) == []  # not one's own
    with pytest.raises(Forbidden):
        store.decide_reveal(request, True, sup)
    with pytest.raises(Forbidden):
        store.decide_reveal(request, True, users[Role.ANALYST])
    declined = store.decide_reveal(request, False, head, "no case reference supports this")
    assert declined.status == "declined" and declined.decided_by == "head_of_unit"
    with pytest.raises(ApprovalPending):  # declined: a new request, still not shown
        store.reveal(a.id, "P-7002", "checking the link", sup, reference="CASE-2")
    last = store.audit_entries()[-2:]
    assert [e.action for e in last] == ["subject.reveal_declined", "subject.reveal_requested"]


def test_an_unknown_id_on_a_sensitive_alert_is_refused_like_any_other(app_env, alert_factory):
    api, store = TestClient(app_env["app"]), app_env["store"]
    a = alert_factory(subjects=["P-7003"], sensitive_subjects=["P-7003"])
    store.upsert_alert(a)
    store.assign(a.id, "analyst", app_env["users"][Role.SUPERVISOR])
    r = _reveal(api, app_env, a.id, "anon-0000000000000000")
    assert r.status_code == 404
    assert store.audit_entries()[-1].action == "subject.reveal_refused"


# ---------------------------------------------------------------- the reveal requests page
def _sensitive(app_env, alert_factory, subject: str, assignee: str, **extra: Any) -> Any:
    a = alert_factory(detector="access.canary", subjects=[subject], sensitive_subjects=[subject],
                      **extra)  # fmt: skip
    app_env["store"].upsert_alert(a)
    app_env["store"].assign(a.id, assignee, app_env["users"][Role.SUPERVISOR])
    return a


def test_the_page_lists_requests_and_a_second_persons_approval_reveals(app_env, alert_factory):
    """The requester sees their request's state; a supervisor sees it to decide, with the
    person as a pseudonym only; approving (CSRF, fresh second factor) lets the requester
    reveal it once on the alert page."""
    app, store, users = app_env["app"], app_env["store"], app_env["users"]
    a = _sensitive(app_env, alert_factory, "P-7001", "analyst")
    pseudo = app.state.ctx.pseudonym("P-7001")
    enrol_totp(app, store, users[Role.ANALYST])
    analyst, a_csrf = login(app, "analyst")
    form = {"subject": pseudo, "csrf_token": a_csrf, **WHY}
    assert analyst.post(f"/alerts/{a.id}/reveal", data=form).status_code == 202
    mine = analyst.get("/reveal-requests")
    assert mine.status_code == 200 and 'href="/reveal-requests"' in mine.text  # in the nav
    assert pseudo in mine.text and WHY["reference"] in mine.text
    assert "awaiting a second person" in mine.text and "P-7001" not in mine.text
    assert "Awaiting your decision" not in mine.text  # an analyst decides none
    assert 'href="/reveal-requests"' in analyst.get(f"/alerts/{a.id}").text  # from the alert

    enrol_totp(app, store, users[Role.SUPERVISOR])
    sup, s_csrf = login(app, "supervisor")
    page = sup.get("/reveal-requests")
    assert page.status_code == 200 and "P-7001" not in page.text
    [req] = store.reveal_requests(users[Role.SUPERVISOR])
    for shown in (pseudo, "analyst", WHY["reason"], WHY["reference"],
                  f'action="/reveal-requests/{req.id}/approve"', f'href="/alerts/{a.id}"'):
        assert shown in page.text, shown
    # CSRF as on every change
    assert sup.post(f"/reveal-requests/{req.id}/approve").status_code == 403
    assert sup.post(f"/reveal-requests/{req.id}/approve",
                    data={"csrf_token": "wrong"}).status_code == 403  # fmt: skip
    assert store.reveal_requests(users[Role.SUPERVISOR])[0].status == "pending"
    done = sup.post(f"/reveal-requests/{req.id}/approve", data={"csrf_token": s_csrf})
    assert (done.status_code, done.headers["location"]) == (303, "/reveal-requests")
    assert "No request awaits your decision" in sup.get("/reveal-requests").text
    assert "approved by supervisor" in analyst.get("/reveal-requests").text
    shown = analyst.post(f"/alerts/{a.id}/reveal", data=form)
    assert shown.status_code == 200 and "P-7001" in shown.text
    assert "used (approved by supervisor)" in analyst.get("/reveal-requests").text


def test_the_page_refuses_self_approval_hidden_alerts_and_a_stale_factor(app_env, alert_factory):
    app, store, users = app_env["app"], app_env["store"], app_env["users"]
    a = _sensitive(app_env, alert_factory, "P-7002", "supervisor")
    sup_user = users[Role.SUPERVISOR]
    from triage.exceptions import ApprovalPending

    with pytest.raises(ApprovalPending) as asked:  # the reason is the requester's text
        store.reveal(a.id, "P-7002", "<script>alert(1)</script> checking the link", sup_user,
                     reference="CASE-2")  # fmt: skip
    rid = asked.value.request_id
    enrol_totp(app, store, sup_user)
    sup, s_csrf = login(app, "supervisor")
    page = sup.get("/reveal-requests")
    assert "No request awaits your decision" in page.text  # not one's own to decide
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text  # escaped, in their list
    assert "<script>alert(1)" not in page.text
    assert sup.post(f"/reveal-requests/{rid}/approve",
                    data={"csrf_token": s_csrf}).status_code == 403  # fmt: skip
    # the outside reviewer cannot see the alert: no request, and 404 like an unknown one
    reviewer, r_csrf = login(app, "reviewer")
    assert pseudo_of(app, "P-7002") not in reviewer.get("/reveal-requests").text
    for target in (rid, 999):
        r = reviewer.post(f"/reveal-requests/{target}/approve", data={"csrf_token": r_csrf})
        assert r.status_code == 404, target
        r = reviewer.post(f"/reveal-requests/{target}/decline",
                          data={"csrf_token": r_csrf, "reason": "no case supports this at all"})
        assert r.status_code == 404, target
    # the head of unit sees it; a second factor older than mfa_fresh_s asks for a code again
    head, h_csrf = login(app, "head_of_unit")
    assert pseudo_of(app, "P-7002") in head.get("/reveal-requests").text
    real = store.clock
    later = real() + timedelta(seconds=app.state.ctx.mfa.fresh_s + 60)
    store.clock = lambda: later
    stale = head.post(f"/reveal-requests/{rid}/approve", data={"csrf_token": h_csrf})
    assert stale.status_code == 303
    assert stale.headers["location"] == "/account/mfa/verify?next=/reveal-requests"
    store.clock = real
    refused = head.post(f"/reveal-requests/{rid}/decline",
                        data={"csrf_token": h_csrf, "reason": "no case reference supports it"})
    assert refused.status_code == 303
    assert "refused by head_of_unit" in sup.get("/reveal-requests").text
    assert store.audit_entries()[-1].action == "subject.reveal_declined"


def pseudo_of(app: Any, value: str) -> str:
    return str(app.state.ctx.pseudonym(value))


def test_a_reason_quoting_the_identity_is_masked_in_the_api_too(app_env, alert_factory):
    """The requester's reason may name the person; the list a supervisor reads over the API
    shows it masked, as the page does."""
    app, store, users = app_env["app"], app_env["store"], app_env["users"]
    a = _sensitive(app_env, alert_factory, "P-7004", "analyst")
    pseudo = app.state.ctx.pseudonym("P-7004")
    enrol_totp(app, store, users[Role.ANALYST])
    analyst, csrf = login(app, "analyst")
    asked = analyst.post(f"/api/alerts/{a.id}/reveal", headers={"X-CSRF-Token": csrf},
                         json={"subject": pseudo, "reason": "is P-7004 the caller we had?",
                               "reference": WHY["reference"]})  # fmt: skip
    assert asked.status_code == 202
    listed = TestClient(app).get("/api/reveal-requests",
                                 headers=bearer(app_env["tokens"][Role.SUPERVISOR]))  # fmt: skip
    [req] = listed.json()
    assert "P-7004" not in listed.text and req["reason"] == f"is {pseudo} the caller we had?"
