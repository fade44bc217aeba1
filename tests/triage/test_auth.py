"""Authorisation: every API endpoint and page, for every role, with each denial checked;
sessions, CSRF and tokens."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.triage.helpers import bearer, login
from triage.base import ADMINISTER, ANY_ROLE, AUDIT, DECIDE, READ_ALERTS, SUPERVISE, Role

#: what a service account's token reads: the alerts, pseudonymised; nothing else
SERVICE_READS = READ_ALERTS | {Role.SERVICE}
#: the people (a service account cannot log in: it has no password)
PEOPLE = [r for r in Role if r is not Role.SERVICE]


def _case(env: dict[str, Any]) -> int:
    """One open case (with a task) about the ordinary alert's officer, made once per env."""
    if "case" not in env:
        head = env["users"][Role.HEAD_OF_UNIT]
        env["case"] = env["store"].open_case("S1001", "matrix case", head).id
        env["store"].add_case_task(env["case"], "a task", head)
    return int(env["case"])


def api_endpoints(env: dict[str, Any], role: Role) -> list[tuple[str, str, Any, frozenset[Role]]]:
    a = env["ordinary"].id
    pseudo = env["app"].state.ctx.pseudonym("P-9003")
    reveal = {"subject": pseudo, "reason": "checking the link", "reference": "CASE-1"}
    spare = env["store"].create_user(f"spare-{role.value}", "spare password 1", Role.ANALYST, "S-9")
    case = _case(env)
    return [
        ("GET", "/api/officers/S1001/timeline", None, READ_ALERTS),
        ("GET", "/api/detectors/effectiveness?period=month", None, SUPERVISE),
        ("GET", "/api/detectors/inactive", None, READ_ALERTS),
        ("GET", "/api/coverage", None, READ_ALERTS),
        ("GET", "/api/officers/S1001/network", None, READ_ALERTS),
        ("GET", "/api/cases", None, READ_ALERTS),
        ("GET", "/api/search?q=S1001", None, READ_ALERTS),
        ("POST", "/api/cases", {"officer": "S1001", "title": "a case"}, DECIDE),
        ("GET", f"/api/cases/{case}", None, READ_ALERTS),
        ("POST", f"/api/cases/{case}/alerts", {"alert_id": a}, DECIDE),
        ("POST", f"/api/cases/{case}/tasks", {"text": "a task"}, DECIDE),
        ("POST", f"/api/cases/{case}/tasks/1/done", None, DECIDE),
        ("POST", f"/api/cases/{case}/notes", {"text": "a note"}, DECIDE),
        ("POST", f"/api/cases/{case}/close",
         {"outcome": "no_further_action", "rationale": "ok"}, DECIDE),
        ("GET", "/api/alerts", None, SERVICE_READS),
        ("GET", f"/api/alerts/{a}", None, SERVICE_READS),
        ("POST", f"/api/alerts/{a}/reveal", reveal, READ_ALERTS),
        ("POST", f"/api/alerts/{a}/assign", {"assignee": role.value}, DECIDE),
        ("POST", f"/api/alerts/{a}/review", None, DECIDE),
        ("POST", f"/api/alerts/{a}/notes", {"text": "a note"}, DECIDE),
        ("POST", f"/api/alerts/{a}/close", {"outcome": "no_further_action", "rationale": "ok"},
         DECIDE),
        ("POST", f"/api/alerts/{a}/reopen", {"reason": "more to do"}, SUPERVISE),
        ("POST", "/api/alerts/bulk-close",
         {"alert_ids": [a], "duplicate_of": env["acu"].id, "rationale": "same"}, DECIDE),
        ("GET", "/api/suppressions", None, READ_ALERTS),
        ("DELETE", "/api/suppressions/1", None, SUPERVISE),
        ("GET", "/api/reveal-requests", None, SUPERVISE),
        ("POST", "/api/reveal-requests/1/approve", None, SUPERVISE),
        ("POST", "/api/reveal-requests/1/decline",
         {"reason": "no case reference supports this reveal"}, SUPERVISE),
        ("GET", "/api/audit", None, AUDIT),
        ("GET", "/api/audit/verify", None, AUDIT),
        ("GET", "/api/users", None, ADMINISTER),
        ("POST", "/api/users", {"username": f"new-{role.value}", "password": "new password 77",
                                "role": "analyst", "staff_id": "S-77"}, ADMINISTER),
        ("POST", f"/api/users/{spare.id}/tokens", {"name": "t"}, ADMINISTER),
        ("POST", f"/api/users/{spare.id}/password", {"password": "temporary pass 9"}, ADMINISTER),
        ("POST", f"/api/users/{spare.id}/disable", None, ADMINISTER),
        ("POST", f"/api/users/{spare.id}/mfa-reset", None, ADMINISTER),
        ("POST", f"/api/users/{spare.id}/mfa-reset/approve", None, ADMINISTER),
        ("POST", "/api/account/password",
         {"current_password": "not the current one", "new_password": "another good one 1"},
         ANY_ROLE),
        ("GET", "/metrics", None, ANY_ROLE),
        ("GET", "/openapi.json", None, ANY_ROLE),
    ]  # fmt: skip


