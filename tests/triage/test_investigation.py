"""The officer timeline and cases: what they show, conflict of interest on each, the case
workflow from opening to an outcome with its rationale, and the audit trail of each step."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.triage.helpers import bearer, login
from triage.base import CaseOutcome, CaseStatus, Role
from triage.exceptions import Forbidden, InvalidTransition, NotFound

DIGEST = {"id": "ath-1", "time": "2026-03-01T08:00:00Z", "source": "athena",
          "kind": "record.view", "actor": "S1001", "record_type": "person",
          "record_id": "P-9003", "purpose": None, "terminal": "WS-1", "subjects": ["P-9003"],
          "attrs": {"fields": ["contact_details"]}}  # fmt: skip
VETTING = {"id": "vet-1", "time": "2026-02-01T08:00:00Z", "source": "vetting",
           "kind": "vetting.changed", "actor": None, "record_type": None, "record_id": None,
           "purpose": None, "terminal": None, "subjects": [],
           "attrs": {"level": "MV", "status": "withdrawn"}}  # fmt: skip
RATIONALE = "Viewed the victim record with no task; referred for a vetting review"


# ------------------------------------------------------------------ store
def test_a_case_from_opening_to_closing(store, users, alert_factory):
    a1 = alert_factory(officer="S1001")
    a2 = alert_factory(officer="S1001", category="vetting")
    other = alert_factory(officer="S4004")
    store.upsert_alerts([a1, a2, other])
    analyst = users[Role.ANALYST]
    case = store.open_case("S1001", "Victim record views", analyst)
    assert case.status is CaseStatus.OPEN and not case.restricted
    detail = store.view_case(case.id, analyst)
    assert {a.id for a in detail.suggested} == {a1.id, a2.id}  # the officer's, none other
    store.attach_alert(case.id, a1.id, analyst)
    store.attach_alert(case.id, a1.id, analyst)  # idempotent
    with pytest.raises(InvalidTransition):
        store.attach_alert(case.id, other.id, analyst)  # another officer
    task = store.add_case_task(case.id, "Ask the PNC for the full audit", analyst)
    store.complete_case_task(case.id, task.id, analyst)
    store.add_case_note(case.id, "Spoke to the line manager", analyst)
    detail = store.view_case(case.id, analyst)
    assert [a.id for a in detail.alerts] == [a1.id] and [a.id for a in detail.suggested] == [a2.id]
    assert detail.tasks[0].done_by == "analyst" and detail.notes[0].text.startswith("Spoke")
    with pytest.raises(InvalidTransition, match="rationale"):
        store.close_case(case.id, CaseOutcome.VETTING_REVIEW, "done", analyst)
    with pytest.raises(InvalidTransition, match="IOPC"):
        store.close_case(case.id, CaseOutcome.REFERRAL_IOPC, RATIONALE, analyst)
    closed = store.close_case(case.id, CaseOutcome.REFERRAL_IOPC, RATIONALE, analyst,
                              referral_reference="IOPC/2026/0042")  # fmt: skip
    assert closed.status is CaseStatus.CLOSED and closed.referral_reference == "IOPC/2026/0042"
    with pytest.raises(InvalidTransition, match="closed"):
        store.add_case_note(case.id, "too late for this", analyst)
    actions = [e.action for e in store.audit_entries() if e.action.startswith("case.")]
    assert actions == ["case.opened", "case.viewed", "case.alert_attached", "case.task_added",
                       "case.task_done", "case.noted", "case.viewed", "case.closed"]  # fmt: skip
    assert store.verify_audit() > 0
    closing = next(e for e in store.audit_entries() if e.action == "case.closed")
    assert closing.detail["outcome"] == "referral_iopc"


def test_conflict_of_interest_on_cases_and_timelines(store, users, alert_factory):
    tied = alert_factory(officer="S2002")  # the analyst's declared associate
    acu = alert_factory(officer="S5005", facts={"officer_unit": "acu"})
    store.upsert_alerts([tied, acu])
    analyst, head = users[Role.ANALYST], users[Role.HEAD_OF_UNIT]
    for officer in ("S2002", "S5005", "S-nobody"):
        with pytest.raises((NotFound, Forbidden)):
            store.open_case(officer, "Should not open", analyst)
        with pytest.raises(NotFound):
            store.officer_timeline(officer, analyst)
    with pytest.raises(NotFound):  # an ACU member's alerts are the outside reviewer's
        store.open_case("S5005", "ACU member", head)
    reviewer = users[Role.REVIEWER]
    restricted = store.open_case("S5005", "ACU member", reviewer)
    assert restricted.restricted
    tied_case = store.open_case("S2002", "Associate", head)
    for case in (restricted, tied_case):
        with pytest.raises(NotFound):
            store.view_case(case.id, analyst)
        with pytest.raises(NotFound):
            store.add_case_note(case.id, "a note", analyst)
    assert store.cases(analyst) == []
    assert {c.id for c in store.cases(head)} == {tied_case.id}
    assert {c.id for c in store.cases(reviewer)} == {restricted.id}
    for role in (Role.AUDITOR, Role.ADMIN):
        assert store.cases(users[role]) == []
    # the head of unit sees an alert about their own ties but may not work it
    own = alert_factory(officer=head.staff_id)
    store.upsert_alert(own)
    with pytest.raises(Forbidden):  # opening one about oneself is refused outright
        store.open_case(head.staff_id, "About me", head)


# ------------------------------------------------------------------ timeline
def test_the_timeline_puts_alerts_and_their_evidence_on_one_axis(app_env, alert_factory):
    a = alert_factory(officer="S1001", evidence=["ath-1", "vet-1"],
                      evidence_events=[DIGEST, VETTING], category="vetting")  # fmt: skip
    b = alert_factory(officer="S1001", evidence=["ath-1"], evidence_events=[DIGEST])
    app_env["store"].upsert_alerts([a, b])
    client, _ = login(app_env["app"], "analyst")
    page = client.get("/officers/S1001")
    assert page.status_code == 200
    table = page.text.split('id="timeline"')[1].split("</table>")[0]
    assert table.index("vet-1") < table.index("ath-1")  # time order
    assert table.count("ath-1") == 1 and "cited by 2 alerts" in table  # one entry per event
    assert "reference change" in table and "P-9003" not in page.text
    assert app_env["app"].state.ctx.pseudonym("P-9003") in table
    only = client.get("/officers/S1001?category=vetting").text
    assert a.title in only and b.title not in only
    period = client.get("/officers/S1001?date_from=2026-02-15").text.split('id="timeline"')[1]
    assert "vet-1" not in period and "ath-1" in period
    api = TestClient(app_env["app"]).get(
        "/api/officers/S1001/timeline", headers=bearer(app_env["tokens"][Role.ANALYST])
    )
    kinds = [e["kind"] for e in api.json()["entries"]]
    assert kinds.count("reference") == 1 and kinds.count("event") == 1 and "alert" in kinds
    actions = [e.action for e in app_env["store"].audit_entries()]
    assert actions.count("officer.timeline_viewed") == 4


def test_hidden_officers_timeline_and_case_answer_404(app_env):
    client, csrf = login(app_env["app"], "analyst")
    assert client.get("/officers/S5005").status_code == 404  # ACU member
    assert client.get("/officers/S-unknown").status_code == 404
    head = app_env["store"].open_case(
        "S5005", "ACU member case", app_env["users"][Role.REVIEWER]
    )
    assert client.get(f"/cases/{head.id}").status_code == 404
    r = client.post(f"/cases/{head.id}/notes", data={"text": "x", "csrf_token": csrf})
    assert r.status_code == 404
    r = client.post("/cases", data={"officer": "S5005", "title": "t", "csrf_token": csrf})
    assert r.status_code == 404
    api = TestClient(app_env["app"])
    h = bearer(app_env["tokens"][Role.ANALYST])
    assert api.get(f"/api/cases/{head.id}", headers=h).status_code == 404
    assert api.get("/api/officers/S5005/timeline", headers=h).status_code == 404
    assert api.post("/api/cases", json={"officer": "S5005", "title": "t"},
                    headers=h).status_code == 404  # fmt: skip


def test_a_case_through_the_pages(app_env):
    store = app_env["store"]
    a = app_env["ordinary"]
    client, csrf = login(app_env["app"], "analyst")
    r = client.post("/cases", data={"officer": "S1001", "title": "Canary <b>views</b>",
                                    "csrf_token": csrf})  # fmt: skip
    assert r.status_code == 303
    url = r.headers["location"]
    page = client.get(url).text
    assert "Canary &lt;b&gt;views&lt;/b&gt;" in page and 'id="suggested"' in page
    assert client.post(f"{url}/alerts", data={"alert_id": a.id, "csrf_token": csrf}
                       ).status_code == 303  # fmt: skip
    client.post(f"{url}/tasks", data={"text": "Pull the call records", "csrf_token": csrf})
    client.post(f"{url}/notes", data={"text": "Tasking checked", "csrf_token": csrf})
    r = client.post(f"{url}/close", data={"outcome": "referral_psd", "rationale": "short",
                                          "csrf_token": csrf})  # fmt: skip
    assert r.status_code == 409  # no rationale, no closing
    r = client.post(f"{url}/close", data={"outcome": "referral_psd", "rationale": RATIONALE,
                                          "csrf_token": csrf})  # fmt: skip
    assert r.status_code == 303
    page = client.get(url).text
    assert 'id="case-outcome"' in page and "referral psd" in page and RATIONALE in page
    case = store.cases(app_env["users"][Role.ANALYST])[0]
    assert case.outcome is CaseOutcome.REFERRAL_PSD


def test_the_referral_pack_is_printable_masked_and_audited(app_env, alert_factory):
    store = app_env["store"]
    a = alert_factory(officer="S1001", evidence=["ath-1"], evidence_events=[DIGEST])
    store.upsert_alert(a)
    analyst = app_env["users"][Role.ANALYST]
    case = store.open_case("S1001", "Pack case", analyst)
    store.attach_alert(case.id, a.id, analyst)
    store.assign(a.id, "analyst", app_env["users"][Role.SUPERVISOR])
    store.reveal(a.id, "P-9003", "checking the victim link", analyst, reference="CASE-9")
    store.close_case(case.id, CaseOutcome.MANAGEMENT_ACTION, RATIONALE, analyst)
    client, _ = login(app_env["app"], "analyst")
    page = client.get(f"/cases/{case.id}/pack")
    assert page.status_code == 200
    body = page.text
    assert "/static/print.css" in body and "management action" in body and RATIONALE in body
    assert "contact_details" in body and "WS-1" in body  # the evidence table
    trail = body.split('id="pack-trail"')[1]
    assert "subject.revealed" in trail and "case.opened" in trail and "case.closed" in trail
    assert "P-9003" not in body  # the reveal's detail is pseudonymised in the pack too
    assert app_env["app"].state.ctx.pseudonym("P-9003") in trail
    exported = [e for e in store.audit_entries() if e.action == "case.exported"]
    assert len(exported) == 1 and exported[0].detail["case"] == case.id
    hidden = store.open_case("S5005", "ACU member case", app_env["users"][Role.REVIEWER])
    assert client.get(f"/cases/{hidden.id}/pack").status_code == 404


def test_search_finds_what_the_viewer_sees_and_no_more(app_env):
    store = app_env["store"]
    ordinary, acu = app_env["ordinary"], app_env["acu"]
    analyst = app_env["users"][Role.ANALYST]
    store.open_case("S1001", "Operation Lantern", analyst)
    client, _ = login(app_env["app"], "analyst")
    pseudo = app_env["app"].state.ctx.pseudonym("P-9003")
    for q in ("S1001", "no_purpose", pseudo.lower(), "canary record"):
        page = client.get("/search", params={"q": q}).text
        assert ordinary.id in page, q
        assert acu.title not in page, q  # the ACU member's alert stays hidden
    assert "Operation Lantern" in client.get("/search", params={"q": "lantern"}).text
    # the real id behind a pseudonym finds nothing: no reveal by search
    hidden = client.get("/search", params={"q": "P-9003"}).text
    assert ordinary.id not in hidden and "Alerts (0)" in hidden
    assert "ACU member" not in client.get("/search", params={"q": "S5005"}).text
    api = TestClient(app_env["app"]).get(
        "/api/search", params={"q": "S1001"}, headers=bearer(app_env["tokens"][Role.ANALYST])
    )
    assert [a["id"] for a in api.json()["alerts"]] == [ordinary.id]
    assert len(api.json()["cases"]) == 1
    searches = [e for e in store.audit_entries() if e.action == "search.performed"]
    assert len(searches) == 8 and searches[0].detail == {"query": "s1001"}


def test_the_link_chart_gives_each_links_systems_and_dates_and_exports(app_env, alert_factory):
    store = app_env["store"]
    call = {**DIGEST, "id": "ph-1", "source": "phone", "kind": "call.made",
            "time": "2026-02-20T21:00:00Z", "record_type": None, "record_id": None,
            "subjects": [], "attrs": {}}  # fmt: skip
    a = alert_factory(
        officer="S1001", evidence=["ph-1", "ath-1"], evidence_events=[call, DIGEST],
        path=[{"from": "S1001", "to": "+447700900999", "relation": "called",
               "evidence": ["ph-1"]},
              {"from": "+447700900999", "to": "P-9003", "relation": "phone_of",
               "evidence": ["ath-1"]}],
    )  # fmt: skip
    store.upsert_alert(a)
    client, _ = login(app_env["app"], "analyst")
    page = client.get(f"/alerts/{a.id}").text
    links = page.split('id="links"')[1].split("</table>")[0]
    assert "phone" in links and "2026-02-20" in links and "athena" in links
    assert "+447700900999" not in page and "P-9003" not in page
    r = client.get(f"/alerts/{a.id}/chain.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    lines = r.text.splitlines()
    assert lines[0].startswith("from,from_kind,relation,to,to_kind")
    assert lines[1].startswith("S1001,Staff,called,") and ",Phone,phone," in lines[1]
    assert "+447700900999" not in r.text and "P-9003" not in r.text
    exported = [e for e in store.audit_entries() if e.action == "alert.chain_exported"]
    assert exported[0].detail == {"alert": a.id, "links": 2}
    assert client.get(f"/alerts/{app_env['acu'].id}/chain.csv").status_code == 404


def test_the_referral_pack_as_pdf_holds_the_evidence_and_fetches_nothing(
    app_env, alert_factory, monkeypatch
):
    import triage.pdf

    store = app_env["store"]
    a = alert_factory(officer="S1001", evidence=["ath-1"], evidence_events=[DIGEST],
                      title='Views <img src="file:///etc/passwd">')  # fmt: skip
    store.upsert_alert(a)
    chain = _chain_alert(alert_factory)
    store.upsert_alert(chain)
    analyst = app_env["users"][Role.ANALYST]
    case = store.open_case("S1001", "PDF case", analyst)
    store.attach_alert(case.id, a.id, analyst)
    store.attach_alert(case.id, chain.id, analyst)
    store.close_case(case.id, CaseOutcome.REFERRAL_IOPC, RATIONALE, analyst,
                     referral_reference="IOPC/2026/0042")  # fmt: skip
    given: list[str] = []
    real = triage.pdf.render_pdf
    fetched: list[str] = []
    monkeypatch.setattr(triage.pdf, "render_pdf", lambda html: given.append(html) or real(html))
    original = triage.pdf._NoFetch.fetch

    def spy(self, url, headers=None):
        fetched.append(url)
        return original(self, url, headers)

    monkeypatch.setattr(triage.pdf._NoFetch, "fetch", spy)
    client, _ = login(app_env["app"], "analyst")
    r = client.get(f"/cases/{case.id}/pack.pdf")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert r.content.startswith(b"%PDF") and len(r.content) > 5_000
    html = given[0]
    assert "<link" not in html and "contact_details" in html and "WS-1" in html
    assert "&lt;img" in html and fetched == []  # escaped: nothing to fetch
    text = _pdf_text(r.content)
    pseudo = app_env["app"].state.ctx.pseudonym
    for seen in ("contact_details", "WS-1", "athena", "record.view",  # the evidence table
                 "referral iopc", "IOPC/2026/0042", RATIONALE,  # outcome and rationale
                 "lives at", "member of", "intelligence", "2026-02-11",  # the chart's links
                 pseudo("P-7001"), pseudo("OCG-RIVERSIDE")):  # and its nodes  # fmt: skip
        assert _folded(seen) in text, seen
    assert "P-7001" not in text and "MillLane" not in text
    exported = [e for e in store.audit_entries() if e.action == "case.exported"]
    assert exported[0].detail["form"] == "pdf"
    hidden = store.open_case("S5005", "ACU", app_env["users"][Role.REVIEWER])
    assert client.get(f"/cases/{hidden.id}/pack.pdf").status_code == 404


def _folded(text: str) -> str:
    return "".join(text.split())


def _pdf_text(pdf: bytes) -> str:
    """The PDF's text (pypdf) with no whitespace, so text wrapped across lines still matches."""
    import io

    from pypdf import PdfReader

    return "".join(_folded(p.extract_text() or "") for p in PdfReader(io.BytesIO(pdf)).pages)


