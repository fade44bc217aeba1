"""Login and requests (issue 19), the review's own steps: password spraying, ten wrong
tries locking anyone's account, 64 parallel logins, ``Password2024!`` accepted, a 150 MB
body read before the 401; and idle sessions, the request's origin in the audit rows."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

import triage.security as sec
from tests.triage.helpers import CSRF, PASSWORD, login
from triage.security import HashingBusy, limit_hashing, password_problem, verify_password
from triage.throttle import LoginThrottle


def _client(app: Any, address: str) -> TestClient:
    client = TestClient(app, follow_redirects=False, client=(address, 40000))
    client.headers["user-agent"] = f"probe/{address}"
    return client


def _try(client: TestClient, username: str, password: str) -> Any:
    token = CSRF.search(client.get("/login").text).group(1)  # type: ignore[union-attr]
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": token})  # fmt: skip


def test_spraying_from_one_client_backs_off_and_locks_no_one(app_env):
    app = app_env["app"]
    sprayer = _client(app, "203.0.113.9")
    names = ["analyst", "supervisor", "head_of_unit", "auditor", "admin"]
    for name in names:  # the free tries
        assert _try(sprayer, name, "Password2024!").status_code == 401
    throttled = _try(sprayer, "analyst", "Summer2024!!")
    assert throttled.status_code == 429 and int(throttled.headers["retry-after"]) >= 1
    # even the right password waits: the client is throttled, not the account
    assert _try(sprayer, "analyst", PASSWORD).status_code == 429
    # the owners, from their own addresses, are not locked out
    for name in names:
        assert _try(_client(app, "198.51.100.7"), name, PASSWORD).status_code == 303
    registry = app_env["registry"]
    counts = {o: registry.get_sample_value("probity_queue_logins_total", {"outcome": o})
              for o in ("ok", "failed", "throttled")}  # fmt: skip
    # head_of_unit and admin have a second factor: their logins count once the code is given
    assert counts == {"ok": 3, "failed": 5, "throttled": 2}


def test_back_off_doubles_then_clears_on_success():
    now = [0.0]
    t = LoginThrottle(client_free=3, global_free=1000, window_s=900, base_s=1, max_s=8,
                      global_max_s=5, clock=lambda: now[0])  # fmt: skip
    waits = []
    for _ in range(7):
        t.failed("c")
        waits.append(t.retry_after("c"))
    assert waits == [0, 0, 1, 2, 4, 8, 8]  # from the third on: doubling, up to the ceiling
    t.succeeded("c")
    assert t.retry_after("c") == 0
    now[0] = 10_000.0  # the window passes: old failures are forgotten
    t.failed("c")
    assert t.retry_after("c") == 0


def test_a_global_limit_slows_a_distributed_guess():
    now = [0.0]
    t = LoginThrottle(client_free=5, global_free=10, window_s=900, base_s=1, max_s=900,
                      global_max_s=30, clock=lambda: now[0])  # fmt: skip
    for i in range(12):  # one failure each from twelve addresses
        t.failed(f"10.0.0.{i}")
    assert t.retry_after("192.0.2.1") == 4  # a newcomer waits too, briefly
    for i in range(50):
        t.failed(f"10.0.1.{i}")
    assert t.retry_after("192.0.2.1") == 30  # but never longer than the global ceiling


def test_at_most_n_password_hashes_run_at_once(monkeypatch):
    """64 parallel verifications: never more than the cap at once (each argon2 takes its
    memory_cost, 64 MiB by default: the cap bounds the service's memory)."""
    running, peak, lock = [0], [0], threading.Lock()
    real = sec._HASHER

    class Counting:
        def verify(self, h: str, p: str) -> bool:
            with lock:
                running[0] += 1
                peak[0] = max(peak[0], running[0])
            time.sleep(0.01)
            with lock:
                running[0] -= 1
            return bool(real.verify(h, p))

    monkeypatch.setattr(sec, "_HASHER", Counting())
    limit_hashing(4)
    try:
        good = real.hash(PASSWORD)
        threads = [threading.Thread(target=verify_password, args=(good, PASSWORD))
                   for _ in range(64)]  # fmt: skip
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        assert 1 < peak[0] <= 4
        # a slot that never frees: the caller is told to come back, not queued forever
        limit_hashing(1, wait_s=0.05)
        with sec._hash_slot(), pytest.raises(HashingBusy):
            verify_password(good, PASSWORD)
    finally:
        limit_hashing(4)


@pytest.mark.parametrize(
    "password", ["Password2024!", "Summer2024!!", "Welcome123456", "qwertyuiop123", "Policeman2025"]
)
def test_common_and_guessable_passwords_are_refused(password):
    assert password_problem(password) is not None


def test_good_passphrases_pass():
    assert password_problem("correct horse battery staple", "analyst") is None


def test_a_large_body_is_refused_before_authentication(app_env):
    api = TestClient(app_env["app"])
    alert = app_env["ordinary"].id
    big = b"x" * 2_000_001
    r = api.post(f"/api/alerts/{alert}/close", content=big,
                 headers={"content-type": "application/json"})  # fmt: skip
    assert r.status_code == 413  # not 401: nothing was read, nobody was asked who they are

    def chunks():  # no Content-Length: counted as it streams in
        for _ in range(40):
            yield b"y" * 100_000

    streamed = api.post("/login", content=chunks(),
                        headers={"content-type": "application/x-www-form-urlencoded"})  # fmt: skip
    assert streamed.status_code == 413
    assert api.post("/login", content=b"a=b").status_code != 413  # small bodies pass


def test_an_idle_session_ends(any_app_env):
    store = any_app_env["store"]
    client, _ = login(any_app_env["app"], "analyst")
    start = store.clock()
    store.clock = lambda: start + timedelta(minutes=20)
    assert client.get("/queue").status_code == 200  # used: the idle clock restarts
    store.clock = lambda: start + timedelta(minutes=45)
    assert client.get("/queue").status_code == 200  # 25 minutes since the last use
    store.clock = lambda: start + timedelta(minutes=45 + 31)
    assert client.get("/queue").headers["location"] == "/login"


def test_audit_rows_carry_the_client_and_user_agent(any_app_env):
    store = any_app_env["store"]
    client = _client(any_app_env["app"], "198.51.100.23")
    assert _try(client, "analyst", PASSWORD).status_code == 303
    [row] = [e for e in store.audit_entries() if e.action == "login"]
    assert (row.client, row.user_agent) == ("198.51.100.23", "probe/198.51.100.23")
    assert store.verify_audit() == len(store.audit_entries())  # hashed with the row
    outside = [e for e in store.audit_entries() if e.action == "user.created"]
    assert all(e.client is None for e in outside)  # done outside a request
