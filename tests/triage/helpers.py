"""Test helpers for the service: bearer headers and a logged-in browser-like client."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

PASSWORD = "correct horse battery staple"

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def login(app: object, username: str, password: str = PASSWORD) -> tuple[TestClient, str]:
    """A client holding a session cookie, and the session's CSRF token."""
    client = TestClient(app, follow_redirects=False)  # type: ignore[arg-type]
    page = client.get("/login")
    token = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
    r = client.post("/login", data={"username": username, "password": password,
                                    "csrf_token": token})  # fmt: skip
    assert r.status_code == 303, r.text
    home = client.get("/", follow_redirects=True)
    match = CSRF.search(home.text)
    assert match is not None
    return client, match.group(1)
