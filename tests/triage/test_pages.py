"""What analysts see and do: escaping, pseudonyms and reveals, conflict of interest,
the workflow through the pages and the API, suppressions, metrics."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.triage.helpers import bearer, login
from triage.audit import to_event
from triage.base import Role


def test_script_in_alert_text_renders_inert(app_env, alert_factory):
    evil = alert_factory(
        title="<script>alert('t')</script> viewed",
        explanation='<img src=x onerror="alert(1)"> and </p><script>steal()</script>',
        path=[{"from": "S1001", "to": "P-1", "relation": "<script>r()</script>"}],
        facts={"<b>k</b>": "<script>f()</script>"},
    )
    app_env["store"].upsert_alert(evil)
    client, _ = login(app_env["app"], "analyst")
    for page in (client.get("/queue"), client.get(f"/alerts/{evil.id}")):
        assert page.status_code == 200
        body = page.text
        assert "<script>" not in body and "<img" not in body and "<b>k" not in body
        assert "&lt;script&gt;" in body
        csp = page.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "script-src" not in csp  # no script at all
        assert page.headers["x-content-type-options"] == "nosniff"


def test_an_alert_id_from_an_event_stays_one_path_segment(app_env, alert_factory):
    """An id like ``x/../../admin`` must not steer a link or a form (with the CSRF token)
    to another endpoint."""
    odd = alert_factory(id='x/../../admin/users?y="1', officer="S1001")
    same_officer = alert_factory(officer="S1001", title="Sibling alert")
    app_env["store"].upsert_alerts([odd, same_officer])
    client, _ = login(app_env["app"], "analyst")
    quoted = "x%2F..%2F..%2Fadmin%2Fusers%3Fy%3D%221"
    queue = client.get("/queue").text
    assert f'href="/alerts/{quoted}"' in queue and "/alerts/x/.." not in queue
    sibling = client.get(f"/alerts/{same_officer.id}").text
    assert f'href="/alerts/{quoted}"' in sibling and "/alerts/x/.." not in sibling


def test_page_row_ids_beyond_the_schema_are_refused_not_crashed(app_env):
    client, csrf = login(app_env["app"], "admin")
    for path in ("/admin/users/99999999999999999999999/disable",
                 "/admin/users/99999999999999999999999/password"):  # fmt: skip
        r = client.post(path, data={"csrf_token": csrf, "password": "temporary pass 1"})
        assert r.status_code == 422, path
    sup, sup_csrf = login(app_env["app"], "supervisor")
    r = sup.post("/suppressions/99999999999999999999999/remove", data={"csrf_token": sup_csrf})
    assert r.status_code == 422


def test_acu_members_alert_hidden_from_an_ordinary_analyst(app_env):
    acu = app_env["acu"]
    analyst, _ = login(app_env["app"], "analyst")
    assert acu.title not in analyst.get("/queue").text
    assert analyst.get(f"/alerts/{acu.id}").status_code == 404
    api = TestClient(app_env["app"])
    r = api.get("/api/alerts", headers=bearer(app_env["tokens"][Role.ANALYST])).json()
    assert acu.id not in {a["id"] for a in r["items"]} and r["counts"]["new"] == 1
    assert (
        api.get(
            f"/api/alerts/{acu.id}", headers=bearer(app_env["tokens"][Role.ANALYST])
        ).status_code
        == 404
    )
    head, _ = login(app_env["app"], "head_of_unit")  # the ACU's head sees none of its own
    assert head.get(f"/alerts/{acu.id}").status_code == 404
    reviewer, _ = login(app_env["app"], "reviewer")  # the outside reviewer does
    assert reviewer.get(f"/alerts/{acu.id}").status_code == 200
    assert "restricted" in reviewer.get("/queue").text


def test_alerts_about_the_analysts_manager_or_associate_are_hidden(app_env, alert_factory):
    mgr, assoc = alert_factory(officer="S3003"), alert_factory(officer="S2002")
    app_env["store"].upsert_alerts([mgr, assoc])
    api = TestClient(app_env["app"])
    for alert in (mgr, assoc):
        assert (
            api.get(
                f"/api/alerts/{alert.id}", headers=bearer(app_env["tokens"][Role.ANALYST])
            ).status_code
            == 404
        )
        assert (
            api.get(
                f"/api/alerts/{alert.id}", headers=bearer(app_env["tokens"][Role.SUPERVISOR])
            ).status_code
            == 200
        )


def test_subjects_pseudonymised_everywhere_until_revealed_with_a_reason(app_env):
    a = app_env["ordinary"]
    client, csrf = login(app_env["app"], "analyst")
    pseudo = app_env["app"].state.ctx.pseudonym("P-9003")
    app_env["store"].assign(a.id, "analyst", app_env["users"][Role.ANALYST])
    page = client.get(f"/alerts/{a.id}").text
    assert "P-9003" not in page and "+447700900999" not in page and pseudo in page
    short = client.post(
        f"/alerts/{a.id}/reveal", data={"subject": pseudo, "reason": "x", "csrf_token": csrf}
    )
    assert short.status_code == 409 and "P-9003" not in short.text
    shown = client.post(
        f"/alerts/{a.id}/reveal",
        data={"subject": pseudo, "reason": "checking the link to the canary",
              "reference": "CASE-2026-14", "csrf_token": csrf},
    )  # fmt: skip
    assert shown.status_code == 200 and "P-9003" in shown.text
    assert "P-9003" not in client.get(f"/alerts/{a.id}").text  # a reveal lasts one response
    entry = [e for e in app_env["store"].audit_entries() if e.action == "subject.revealed"][-1]
    assert entry.detail == {"subject": "P-9003", "reason": "checking the link to the canary",
                            "reference": "CASE-2026-14"}  # fmt: skip
    event = to_event(entry)
    assert (event["kind"], event["source"], event["actor"], event["subjects"]) == (
        "triage.subject.revealed",
        "triage",
        "S-analyst",
        ["P-9003"],
    )
    assert event["record"] == {"type": "alert", "id": a.id}
    from models.events import decode_obj

    assert decode_obj(event).kind == "triage.subject.revealed"  # a valid contract event


def test_api_masks_people_in_prose_facts_and_path(app_env):
    a = app_env["ordinary"]
    r = (
        TestClient(app_env["app"])
        .get(f"/api/alerts/{a.id}", headers=bearer(app_env["tokens"][Role.ANALYST]))
        .json()
    )
    text = str(r)
    assert "P-9003" not in text and "+447700900999" not in text
    assert r["path"][0]["from"] == "S1001"
    assert r["risk"] and r["risk"][0]["id"] == a.id


def test_views_and_searches_are_audited(app_env):
    client, _ = login(app_env["app"], "analyst")
    client.get("/queue?severity=high")
    client.get(f"/alerts/{app_env['ordinary'].id}")
    entries = app_env["store"].audit_entries()
    search = [e for e in entries if e.action == "queue.searched"][-1]
    assert search.detail["filters"] == {"severity": "high"}
    assert entries[-1].action == "alert.viewed"
    assert app_env["store"].verify_audit() == len(entries)


def test_close_as_false_positive_with_suppression_through_the_pages(app_env):
    a = app_env["ordinary"]
    client, csrf = login(app_env["app"], "supervisor")
    r = client.post(f"/alerts/{a.id}/close", data={
        "outcome": "false_positive", "rationale": "the ACU's own test account",
        "suppress": "officer", "suppress_days": "30", "csrf_token": csrf})  # fmt: skip
    assert (r.status_code, r.headers["location"]) == (303, "/queue")
    assert a.title not in client.get("/queue?status=new").text
    pending = client.get(f"/alerts/{a.id}").text
    assert 'id="pending"' in pending and "Approve closure" not in pending  # not for the proposer
    listed = client.get("/suppressions").text
    assert "access.no_purpose" in listed and "officer S1001" in listed
    assert "awaiting approval" in listed and app_env["store"].active_suppressions() == []
    # the second pair of eyes: the head of unit approves both
    head, head_csrf = login(app_env["app"], "head_of_unit")
    assert "Approve closure" in head.get(f"/alerts/{a.id}").text
    assert head.post(f"/alerts/{a.id}/approve-closure", data={"csrf_token": head_csrf}
                     ).status_code == 303  # fmt: skip
    [pending_sup] = app_env["store"].suppressions()
    assert head.post(f"/suppressions/{pending_sup.id}/approve", data={"csrf_token": head_csrf}
                     ).status_code == 303  # fmt: skip
    closed = head.get(f"/alerts/{a.id}").text
    assert "Closed by supervisor, approved by head_of_unit" in closed
    [sup] = app_env["store"].active_suppressions()
    assert sup.source_alert == a.id
    # removal, by a supervisor, is a form too
    assert client.post(f"/suppressions/{sup.id}/remove", data={"csrf_token": csrf}
                       ).status_code == 303  # fmt: skip
    assert app_env["store"].active_suppressions() == []


def test_subject_suppression_stores_the_person_and_lists_the_pseudonym(app_env):
    a = app_env["ordinary"]
    pseudo = app_env["app"].state.ctx.pseudonym("P-9003")
    api = TestClient(app_env["app"])
    body = {
        "outcome": "false_positive",
        "rationale": "the victim's own officer on the case",
        "suppress": "subject",
        "suppress_subject": pseudo,
    }
    denied = api.post(
        f"/api/alerts/{a.id}/close", json=body, headers=bearer(app_env["tokens"][Role.ANALYST])
    )
    assert denied.status_code == 403
    ok = api.post(
        f"/api/alerts/{a.id}/close", json=body, headers=bearer(app_env["tokens"][Role.SUPERVISOR])
    )
    assert ok.status_code == 200 and ok.json()["status"] == "pending_closure"
    head = bearer(app_env["tokens"][Role.HEAD_OF_UNIT])
    approved = api.post(f"/api/alerts/{a.id}/approve-closure", headers=head).json()
    assert (approved["status"], approved["approved_by"]) == ("closed", "head_of_unit")
    [pending] = app_env["store"].suppressions()
    assert api.post(f"/api/suppressions/{pending.id}/approve", headers=head).json()[
        "approved_by"] == "head_of_unit"  # fmt: skip
    [sup] = app_env["store"].active_suppressions()
    assert sup.subject == "P-9003" and sup.officer is None
    listed = api.get("/api/suppressions", headers=bearer(app_env["tokens"][Role.ANALYST])).json()
    assert listed[0]["subject"] == pseudo


def test_api_workflow_and_rules(app_env):
    a = app_env["ordinary"].id
    api = TestClient(app_env["app"])
    an, sup = (bearer(app_env["tokens"][r]) for r in (Role.ANALYST, Role.SUPERVISOR))
    assert (
        api.post(f"/api/alerts/{a}/assign", json={"assignee": "supervisor"}, headers=an).status_code
        == 403
    )  # analysts only take alerts themselves
    assert (
        api.post(f"/api/alerts/{a}/assign", json={"assignee": "analyst"}, headers=sup).json()[
            "status"
        ]
        == "assigned"
    )
    assert api.post(f"/api/alerts/{a}/review", headers=an).json()["status"] == "in_review"
    assert api.post(f"/api/alerts/{a}/close", json={"outcome": "referred_to_psd",
                                                     "rationale": ""}, headers=an
                    ).status_code == 422  # fmt: skip
    assert api.post(f"/api/alerts/{a}/close", json={"outcome": "referred_to_psd",
                                                     "rationale": "pattern seen in the logs"},
                    headers=an
                    ).json()["outcome"] == "referred_to_psd"  # fmt: skip
    assert (
        api.post(
            f"/api/alerts/{a}/close", json={"outcome": "duplicate", "rationale": "x"}, headers=an
        ).status_code
        == 409
    )
    assert api.post(f"/api/alerts/{a}/reopen", json={"reason": "new"}, headers=an
                    ).status_code == 403  # fmt: skip
    assert api.post(f"/api/alerts/{a}/reopen", json={"reason": "new"}, headers=sup
                    ).json()["status"] == "assigned"  # fmt: skip


def test_bulk_close_from_the_queue_page(app_env, alert_factory):
    store = app_env["store"]
    d1, d2 = alert_factory(), alert_factory()
    store.upsert_alerts([d1, d2])
    client, csrf = login(app_env["app"], "supervisor")
    r = client.post("/queue/bulk-close", data={
        "alert_ids": [d1.id, d2.id], "duplicate_of": app_env["ordinary"].id,
        "rationale": "the same look-ups as the first", "csrf_token": csrf})  # fmt: skip
    assert r.status_code == 303
    page = client.get("/queue?status=closed").text
    assert d1.id in page and d2.id in page


def test_metrics_gauges(app_env):
    api = TestClient(app_env["app"])
    r = api.get("/metrics", headers=bearer(app_env["tokens"][Role.AUDITOR]))
    assert r.status_code == 200 and "probity_queue_alerts" in r.text
    reg = app_env["registry"]
    assert reg.get_sample_value("probity_queue_alerts", {"status": "new"}) == 2
    assert reg.get_sample_value("probity_queue_alerts", {"status": "closed"}) == 0
    assert reg.get_sample_value("probity_queue_oldest_unassigned_age_seconds") >= 0


def test_admin_sees_accounts_not_alerts(app_env):
    client, csrf = login(app_env["app"], "admin")
    page = client.get("/admin/users").text
    assert "analyst" in page and app_env["ordinary"].title not in page
    r = client.post(
        f"/admin/users/{app_env['users'][Role.ANALYST].id}/tokens",
        data={"name": "siem", "csrf_token": csrf},
    )
    assert r.status_code == 200 and "prb_" in r.text


def test_auditor_page_verifies_the_chain(app_env):
    client, _ = login(app_env["app"], "auditor")
    page = client.get("/audit").text
    assert "rows verify" in page and "login" in page
