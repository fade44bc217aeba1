"""The triage settings reach the store's policy and the session cookie."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from pydantic import SecretStr

from probity.settings import Settings
from tests.triage.helpers import CSRF, PASSWORD
from triage.app import create_app
from triage.base import Role
from triage.store import store_from_settings


def test_env_reaches_the_policy(monkeypatch, tmp_path):
    monkeypatch.setenv("PROBITY_TRIAGE__ACU_UNITS", '["acu", "psd-acu"]')
    monkeypatch.setenv("PROBITY_TRIAGE__ACU_STAFF_IDS", '["S-9"]')
    monkeypatch.setenv("PROBITY_STORE_URL", f"sqlite:///{tmp_path}/q.db")
    store = store_from_settings(Settings())
    assert store.policy.restricted("S-9", None)
    assert store.policy.restricted("S-1", "psd-acu")
    assert not store.policy.restricted("S-1", "cid-1")
    store.dispose()


def test_secure_cookie_when_configured(sqlite_store):
    sqlite_store.create_user("ana", PASSWORD, Role.ANALYST, "S1")
    settings = Settings(secret_key=SecretStr("k" * 32), triage={"cookie_secure": True})
    client = TestClient(create_app(settings, sqlite_store), base_url="https://testserver",
                        follow_redirects=False)  # fmt: skip
    token = CSRF.search(client.get("/login").text).group(1)
    r = client.post("/login", data={"username": "ana", "password": PASSWORD,
                                    "csrf_token": token})  # fmt: skip
    cookie = next(v for k, v in r.headers.multi_items()
                  if k == "set-cookie" and v.startswith("__Host-probity_session="))  # fmt: skip
    assert re.search(r";\s*Secure", cookie) and "HttpOnly" in cookie
    assert "Max-Age" not in cookie and "expires" not in cookie.lower()  # a session cookie
    assert "Path=/" in cookie and "Domain" not in cookie  # what __Host- requires
    assert r.headers["strict-transport-security"].startswith("max-age=31536000")


def test_a_password_longer_than_zxcvbn_takes_is_judged_not_crashed():
    """zxcvbn 4.5 raises on more than 72 characters; the API fuzz found it (500)."""
    from triage.security import password_problem

    assert password_problem("0" * 69 + "1234", "127.0.0.1") is not None
    assert password_problem("correct horse battery staple " * 4, "root") is None
