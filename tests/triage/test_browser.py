"""A real browser (Playwright driving Debian's Chromium) through the analyst's day: log in,
filter the queue, open an alert, reveal a subject with a reason, propose closing it as a
false positive with a rationale and a suppression, see it leave the queue and the
suppression listed as awaiting approval, then the head of unit approves both."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from tests.triage.helpers import PASSWORD, totp_code
from triage.base import CaseOutcome, Role

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def served(app: Any) -> Iterator[str]:
    """``app`` served by uvicorn on a loopback port, in a thread, while the block runs."""
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def live_server(app_env: dict[str, Any]) -> Iterator[str]:
    """The app served for the test's length."""
    with served(app_env["app"]) as url:
        yield url


@pytest.fixture
def page(live_server: str) -> Iterator[Any]:
    if shutil.which(CHROMIUM) is None:
        pytest.fail(f"{CHROMIUM} missing: `make test` installs it (deploy/system-packages.txt)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(base_url=live_server, java_script_enabled=False)
        pg = context.new_page()
        pg.set_default_timeout(15_000)
        yield pg
        context.close()
        browser.close()


def test_analyst_day_in_a_real_browser(page: Any, app_env: dict[str, Any], alert_factory):
    from playwright.sync_api import expect

    target = app_env["ordinary"]
    other = alert_factory(officer="S1777", title="Bulk export to USB", severity="medium",
                          subjects=[], score=40)  # fmt: skip
    app_env["store"].upsert_alert(other)
    pseudo = app_env["app"].state.ctx.pseudonym("P-9003")

    page.goto("/login")
    page.get_by_label("Username").fill("supervisor")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Queue")).to_be_visible()
    expect(page.get_by_role("link", name="Bulk export to USB")).to_be_visible()

    # filter the queue: only S1001's alerts remain
    page.get_by_label("Officer").fill("S1001")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_role("link", name="Bulk export to USB")).to_have_count(0)
    link = page.get_by_role("link", name=f"Canary record viewed: {pseudo}")
    expect(link).to_be_visible()
    assert "P-9003" not in page.content()

    # open it; the subject is pseudonymised until its assignee reveals it with a reason
    app_env["store"].assign(target.id, "supervisor", app_env["users"][Role.SUPERVISOR])
    link.click()
    expect(page.locator(".pseudonym").first).to_have_text(pseudo)
    assert "P-9003" not in page.content()
    page.get_by_label("Reason to reveal").fill("confirming who the canary record is")
    page.get_by_label("Case or tasking reference").fill("OP-CANARY/7")
    page.get_by_role("button", name="Reveal").click()
    expect(page.locator(".revealed")).to_have_text("P-9003")

    # close it as a false positive with a rationale and a suppression for the officer
    page.get_by_label("Outcome").select_option("false_positive")
    page.get_by_label("Rationale (required)").fill("ACU test account opening its own canary")
    page.get_by_role("radio", name="this officer").check()
    page.get_by_role("button", name="Close alert").click()
    expect(page.get_by_role("heading", name="Queue")).to_be_visible()

    # it has left the open queue and the suppression is listed
    page.goto("/queue?status=new")
    expect(page.get_by_role("link", name=f"Canary record viewed: {pseudo}")).to_have_count(0)
    expect(page.get_by_role("link", name="Bulk export to USB")).to_be_visible()
    page.get_by_role("link", name="Suppressions").click()
    row = page.locator("table.suppressions tbody tr").first
    expect(row).to_contain_text("access.no_purpose")
    expect(row).to_contain_text("officer S1001")
    expect(row).to_contain_text(target.id)
    expect(row).to_contain_text("awaiting approval")  # four eyes: not in force yet
    assert app_env["store"].active_suppressions() == []

    # the second pair of eyes: the head of unit approves the closure and the suppression
    page.get_by_role("button", name="Log out").click()
    page.get_by_label("Username").fill("head_of_unit")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_label("Code").fill(totp_code(app_env["app"], "head_of_unit"))  # second factor
    page.get_by_role("button", name="Verify").click()
    page.goto(f"/alerts/{target.id}")
    expect(page.locator("#pending")).to_contain_text("proposed by supervisor")
    page.get_by_role("button", name="Approve closure").click()
    expect(page.get_by_text("approved by head_of_unit")).to_be_visible()
    page.goto("/suppressions")
    page.get_by_role("button", name="Approve").click()
    expect(page.locator("table.suppressions tbody tr").first).to_contain_text("head_of_unit")
    assert len(app_env["store"].active_suppressions()) == 1

    actions = [e.action for e in app_env["store"].audit_entries()]
    for action in ("login", "queue.searched", "alert.viewed", "subject.revealed",
                   "alert.closure_proposed", "suppression.created", "alert.closed",
                   "suppression.approved"):  # fmt: skip
        assert action in actions
    assert app_env["store"].verify_audit() == len(actions)


