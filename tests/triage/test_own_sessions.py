"""Users list and end their own sessions (ASVS 3.3.4): the page and the API show the
signed-in user's live sessions (this one marked, never a session id, hash or CSRF token),
end one or all the others, with CSRF and an audit row each; another user's session is
answered like an unknown one. The store's side on SQLite and PostgreSQL, and the upgrade."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import text

from tests.triage.helpers import bearer, login, store_at_revision
from triage.base import Role, TokenScope, User
from triage.exceptions import NotFound
from triage.origin import CURRENT, Origin
from triage.security import token_hash
from triage.store import Store

HANDLE = re.compile(r'action="/account/sessions/([A-Za-z0-9_-]+)/end"')


def _sid(app: Any, client: TestClient) -> str:
    cookie = client.cookies.get("probity_session")
    assert cookie
    return str(app.state.ctx.sessions.read(cookie).sid)


def _replay(app: Any, client: TestClient) -> TestClient:
    """A fresh client (someone who copied the cookie) presenting ``client``'s session."""
    thief = TestClient(app, follow_redirects=False)
    thief.cookies.set("probity_session", client.cookies.get("probity_session") or "")
    return thief


def _own(client: TestClient) -> list[dict[str, Any]]:
    r = client.get("/api/account/sessions")
    assert r.status_code == 200
    return list(r.json())


def _current(sessions: list[dict[str, Any]]) -> dict[str, Any]:
    [here] = [s for s in sessions if s["current"]]
    return here


def _actions(store: Store) -> list[str]:
    return [e.action for e in store.audit_entries()]


def _last(store: Store, action: str) -> Any:
    return [e for e in store.audit_entries() if e.action == action][-1]


# ------------------------------------------------------------------ page
def test_the_page_lists_ones_sessions_marks_this_one_and_shows_no_secret(app_env):
    app = app_env["app"]
    here, _ = login(app, "analyst")
    other, other_csrf = login(app, "analyst")
    login(app, "supervisor")  # someone else's: not listed
    page = here.get("/account/sessions")
    assert page.status_code == 200 and "Your sessions" in page.text
    assert "2 live sessions" in page.text
    assert page.text.count("this session") == 1 and 'class="current"' in page.text
    assert "testclient" in page.text  # the login's client address and browser
    assert 'href="/account/sessions"' in page.text  # linked from the account's menu
    handles = HANDLE.findall(page.text)
    assert len(handles) == 1  # the other one has an End button; this one is marked instead
    for sid in (_sid(app, here), _sid(app, other)):
        assert sid not in page.text and token_hash(sid) not in page.text
    assert other_csrf not in page.text


def test_ending_another_session_from_the_page_kills_its_cookie(app_env):
    app, store = app_env["app"], app_env["store"]
    here, csrf = login(app, "analyst")
    other, _ = login(app, "analyst")
    stolen = _replay(app, other)
    [handle] = HANDLE.findall(here.get("/account/sessions").text)
    r = here.post(f"/account/sessions/{handle}/end", data={"csrf_token": csrf})
    assert (r.status_code, r.headers["location"]) == (303, "/account/sessions?ended=1")
    assert "Session ended." in here.get(r.headers["location"]).text
    for client in (other, stolen):
        assert client.get("/queue").headers["location"] == "/login"
        assert client.get("/api/alerts").status_code == 401
    assert here.get("/queue").status_code == 200
    entry = _last(store, "session.ended")
    assert (entry.detail["session"], entry.detail["current"]) == (handle, False)
    assert entry.client == "testclient" and entry.username == "analyst"
    # once ended it is gone: a second try is not found, and audited as such
    again = here.post(f"/account/sessions/{handle}/end", data={"csrf_token": csrf})
    assert again.status_code == 404
    assert _last(store, "session.end_refused").detail["session"] == handle


def test_ending_this_session_from_the_page_logs_out(app_env):
    app = app_env["app"]
    here, csrf = login(app, "analyst")
    copy = _replay(app, here)
    handle = _current(_own(here))["handle"]
    r = here.post(f"/account/sessions/{handle}/end", data={"csrf_token": csrf})
    assert (r.status_code, r.headers["location"]) == (303, "/login")
    assert copy.get("/queue").headers["location"] == "/login"


def test_end_all_others_from_the_page_keeps_this_one(app_env):
    app, store = app_env["app"], app_env["store"]
    analyst = app_env["users"][Role.ANALYST]
    here, csrf = login(app, "analyst")
    others = [login(app, "analyst")[0] for _ in range(2)]
    supervisor, _ = login(app, "supervisor")
    page = here.get("/account/sessions").text
    assert "End all other sessions" in page
    r = here.post("/account/sessions/end-others", data={"csrf_token": csrf})
    assert (r.status_code, r.headers["location"]) == (303, "/account/sessions?ended=others")
    for client in others:
        assert client.get("/queue").headers["location"] == "/login"
    assert here.get("/queue").status_code == 200
    assert supervisor.get("/queue").status_code == 200  # another user's: untouched
    assert store.live_sessions(analyst.id) == 1
    assert _last(store, "session.ended_others").detail == {"sessions_revoked": 2}
    assert "End all other sessions" not in here.get("/account/sessions").text


