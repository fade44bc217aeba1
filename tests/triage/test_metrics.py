"""The queue's ``/metrics``: HTTP requests by method, route template and status (never a
raw path; unknown paths under one label), login and second-factor failures and throttling,
reveals, and the oldest-unassigned gauges (integrity alerts apart from operational ones)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from tests.triage.helpers import CSRF, PASSWORD, bearer, login
from triage.base import Role, TokenScope
from triage.metrics import UNMATCHED, QueueMetrics

HTTP = "probity_queue_http_requests_total"


def _scrape(env: dict[str, Any]) -> list[dict[str, str]]:
    """``/metrics`` read as Prometheus would, with a metrics-scope token; the labels of
    every HTTP request sample."""
    store = env["store"]
    token = store.create_token(env["users"][Role.AUDITOR].id, "prometheus",
                               env["users"][Role.ADMIN], TokenScope.METRICS)  # fmt: skip
    r = TestClient(env["app"]).get("/metrics", headers=bearer(token))
    assert r.status_code == 200
    return [
        s.labels
        for family in text_string_to_metric_families(r.text)
        for s in family.samples
        if s.name == HTTP
    ]


def _count(env: dict[str, Any], method: str, route: str, status: int) -> float | None:
    labels = {"method": method, "route": route, "status": str(status)}
    value: float | None = env["registry"].get_sample_value(HTTP, labels)
    return value


def _templates(routes: Any) -> set[str]:
    """Every route path of the app, through its included routers."""
    out: set[str] = set()
    for r in routes:
        included = getattr(r, "original_router", None)
        if included is not None:
            out |= _templates(included.routes)
        elif isinstance(getattr(r, "path", None), str):
            out.add(r.path)
    return out


def test_requests_are_counted_by_route_template_and_status(app_env):
    app, alert = app_env["app"], app_env["ordinary"]
    client, csrf = login(app, "analyst")  # GET /login, POST /login (303), GET / ... /queue
    for _ in range(3):
        assert client.get(f"/alerts/{alert.id}").status_code == 200
    assert client.get("/alerts/no-such-alert").status_code == 404
    api = TestClient(app)
    token = bearer(app_env["tokens"][Role.ANALYST])
    assert api.get(f"/api/alerts/{alert.id}", headers=token).status_code == 200
    assert api.get("/api/alerts").status_code == 401
    for path in ("/wp-admin/setup.php", f"/nothing/{alert.id}", "/alerts/x/y/z"):
        assert api.get(path).status_code == 404
    assert api.post("/healthz").status_code == 405  # the path's route, not its method
    assert api.request("BREW", "/healthz").status_code == 405
    assert api.get("/static/style.css").status_code == 200
    labels = _scrape(app_env)
    assert _count(app_env, "GET", "/alerts/{alert_id}", 200) == 3
    assert _count(app_env, "GET", "/alerts/{alert_id}", 404) == 1
    assert _count(app_env, "GET", "/api/alerts/{alert_id}", 200) == 1
    assert _count(app_env, "GET", "/api/alerts", 401) == 1
    assert _count(app_env, "POST", "/login", 303) == 1
    assert _count(app_env, "GET", UNMATCHED, 404) == 3
    assert _count(app_env, "POST", "/healthz", 405) == 1
    assert _count(app_env, "other", "/healthz", 405) == 1
    assert _count(app_env, "GET", "/static", 200) == 1
    # bounded: every route label is a template of the app's or "unmatched"; no raw id
    templates = _templates(app.routes) | {UNMATCHED}
    assert {lab["route"] for lab in labels} <= templates
    assert not any(alert.id in lab["route"] or "no-such" in lab["route"] for lab in labels)
    assert {lab["method"] for lab in labels} <= {"GET", "POST", "other"}
    assert csrf  # the session was made through the counted routes


def test_a_refused_body_and_a_crash_are_counted(app_env):
    app = app_env["app"]

    @app.get("/boom-for-the-test")
    def boom() -> None:
        raise RuntimeError("an unexpected failure")

    api = TestClient(app, raise_server_exceptions=False)
    big = api.post("/login", content=b"x" * 10, headers={"content-length": str(10**9)})
    assert big.status_code == 413  # refused by the guard before routing
    assert api.get("/boom-for-the-test").status_code == 500
    _scrape(app_env)
    assert _count(app_env, "POST", "/login", 413) == 1
    assert _count(app_env, "GET", "/boom-for-the-test", 500) == 1


def test_login_failures_throttling_second_factor_and_reveals_are_counted(app_env):
    app, reg = app_env["app"], app_env["registry"]
    _scrape(app_env)  # every outcome is there from the start, at 0
    for name, labels in [
        ("probity_queue_logins_total", {"outcome": "throttled"}),
        ("probity_queue_reveals_total", {"outcome": "awaiting_approval"}),
        ("probity_queue_second_factor_codes_total", {"purpose": "step_up", "outcome": "failed"}),
    ]:  # fmt: skip
        assert reg.get_sample_value(name, labels) == 0
    # a wrong password is a failed login; a reveal of an unknown person is refused
    api = TestClient(app, follow_redirects=False)
    token = CSRF.search(api.get("/login").text).group(1)  # type: ignore[union-attr]
    r = api.post("/login", data={"username": "analyst", "password": "not the password at all",
                                 "csrf_token": token})  # fmt: skip
    assert r.status_code == 401
    assert reg.get_sample_value("probity_queue_logins_total", {"outcome": "failed"}) == 1
    r = api.post(f"/api/alerts/{app_env['ordinary'].id}/reveal",
                 json={"subject": "anon-0000000000000000", "reason": "checking a hunch here",
                       "reference": "OP-1"},
                 headers=bearer(app_env["tokens"][Role.ANALYST]))  # fmt: skip
    assert r.status_code == 404
    assert reg.get_sample_value("probity_queue_reveals_total", {"outcome": "refused"}) == 1
    # second-factor codes: a login's, then wrong step-up codes until they are throttled
    head, csrf = login(app, "head_of_unit")
    assert reg.get_sample_value("probity_queue_second_factor_codes_total",
                                {"purpose": "login", "outcome": "ok"}) == 1  # fmt: skip
    statuses = [
        head.post("/account/mfa/verify", data={"code": "000000", "csrf_token": csrf}).status_code
        for _ in range(7)
    ]
    assert statuses[0] == 400 and statuses[-1] == 429
    codes = {o: reg.get_sample_value("probity_queue_second_factor_codes_total",
                                     {"purpose": "step_up", "outcome": o})
             for o in ("failed", "throttled")}  # fmt: skip
    assert codes == {"failed": statuses.count(400), "throttled": statuses.count(429)}
    _scrape(app_env)
    assert _count(app_env, "POST", "/account/mfa/verify", 429) == statuses.count(429)
    # and the login form itself, from the same (now backing-off) address
    token = CSRF.search(api.get("/login").text).group(1)  # type: ignore[union-attr]
    r = api.post("/login", data={"username": "analyst", "password": "not the password at all",
                                 "csrf_token": token})  # fmt: skip
    assert r.status_code == 429
    assert reg.get_sample_value("probity_queue_logins_total", {"outcome": "throttled"}) == 1
    assert _count(app_env, "POST", "/login", 429) == 1


def test_a_login_with_a_second_factor_counts_once(app_env):
    """The right password then a wrong code is one failed login, not an ok and a failed."""
    app, reg = app_env["app"], app_env["registry"]
    login(app, "head_of_unit")  # enrolled: password, then code
    logins = {o: reg.get_sample_value("probity_queue_logins_total", {"outcome": o})
              for o in ("ok", "failed")}  # fmt: skip
    assert logins == {"ok": 1, "failed": 0}
    client = TestClient(app, follow_redirects=False)
    token = CSRF.search(client.get("/login").text).group(1)  # type: ignore[union-attr]
    r = client.post("/login", data={"username": "head_of_unit", "password": PASSWORD,
                                    "csrf_token": token})  # fmt: skip
    assert (r.status_code, r.headers["location"]) == (303, "/login/totp")
    token = CSRF.search(client.get("/login/totp").text).group(1)  # type: ignore[union-attr]
    r = client.post("/login/totp", data={"code": "000000", "csrf_token": token})
    assert r.status_code == 401
    logins = {o: reg.get_sample_value("probity_queue_logins_total", {"outcome": o})
              for o in ("ok", "failed")}  # fmt: skip
    assert logins == {"ok": 1, "failed": 1}


# ------------------------------------------------------------------ oldest unassigned
def test_operational_alerts_are_kept_out_of_the_integrity_figures(
    sqlite_store, alert_factory
) -> None:
    store = sqlite_store
    t0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    now = [t0]
    store.clock = lambda: now[0]
    registry = CollectorRegistry()
    metrics = QueueMetrics(registry, store, clock=lambda: now[0], audit_verify_interval_s=1e9)
    store.upsert_alert(alert_factory(detector="engine.coverage", officer="force",
                                     category="vetting", severity="medium", subjects=[],
                                     facts={"feed": "vetting", "operational": True},
                                     evidence=["op-1"]))  # fmt: skip
    now[0] = t0 + timedelta(hours=2)
    metrics.refresh()
    oldest = "probity_queue_oldest_unassigned_age_seconds"
    operational = "probity_queue_oldest_unassigned_operational_age_seconds"
    assert registry.get_sample_value(oldest) == 0  # no integrity alert waits
    assert registry.get_sample_value(operational) == 2 * 3600
    assert registry.get_sample_value("probity_queue_alerts", {"status": "new"}) == 0
    store.upsert_alert(alert_factory())  # an integrity alert, received now
    now[0] = t0 + timedelta(hours=3)
    metrics.refresh()
    assert registry.get_sample_value(oldest) == 3600
    assert registry.get_sample_value(operational) == 3 * 3600
    assert registry.get_sample_value("probity_queue_alerts", {"status": "new"}) == 1
    assert store.oldest_unassigned() == t0 + timedelta(hours=2)
    assert store.oldest_unassigned(operational=True) == t0