def test_the_pdf_renderer_refuses_every_url(monkeypatch):
    import triage.pdf

    fetched: list[str] = []
    original = triage.pdf._NoFetch.fetch

    def spy(self, url, headers=None):
        fetched.append(url)
        return original(self, url, headers)

    monkeypatch.setattr(triage.pdf._NoFetch, "fetch", spy)
    pdf = triage.pdf.render_pdf(
        '<p>x</p><img src="file:///etc/passwd"><img src="http://example.org/a.png">'
    )
    assert pdf.startswith(b"%PDF")
    assert fetched == ["file:///etc/passwd", "http://example.org/a.png"]  # asked, refused


CHAIN = [
    {"from": "S1001", "to": "address 14 Mill Lane, Worcester", "relation": "lives_at",
     "evidence": ["hr-1"]},
    {"from": "address 14 Mill Lane, Worcester", "to": "P-7001", "relation": "lives_at",
     "evidence": ["int-10"]},
    {"from": "P-7001", "to": "OCG-RIVERSIDE", "relation": "member_of", "evidence": ["int-11"]},
]  # fmt: skip
HR = {**VETTING, "id": "hr-1", "source": "hr", "kind": "staff.upsert",
      "time": "2026-01-05T09:00:00Z"}  # fmt: skip
INT = {**VETTING, "id": "int-10", "source": "intelligence", "kind": "person.link",
       "time": "2026-02-11T10:00:00Z"}  # fmt: skip


