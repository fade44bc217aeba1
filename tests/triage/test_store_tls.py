"""The queue store over TLS to PostgreSQL, end to end: ``sslmode=verify-full`` from the settings.

The shared server at 127.0.0.1:5432 has TLS off (and stays so), so this module starts its own
temporary cluster (``initdb``/``pg_ctl`` from the Debian packages, run as ``postgres`` when
the tests run as root) with ``ssl=on``, a server certificate for 127.0.0.1 from a test CA, and
a ``pg_hba.conf`` that admits TLS connections only. It is skipped, saying why, where those
binaries are missing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from models.alerts import Alert, Category, alert_id
from probity.settings import Settings, to_env
from streams.broker import free_port
from tests.tls_helpers import Pki, make_pki
from triage.store import store_from_settings

pytestmark = pytest.mark.slow  # its own server, not the shared one: no postgres marker


def _pg_bin() -> Path | None:
    """The newest installed PostgreSQL's bin directory with initdb and pg_ctl."""
    found = sorted(
        (p.parent for p in Path("/usr/lib/postgresql").glob("*/bin/initdb")),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    return next((b for b in reversed(found) if (b / "pg_ctl").exists()), None)


@dataclass
class TlsPostgres:
    port: int
    pki: Pki

    def url(self, host: str = "127.0.0.1", query: str = "") -> str:
        return f"postgresql+psycopg://postgres@{host}:{self.port}/postgres" + query

    def settings(self, **kw: Any) -> Settings:
        base: dict[str, Any] = {"store_url": self.url(), "store_sslmode": "verify-full",
                                "store_sslrootcert": str(self.pki.ca)}  # fmt: skip
        return Settings(**{**base, **kw})


@pytest.fixture(scope="module")
def tls_postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsPostgres]:
    bindir = _pg_bin()
    if bindir is None:
        pytest.skip("no PostgreSQL server binaries (initdb, pg_ctl) under /usr/lib/postgresql")
    as_root = os.geteuid() == 0
    if as_root and shutil.which("runuser") is None:
        pytest.skip("running as root without runuser: initdb refuses root")
    pki = make_pki(tmp_path_factory.mktemp("pki"))
    # outside pytest's root-only tmp tree, so the postgres user can reach it
    top = Path(tempfile.mkdtemp(prefix="probity-pg-tls-"))
    data, port = top / "data", free_port()
    shutil.copy(pki.server_cert, top / "server.crt")
    shutil.copy(pki.server_key, top / "server.key")
    (top / "server.key").chmod(0o600)
    if as_root:
        for p in (top, top / "server.crt", top / "server.key"):
            shutil.chown(p, "postgres", "postgres")

    def run(*args: str) -> None:
        cmd = ["runuser", "-u", "postgres", "--", *args] if as_root else list(args)
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(args)}: {done.stdout}{done.stderr}")

    try:
        run(str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
            "--no-sync", "-E", "UTF8")  # fmt: skip
        with (data / "postgresql.conf").open("a") as conf:
            conf.write(
                f"listen_addresses = '127.0.0.1'\nport = {port}\n"
                f"unix_socket_directories = '{top}'\nfsync = off\n"
                f"ssl = on\nssl_cert_file = '{top / 'server.crt'}'\n"
                f"ssl_key_file = '{top / 'server.key'}'\n"
            )
        # TLS or nothing over TCP
        (data / "pg_hba.conf").write_text(
            "local all all trust\n"
            "hostssl all all 127.0.0.1/32 trust\n"
            "hostnossl all all 127.0.0.1/32 reject\n"
        )
        run(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(top / "server.log"),
            "-w", "-t", "30", "start")  # fmt: skip
        try:
            yield TlsPostgres(port, pki)
        finally:
            run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
    finally:
        shutil.rmtree(top, ignore_errors=True)


def _alerts(n: int) -> list[Alert]:
    t0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
    return [
        Alert(
            id=alert_id("access.canary", f"S{i}", [f"e-{i}"]), detector="access.canary",
            category=Category.MISUSE_OF_SYSTEMS, officer=f"S{i}", time=t0, raised_at=t0,
            severity="critical", score=95, title=f"Canary opened ({i})", explanation="x",
            evidence=[f"e-{i}"], subjects=["P-1"],
        )
        for i in range(n)
    ]  # fmt: skip


def _probity(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    """``probity ARGS`` in a child process given ``settings`` as ``PROBITY_*`` variables."""
    env = {**os.environ, **to_env(settings)}
    return subprocess.run(
        [sys.executable, "-m", "probity", *args], env=env, capture_output=True, text=True,
        timeout=120, check=False,
    )  # fmt: skip


def test_the_store_and_its_cli_connect_with_verify_full(
    tls_postgres: TlsPostgres, tmp_path: Path
) -> None:
    """``probity triage db migrate`` and ``load`` (settings from the environment), then the
    store the service, the sink and the workers share: over TLS, certificate and host name
    checked."""
    s = tls_postgres.settings()
    assert "sslmode=verify-full" in s.store_connect_url
    migrated = _probity(s, "triage", "db", "migrate")
    assert migrated.returncode == 0, migrated.stderr
    alerts = _alerts(3)
    path = tmp_path / "alerts.jsonl"
    path.write_text("".join(a.model_dump_json() + "\n" for a in alerts))
    loaded = _probity(s, "triage", "load", str(path))
    assert loaded.returncode == 0, loaded.stderr

    store = store_from_settings(s)
    try:
        with store.engine.connect() as conn:
            stored = {r[0] for r in conn.execute(text("select id from alerts"))}
            tls = conn.execute(text(
                "select ssl, version from pg_stat_ssl where pid = pg_backend_pid()"
            )).one()  # fmt: skip
        assert store.upsert_alerts(_alerts(4)) == 1  # the sink's write
        assert store.active_suppressions() == []  # what workers read
    finally:
        store.dispose()
    assert stored == {a.id for a in alerts}
    assert tls[0] is True and tls[1] in ("TLSv1.2", "TLSv1.3")


def _refused(settings: Settings) -> str:
    store = store_from_settings(settings)
    try:
        with pytest.raises(Exception) as caught, store.engine.connect():
            pass
    finally:
        store.dispose()
    return str(caught.value)


def test_a_server_certificate_from_another_ca_is_refused(tls_postgres: TlsPostgres) -> None:
    why = _refused(tls_postgres.settings(store_sslrootcert=str(tls_postgres.pki.other_ca)))
    assert "certificate verify failed" in why


def test_a_server_certificate_for_another_host_is_refused(tls_postgres: TlsPostgres) -> None:
    """The server's certificate names 127.0.0.1; dialled as another name (libpq's
    ``hostaddr`` still reaches 127.0.0.1), verify-full refuses it, verify-ca does not."""
    url = tls_postgres.url("db.elsewhere.test", "?hostaddr=127.0.0.1")
    why = _refused(tls_postgres.settings(store_url=url))
    assert "does not match host name" in why
    store = store_from_settings(tls_postgres.settings(store_url=url, store_sslmode="verify-ca"))
    try:
        with store.engine.connect() as conn:
            assert conn.execute(text("select 1")).scalar() == 1
    finally:
        store.dispose()


def test_plaintext_is_refused_by_the_server(tls_postgres: TlsPostgres) -> None:
    why = _refused(tls_postgres.settings(store_sslmode="disable", store_sslrootcert=None))
    assert "no encryption" in why
