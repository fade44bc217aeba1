"""Test helpers for the service: bearer headers and a logged-in browser-like client."""

from __future__ import annotations

import re
import time
import weakref
from typing import Any

import pyotp
from fastapi.testclient import TestClient

PASSWORD = "correct horse battery staple"

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


#: per app: each enrolled user's TOTP secret and the last step a helper code used
_TOTP: weakref.WeakKeyDictionary[Any, dict[str, list[Any]]] = weakref.WeakKeyDictionary()


def remember_totp(app: object, username: str, secret: str) -> None:
    """Let :func:`login` and :func:`totp_code` answer ``username``'s second step."""
    _TOTP.setdefault(app, {})[username] = [secret, -1]


def same_accounts(app: object, like: object) -> None:
    """``app`` serves the same store as ``like``: its users' second factors are known too."""
    _TOTP[app] = _TOTP[like]


def totp_code(app: object, username: str) -> str:
    """A code the service has not seen yet: the current step's, or the next one's (a code
    is good once, and the service accepts one step either side)."""
    entry = _TOTP[app][username]
    now_step = int(time.time() // 30)
    step = max(now_step - 1, entry[1] + 1)
    if step > now_step + 1:  # three logins within one step already: wait for the next
        time.sleep((step - 1) * 30 - time.time() + 0.1)
    entry[1] = step
    return str(pyotp.TOTP(entry[0]).at(step * 30))


def login(app: object, username: str, password: str = PASSWORD) -> tuple[TestClient, str]:
    """A client holding a session cookie, and the session's CSRF token (answering the
    second step with the user's code when they have a second factor)."""
    client = TestClient(app, follow_redirects=False)  # type: ignore[arg-type]
    page = client.get("/login")
    token = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
    r = client.post("/login", data={"username": username, "password": password,
                                    "csrf_token": token})  # fmt: skip
    assert r.status_code == 303, r.text
    if r.headers["location"] == "/login/totp":
        step = client.get("/login/totp")
        token = CSRF.search(step.text).group(1)  # type: ignore[union-attr]
        r = client.post("/login/totp", data={"code": totp_code(app, username),
                                             "csrf_token": token})  # fmt: skip
        assert r.status_code == 303, r.text
    home = client.get("/", follow_redirects=True)
    match = CSRF.search(home.text)
    assert match is not None
    return client, match.group(1)


def enrol_totp(app: Any, store: Any, user: Any) -> str:
    """Enrol ``user`` in TOTP as the enrolment page does; the secret is returned and
    remembered for :func:`login`."""
    secret, sealed, _ = app.state.ctx.mfa.new_secret(user.username)
    store.totp_begin(user, sealed)
    store.totp_confirm(user, 0, None)  # step 0: any real code is later
    remember_totp(app, user.username, secret)
    return str(secret)


def store_at_revision(kind: str, revision: str, tmp_path: Any, request: Any) -> tuple[Any, Any]:
    """A store whose schema stops at ``revision`` (to test the upgrades after it) on SQLite
    (``kind`` "sqlite") or in a PostgreSQL test schema, and the Alembic config that moves it."""
    from importlib.resources import files

    from alembic import command
    from alembic.config import Config

    from tests.triage.conftest import PG_URL, POLICY
    from triage.store import Store

    if kind == "sqlite":
        store = Store(f"sqlite:///{tmp_path}/old.db", policy=POLICY)
    else:
        schema = request.getfixturevalue("pg_schema")
        options = {"connect_args": {"options": f"-csearch_path={schema}"}}
        store = Store(PG_URL, policy=POLICY, engine_kwargs=options)
    cfg = Config()
    cfg.set_main_option("script_location", str(files("triage") / "migrations"))
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
    return store, cfg
