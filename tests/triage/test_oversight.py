"""The ACU's view of the system itself: alert effectiveness per detector (figures, staff-share
warning, metrics), inactive detectors from the engine's operational alerts (kept off the
queue), and source coverage from the coverage service (people named by the queue's rules)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry
from pydantic import SecretStr

from intake.coverage import CoverageTracker
from intake.sources import parse_sources
from models.events import decode_event
from probity.settings import Settings
from streams.coverage import serve
from tests.triage.conftest import SECRET
from tests.triage.helpers import bearer, login, same_accounts
from triage.app import create_app
from triage.base import Outcome, Role
from triage.effectiveness import effectiveness, period_starts, sparkline
from triage.store.detectors import OutcomeRow

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)  # a Monday
RATIONALE = "Reviewed the record and the tasking log together"


# ------------------------------------------------------------------ the figures
def _row(det: str, officer: str, day: int, status: str = "new", outcome: str | None = None):
    return OutcomeRow(det, officer, T0 + timedelta(days=day), status, outcome)


def test_confirmed_over_decided_per_week_and_the_staff_share_warning() -> None:
    rows = [
        _row("a.x", "S1", 0, "closed", "referred_to_psd"),
        _row("a.x", "S2", 1, "closed", "false_positive"),
        _row("a.x", "S3", 2, "closed", "no_further_action"),
        _row("a.x", "S4", 3, "closed", "duplicate"),  # neither
        _row("a.x", "S5", 4, "pending_closure", "false_positive"),  # not decided yet
        _row("a.x", "S1", 8, "closed", "intelligence_case"),
        _row("b.y", "S1", 0),
        _row("a.x", "S9", -400, "closed", "referred_to_psd"),  # before the window
    ]
    until = date(2026, 3, 10)
    found = {d.detector: d for d in effectiveness(rows, until=until, period="week", count=12,
                                                  staff=20)}  # fmt: skip
    a = found["a.x"]
    assert (a.alerts, a.confirmed, a.dismissed, a.undecided) == (6, 2, 2, 2)
    assert a.ratio == 0.5
    week1, week2 = a.buckets[-2], a.buckets[-1]
    assert week1.start == date(2026, 3, 2) and (week1.confirmed, week1.dismissed) == (1, 2)
    assert week1.ratio == pytest.approx(1 / 3) and week2.ratio == 1.0
    assert [b.ratio for b in a.buckets[:-2]] == [None] * 10  # no decided alert: no figure
    # five staff of twenty in the week of 2 March: 25% > 15%; one the next week: 5%
    assert [(w.week, w.officers, w.share) for w in a.warnings] == [(date(2026, 3, 2), 5, 0.25)]
    assert found["b.y"].warnings == [] and found["b.y"].ratio is None
    unknown = effectiveness(rows, until=until, period="week", count=12, staff=None)
    assert all(d.warnings == [] for d in unknown)  # no staff count: no warning, not a guess


def test_months_and_the_sparkline_breaks_where_nothing_was_decided() -> None:
    assert period_starts(date(2026, 3, 10), "month", 3) == [
        date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)
    ]  # fmt: skip
    assert sparkline([1.0, None, 0.0], width=20, height=10, pad=0) == [[(0, 0)], [(20, 10)]]
    assert sparkline([0.0, 1.0], width=20, height=10, pad=0) == [[(0, 10), (20, 0)]]


# ------------------------------------------------------------------ through the service
def _decide(env: dict[str, Any], alert_id: str, outcome: Outcome) -> None:
    head = env["users"][Role.HEAD_OF_UNIT]
    env["store"].assign(alert_id, "head_of_unit", head)
    env["store"].close(alert_id, outcome, RATIONALE, head)


def _seed(env: dict[str, Any], alert_factory) -> None:
    """access.no_purpose: the ordinary alert (high, left open) plus four medium ones about
    S1-S4 in the week of 2 March, one referred, two false positives."""
    made = [alert_factory(officer=f"S{i}", severity="medium", evidence=[f"eff-{i}"])
            for i in range(1, 5)]  # fmt: skip
    env["store"].upsert_alerts(made)
    _decide(env, made[0].id, Outcome.REFERRED_TO_PSD)
    _decide(env, made[1].id, Outcome.FALSE_POSITIVE)
    _decide(env, made[2].id, Outcome.FALSE_POSITIVE)


def test_the_effectiveness_page_and_api_for_a_supervisor(app_env, alert_factory) -> None:
    _seed(app_env, alert_factory)
    client, _ = login(app_env["app"], "supervisor")
    page = client.get("/detectors/effectiveness", params={"until": "2026-03-08"})
    assert page.status_code == 200
    assert "access.no_purpose" in page.text and "33%" in page.text  # 1 of 3 decided
    assert "<polyline" in page.text and "<circle" in page.text
    assert "Staff count unknown" in page.text
    data = client.get("/api/detectors/effectiveness",
                      params={"until": "2026-03-08", "period": "month"}).json()  # fmt: skip
    row = next(d for d in data["detectors"] if d["detector"] == "access.no_purpose")
    # the ACU member's alert (same detector) is hidden from a supervisor: it does not count
    assert (row["alerts"], row["confirmed"], row["dismissed"]) == (5, 1, 2)
    # nor from the head of unit: alerts about ACU staff are the outside reviewer's alone
    head = TestClient(app_env["app"]).get(
        "/api/detectors/effectiveness", params={"until": "2026-03-08"},
        headers=bearer(app_env["tokens"][Role.HEAD_OF_UNIT]),
    ).json()  # fmt: skip
    assert next(d for d in head["detectors"] if d["detector"] == "access.no_purpose")[
        "alerts"] == 5  # fmt: skip
    assert "detectors.effectiveness_viewed" in {e.action for e in app_env["store"].audit_entries()}


def test_the_staff_share_warning_and_the_metrics(alert_factory, sqlite_store) -> None:
    from tests.triage.conftest import build_app_env

    env = build_app_env(sqlite_store, alert_factory)
    registry = CollectorRegistry()
    settings = Settings(secret_key=SecretStr(SECRET), store_url="sqlite://",
                        triage={"cookie_secure": False, "staff_count": 20})  # fmt: skip
    app = create_app(settings, sqlite_store, registry=registry)
    same_accounts(app, env["app"])
    now = datetime.now(UTC).replace(microsecond=0)
    recent = [alert_factory(detector="access.out_of_hours", officer=f"S{i}", severity="medium",
                            time=now - timedelta(days=1), raised_at=now, evidence=[f"r-{i}"])
              for i in range(1, 5)]  # fmt: skip
    sqlite_store.upsert_alerts(recent)
    _decide(env, recent[0].id, Outcome.INTELLIGENCE_CASE)
    _decide(env, recent[1].id, Outcome.NO_FURTHER_ACTION)
    client = TestClient(app)
    text = client.get("/metrics", headers=bearer(env["tokens"][Role.ADMIN])).text
    assert "probity_queue_detector_effectiveness_ratio" in text
    labels = {"detector": "access.out_of_hours"}
    assert registry.get_sample_value("probity_queue_detector_effectiveness_ratio", labels) == 0.5
    assert registry.get_sample_value("probity_queue_detector_decided_alerts", labels) == 2
    assert registry.get_sample_value("probity_queue_detector_staff_alerted", labels) == 4
    assert registry.get_sample_value("probity_queue_detector_staff_alerted_ratio", labels) == 0.2
    assert registry.get_sample_value("probity_queue_staff") == 20
    browser, _ = login(app, "head_of_unit")
    page = browser.get("/detectors/effectiveness")
    assert "alerting about more than 15% of staff" in page.text
    assert "alerted about 4 of 20 staff (20%)" in page.text


# ------------------------------------------------------------------ inactive detectors
def _operational(alert_factory, *, since: str, resumed_at: str | None = None, **facts: Any):
    base = {"feed": "vetting", "since": since, "operational": True}
    if resumed_at is None:
        base |= {"share": 0.0, "covered": 0, "staff": 10, "min_share": 0.5,
                 "inactive": ["vetting.lapsed_access", "<b>vetting.expiring</b>"]}
    else:
        base |= {"resumed_at": resumed_at, "resumed": ["vetting.lapsed_access"]}
    return alert_factory(detector="engine.coverage", officer="force", category="vetting",
                         severity="low" if resumed_at else "medium", subjects=[],
                         facts=base | facts, evidence=[f"op-{since}-{resumed_at}"],
                         title="vetting records exist for 0% of staff")  # fmt: skip


def test_inactive_detectors_are_listed_and_kept_off_the_queue(app_env, alert_factory) -> None:
    store = app_env["store"]
    old = "2026-01-01T00:00:00+00:00"
    now = "2026-03-01T00:00:00+00:00"
    store.upsert_alerts([
        _operational(alert_factory, since=old),
        _operational(alert_factory, since=old, resumed_at="2026-01-05T09:00:00+00:00"),
        _operational(alert_factory, since=now),
    ])  # fmt: skip
    client, _ = login(app_env["app"], "analyst")
    queue = client.get("/queue").text
    assert "vetting records exist" not in queue  # not an integrity alert about anyone
    listed = client.get("/queue", params={"detector": "engine.coverage"}).text
    assert listed.count("vetting records exist") == 3  # still findable by its detector
    data = client.get("/api/detectors/inactive").json()
    assert [s["since"] for s in data["inactive"]] == [now]
    assert data["inactive"][0]["detectors"][0] == "vetting.lapsed_access"
    assert [(s["since"], s["resumed_at"]) for s in data["resumed"]] == [
        (old, "2026-01-05T09:00:00+00:00")
    ]
    page = client.get("/detectors/inactive").text
    assert "&lt;b&gt;vetting.expiring&lt;/b&gt;" in page and "<b>vetting.expiring" not in page
    assert "0%" in page and "(0 of 10 staff; needs 50%)" in page
    assert "/alerts/" in page  # each stretch links to its alert, closed from there


# ------------------------------------------------------------------ source coverage
SOURCES = """
[[source]]
name = "athena"
owner = "Records"
expected_daily = 4
longest_silence = "1h"