def test_a_reveal_request_approved_by_a_second_person_in_a_real_browser(
    page: Any, app_env: dict[str, Any], alert_factory
):
    """The supervisor asked to reveal a canary's person; the head of unit finds the request
    from the navigation, sees the person as a pseudonym only, and approves it."""
    from playwright.sync_api import expect

    from triage.exceptions import ApprovalPending

    store, users = app_env["store"], app_env["users"]
    a = alert_factory(detector="access.canary", subjects=["P-7001"], sensitive_subjects=["P-7001"])
    store.upsert_alert(a)
    store.assign(a.id, "supervisor", users[Role.SUPERVISOR])
    with pytest.raises(ApprovalPending):
        store.reveal(a.id, "P-7001", "confirming the canary's holder", users[Role.SUPERVISOR],
                     reference="OP-CANARY/9")  # fmt: skip
    pseudo = app_env["app"].state.ctx.pseudonym("P-7001")

    page.goto("/login")
    page.get_by_label("Username").fill("head_of_unit")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_label("Code").fill(totp_code(app_env["app"], "head_of_unit"))
    page.get_by_role("button", name="Verify").click()
    page.get_by_role("link", name="Reveal requests").click()
    row = page.locator("#pending-requests tbody tr").first
    expect(row).to_contain_text(pseudo)
    expect(row).to_contain_text("supervisor")
    expect(row).to_contain_text("OP-CANARY/9")
    assert "P-7001" not in page.content()
    row.get_by_role("button", name="Approve").click()
    expect(page.locator("#pending-requests")).to_contain_text("No request awaits your decision")
    [decided] = [e for e in store.audit_entries() if e.action == "subject.reveal_approved"]
    assert decided.username == "head_of_unit"


def test_forced_password_change_and_logout_in_a_real_browser(page: Any, app_env: dict[str, Any]):
    """After an admin's reset the analyst must choose a password before anything else; the
    form works without JavaScript; logging out ends the session for good."""
    from playwright.sync_api import expect

    store = app_env["store"]
    analyst, admin = app_env["users"][Role.ANALYST], app_env["users"][Role.ADMIN]
    store.reset_password(analyst.id, "temporary pass 2026", admin)

    page.goto("/login")
    page.get_by_label("Username").fill("analyst")
    page.get_by_label("Password").fill("temporary pass 2026")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Change your password")).to_be_visible()
    page.goto("/queue")
    expect(page.get_by_role("heading", name="Change your password")).to_be_visible()
    page.get_by_label("Current password").fill("temporary pass 2026")
    page.get_by_label("New password (").fill("my own passphrase 99")
    page.get_by_label("New password again").fill("my own passphrase 99")
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("status")).to_contain_text("Password changed")
    page.get_by_role("link", name="Queue").click()
    expect(page.get_by_role("heading", name="Queue")).to_be_visible()

    cookie = next(c["value"] for c in page.context.cookies() if c["name"] == "probity_session")
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    page.context.add_cookies([{"name": "probity_session", "value": cookie,
                               "url": page.url}])  # fmt: skip
    page.goto("/queue")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    actions = [e.action for e in store.audit_entries()]
    assert "password.changed" in actions and actions[-1] == "logout"


