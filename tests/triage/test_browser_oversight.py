"""A real browser (Playwright driving Debian's Chromium, JavaScript off) on the effectiveness
page (issue 17): a supervisor reaches it by keyboard from the menu, switches to months, reads
each detector's confirmed/dismissed figures, its sparkline and the warning for a detector
that alerted about more than 15% of staff in a week; then the inactive-detectors page."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from pydantic import SecretStr

from probity.settings import Settings
from tests.triage.conftest import SECRET
from tests.triage.helpers import PASSWORD
from tests.triage.test_browser import CHROMIUM, CHROMIUM_ARGS, served
from triage.app import create_app
from triage.base import Outcome, Role

RATIONALE = "Reviewed the record and the tasking log together"
NONE = "\N{EN DASH}"  # how the page shows a ratio with nothing decided
SCREENSHOT = None  # set to a path to look at the page while working on it


@pytest.fixture
def staffed(app_env: dict[str, Any], alert_factory) -> dict[str, Any]:
    """The test service with a staff count of 20, and alerts in the week of 2 March 2026:
    access.out_of_hours about 4 staff (20%: over 15%), one confirmed and one dismissed;
    access.no_purpose (the ordinary alert and the ACU member's) left open."""
    store, head = app_env["store"], app_env["users"][Role.HEAD_OF_UNIT]
    made = [alert_factory(detector="access.out_of_hours", officer=f"S{i}", severity="medium",
                          evidence=[f"ooh-{i}"], title="Out of hours <b>look-up</b>")
            for i in range(1, 5)]  # fmt: skip
    store.upsert_alerts(made)
    for alert, outcome in ((made[0], Outcome.REFERRED_TO_PSD), (made[1], Outcome.FALSE_POSITIVE)):
        store.assign(alert.id, "head_of_unit", head)
        store.close(alert.id, outcome, RATIONALE, head)
    settings = Settings(secret_key=SecretStr(SECRET), store_url="sqlite://",
                        triage={"cookie_secure": False, "staff_count": 20})  # fmt: skip
    return {**app_env, "app": create_app(settings, store, registry=CollectorRegistry())}


@pytest.fixture
def page(staffed: dict[str, Any]) -> Iterator[Any]:
    if shutil.which(CHROMIUM) is None:
        pytest.fail(f"{CHROMIUM} missing: `make test` installs it (deploy/system-packages.txt)")
    from playwright.sync_api import sync_playwright

    with served(staffed["app"]) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(base_url=base, java_script_enabled=False)
        pg = context.new_page()
        pg.set_default_timeout(15_000)
        yield pg
        context.close()
        browser.close()


def test_effectiveness_page_in_a_real_browser(page: Any, staffed: dict[str, Any]) -> None:
    from playwright.sync_api import expect

    page.goto("/login")
    page.get_by_label("Username").fill("supervisor")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Queue")).to_be_visible()

    # by keyboard: the menu link takes focus and Enter follows it
    page.get_by_role("link", name="Effectiveness").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Alert effectiveness")).to_be_visible()
    expect(page.locator("#staff-count")).to_contain_text("Staff count: 20")

    # this spring, per month: the form works without JavaScript
    page.get_by_label("Periods of a").select_option("month")
    page.get_by_label("Up to").fill("2026-03-31")
    page.get_by_label("Up to").press("Enter")
    expect(page).to_have_url("/detectors/effectiveness?period=month&until=2026-03-31")

    table = page.locator("table.effectiveness")
    ooh = table.locator("tbody tr", has=page.get_by_role("link", name="access.out_of_hours"))
    # alerts, confirmed, dismissed, undecided, effectiveness
    expect(ooh.locator("td.num")).to_have_text(["4", "1", "1", "2", "50%"])
    expect(ooh.get_by_role("img")).to_have_attribute(
        "aria-label", "effectiveness per month: " + f"{NONE}, " * 11 + "50%"
    )
    expect(ooh).to_contain_text("4 (20%)")
    expect(ooh.locator(".badge")).to_have_text("over 15%")
    # the supervisor does not see the ACU member's alert: one open no-purpose alert
    nop = table.locator("tbody tr", has=page.get_by_role("link", name="access.no_purpose"))
    expect(nop.locator("td.num")).to_have_text(["1", "0", "0", "1", NONE])

    warning = page.get_by_role("region", name="Detectors alerting about more than 15%")
    expect(warning).to_contain_text(
        "access.out_of_hours alerted about 4 of 20 staff (20%) in the week of 2026-03-02"
    )
    periods = page.locator("table.effectiveness-periods")
    expect(periods.locator("thead th").last).to_have_text("2026-03")
    if SCREENSHOT:
        page.screenshot(path=SCREENSHOT, full_page=True)

    # the detector's link leads to its alerts in the queue
    ooh.get_by_role("link", name="access.out_of_hours").click()
    expect(page.get_by_role("heading", name="Queue")).to_be_visible()
    expect(page.get_by_role("link", name="Out of hours <b>look-up</b>")).to_have_count(4)

    page.get_by_role("link", name="Detectors").click()
    expect(page.get_by_role("heading", name="Inactive detectors")).to_be_visible()
    expect(page.get_by_text("No detector is inactive.")).to_be_visible()

    actions = [e.action for e in staffed["store"].audit_entries()]
    assert "detectors.effectiveness_viewed" in actions and "detectors.inactive_viewed" in actions