[[source]]
name = "pnc"
owner = "PNC bureau"
expected_daily = 4
longest_silence = "1h"
"""


def _ev(eid: str, kind: str, t: str, **kw: Any):
    import orjson

    return decode_event(orjson.dumps({"id": eid, "time": t, "source": kw.pop("source", "hr"),
                                      "kind": kind, **kw}))  # fmt: skip


@pytest.fixture
def coverage_service():
    """A real coverage service on a loopback port with a token: staff S1, S2002 (the
    analyst's associate), S-ACU-7 (an ACU member) and S4, all rostered on 2 March; athena
    shows only S1, and an account that resolves to nobody."""
    tracker = CoverageTracker(parse_sources(SOURCES, "t"), CollectorRegistry())
    staff = ["S1", "S2002", "S-ACU-7", "S4"]
    for s in staff:
        tracker.observe(_ev(f"hr-{s}", "staff.upsert", "2026-03-01T00:00:00Z",
                            attrs={"staff_id": s}))  # fmt: skip
        tracker.observe(_ev(f"ro-{s}", "shift.rostered", "2026-03-01T00:00:00Z",
                            source="roster", attrs={"staff_id": s,
                            "start": "2026-03-02T07:00:00Z", "end": "2026-03-02T15:00:00Z"}))
    for i in range(4):
        tracker.observe(_ev(f"a-{i}", "auth.login", "2026-03-02T09:00:00Z", source="athena",
                            actor="S1"))  # fmt: skip
    tracker.observe(_ev("a-x", "auth.login", "2026-03-02T10:00:00Z", source="athena",
                        actor="CORP\\jbloggs<i>"))  # fmt: skip
    tracker.observe(_ev("a-next", "auth.login", "2026-03-03T08:00:00Z", source="athena",
                        actor="S1"))  # fmt: skip
    server = serve(tracker, CollectorRegistry(), "127.0.0.1", 0, token="cov-token-123",
                   metrics_token="scrape-token-456")  # fmt: skip
    yield f"http://127.0.0.1:{server.server_address[1]}/coverage"
    server.shutdown()
    server.server_close()


def _app_with_coverage(env, url: str, token: str | None):
    settings = Settings(secret_key=SecretStr(SECRET), store_url="sqlite://",
                        triage={"cookie_secure": False, "coverage_url": url},
                        coverage={"token": token})  # fmt: skip
    app = create_app(settings, env["store"], registry=CollectorRegistry())
    same_accounts(app, env["app"])
    return app


def test_the_coverage_page_applies_the_queues_rules(app_env, coverage_service) -> None:
    app = _app_with_coverage(app_env, coverage_service, "cov-token-123")
    pseudo = app.state.ctx.pseudonym("CORP\\jbloggs<i>")
    analyst, _ = login(app, "analyst")
    data = analyst.get("/api/coverage").json()
    assert data["connected"] and data["day"] == "2026-03-02"
    rows = {r["source"]: r for r in data["sources"]}
    assert rows["pnc"]["silent"] and rows["pnc"]["below_volume"]
    assert rows["athena"]["resolved_ratio"] == pytest.approx(5 / 6)
    assert rows["athena"]["unresolved_accounts"] == [{"pseudonym": pseudo, "events": 1}]
    # S2002 is the analyst's associate and S-ACU-7 an ACU member: not named to them
    assert data["unseen_staff"] == ["S4"] and data["unseen_held_back"] == 2
    assert data["staff_known"] == 4 and data["rostered"] == 4 and data["seen"] == 1
    page = analyst.get("/coverage").text
    assert pseudo in page and "jbloggs" not in page
    assert "<li>S4</li>" in page and "S2002" not in page and "2 more not named" in page
    head, _ = login(app, "head_of_unit")
    assert head.get("/api/coverage").json()["unseen_staff"] == ["S-ACU-7", "S2002", "S4"]
    # the staff count for the 15% check now comes from the HR feed, through the service
    eff = head.get("/api/detectors/effectiveness").json()
    assert eff["staff"] == 4 and eff["staff_source"].startswith("coverage service")
    assert "coverage.viewed" in {e.action for e in app_env["store"].audit_entries()}


def test_the_coverage_page_without_the_service_or_its_token(app_env, coverage_service) -> None:
    client, _ = login(app_env["app"], "analyst")  # no coverage_url
    page = client.get("/coverage")
    assert page.status_code == 200 and "No coverage figures" in page.text
    wrong = _app_with_coverage(app_env, coverage_service, "not-the-token")
    client, _ = login(wrong, "analyst")
    data = client.get("/api/coverage").json()
    assert data["connected"] is False and "401" in data["error"]
    gone = _app_with_coverage(app_env, "http://127.0.0.1:9/coverage", None)
    client, _ = login(gone, "supervisor")
    assert client.get("/api/coverage").json()["connected"] is False
    assert client.get("/detectors/effectiveness").status_code == 200  # staff count: unknown


def test_an_until_beyond_the_calendar_is_refused_not_a_crash(app_env) -> None:
    client = TestClient(app_env["app"])
    headers = bearer(app_env["tokens"][Role.SUPERVISOR])
    for until in ("0001-01-01", "9999-12-31", "not-a-day"):
        r = client.get("/api/detectors/effectiveness", params={"until": until}, headers=headers)
        assert r.status_code == 422, until
    browser, _ = login(app_env["app"], "supervisor")
    assert browser.get("/detectors/effectiveness", params={"until": "0001-01-01"}
                       ).status_code == 422  # fmt: skip