def _chain_alert(alert_factory, **fields):
    return alert_factory(**{
        "detector": "association.ocg_path", "category": "inappropriate_association",
        "officer": "S1001", "evidence": ["hr-1", "int-10", "int-11"], "subjects": ["P-7001"],
        "evidence_events": [HR, INT], "path": CHAIN, "title": "Path to OCG-RIVERSIDE", **fields,
    })  # fmt: skip


def test_the_link_chart_draws_the_chain_with_each_links_systems_and_dates(app_env, alert_factory):
    store = app_env["store"]
    a = _chain_alert(alert_factory)
    store.upsert_alert(a)
    client, _ = login(app_env["app"], "analyst")
    page = client.get(f"/alerts/{a.id}").text
    svg = page.split('<svg class="chart" id="link-chart"')[1].split("</svg>")[0]
    pseudo = app_env["app"].state.ctx.pseudonym
    for label in ("S1001", pseudo("P-7001"), pseudo("OCG-RIVERSIDE"),
                  pseudo("address 14 Mill Lane, Worcester"), "lives at", "member of",
                  "hr", "intelligence", "2026-01-05", "2026-02-11"):  # fmt: skip
        assert label in svg, label
    assert svg.count('<g class="entity"') == 4 and svg.count('<g class="link">') == 3
    for kind in ("Staff", "Address", "Person", "OCG"):
        assert f'data-kind="{kind}"' in svg
    assert "P-7001" not in page and "Mill Lane" not in page  # people pseudonymised
    assert "style=" not in svg and "<script" not in svg  # nothing the CSP would refuse
    assert 'id="network-export"' in page