def test_the_page_forms_need_the_csrf_token(app_env):
    app = app_env["app"]
    here, _ = login(app, "analyst")
    other, _ = login(app, "analyst")
    [handle] = HANDLE.findall(here.get("/account/sessions").text)
    assert here.post(f"/account/sessions/{handle}/end").status_code == 403
    assert here.post(f"/account/sessions/{handle}/end",
                     data={"csrf_token": "forged"}).status_code == 403  # fmt: skip
    assert here.post("/account/sessions/end-others", data={"csrf_token": "x"}).status_code == 403
    assert other.get("/queue").status_code == 200
    assert "session.ended" not in _actions(app_env["store"])


def test_the_page_needs_a_login(app_env):
    r = TestClient(app_env["app"], follow_redirects=False).get("/account/sessions")
    assert (r.status_code, r.headers["location"]) == (303, "/login")


# ------------------------------------------------------------------ another user's session
def test_another_users_session_is_not_found_like_an_unknown_one(app_env):
    app, store = app_env["app"], app_env["store"]
    victim, _ = login(app, "supervisor")
    theirs = _current(_own(victim))["handle"]
    me, csrf = login(app, "analyst")
    assert theirs not in me.get("/account/sessions").text
    assert all(s["handle"] != theirs for s in _own(me))
    headers = {"X-CSRF-Token": csrf}
    by_api = me.delete(f"/api/account/sessions/{theirs}", headers=headers)
    unknown = me.delete("/api/account/sessions/no-such-session", headers=headers)
    assert by_api.status_code == unknown.status_code == 404
    assert by_api.json() == unknown.json() == {"detail": "not found"}
    by_page = me.post(f"/account/sessions/{theirs}/end", data={"csrf_token": csrf})
    unknown_page = me.post("/account/sessions/no-such-session/end", data={"csrf_token": csrf})
    assert by_page.status_code == unknown_page.status_code == 404
    assert by_page.text == unknown_page.text
    token = app_env["tokens"][Role.ANALYST]  # nor with an API token
    assert me.delete(f"/api/account/sessions/{theirs}",
                     headers=bearer(token)).status_code == 404  # fmt: skip
    assert victim.get("/queue").status_code == 200  # still alive
    refused = [e for e in store.audit_entries() if e.action == "session.end_refused"]
    assert len(refused) == 5 and {e.username for e in refused} == {"analyst"}
    assert {e.detail["session"] for e in refused} == {theirs, "no-such-session"}
    assert "session.ended" not in _actions(store)


