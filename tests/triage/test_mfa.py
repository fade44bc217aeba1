"""The second factor (issue 19): enrolling an authenticator app, the login's second step,
codes good once, wrong codes throttled, admin and head of unit held at enrolment, a recent
factor for sensitive reveals, and the two-admin reset (pages, API and command line)."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from typing import Any

import pyotp
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from tests.triage.helpers import CSRF, PASSWORD, bearer, enrol_totp, login, totp_code
from tests.triage.test_cli import run
from triage.base import Role
from triage.exceptions import Forbidden, InvalidTransition, NotFound

SECRET = re.compile(r'<code class="secret">([A-Z2-7]+)</code>')


def _password_step(app: Any, username: str) -> tuple[TestClient, Any]:
    client = TestClient(app, follow_redirects=False)
    token = CSRF.search(client.get("/login").text).group(1)  # type: ignore[union-attr]
    r = client.post("/login", data={"username": username, "password": PASSWORD,
                                    "csrf_token": token})  # fmt: skip
    return client, r


def _code_step(client: TestClient, code: str) -> Any:
    form = client.get("/login/totp")
    assert form.status_code == 200
    token = CSRF.search(form.text).group(1)  # type: ignore[union-attr]
    return client.post("/login/totp", data={"code": code, "csrf_token": token})


def _actions(env: dict[str, Any]) -> list[str]:
    return [e.action for e in env["store"].audit_entries()]


def test_an_analyst_enrols_then_every_login_asks_for_a_code_good_once(app_env):
    app, store = app_env["app"], app_env["store"]
    client, csrf = login(app, "analyst")  # no factor yet: an analyst may work without one
    assert client.get("/queue").status_code == 200
    page = client.post("/account/mfa/enrol", data={"csrf_token": csrf})
    secret = SECRET.search(page.text).group(1)  # type: ignore[union-attr]
    assert "otpauth://totp/" in page.text
    # the store holds it encrypted only
    with store.engine.connect() as conn:
        stored = conn.execute(text("SELECT totp_pending FROM users WHERE username='analyst'"))
        assert secret not in str(stored.scalar_one())
    wrong = client.post("/account/mfa/confirm", data={"csrf_token": csrf, "code": "000000"})
    assert wrong.status_code == 400
    now = pyotp.TOTP(secret).now()
    assert client.post("/account/mfa/confirm", data={"csrf_token": csrf, "code": now}
                       ).headers["location"] == "/account/mfa?enrolled=1"  # fmt: skip
    assert store.get_user(app_env["users"][Role.ANALYST].id).mfa_enrolled

    # the password alone now opens nothing: no session until the code passes
    fresh, r = _password_step(app, "analyst")
    assert r.headers["location"] == "/login/totp"
    assert not any(k.startswith("probity_session") for k in fresh.cookies)
    assert fresh.get("/queue").headers["location"] == "/login"
    # the enrolment's own code cannot log in (replay), nor can a wrong one
    assert _code_step(fresh, now).status_code == 401
    assert _code_step(fresh, "123456").status_code == 401
    later = pyotp.TOTP(secret).at(time.time() + 30)  # the next step's code
    ok = _code_step(fresh, later)
    assert ok.status_code == 303 and fresh.get("/queue").status_code == 200
    # the same code again, in another browser: refused
    other, _ = _password_step(app, "analyst")
    assert _code_step(other, later).status_code == 401
    actions = _actions(app_env)
    for action in ("mfa.enrolment_started", "mfa.enrolled", "mfa.verified", "mfa.failed"):
        assert action in actions, action
    failed = [e.detail for e in store.audit_entries() if e.action == "mfa.failed"]
    assert {"wrong", "replayed"} <= {d.get("why") for d in failed}
    assert all(later not in str(d) and now not in str(d) for d in failed)  # no code kept


def test_wrong_codes_are_throttled_like_wrong_passwords(app_env):
    client, r = _password_step(app_env["app"], "admin")
    assert r.headers["location"] == "/login/totp"
    statuses = [_code_step(client, "000000").status_code for _ in range(7)]
    assert statuses[0] == 401 and statuses[-1] == 429, statuses
    r = _code_step(client, totp_code(app_env["app"], "admin"))
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1  # even a right one


def test_a_forged_or_missing_half_way_cookie_leads_back_to_the_password(app_env):
    client = TestClient(app_env["app"], follow_redirects=False)
    assert client.get("/login/totp").headers["location"] == "/login"
    client.cookies.set("probity_mfa_pending", "eyJ1IjoxfQ.forged.sig", path="/login")
    r = client.post("/login/totp", data={"code": "123456", "csrf_token": "x"})
    assert r.headers["location"] == "/login"
    # a real one with another form's CSRF token is refused too
    real, _ = _password_step(app_env["app"], "admin")
    r = real.post("/login/totp", data={"code": totp_code(app_env["app"], "admin"),
                                       "csrf_token": "not-the-forms"})  # fmt: skip
    assert r.status_code == 403


def test_admin_and_head_of_unit_cannot_work_before_enrolling(app_env):
    app, store = app_env["app"], app_env["store"]
    head = store.create_user("head2", PASSWORD, Role.HEAD_OF_UNIT, "S-H2")
    store.approve_user(head.id, app_env["users"][Role.ADMIN])
    client, r = _password_step(app, "head2")
    assert r.headers["location"] == "/"
    assert client.get("/queue").headers["location"] == "/account/mfa"
    assert client.get(f"/alerts/{app_env['ordinary'].id}").headers["location"] == "/account/mfa"
    csrf = CSRF.search(client.get("/account/mfa").text).group(1)  # type: ignore[union-attr]
    api = client.get("/api/alerts")
    assert api.status_code == 403 and api.json() == {"detail": "second factor required"}
    page = client.post("/account/mfa/enrol", data={"csrf_token": csrf})
    secret = SECRET.search(page.text).group(1)  # type: ignore[union-attr]
    r = client.post("/account/mfa/confirm",
                    data={"csrf_token": csrf, "code": pyotp.TOTP(secret).now()})  # fmt: skip
    assert r.status_code == 303
    assert client.get("/queue").status_code == 200  # this session proved it at enrolment


def test_an_enrolled_factor_is_not_replaced_by_its_session(app_env):
    client, csrf = login(app_env["app"], "admin")
    r = client.post("/account/mfa/enrol", data={"csrf_token": csrf})
    assert r.status_code == 409 and "two admins" in r.text


def _canary(env: dict[str, Any], alert_factory: Any, assignee: str) -> Any:
    alert = alert_factory(detector="access.canary", officer="S1002", subjects=["P-4242"],
                          title="Canary record opened")  # fmt: skip
    env["store"].upsert_alert(alert)
    env["store"].assign(alert.id, assignee, env["users"][Role.SUPERVISOR])
    return alert


def test_a_sensitive_reveal_needs_a_recent_second_factor(app_env, alert_factory):
    app, store = app_env["app"], app_env["store"]
    alert = _canary(app_env, alert_factory, "supervisor")
    pseudo = app.state.ctx.pseudonym("P-4242")
    form = {"subject": pseudo, "reason": "checking the canary hit", "reference": "OP-1"}
    client, csrf = login(app, "supervisor")  # password only
    r = client.post(f"/alerts/{alert.id}/reveal", data={**form, "csrf_token": csrf})
    assert r.status_code == 303
    assert r.headers["location"] == f"/account/mfa/verify?next=/alerts/{alert.id}"
    assert "P-4242" not in client.get(r.headers["location"]).text
    # a token never reveals a sensitive subject: a person at a browser does
    api = TestClient(app).post(f"/api/alerts/{alert.id}/reveal", json=form,
                               headers=bearer(app_env["tokens"][Role.SUPERVISOR]))  # fmt: skip
    assert api.status_code == 403
    # an ordinary alert's subject needs nothing more (as before)
    assert "subject.revealed" not in _actions(app_env)
    assert _actions(app_env).count("mfa.step_up_required") == 2

    # the supervisor enrols; the session that confirmed it has a fresh factor
    enrol_totp(app, store, app_env["users"][Role.SUPERVISOR])
    client, csrf = login(app, "supervisor")
    r = client.post(f"/alerts/{alert.id}/reveal", data={**form, "csrf_token": csrf})
    assert r.status_code == 200 and "P-4242" in r.text
    # a quarter of an hour later it is no longer fresh: a code again, then it works
    later = store.clock() + timedelta(seconds=app.state.ctx.mfa.fresh_s + 60)
    store.clock = lambda: later
    r = client.post(f"/alerts/{alert.id}/reveal", data={**form, "csrf_token": csrf})
    assert r.headers["location"].startswith("/account/mfa/verify")
    bad = client.post("/account/mfa/verify", data={"csrf_token": csrf, "code": "000000",
                                                   "next_url": f"/alerts/{alert.id}"})  # fmt: skip
    assert bad.status_code == 400
    good = client.post("/account/mfa/verify", data={
        "csrf_token": csrf, "code": totp_code(app, "supervisor"),
        "next_url": f"/alerts/{alert.id}"})  # fmt: skip
    assert good.headers["location"] == f"/alerts/{alert.id}"
    r = client.post(f"/alerts/{alert.id}/reveal", data={**form, "csrf_token": csrf})
    assert r.status_code == 200 and "P-4242" in r.text
    # the step-up form sends nowhere but this site
    evil = client.post("/account/mfa/verify", data={
        "csrf_token": csrf, "code": totp_code(app, "supervisor"),
        "next_url": "//evil.example/x"})  # fmt: skip
    assert evil.headers["location"] == "/"


def test_two_admins_reset_a_lost_factor(app_env):
    app, store = app_env["app"], app_env["store"]
    admin, head = app_env["users"][Role.ADMIN], app_env["users"][Role.HEAD_OF_UNIT]
    second = store.create_user("admin2", PASSWORD, Role.ADMIN, "S-A2")
    store.approve_user(second.id, admin)
    second = store.get_user(second.id)
    head_client, _ = login(app, "head_of_unit")
    head_token = store.create_token(head.id, "own", head)

    api = TestClient(app)
    assert api.post(f"/api/users/{head.id}/mfa-reset",
                    headers=bearer(app_env["tokens"][Role.HEAD_OF_UNIT])).status_code == 403
    r = api.post(f"/api/users/{head.id}/mfa-reset", headers=bearer(app_env["tokens"][Role.ADMIN]))
    assert r.status_code == 200 and r.json()["mfa_reset_by"] == "admin"
    assert r.json()["mfa_enrolled"] is True  # nothing changes on one admin's word
    # the asker cannot approve it; nor can the owner; a second admin can
    assert api.post(f"/api/users/{head.id}/mfa-reset/approve",
                    headers=bearer(app_env["tokens"][Role.ADMIN])).status_code == 403
    with pytest.raises(Forbidden):
        store.approve_mfa_reset(head.id, head)
    with pytest.raises(Forbidden):
        store.request_mfa_reset(admin.id, admin)  # your own: two others
    done = store.approve_mfa_reset(head.id, second)
    assert not done.mfa_enrolled and done.mfa_reset_by is None
    # whoever holds the phone may hold these too: they end
    assert head_client.get("/queue").headers["location"] == "/login"
    assert store.resolve_token(head_token) is None
    with pytest.raises(NotFound):  # nothing awaits approval any more
        store.approve_mfa_reset(head.id, second)
    with pytest.raises(InvalidTransition):  # and there is nothing left to reset
        store.request_mfa_reset(head.id, admin)
    entry = next(e for e in store.audit_entries() if e.action == "mfa.reset")
    assert entry.username == "admin2" and entry.detail["requested_by"] == "admin"
    assert "mfa.reset_requested" in _actions(app_env)
    # the head of unit logs in again and is held at enrolment
    client, r = _password_step(app, "head_of_unit")
    assert r.headers["location"] == "/"
    assert client.get("/queue").headers["location"] == "/account/mfa"


def test_the_admin_pages_reset_with_two_admins(app_env):
    app, store = app_env["app"], app_env["store"]
    head = app_env["users"][Role.HEAD_OF_UNIT]
    second = store.create_user("admin2", PASSWORD, Role.ADMIN, "S-A2")
    store.approve_user(second.id, app_env["users"][Role.ADMIN])
    enrol_totp(app, store, store.get_user(second.id))
    first, csrf = login(app, "admin")
    page = first.post(f"/admin/users/{head.id}/mfa-reset", data={"csrf_token": csrf})
    assert page.status_code == 200 and "a second admin must approve" in page.text
    assert f"/admin/users/{head.id}/mfa-reset/approve" not in page.text  # not for the asker
    assert first.post(f"/admin/users/{head.id}/mfa-reset/approve",
                      data={"csrf_token": csrf}).status_code == 403  # fmt: skip
    other, csrf2 = login(app, "admin2")
    listing = other.get("/admin/users").text
    assert f"/admin/users/{head.id}/mfa-reset/approve" in listing
    done = other.post(f"/admin/users/{head.id}/mfa-reset/approve", data={"csrf_token": csrf2})
    assert done.status_code == 200 and "removed" in done.text
    assert not store.get_user(head.id).mfa_enrolled


def test_the_command_line_reset_needs_two_admins(tmp_path):
    url = f"sqlite:///{tmp_path}/q.db"
    from triage.store import Store

    store = Store(url)
    store.migrate()
    a1 = store.create_user("ops1", PASSWORD, Role.ADMIN, "S-O1")
    a2 = store.create_user("ops2", PASSWORD, Role.ADMIN, "S-O2")
    store.approve_user(a2.id, a1)
    analyst = store.create_user("ann", PASSWORD, Role.ANALYST, "S-AN")
    store.totp_begin(analyst, "sealed-secret")
    store.totp_confirm(analyst, 1, None)
    store.dispose()
    one = run(["user", "mfa-reset", "--username", "ann", "--admin", "ops1"], url,
              f"{PASSWORD}\n")  # fmt: skip
    assert one.returncode != 0 and "two different admins" in one.stderr
    wrong = run(["user", "mfa-reset", "--username", "ann", "--admin", "ops1", "--admin", "ops2"],
                url, f"{PASSWORD}\nnot the password\n")  # fmt: skip
    assert wrong.returncode != 0 and "'ops2' is not an admin" in wrong.stderr
    ok = run(["user", "mfa-reset", "--username", "ann", "--admin", "ops1", "--admin", "ops2"],
             url, f"{PASSWORD}\n{PASSWORD}\n")  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    store = Store(url)
    assert not store.get_user(analyst.id).mfa_enrolled
    reset = next(e for e in store.audit_entries() if e.action == "mfa.reset")
    assert (reset.username, reset.detail["requested_by"]) == ("ops2", "ops1")
    store.dispose()


def test_a_code_is_accepted_once_and_never_an_earlier_one(store, users):
    analyst = users[Role.ANALYST]
    store.totp_begin(analyst, "sealed")
    store.totp_confirm(analyst, 100, None)
    assert not store.totp_use(analyst, 100, purpose="login")  # the confirming code's step
    assert store.totp_use(analyst, 101, purpose="login")
    assert not store.totp_use(analyst, 101, purpose="login")
    assert not store.totp_use(analyst, 99, purpose="login")
    assert store.totp_use(analyst, 103, purpose="login")