@pytest.mark.parametrize("role", list(Role))
def test_api_admits_exactly_the_roles_allowed(app_env, role):
    client = TestClient(app_env["app"])
    headers = bearer(app_env["tokens"][role])
    for method, path, body, allowed in api_endpoints(app_env, role):
        r = client.request(method, path, json=body, headers=headers)
        if role in allowed:
            assert r.status_code not in (401, 403, 500), (role, method, path, r.text)
        else:
            assert r.status_code == 403, (role, method, path, r.status_code, r.text)


def test_api_without_credentials_is_401_everywhere(app_env):
    client = TestClient(app_env["app"])
    for method, path, body, _ in api_endpoints(app_env, Role.ANALYST):
        r = client.request(method, path, json=body)
        assert r.status_code == 401, (method, path)
        assert r.headers["www-authenticate"] == "Bearer"
    r = client.get("/api/alerts", headers=bearer("prb_not-a-real-token"))
    assert r.status_code == 401


def page_endpoints(env: dict[str, Any], role: Role) -> list[tuple[str, str, dict, frozenset[Role]]]:
    a = env["ordinary"].id
    pseudo = env["app"].state.ctx.pseudonym("P-9003")
    reveal = {"subject": pseudo, "reason": "checking the link", "reference": "CASE-1"}
    spare = env["store"].create_user(f"page-spare-{role.value}", "spare password 1", Role.ANALYST,
                                     "S-9")  # fmt: skip
    case = _case(env)
    return [
        ("GET", "/officers/S1001", {}, READ_ALERTS),
        ("GET", "/detectors/effectiveness?period=month", {}, SUPERVISE),
        ("GET", "/detectors/inactive", {}, READ_ALERTS),
        ("GET", "/coverage", {}, READ_ALERTS),
        ("GET", "/officers/S1001/network.zip", {}, READ_ALERTS),
        ("GET", "/cases", {}, READ_ALERTS),
        ("GET", "/search?q=S1001", {}, READ_ALERTS),
        ("GET", f"/alerts/{a}/chain.csv", {}, READ_ALERTS),
        ("POST", "/cases", {"officer": "S1001", "title": "a case"}, DECIDE),
        ("GET", f"/cases/{case}", {}, READ_ALERTS),
        ("GET", f"/cases/{case}/pack", {}, READ_ALERTS),
        ("GET", f"/cases/{case}/pack.pdf", {}, READ_ALERTS),
        ("POST", f"/cases/{case}/alerts", {"alert_id": a}, DECIDE),
        ("POST", f"/cases/{case}/tasks", {"text": "a task"}, DECIDE),
        ("POST", f"/cases/{case}/tasks/1/done", {}, DECIDE),
        ("POST", f"/cases/{case}/notes", {"text": "a note"}, DECIDE),
        ("POST", f"/cases/{case}/close", {"outcome": "no_further_action", "rationale": "ok"},
         DECIDE),
        ("GET", "/", {}, ANY_ROLE),
        ("GET", "/account/password", {}, ANY_ROLE),
        ("POST", "/account/password", {"current_password": "not the current one",
                                       "new_password": "another good one 1",
                                       "confirm_password": "another good one 1"}, ANY_ROLE),
        ("GET", "/queue", {}, READ_ALERTS),
        ("GET", f"/alerts/{a}", {}, READ_ALERTS),
        ("GET", "/suppressions", {}, READ_ALERTS),
        ("GET", "/audit", {}, AUDIT),
        ("GET", "/admin/users", {}, ADMINISTER),
        ("POST", f"/alerts/{a}/reveal", reveal, READ_ALERTS),
        ("POST", f"/alerts/{a}/assign", {"assignee": role.value}, DECIDE),
        ("POST", f"/alerts/{a}/review", {}, DECIDE),
        ("POST", f"/alerts/{a}/notes", {"text": "a note"}, DECIDE),
        ("POST", f"/alerts/{a}/close", {"outcome": "no_further_action", "rationale": "ok"},
         DECIDE),
        ("POST", f"/alerts/{a}/reopen", {"reason": "more"}, SUPERVISE),
        ("POST", "/queue/bulk-close",
         {"alert_ids": a, "duplicate_of": env["acu"].id, "rationale": "same"}, DECIDE),
        ("POST", "/suppressions/1/remove", {}, SUPERVISE),
        ("GET", "/reveal-requests", {}, READ_ALERTS),
        ("POST", "/reveal-requests/1/approve", {}, SUPERVISE),
        ("POST", "/reveal-requests/1/decline",
         {"reason": "no case reference supports this reveal"}, SUPERVISE),
        ("POST", "/admin/users", {"username": f"p-{role.value}", "password": "new password 78",
                                  "role": "analyst", "staff_id": "S-78"}, ADMINISTER),
        ("POST", f"/admin/users/{spare.id}/tokens", {"name": "t"}, ADMINISTER),
        ("POST", f"/admin/users/{spare.id}/password", {"password": "temporary pass 9"},
         ADMINISTER),
        ("POST", f"/admin/users/{spare.id}/disable", {}, ADMINISTER),
        ("POST", f"/admin/users/{spare.id}/mfa-reset", {}, ADMINISTER),
        ("POST", f"/admin/users/{spare.id}/mfa-reset/approve", {}, ADMINISTER),
        ("GET", "/account/mfa", {}, ANY_ROLE),
        ("POST", "/account/mfa/enrol", {}, ANY_ROLE),
        ("POST", "/account/mfa/confirm", {"code": "000000"}, ANY_ROLE),
        ("GET", "/account/mfa/verify?next=/queue", {}, ANY_ROLE),
        ("POST", "/account/mfa/verify", {"code": "000000", "next_url": "/queue"}, ANY_ROLE),
    ]  # fmt: skip