def test_evidence_timeline_and_a_case_in_a_real_browser(
    page: Any, app_env: dict[str, Any], alert_factory
):
    """The analyst reads an alert's evidence table, follows the officer to the timeline,
    filters it, opens a case, attaches the suggested alert, works a task and a note, and
    closes the case with a referral to the IOPC, its reference and the rationale; the
    ACU member's timeline and case stay out of reach."""
    from playwright.sync_api import expect

    store = app_env["store"]
    pseudo = app_env["app"].state.ctx.pseudonym("P-9003")
    digests = [
        {"id": "ath-2", "time": "2026-03-02T08:40:00Z", "source": "athena",
         "kind": "record.view", "actor": "S1001", "record_type": "person",
         "record_id": "P-9003", "purpose": None, "terminal": "WS-12", "subjects": ["P-9003"],
         "attrs": {"fields": ["contact_details"]}},
        {"id": "ath-1", "time": "2026-03-02T08:30:00Z", "source": "athena",
         "kind": "record.search", "actor": "S1001", "record_type": "person",
         "record_id": "P-9003", "purpose": "INC-77", "terminal": "WS-12",
         "subjects": ["P-9003"], "attrs": {"results": 1}},
    ]  # fmt: skip
    evident = alert_factory(officer="S1001", title="Victim record viewed at night",
                            evidence=["ath-1", "ath-2"], evidence_events=digests,
                            category="abuse_of_position_sexual")  # fmt: skip
    store.upsert_alert(evident)
    hidden = store.open_case("S5005", "ACU member case", app_env["users"][Role.REVIEWER])

    page.goto("/login")
    page.get_by_label("Username").fill("analyst")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(f"/alerts/{evident.id}")
    rows = page.locator("#evidence-table tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("record.search")  # time order
    expect(rows.nth(0)).to_contain_text("INC-77")
    expect(rows.nth(1)).to_contain_text("none given")
    expect(rows.nth(1)).to_contain_text(pseudo)
    assert "P-9003" not in page.content()

    page.locator("#officer-timeline").click()
    expect(page.get_by_role("heading", name="S1001: timeline")).to_be_visible()
    timeline = page.locator("#timeline tbody tr")
    expect(timeline).to_have_count(4)  # two alerts, two evidence events
    page.get_by_label("Category").select_option("abuse_of_position_sexual")
    page.get_by_role("button", name="Filter").click()
    expect(timeline).to_have_count(3)
    expect(page.locator("#timeline")).not_to_contain_text("Canary record viewed")

    page.get_by_label("Case title").fill("Night-time victim record views")
    page.get_by_role("button", name="Open a case on S1001").click()
    expect(page.get_by_role("heading", name="Night-time victim record views")).to_be_visible()
    page.get_by_role("button", name="attach Victim record viewed at night").click()
    expect(page.locator("#case-alerts")).to_contain_text("Victim record viewed at night")
    page.get_by_label("New task").fill("Ask PNC for the full audit")
    page.get_by_role("button", name="Add task").click()
    page.get_by_role("button", name="mark done: Ask PNC for the full audit").click()
    expect(page.get_by_text("done by analyst")).to_be_visible()
    page.get_by_label("Add a note").fill("Line manager knows of no tasking")
    page.get_by_role("button", name="Add note").click()
    page.locator("select[name=outcome]").select_option("referral_iopc")
    page.get_by_label("Rationale (required)").fill(
        "Repeated night views of a victim record with no tasking; possible abuse of position"
    )
    page.get_by_label("IOPC referral reference").fill("IOPC/2026/0042")
    page.get_by_role("button", name="Record outcome and close").click()
    expect(page.locator("#case-status")).to_have_text("closed")
    expect(page.locator("#case-outcome")).to_contain_text("IOPC/2026/0042")
    expect(page.get_by_role("button", name="Add note")).to_have_count(0)

    # the referral pack: one printable document with the evidence table and the trail
    page.locator("#pack-link").click()
    expect(page.locator("#pack-outcome")).to_contain_text("IOPC/2026/0042")
    expect(page.locator("table.evidence tbody tr")).to_have_count(2)
    expect(page.locator("table.trail")).to_contain_text("case.closed")
    pdf = page.pdf(format="A4")  # Chromium printing it with the print stylesheet
    assert pdf.startswith(b"%PDF") and len(pdf) > 5_000

    # conflict of interest: the ACU member's timeline and case answer like unknown ones
    for url in ("/officers/S5005", f"/cases/{hidden.id}"):
        response = page.goto(url)
        assert response is not None and response.status == 404, url
    actions = [e.action for e in store.audit_entries()]
    wanted = ("alert.viewed", "officer.timeline_viewed", "case.opened", "case.alert_attached",
              "case.task_done", "case.noted", "case.closed", "case.exported")  # fmt: skip
    assert set(wanted) <= set(actions)
    assert store.verify_audit() == len(actions)


#: the README's pictures; this test makes them afresh on every run
DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"


def _chain_digests() -> list[dict[str, Any]]:
    def digest(id_: str, time_: str, source: str, kind: str, **kw: Any) -> dict[str, Any]:
        return {"id": id_, "time": time_, "source": source, "kind": kind, "actor": None,
                "record_type": None, "record_id": None, "purpose": None, "terminal": None,
                "subjects": [], "attrs": {}, **kw}  # fmt: skip

    return [
        digest("hr-1", "2025-11-03T09:12:00Z", "hr", "staff.upsert", attrs={"changed": "address"}),
        digest("int-10", "2026-02-11T10:40:00Z", "intelligence", "person.link",
               record_type="person", record_id="P-7001", subjects=["P-7001"],
               attrs={"link": "resident"}),
        digest("int-11", "2026-02-27T16:05:00Z", "intelligence", "watchlist.upsert",
               subjects=["P-7001"], attrs={"list": "ocg_nominals"}),
    ]  # fmt: skip


def test_link_chart_network_export_pack_pdf_and_readme_pictures_in_a_real_browser(
    page: Any, app_env: dict[str, Any], alert_factory
):
    """An association alert draws its chain as SVG (a hostile label stays text), the
    officer's network downloads as the i2 files, the referral pack's PDF holds the
    evidence table, the chart, the outcome and the rationale; the alert page, the timeline
    and the case are photographed for the README (docs/img/)."""
    import io
    import zipfile

    from playwright.sync_api import expect

    from tests.triage.test_investigation import _folded, _pdf_text

    store = app_env["store"]
    pseudo = app_env["app"].state.ctx.pseudonym
    chain = alert_factory(
        detector="association.ocg_path", category="inappropriate_association",
        severity="high", score=82, officer="S1001", subjects=["P-7001"],
        evidence=["hr-1", "int-10", "int-11"], evidence_events=_chain_digests(),
        title="S1001 is two links from an OCG nominal through a shared address",
        explanation="S1001 lives at address 14 Mill Lane, Worcester, where P-7001 lives; "
        "P-7001 is a nominal of OCG-RIVERSIDE. No declaration or tasking covers the link.",
        facts={"hops": 3, "declared": False, "tasked": False},
        path=[{"from": "S1001", "to": "address 14 Mill Lane, Worcester",
               "relation": "lives_at", "evidence": ["hr-1"]},
              {"from": "address 14 Mill Lane, Worcester", "to": "P-7001",
               "relation": "lives_at", "evidence": ["int-10"]},
              {"from": "P-7001", "to": "OCG-RIVERSIDE", "relation": "member_of",
               "evidence": ["int-11"]}],
    )  # fmt: skip
    hostile = alert_factory(officer="S1888", evidence=["x-1"], title="Hostile chain", path=[
        {"from": "S1888", "to": "P-1", "relation": '<img src="x"><script>alert(1)</script>'}])
    store.upsert_alerts([chain, hostile])
    analyst = app_env["users"][Role.ANALYST]
    case = store.open_case("S1001", "S1001: undeclared link to OCG-RIVERSIDE", analyst)
    store.attach_alert(case.id, chain.id, analyst)
    store.attach_alert(case.id, app_env["ordinary"].id, analyst)
    store.add_case_task(case.id, "Ask HR for S1001's declarations since 2024", analyst)
    store.add_case_note(case.id, "No tasking covers the shared address.", analyst)
    rationale = "Shared address with an OCG nominal, undeclared and untasked: referred"
    store.close_case(case.id, CaseOutcome.REFERRAL_IOPC, rationale, analyst,
                     referral_reference="IOPC/2026/0042")  # fmt: skip

    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/login")
    page.get_by_label("Username").fill("analyst")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    # the chain as a chart: four entities, three links, each with its systems and dates
    page.goto(f"/alerts/{chain.id}")
    svg = page.locator("svg#link-chart")
    expect(svg).to_be_visible()
    expect(svg.locator("g.entity")).to_have_count(4)
    expect(svg.locator("g.link")).to_have_count(3)
    for label in ("S1001", pseudo("P-7001"), pseudo("OCG-RIVERSIDE"),
                  pseudo("address 14 Mill Lane, Worcester"), "member of", "intelligence",
                  "2026-02-27", "2025-11-03"):  # fmt: skip
        expect(svg).to_contain_text(label)
    assert "P-7001" not in page.content() and "Mill Lane" not in page.content()
    DOCS_IMG.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(DOCS_IMG / "alert.png"), full_page=True)

    # the officer's network, as the i2 files, from the page
    with page.expect_download() as download:
        page.locator("#network-export").click()
    z = zipfile.ZipFile(io.BytesIO(download.value.path().read_bytes()))
    assert sorted(z.namelist()) == ["S1001_entities.csv", "S1001_links.csv"]
    assert pseudo("P-7001") in z.read("S1001_entities.csv").decode()

    # a hostile label stays text: no element is made of it
    page.goto(f"/alerts/{hostile.id}")
    expect(page.locator("svg#link-chart g.link text").first).to_have_text(
        '<img src="x"><script>alert(1)</script>')
    expect(page.locator("svg#link-chart img, svg#link-chart script")).to_have_count(0)

    # the timeline, with the officer's network drawn under it
    page.goto("/officers/S1001")
    expect(page.locator("svg#network-chart g.entity")).to_have_count(6)
    page.screenshot(path=str(DOCS_IMG / "timeline.png"), full_page=True)

    # the case, and its referral pack as PDF
    page.goto(f"/cases/{case.id}")
    expect(page.locator("#case-outcome")).to_contain_text("IOPC/2026/0042")
    page.screenshot(path=str(DOCS_IMG / "case.png"), full_page=True)
    pdf = page.request.get(f"/cases/{case.id}/pack.pdf")
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
    text = _pdf_text(pdf.body())
    for seen in ("staff.upsert", "person.link", "watchlist.upsert", "ocg_nominals",  # evidence
                 "lives at", "member of", pseudo("P-7001"), pseudo("OCG-RIVERSIDE"),  # chart
                 "referral iopc", "IOPC/2026/0042", rationale):  # fmt: skip
        assert _folded(seen) in text, seen
    actions = [e.action for e in store.audit_entries()]
    assert {"officer.network_exported", "case.exported"} <= set(actions)
