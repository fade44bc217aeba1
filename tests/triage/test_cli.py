"""``probity triage``: create-admin (never a default password) and audit verify failing
after a row of the audit table is altered by hand, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

PROBITY = str(Path(sys.executable).with_name("probity"))


def run(
    args: list[str], url: str, stdin: str = "", env_extra: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PROBITY_STORE_URL": url, **(env_extra or {})}
    return subprocess.run([PROBITY, "triage", *args], input=stdin, env=env, text=True,
                          capture_output=True, timeout=120, check=False)  # fmt: skip


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/queue.db"
    schema = request.getfixturevalue("pg_schema")
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/test?options=-csearch_path%3D{schema}"


def test_create_admin_then_verify_then_tamper(store_url: str):
    weak = run(["create-admin", "--username", "root", "--staff-id", "S-IT-1",
                "--password-stdin"], store_url, "short\n")  # fmt: skip
    assert weak.returncode != 0 and "12 characters" in weak.stderr
    made = run(["create-admin", "--username", "root", "--staff-id", "S-IT-1",
                "--password-stdin"], store_url, "a long enough passphrase\n")  # fmt: skip
    assert made.returncode == 0, made.stderr
    again = run(["create-admin", "--username", "root", "--staff-id", "S-IT-1",
                 "--password-stdin"], store_url, "a long enough passphrase\n")  # fmt: skip
    assert again.returncode != 0 and "exists" in again.stderr
    ok = run(["audit", "verify"], store_url)
    assert ok.returncode == 0 and "1 rows verify" in ok.stdout, ok.stderr

    engine = create_engine(store_url)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"))
        conn.execute(text('UPDATE audit_log SET detail = \'{"user": "mallory"}\' WHERE seq = 1'))
    engine.dispose()
    bad = run(["audit", "verify"], store_url)
    assert bad.returncode == 1
    assert "row 1" in bad.stderr and "altered" in bad.stderr


def test_audit_events_are_contract_events(tmp_path: Path):
    from models.events import decode_event

    url = f"sqlite:///{tmp_path}/q.db"
    assert run(["create-admin", "--username", "root", "--staff-id", "S-IT-1",
                "--password-stdin"], url, "a long enough passphrase\n").returncode == 0  # fmt: skip
    out = run(["audit", "events"], url)
    lines = out.stdout.splitlines()
    assert len(lines) == 1
    event = decode_event(lines[0].encode())
    assert (event.kind, event.source, event.actor) == ("triage.user.created", "triage", "cli")


def test_serve_answers_health_and_refuses_anonymous_api(tmp_path: Path):
    import socket
    import time

    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        **os.environ,
        "PROBITY_STORE_URL": f"sqlite:///{tmp_path}/q.db",
        "PROBITY_SECRET_KEY": "serve-test-secret-0123456789abcdef",
        "PROBITY_TRIAGE__PORT": str(port),
    }
    log = (tmp_path / "serve.log").open("w")
    proc = subprocess.Popen(
        [PROBITY, "triage", "serve"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, "serve did not start"
            time.sleep(0.2)
        assert httpx.get(f"{base}/readyz").json() == {"status": "ok"}
        assert httpx.get(f"{base}/api/alerts").status_code == 401
        assert httpx.get(f"{base}/metrics").status_code == 401
        page = httpx.get(f"{base}/queue")
        assert (page.status_code, page.headers["location"]) == (303, "/login")
        assert "server" not in page.headers
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        log.close()


def test_serve_refuses_a_weak_or_missing_secret_key_for_a_shared_store():
    from pydantic import SecretStr

    from probity.commands.triage import secret_key_problem

    pg = "postgresql+psycopg://probity@db/probity"
    assert secret_key_problem(None, "sqlite:///var/q.db") is None  # the local demo
    assert "unset" in (secret_key_problem(None, pg) or "")
    for weak in ("short", "change-me-to-64-random-characters"):
        assert "placeholder" in (secret_key_problem(SecretStr(weak), pg) or "")
    assert secret_key_problem(SecretStr("k" * 16 + "0123456789abcdefXYZ"), pg) is None
    done = run(["serve"], "sqlite:///unused.db", env_extra={"PROBITY_SECRET_KEY": "change-me"})
    assert done.returncode != 0 and "placeholder" in done.stderr