@pytest.mark.parametrize("role", PEOPLE)
def test_pages_admit_exactly_the_roles_allowed(app_env, role):
    client, csrf = login(app_env["app"], role.value)
    for method, path, form, allowed in page_endpoints(app_env, role):
        data = {**form, "csrf_token": csrf} if method == "POST" else None
        r = client.request(method, path, data=data)
        if role in allowed:
            assert r.status_code not in (401, 403, 500), (role, method, path, r.text[:300])
        else:
            assert r.status_code == 403, (role, method, path, r.status_code)


def test_pages_without_a_session_redirect_to_login(app_env):
    client = TestClient(app_env["app"], follow_redirects=False)
    for method, path, form, _ in page_endpoints(app_env, Role.ANALYST):
        r = client.request(method, path, data=form or None)
        assert (r.status_code, r.headers.get("location")) == (303, "/login"), (method, path)


def test_cookie_posts_need_the_sessions_csrf_token(app_env):
    client, csrf = login(app_env["app"], "supervisor")
    a = app_env["ordinary"].id
    assert client.post(f"/alerts/{a}/notes", data={"text": "x"}).status_code == 403
    assert client.post(f"/alerts/{a}/notes", data={"text": "x", "csrf_token": "forged"}
                       ).status_code == 403  # fmt: skip
    assert client.post(f"/api/alerts/{a}/notes", json={"text": "x"}).status_code == 403
    assert client.post(f"/api/alerts/{a}/notes", json={"text": "x"},
                       headers={"X-CSRF-Token": csrf}).status_code == 200  # fmt: skip
    assert client.post(f"/alerts/{a}/notes", data={"text": "y", "csrf_token": csrf}
                       ).status_code == 303  # fmt: skip


