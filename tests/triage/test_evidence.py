"""The alert page's evidence table: digests in time order, people pseudonymised, missing
digests said, no free text (the engine never puts it there; the page shows what it has)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.triage.helpers import bearer, login

DIGESTS = [
    {"id": "ath-2", "time": "2026-03-02T09:20:00Z", "source": "athena", "kind": "record.view",
     "actor": "S1001", "record_type": "person", "record_id": "P-9003", "purpose": None,
     "terminal": "WS-12", "subjects": ["P-9003"], "attrs": {"fields": ["contact_details"]}},
    {"id": "ath-1", "time": "2026-03-02T09:05:00Z", "source": "athena",
     "kind": "record.search", "actor": "S1001", "record_type": "person",
     "record_id": "P-4444", "purpose": "INC-77", "terminal": "WS-12",
     "subjects": ["P-4444", "P-9003"], "attrs": {"results": 2}},
]  # fmt: skip


def _alert(alert_factory, **kw):
    return alert_factory(evidence=["ath-1", "ath-2", "ath-0"], evidence_events=DIGESTS,
                         evidence_missing=["ath-0"], **kw)  # fmt: skip


def test_the_alert_page_shows_the_evidence_table_in_time_order_masked(app_env, alert_factory):
    a = _alert(alert_factory)
    app_env["store"].upsert_alert(a)
    client, _ = login(app_env["app"], "analyst")
    page = client.get(f"/alerts/{a.id}").text
    table = page.split('id="evidence-table"')[1].split("</table>")[0]
    assert table.index("ath-1") < table.index("ath-2")  # time order, not the given order
    assert "P-9003" not in page and "P-4444" not in page  # people never in clear
    pseudo = app_env["app"].state.ctx.pseudonym
    assert pseudo("P-4444") in table and pseudo("P-9003") in table
    assert "INC-77" in table and "none given" in table and "contact_details" in table
    assert "WS-12" in table and "record.search" in table
    assert 'id="evidence-missing"' in page and "ath-0" in page


def test_the_api_gives_the_digests_masked(app_env, alert_factory):
    a = _alert(alert_factory)
    app_env["store"].upsert_alert(a)
    from triage.base import Role

    r = TestClient(app_env["app"]).get(
        f"/api/alerts/{a.id}", headers=bearer(app_env["tokens"][Role.ANALYST])
    )
    body = r.json()
    assert [e["id"] for e in body["evidence_events"]] == ["ath-1", "ath-2"]
    assert body["evidence_missing"] == ["ath-0"]
    assert "P-4444" not in r.text and "P-9003" not in r.text


def test_an_alert_without_digests_says_so(app_env):
    client, _ = login(app_env["app"], "analyst")
    page = client.get(f"/alerts/{app_env['ordinary'].id}").text
    assert "carries no evidence digests" in page and 'id="evidence-table"' not in page


def test_a_digest_person_can_be_revealed_by_the_assignee(app_env, alert_factory):
    a = _alert(alert_factory)
    store = app_env["store"]
    store.upsert_alert(a)
    client, csrf = login(app_env["app"], "analyst")
    client.post(f"/alerts/{a.id}/assign", data={"assignee": "analyst", "csrf_token": csrf})
    pseudo = app_env["app"].state.ctx.pseudonym("P-4444")
    r = client.post(f"/alerts/{a.id}/reveal", data={"subject": pseudo, "csrf_token": csrf,
                    "reason": "checking the search", "reference": "CASE-1"})  # fmt: skip
    assert r.status_code == 200 and "P-4444" in r.text