def test_a_hostile_label_on_the_chain_is_escaped_in_the_chart(app_env, alert_factory):
    store = app_env["store"]
    hostile = '</text><script>alert(1)</script><text x="0'
    hop = {"from": "S1001", "to": "P-7001", "relation": hostile, "evidence": ["int-11"]}
    a = alert_factory(officer="S1001", evidence=["int-11"], path=[hop])
    store.upsert_alert(a)
    client, _ = login(app_env["app"], "analyst")
    page = client.get(f"/alerts/{a.id}").text
    svg = page.split('id="link-chart"')[1].split("</svg>")[0]
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in svg


def test_the_officers_network_exports_for_i2_audited_and_masked(app_env, alert_factory):
    import csv
    import io
    import zipfile

    store = app_env["store"]
    a = _chain_alert(alert_factory)
    store.upsert_alert(a)
    again = _chain_alert(alert_factory, evidence=["int-11", "int-12"])  # the same links again
    store.upsert_alert(again)
    client, _ = login(app_env["app"], "analyst")
    officer_page = client.get("/officers/S1001").text
    assert 'id="network-chart"' in officer_page and 'id="network-export"' in officer_page
    r = client.get("/officers/S1001/network.zip")
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    z = zipfile.ZipFile(io.BytesIO(r.content))
    assert sorted(z.namelist()) == ["S1001_entities.csv", "S1001_links.csv"]
    entities = list(csv.DictReader(io.StringIO(z.read("S1001_entities.csv").decode())))
    links = list(csv.DictReader(io.StringIO(z.read("S1001_links.csv").decode())))
    from models.i2 import ENTITY_COLUMNS, LINK_COLUMNS

    assert tuple(entities[0]) == ENTITY_COLUMNS and tuple(links[0]) == LINK_COLUMNS
    pseudo = app_env["app"].state.ctx.pseudonym
    by_id = {e["entity_id"]: e for e in entities}
    assert by_id["S1001"]["entity_type"] == "Staff"
    person = by_id[pseudo("P-7001")]
    assert person["nominal"] == "yes" and person["ocg_groups"] == pseudo("OCG-RIVERSIDE")
    assert len(links) == 5  # the two alerts' chains merged, and the fixture alert's two links
    assert {(x["relation"], x["first_seen"][:10]) for x in links} >= {
        ("lives_at", "2026-01-05"), ("lives_at", "2026-02-11"), ("member_of", "")}
    assert b"P-7001" not in r.content and b"Mill Lane" not in r.content
    api = TestClient(app_env["app"]).get(
        "/api/officers/S1001/network", headers=bearer(app_env["tokens"][Role.ANALYST]))
    assert api.status_code == 200 and len(api.json()["entities"]) == len(entities)
    exported = [e for e in store.audit_entries() if e.action == "officer.network_exported"]
    assert [e.detail["form"] for e in exported] == ["i2", "json"]
    assert exported[0].detail["officer"] == "S1001"


def test_the_network_of_a_hidden_or_unknown_officer_is_not_found(app_env):
    client, _ = login(app_env["app"], "analyst")
    assert client.get("/officers/S5005/network.zip").status_code == 404  # ACU member
    assert client.get("/officers/S-unknown/network.zip").status_code == 404
    h = bearer(app_env["tokens"][Role.ANALYST])
    api = TestClient(app_env["app"])
    assert api.get("/api/officers/S5005/network", headers=h).status_code == 404
    assert api.get("/api/officers/S-unknown/network", headers=h).status_code == 404
    head, _ = login(app_env["app"], Role.HEAD_OF_UNIT.value)
    assert head.get("/officers/S5005/network.zip").status_code == 404  # nor the ACU's head
    reviewer = TestClient(app_env["app"])
    # the outside reviewer may
    assert reviewer.get("/api/officers/S5005/network", headers=bearer(
        app_env["tokens"][Role.REVIEWER])).status_code == 200  # fmt: skip
    actions = [e.action for e in app_env["store"].audit_entries()]
    assert actions.count("officer.network_exported") == 1
