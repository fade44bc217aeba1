"""Sessions end server-side (logout, disabling, password change or reset), a user changes
their own password, an admin's reset forces a change, metrics-only tokens, and the password
policy. Through the service on SQLite; the store's side on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from itsdangerous import URLSafeTimedSerializer

from tests.triage.helpers import CSRF, PASSWORD, bearer, login
from triage.base import Role, TokenScope
from triage.exceptions import AuthError, NotFound
from triage.security import derive_key, password_problem
from triage.store import Store

NEW_PASSWORD = "a brand new passphrase 42"


def _cookie(client: TestClient) -> str:
    value = client.cookies.get("probity_session")
    assert value
    return value


def _replay(app: Any, cookie: str) -> TestClient:
    """A fresh client (an attacker) presenting a copied session cookie."""
    thief = TestClient(app, follow_redirects=False)
    thief.cookies.set("probity_session", cookie)
    return thief


def _change(client: TestClient, csrf: str, current: str, new: str, confirm: str | None = None):
    return client.post("/account/password", data={
        "current_password": current, "new_password": new,
        "confirm_password": new if confirm is None else confirm, "csrf_token": csrf})  # fmt: skip


def _audit_text(store: Store) -> str:
    return orjson.dumps([e.model_dump(mode="json") for e in store.audit_entries()]).decode()


# ------------------------------------------------------------------ revocation
def test_a_copied_cookie_is_refused_after_logout(app_env):
    app = app_env["app"]
    client, csrf = login(app, "analyst")
    stolen = _cookie(client)
    assert _replay(app, stolen).get("/queue").status_code == 200
    out = client.post("/logout", data={"csrf_token": csrf})
    assert (out.status_code, out.headers["location"]) == (303, "/login")
    thief = _replay(app, stolen)
    r = thief.get("/queue")
    assert (r.status_code, r.headers["location"]) == (303, "/login")
    assert thief.get("/api/alerts").status_code == 401
    assert thief.post("/api/alerts/x/notes", json={"text": "x"},
                      headers={"X-CSRF-Token": csrf}).status_code == 401  # fmt: skip
    assert app_env["store"].audit_entries()[-1].action == "logout"


def test_logout_ends_only_that_session(app_env):
    app = app_env["app"]
    first, csrf = login(app, "analyst")
    second, _ = login(app, "analyst")
    first.post("/logout", data={"csrf_token": csrf})
    assert second.get("/queue").status_code == 200
    assert app_env["store"].live_sessions(app_env["users"][Role.ANALYST].id) == 1


def test_logging_in_again_ends_the_session_the_browser_held(app_env):
    app, store = app_env["app"], app_env["store"]
    client, _ = login(app, "analyst")
    first = _cookie(client)
    page = client.get("/login")
    token = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
    r = client.post("/login", data={"username": "supervisor", "password": PASSWORD,
                                    "csrf_token": token})  # fmt: skip
    assert r.status_code == 303 and _cookie(client) != first
    assert _replay(app, first).get("/queue").headers["location"] == "/login"
    assert store.live_sessions(app_env["users"][Role.ANALYST].id) == 0
    assert client.get("/queue").status_code == 200  # as the supervisor now


def test_a_cross_site_logout_without_the_csrf_token_changes_nothing(app_env):
    client, _ = login(app_env["app"], "analyst")
    assert client.post("/logout").status_code == 403
    assert client.get("/queue").status_code == 200


def test_disabling_an_account_kills_its_live_sessions(app_env):
    app, store = app_env["app"], app_env["store"]
    analyst = app_env["users"][Role.ANALYST]
    a, _ = login(app, "analyst")
    b, _ = login(app, "analyst")
    stolen = _cookie(a)
    admin, admin_csrf = login(app, "admin")
    assert store.live_sessions(analyst.id) == 2
    r = admin.post(f"/admin/users/{analyst.id}/disable", data={"csrf_token": admin_csrf})
    assert r.status_code == 303
    for client in (a, b, _replay(app, stolen)):
        assert client.get("/queue").headers["location"] == "/login"
    assert store.live_sessions(analyst.id) == 0
    entry = store.audit_entries()[-1]
    assert entry.action == "user.updated" and entry.detail["sessions_revoked"] == 2
    assert admin.get("/admin/users").status_code == 200  # the admin's own session lives on


def test_a_cookie_from_before_revocable_sessions_is_refused(app_env):
    """Cookies signed with the right key but without a session id (the old format)."""
    from tests.triage.conftest import SECRET

    old = URLSafeTimedSerializer(derive_key(SECRET.encode(), "session"),
                                 salt="probity-triage-session")  # fmt: skip
    cookie = old.dumps({"u": app_env["users"][Role.ANALYST].id, "c": "csrf"})
    r = _replay(app_env["app"], cookie).get("/queue")
    assert (r.status_code, r.headers["location"]) == (303, "/login")


def test_a_forged_session_id_with_a_good_signature_is_refused(app_env):
    """Even with the key, a session id the store never issued gets nowhere."""
    ctx = app_env["app"].state.ctx
    cookie, _ = ctx.sessions.issue(app_env["users"][Role.ANALYST].id)  # never opened
    assert _replay(app_env["app"], cookie).get("/api/alerts").status_code == 401


# ------------------------------------------------------------------ own password
def test_changing_ones_password_keeps_this_session_and_ends_the_others(app_env):
    app, store = app_env["app"], app_env["store"]
    here, csrf = login(app, "supervisor")
    elsewhere, _ = login(app, "supervisor")
    form = here.get("/account/password")
    assert form.status_code == 200 and 'name="current_password"' in form.text
    r = _change(here, csrf, PASSWORD, NEW_PASSWORD)
    assert (r.status_code, r.headers["location"]) == (303, "/account/password?changed=1")
    assert "Password changed" in here.get(r.headers["location"]).text
    assert here.get("/queue").status_code == 200
    assert elsewhere.get("/queue").headers["location"] == "/login"
    assert store.authenticate("supervisor", PASSWORD) is None
    assert store.authenticate("supervisor", NEW_PASSWORD) is not None
    changed = [e for e in store.audit_entries() if e.action == "password.changed"]
    assert len(changed) == 1 and changed[0].detail == {"sessions_revoked": 1}
    text = _audit_text(store)
    assert PASSWORD not in text and NEW_PASSWORD not in text


def test_the_change_needs_the_current_password_and_the_csrf_token(app_env):
    app, store = app_env["app"], app_env["store"]
    client, csrf = login(app, "analyst")
    other, _ = login(app, "analyst")
    wrong = _change(client, csrf, "not my password at all", NEW_PASSWORD)
    assert wrong.status_code == 400 and "current password is not right" in wrong.text
    assert store.audit_entries()[-1].action == "password.change_failed"
    assert other.get("/queue").status_code == 200  # nothing revoked
    forged = _change(client, "forged", PASSWORD, NEW_PASSWORD)
    assert forged.status_code == 403
    no_token = client.post("/account/password", data={
        "current_password": PASSWORD, "new_password": NEW_PASSWORD,
        "confirm_password": NEW_PASSWORD})  # fmt: skip
    assert no_token.status_code == 403
    assert store.authenticate("analyst", PASSWORD) is not None


@pytest.mark.parametrize(
    ("new", "confirm", "message"),
    [
        ("short one", None, "at least 12 characters"),
        ("aaaaaaaaaaaaaaaa", None, "different characters"),
        ("Password1234", None, "too common"),
        ("my analyst passphrase", None, "username"),
        (PASSWORD, None, "must differ"),
        (NEW_PASSWORD, NEW_PASSWORD + "!", "differ"),
    ],
)
def test_the_change_follows_the_password_policy(app_env, new, confirm, message):
    client, csrf = login(app_env["app"], "analyst")
    r = _change(client, csrf, PASSWORD, new, confirm)
    if message == "at least 12 characters":
        assert r.status_code == 422  # the form's own length check
    else:
        assert r.status_code == 400 and message in r.text, r.text
    assert app_env["store"].authenticate("analyst", PASSWORD) is not None


def test_wrong_current_passwords_count_towards_the_lock_out(app_env):
    from dataclasses import replace

    store = app_env["store"]
    store.policy = replace(store.policy, login_max_failures=3)
    client, csrf = login(app_env["app"], "analyst")
    for _ in range(3):
        assert _change(client, csrf, "guessing again!!", NEW_PASSWORD).status_code == 400
    locked = _change(client, csrf, PASSWORD, NEW_PASSWORD)
    assert locked.status_code == 400 and "try again later" in locked.text
    assert store.audit_entries()[-1].action == "password.change_locked"
    # the login form is not locked (a stranger could lock anyone): it is throttled per
    # client address instead (tests/triage/test_login_limits.py)
    assert store.authenticate("analyst", PASSWORD) is not None


def test_the_api_change_works_with_a_session_or_a_token(app_env):
    app, store = app_env["app"], app_env["store"]
    client, csrf = login(app, "head_of_unit")
    other, _ = login(app, "head_of_unit")
    body = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    assert client.post("/api/account/password", json=body).status_code == 403  # no CSRF
    r = client.post("/api/account/password", json=body, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200 and r.json() == {"sessions_revoked": 1}
    assert client.get("/api/alerts").status_code == 200
    assert other.get("/api/alerts").status_code == 401
    token = app_env["tokens"][Role.HEAD_OF_UNIT]
    back = {"current_password": NEW_PASSWORD, "new_password": "and back again 123"}
    r = TestClient(app).post("/api/account/password", json=back, headers=bearer(token))
    assert r.status_code == 200 and r.json() == {"sessions_revoked": 1}  # a token keeps none
    assert client.get("/api/alerts").status_code == 401
    assert TestClient(app).get("/api/alerts", headers=bearer(token)).status_code == 200
    bad = {"current_password": "and back again 123", "new_password": "x" * 13}
    r = TestClient(app).post("/api/account/password", json=bad, headers=bearer(token))
    assert r.status_code == 400 and "different characters" in r.json()["detail"]
    assert store.authenticate("head_of_unit", "and back again 123") is not None


# ------------------------------------------------------------------ admin reset
def test_an_admin_reset_ends_sessions_and_forces_a_change(app_env):
    app, store = app_env["app"], app_env["store"]
    analyst = app_env["users"][Role.ANALYST]
    victim, _ = login(app, "analyst")
    admin, admin_csrf = login(app, "admin")
    temp = "temporary pass 2026"
    r = admin.post(f"/admin/users/{analyst.id}/password",
                   data={"password": temp, "csrf_token": admin_csrf})  # fmt: skip
    assert r.status_code == 200 and "must change it at their next login" in r.text
    assert victim.get("/queue").headers["location"] == "/login"
    entry = store.audit_entries()[-1]
    assert entry.action == "user.password_reset" and entry.username == "admin"
    assert entry.detail == {"user": "analyst", "sessions_revoked": 1, "tokens_revoked": 1}
    assert temp not in _audit_text(store)

    client = TestClient(app, follow_redirects=False)
    token = CSRF.search(client.get("/login").text).group(1)  # type: ignore[union-attr]
    r = client.post("/login", data={"username": "analyst", "password": temp,
                                    "csrf_token": token})  # fmt: skip
    assert r.headers["location"] == "/account/password"
    for path in ("/", "/queue", f"/alerts/{app_env['ordinary'].id}", "/suppressions"):
        assert client.get(path).headers["location"] == "/account/password", path
    api = client.get("/api/alerts")
    assert api.status_code == 403 and api.json() == {"detail": "password change required"}
    page = client.get("/account/password")
    assert "set by an administrator" in page.text
    csrf = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
    # the reset revoked the account's API tokens too (the account may be in other hands)
    tok = TestClient(app).get("/api/alerts", headers=bearer(app_env["tokens"][Role.ANALYST]))
    assert tok.status_code == 401
    assert _change(client, csrf, temp, NEW_PASSWORD).status_code == 303
    assert client.get("/queue").status_code == 200
    assert store.authenticate("analyst", NEW_PASSWORD).must_change_password is False


def test_an_admin_cannot_reset_their_own_password_or_set_a_weak_one(app_env):
    admin = app_env["users"][Role.ADMIN]
    client = TestClient(app_env["app"])
    headers = bearer(app_env["tokens"][Role.ADMIN])
    own = client.post(f"/api/users/{admin.id}/password", json={"password": "temporary pass 1"},
                      headers=headers)  # fmt: skip
    assert own.status_code == 409
    weak = client.post(f"/api/users/{app_env['users'][Role.ANALYST].id}/password",
                       json={"password": "analyst analyst"}, headers=headers)  # fmt: skip
    assert weak.status_code == 400 and "username" in weak.json()["detail"]
    assert client.post("/api/users/999999/password", json={"password": "temporary pass 1"},
                       headers=headers).status_code == 404  # fmt: skip


def test_an_account_an_admin_creates_must_change_its_password_first(app_env):
    client = TestClient(app_env["app"])
    made = client.post("/api/users", headers=bearer(app_env["tokens"][Role.ADMIN]), json={
        "username": "newbie", "password": "first pass from admin", "role": "analyst",
        "staff_id": "S-NEW"})  # fmt: skip
    assert made.status_code == 201 and made.json()["must_change_password"] is True
    browser = TestClient(app_env["app"], follow_redirects=False)
    token = CSRF.search(browser.get("/login").text).group(1)  # type: ignore[union-attr]
    r = browser.post("/login", data={"username": "newbie", "password": "first pass from admin",
                                     "csrf_token": token})  # fmt: skip
    assert r.headers["location"] == "/account/password"
    weak = client.post("/api/users", headers=bearer(app_env["tokens"][Role.ADMIN]), json={
        "username": "weakling", "password": "qwerty123456", "role": "analyst",
        "staff_id": "S-NEW"})  # fmt: skip
    assert weak.status_code == 400 and "too common" in weak.json()["detail"]


# ------------------------------------------------------------------ metrics tokens
def test_a_metrics_token_reads_metrics_and_nothing_else(app_env):
    app, store = app_env["app"], app_env["store"]
    client = TestClient(app, follow_redirects=False)
    admin = bearer(app_env["tokens"][Role.ADMIN])
    prom = client.post("/api/users", headers=admin, json={
        "username": "prometheus", "password": "nobody keeps this one", "role": "auditor",
        "staff_id": "SVC-PROM"}).json()  # fmt: skip
    r = client.post(f"/api/users/{prom['id']}/tokens", headers=admin,
                    json={"name": "scrape", "scope": "metrics"})  # fmt: skip
    assert r.status_code == 201
    headers = bearer(r.json()["token"])
    scrape = client.get("/metrics", headers=headers)
    assert scrape.status_code == 200 and "probity_queue_alerts" in scrape.text
    for method, path in [("GET", "/api/audit"), ("GET", "/api/audit/verify"),
                         ("GET", "/api/alerts"), ("GET", "/openapi.json"),
                         ("GET", "/api/suppressions"), ("GET", "/audit"), ("GET", "/queue"),
                         ("GET", "/"), ("POST", "/api/account/password")]:  # fmt: skip
        body = {"current_password": "x", "new_password": "y" * 12} if method == "POST" else None
        got = client.request(method, path, headers=headers, json=body)
        assert got.status_code == 403, (path, got.status_code)
    assert store.audit_entries()[-1].action == "token.created"
    assert store.audit_entries()[-1].detail["scope"] == "metrics"
    # a full token of any role, or a login, still reads /metrics; a service token does not
    for role in Role:
        expected = 403 if role is Role.SERVICE else 200
        got = client.get("/metrics", headers=bearer(app_env["tokens"][role]))
        assert got.status_code == expected, role
    assert client.get("/metrics").status_code == 401


def test_the_admin_page_issues_a_metrics_token(app_env):
    import re

    admin, csrf = login(app_env["app"], "admin")
    auditor = app_env["users"][Role.AUDITOR]
    page = admin.get("/admin/users")
    assert 'value="metrics"' in page.text
    r = admin.post(f"/admin/users/{auditor.id}/tokens",
                   data={"name": "prom", "scope": "metrics", "csrf_token": csrf})  # fmt: skip
    token = re.search(r"<code>(prb_[^<]+)</code>", r.text).group(1)  # type: ignore[union-attr]
    assert app_env["store"].resolve_token(token)[1] is TokenScope.METRICS  # type: ignore[index]
    assert TestClient(app_env["app"]).get("/api/audit", headers=bearer(token)).status_code == 403


# ------------------------------------------------------------------ the store's side
def test_store_session_lifecycle(store, users):
    analyst, admin = users[Role.ANALYST], users[Role.ADMIN]
    store.open_session(analyst.id, "sid-1", 3600)
    store.open_session(analyst.id, "sid-2", 3600)
    store.open_session(admin.id, "sid-admin", 3600)
    assert store.session_user("sid-1") == analyst
    assert store.session_user("sid-unknown") is None
    store.close_session("sid-1", analyst)
    assert store.session_user("sid-1") is None and store.session_user("sid-2") == analyst
    store.close_session("sid-admin", analyst)  # someone else's session id: not theirs to end
    assert store.session_user("sid-admin") == admin
    assert store.change_password(analyst, PASSWORD, NEW_PASSWORD, keep_sid="sid-2") == 0
    store.open_session(analyst.id, "sid-3", 3600)
    assert store.change_password(analyst, NEW_PASSWORD, PASSWORD, keep_sid="sid-3") == 1
    assert store.session_user("sid-2") is None and store.session_user("sid-3") == analyst
    with pytest.raises(AuthError, match="not right"):
        store.change_password(analyst, "a wrong one indeed", NEW_PASSWORD)
    assert store.audit_entries()[-1].action == "password.change_failed"  # survived the error
    reset = store.reset_password(analyst.id, "temporary pass 77", admin)
    assert reset.must_change_password and store.session_user("sid-3") is None
    store.open_session(analyst.id, "sid-4", 3600)
    store.set_active(analyst.id, False, admin)
    assert store.session_user("sid-4") is None and store.live_sessions(analyst.id) == 0
    with pytest.raises(NotFound):
        store.reset_password(analyst.id, "temporary pass 78", admin)
    with store.engine.connect() as conn:
        from sqlalchemy import text

        hashes = [r[0] for r in conn.execute(text("SELECT id_hash FROM sessions"))]
    assert hashes and "sid-admin" not in hashes and all(len(h) == 64 for h in hashes)


def test_expired_sessions_are_refused_and_cleaned_up(store, users):
    analyst = users[Role.ANALYST]
    now = store.clock()
    store.open_session(analyst.id, "old", 60)
    store.open_session(analyst.id, "older", 30)
    later = now + timedelta(seconds=61)
    store.clock = lambda: later
    assert store.session_user("old") is None and store.live_sessions(analyst.id) == 0
    store.open_session(analyst.id, "new", 60)  # a login deletes everyone's expired rows
    with store.engine.connect() as conn:
        from sqlalchemy import text

        assert conn.execute(text("SELECT count(*) FROM sessions")).scalar_one() == 1
    store.clock = lambda: later + timedelta(seconds=61)
    assert store.purge_expired_sessions() == 1


def test_metrics_scope_is_stored_with_the_token(store, users):
    admin, auditor = users[Role.ADMIN], users[Role.AUDITOR]
    full = store.create_token(auditor.id, "full", auditor)  # only its owner issues a full one
    scrape = store.create_token(auditor.id, "prom", admin, TokenScope.METRICS)
    assert store.resolve_token(full) == (auditor, TokenScope.FULL)
    assert store.resolve_token(scrape) == (auditor, TokenScope.METRICS)
    store.set_active(auditor.id, False, admin)
    assert store.resolve_token(scrape) is None


# ------------------------------------------------------------------ policy
@pytest.mark.parametrize(
    ("password", "username", "ok"),
    [
        ("correct horse battery staple", "analyst", True),
        ("short", None, False),
        ("x" * 2000, None, False),
        ("abcdabcdabcd", None, False),  # four different characters
        ("PASSWORD 1234", None, False),  # common, whatever the case and spacing
        ("123456789012", None, False),
        ("j.smith-is-on-duty", "J.Smith", False),
        ("long enough and odd", "ab", True),  # a two-letter name is no signal
    ],
)
def test_password_policy(password, username, ok):
    assert (password_problem(password, username) is None) is ok


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_upgrading_from_0001_keeps_accounts_and_tokens(kind, tmp_path, request):
    """An existing store: its accounts need no change at login, its tokens stay full."""
    from alembic import command

    from tests.triage.helpers import store_at_revision

    store, cfg = store_at_revision(kind, "0001", tmp_path, request)
    with store.engine.begin() as conn:
        from sqlalchemy import text

        conn.execute(
            text(
                "INSERT INTO users (username, staff_id, role, password_hash, active, associates, "
                "created_at) VALUES ('old', 'S-OLD', 'analyst', 'x', true, '[]', CURRENT_TIMESTAMP)"
            )
        )
        conn.execute(text(
            "INSERT INTO api_tokens (user_id, name, token_hash, created_at) VALUES "
            "((SELECT id FROM users WHERE username = 'old'), 'siem', :h, CURRENT_TIMESTAMP)"),
            {"h": "ab" * 32})  # fmt: skip
    store.migrate()
    try:
        [old] = store.users()
        assert old.must_change_password is False
        with store.engine.connect() as conn:
            assert conn.execute(text("SELECT scope FROM api_tokens")).scalar_one() == "full"
        store.open_session(old.id, "sid", 60)
        with store.engine.begin() as conn:  # and back, with the rows still there
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0001")
        store.migrate()
        assert [u.username for u in store.users()] == ["old"]
    finally:
        store.dispose()