def test_session_cookie_flags_and_login_failures(app_env):
    client = TestClient(app_env["app"], follow_redirects=False)
    page = client.get("/login")
    from tests.triage.helpers import CSRF

    token = CSRF.search(page.text).group(1)
    bad = client.post("/login", data={"username": "analyst", "password": "wrong password!",
                                      "csrf_token": token})  # fmt: skip
    assert bad.status_code == 401 and "Wrong username or password" in bad.text
    no_csrf = TestClient(app_env["app"]).post(
        "/login", data={"username": "analyst", "password": "correct horse battery staple"}
    )
    assert no_csrf.status_code == 403
    token = CSRF.search(bad.text).group(1)
    ok = client.post("/login", data={"username": "analyst",
                                     "password": "correct horse battery staple",
                                     "csrf_token": token})  # fmt: skip
    cookie = next(v for k, v in ok.headers.multi_items()
                  if k == "set-cookie" and v.startswith("probity_session="))  # fmt: skip
    assert "HttpOnly" in cookie and "samesite=strict" in cookie.lower()
    assert "Secure" not in cookie  # configurable; off by default for the embedded HTTP demo
    actions = [e.action for e in app_env["store"].audit_entries()]
    assert "login_failed" in actions and "login" in actions


def test_a_tampered_or_foreign_session_cookie_is_refused(app_env):
    client = TestClient(app_env["app"], follow_redirects=False)
    client.cookies.set("probity_session", "eyJ1IjoxfQ.forged.sig")
    assert client.get("/queue").headers["location"] == "/login"
    assert client.get("/api/alerts").status_code == 401


def test_a_disabled_users_session_stops_working(app_env):
    client, _ = login(app_env["app"], "analyst")
    assert client.get("/queue").status_code == 200
    store = app_env["store"]
    store.set_active(app_env["users"][Role.ANALYST].id, False, app_env["users"][Role.ADMIN])
    assert client.get("/queue").status_code == 303


def test_health_is_open_and_says_nothing(app_env):
    client = TestClient(app_env["app"])
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ok"}


def test_openapi_needs_a_login_or_full_token_and_there_is_no_swagger_ui(app_env):
    client = TestClient(app_env["app"])
    anonymous = client.get("/openapi.json")
    assert anonymous.status_code == 401 and "paths" not in anonymous.text
    for role in PEOPLE:
        r = client.get("/openapi.json", headers=bearer(app_env["tokens"][role]))
        assert r.status_code == 200 and "/api/alerts" in r.json()["paths"], role
    # a service token reads alerts, not the API's description
    assert client.get("/openapi.json", headers=bearer(app_env["tokens"][Role.SERVICE])
                      ).status_code == 403  # fmt: skip
    browser, _ = login(app_env["app"], "auditor")
    assert browser.get("/openapi.json").status_code == 200
    for path in ("/docs", "/redoc", "/docs/oauth2-redirect"):
        assert client.get(path).status_code == 404, path


#: what answers without credentials: the probes, the login form, logout (it checks the
#: session itself when there is one) and the stylesheet; the login's second step (it needs
#: the signed cookie of a right password) and the identity provider's round trip (it
#: needs the signed state cookie)
OPEN = {("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/login"), ("POST", "/login"),
        ("POST", "/logout"), ("GET", "/login/totp"), ("POST", "/login/totp"),
        ("GET", "/login/oidc"), ("GET", "/login/oidc/callback")}  # fmt: skip


def test_every_other_route_depends_on_a_role_check(app_env):
    """The rule "no endpoint without authentication and a role check", checked on the app
    itself: a route added without a ``require`` dependency fails here."""
    from fastapi.routing import APIRoute
    from starlette.routing import Mount

    from triage import api, investigate, oversight, pages, signin

    routers = (api.router, pages.router, investigate.api, investigate.pages, oversight.api,
               oversight.pages, signin.api, signin.pages)  # fmt: skip
    routes = [route for router in routers for route in router.routes]
    for route in app_env["app"].routes:
        if isinstance(route, Mount):
            assert route.path == "/static"
        elif isinstance(route, APIRoute):
            routes.append(route)
        else:  # FastAPI >= 0.16x keeps an included router as one entry
            assert getattr(route, "original_router", None) in routers, route
    seen = set()
    for route in routes:
        assert isinstance(route, APIRoute), route
        checks = [d.call.__name__ for d in route.dependant.dependencies
                  if d.call is not None and d.call.__name__.startswith("require_")]  # fmt: skip
        for method in route.methods:
            seen.add((method, route.path))
            if (method, route.path) not in OPEN:
                assert len(checks) == 1, (method, route.path, checks)
    assert seen >= OPEN and len(seen) > 40


def test_the_audit_pages_offset_cannot_crash_it(app_env):
    client, _ = login(app_env["app"], "auditor")
    for after in ("²", "99999999999999999999999", "-1", "x"):
        assert client.get("/audit", params={"after": after}).status_code == 200, after