# ------------------------------------------------------------------ API
def test_the_api_lists_and_ends_ones_sessions(app_env):
    app, store = app_env["app"], app_env["store"]
    here, csrf = login(app, "analyst")
    other, _ = login(app, "analyst")
    sessions = _own(here)
    assert len(sessions) == 2
    mine = _current(sessions)
    assert set(mine) == {"handle", "created_at", "last_seen_at", "expires_at", "client",
                         "user_agent", "mfa", "current"}  # fmt: skip
    assert (mine["client"], mine["user_agent"], mine["mfa"]) == ("testclient", "testclient", False)
    body = orjson.dumps(sessions).decode()
    for sid in (_sid(app, here), _sid(app, other)):
        assert sid not in body and token_hash(sid) not in body
    [theirs] = [s for s in sessions if not s["current"]]
    # a cookie-authenticated DELETE needs the CSRF token like any other change
    assert here.delete(f"/api/account/sessions/{theirs['handle']}").status_code == 403
    r = here.delete(f"/api/account/sessions/{theirs['handle']}", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200
    assert (r.json()["handle"], r.json()["current"]) == (theirs["handle"], False)
    assert other.get("/api/alerts").status_code == 401
    assert [s["handle"] for s in _own(here)] == [mine["handle"]]
    assert _last(store, "session.ended").detail["session"] == theirs["handle"]


def test_the_api_ends_all_others_and_a_token_ends_every_session(app_env):
    app, store = app_env["app"], app_env["store"]
    here, csrf = login(app, "analyst")
    other, _ = login(app, "analyst")
    assert here.post("/api/account/sessions/end-others").status_code == 403  # no CSRF token
    r = here.post("/api/account/sessions/end-others", headers={"X-CSRF-Token": csrf})
    assert (r.status_code, r.json()) == (200, {"sessions_ended": 1})
    assert other.get("/api/alerts").status_code == 401
    assert here.get("/api/alerts").status_code == 200
    # with an API token: the sessions are listed, none is "current", and all end
    api = TestClient(app)
    token = bearer(app_env["tokens"][Role.ANALYST])
    listed = api.get("/api/account/sessions", headers=token).json()
    assert len(listed) == 1 and listed[0]["current"] is False
    r = api.post("/api/account/sessions/end-others", headers=token)
    assert r.json() == {"sessions_ended": 1}
    assert here.get("/api/alerts").status_code == 401
    assert api.get("/api/account/sessions", headers=token).json() == []
    assert api.get("/api/account/sessions").status_code == 401
    ended = [e for e in store.audit_entries() if e.action == "session.ended_others"]
    assert [e.detail["sessions_revoked"] for e in ended] == [1, 1]


def test_a_metrics_token_may_not_touch_sessions(app_env):
    store = app_env["store"]
    admin = app_env["users"][Role.ADMIN]
    scrape = store.create_token(
        app_env["users"][Role.AUDITOR].id, "prom", admin, scope=TokenScope.METRICS
    )
    api = TestClient(app_env["app"])
    assert api.get("/api/account/sessions", headers=bearer(scrape)).status_code == 403
    assert api.post("/api/account/sessions/end-others",
                    headers=bearer(scrape)).status_code == 403  # fmt: skip


# ------------------------------------------------------------------ store
def test_the_store_lists_live_sessions_only(store: Store, users: dict[Role, User]) -> None:
    analyst, supervisor = users[Role.ANALYST], users[Role.SUPERVISOR]
    t0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    now = [t0]
    store.clock = lambda: now[0]
    token = CURRENT.set(Origin(client="10.0.0.7", user_agent="Firefox/140"))
    try:
        store.open_session(analyst.id, "first", 3600)
    finally:
        CURRENT.reset(token)
    now[0] = t0 + timedelta(minutes=5)
    store.open_session(analyst.id, "second", 3600, mfa=True)  # outside a request: no origin
    store.open_session(supervisor.id, "theirs", 3600)
    listed = store.sessions_of(analyst, "second")
    assert [(s.current, s.mfa, s.client, s.user_agent) for s in listed] == [
        (True, True, None, None), (False, False, "10.0.0.7", "Firefox/140")]  # fmt: skip
    assert listed[1].created_at == t0 and len({s.handle for s in listed}) == 2
    [theirs] = store.sessions_of(supervisor)
    with pytest.raises(NotFound):
        store.end_session(analyst, theirs.handle)
    assert store.session_user("theirs") is not None
    # an idle session is no longer live: not listed, and cannot be ended twice
    now[0] = t0 + timedelta(seconds=store.policy.session_idle_s + 1)
    assert [s.current for s in store.sessions_of(analyst, "second")] == [True]
    with pytest.raises(NotFound):
        store.end_session(analyst, listed[1].handle)
    ended = store.end_session(analyst, listed[0].handle, "second")
    assert ended.current is True and store.session_user("second") is None
    assert store.sessions_of(analyst) == []
    actions = [(e.action, e.detail.get("session")) for e in store.audit_entries()[-3:]]
    assert actions == [("session.end_refused", theirs.handle),
                       ("session.end_refused", listed[1].handle),
                       ("session.ended", listed[0].handle)]  # fmt: skip
    store.verify_audit()


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_upgrading_to_0010_keeps_live_sessions_and_names_them(kind, tmp_path, request):
    store, cfg = store_at_revision(kind, "0009", tmp_path, request)
    try:
        user = store.create_user("old", "correct horse battery staple", Role.ANALYST, "S-OLD")
        now = datetime.now(UTC)
        with store.engine.begin() as conn:
            for sid in ("one", "two"):
                conn.execute(
                    text("INSERT INTO sessions (id_hash, user_id, created_at, expires_at, "
                         "last_seen_at) VALUES (:h, :u, :c, :e, :c)"),
                    {"h": token_hash(sid), "u": user.id, "c": now.replace(tzinfo=None)
                     if kind == "sqlite" else now,
                     "e": (now + timedelta(hours=1)).replace(tzinfo=None)
                     if kind == "sqlite" else now + timedelta(hours=1)},
                )  # fmt: skip
        store.migrate()
        assert store.session_user("one") == store.session_user("two") == user
        listed = store.sessions_of(user, "one")
        assert len({s.handle for s in listed}) == 2 and all(s.handle for s in listed)
        assert {(s.current, s.client) for s in listed} == {(True, None), (False, None)}
        with store.engine.begin() as conn:  # and back, with the sessions still there
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0009")
        store.migrate()
        assert store.session_user("one") == user
    finally:
        store.dispose()
