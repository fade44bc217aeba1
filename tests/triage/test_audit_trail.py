"""An audit trail a database administrator cannot rewrite (issue 19), the review's own
steps on SQLite and PostgreSQL: reveals deleted and the chain re-hashed, the log truncated,
an older copy restored; on PostgreSQL the runtime role's grants and the TRUNCATE trigger."""

from __future__ import annotations

import hashlib
import shutil
import uuid
from pathlib import Path
from typing import Any

import psycopg
import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import text

from tests.triage.conftest import PG_DSN, PG_URL, POLICY, make_store
from tests.triage.test_cli import run
from triage import audit as chain
from triage.base import Role, User
from triage.exceptions import AuditChainBroken, TriageError
from triage.grants import runtime_role_sql, working_tables
from triage.metrics import QueueMetrics
from triage.store import Store
from triage.tables import Base

KEY = b"an audit key the DBA does not hold"
WHO = User(id=0, username="ana", staff_id="S-ANA", role=Role.ANALYST)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def keyed(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    store = make_store(request.param, tmp_path, request, audit_key=KEY)
    yield store
    store.dispose()


def _reveals(store: Store, n: int = 5) -> None:
    for i in range(n):
        store.record(WHO, "subject.revealed", {"subject": f"P-{i}", "reason": "looking"})


def _sql(store: Store, *statements: str) -> None:
    """As the database's administrator (the tables' owner): triggers off on PostgreSQL."""
    with store.engine.begin() as conn:
        pg = store.engine.dialect.name == "postgresql"
        if pg:
            conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
        for statement in statements:
            conn.execute(text(statement))
        if pg:
            conn.execute(text("ALTER TABLE audit_log ENABLE TRIGGER USER"))


def _rehash_without_the_key(store: Store, *, forget_keying: bool) -> None:
    """What the review did: re-hash every row after a deletion so the chain links again."""
    entries = store.audit_entries()
    prev = chain.GENESIS
    with store.engine.begin() as conn:
        if store.engine.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
        conn.execute(text("DELETE FROM audit_log"))
        for seq, e in enumerate(entries, start=1):
            content = chain.canonical(seq, e.at, e.username, e.staff_id, e.action, e.alert_id,
                                      e.detail)  # fmt: skip
            digest = hashlib.sha256(prev.encode() + content).hexdigest()
            conn.execute(
                text("INSERT INTO audit_log (seq, at, username, staff_id, action, alert_id, "
                     "detail, prev_hash, hash) VALUES (:seq, :at, :u, :s, :a, :al, :d, :p, :h)"),
                {"seq": seq, "at": e.at if store.engine.dialect.name == "postgresql"
                 else e.at.replace(tzinfo=None), "u": e.username, "s": e.staff_id,
                 "a": e.action, "al": e.alert_id, "d": chain.orjson.dumps(e.detail).decode(),
                 "p": prev, "h": digest},
            )  # fmt: skip
            prev = digest
        keyed = ", keyed_from = NULL" if forget_keying else ""
        conn.execute(text(f"UPDATE audit_head SET seq = :n, hash = :h{keyed}"),
                     {"n": len(entries), "h": prev})  # fmt: skip
        if store.engine.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_log ENABLE TRIGGER USER"))


def test_rows_are_hmacs_under_the_audit_key(keyed: Store):
    _reveals(keyed, 2)
    [first, _] = keyed.audit_entries()
    content = chain.canonical(1, first.at, "ana", "S-ANA", first.action, None, first.detail)
    assert first.hash == chain.chain_hash(chain.GENESIS, content, KEY)
    assert first.hash != chain.chain_hash(chain.GENESIS, content)
    assert keyed.verify_audit() == 2
    # without the key the keyed rows cannot be verified, let alone forged
    keyless = Store(str(keyed.engine.url.render_as_string(hide_password=False)), policy=POLICY,
                    engine_kwargs=_same_schema(keyed))  # fmt: skip
    with pytest.raises(AuditChainBroken, match="needs the audit key"):
        keyless.verify_audit()
    with pytest.raises(TriageError, match="keyed"):
        keyless.record(WHO, "alert.viewed")  # nor extended with unkeyed rows
    keyless.dispose()


def _same_schema(store: Store) -> dict[str, Any]:
    if store.engine.dialect.name != "postgresql":
        return {}
    with store.engine.connect() as conn:
        current = conn.execute(text("SELECT current_schema()")).scalar_one()
    return {"connect_args": {"options": f"-csearch_path={current}"}}


def test_deleting_reveals_and_rehashing_is_caught(keyed: Store, tmp_path: Path):
    _reveals(keyed)
    _sql(keyed, "DELETE FROM audit_log WHERE seq IN (2, 3)")
    _rehash_without_the_key(keyed, forget_keying=False)
    with pytest.raises(AuditChainBroken) as err:
        keyed.verify_audit()
    assert err.value.seq == 1  # every row fails its HMAC


def test_rewrite_as_an_unkeyed_chain_is_caught_by_the_checkpoint(keyed: Store, tmp_path: Path):
    """Clearing where keying began and re-hashing everything as plain SHA-256 gives a chain
    that verifies on its own: the signed checkpoint outside the database catches it."""
    checkpoints = tmp_path / "checkpoints"
    _reveals(keyed)
    keyed.write_checkpoint(checkpoints)
    _sql(keyed, "DELETE FROM audit_log WHERE seq IN (2, 3)")
    _rehash_without_the_key(keyed, forget_keying=True)
    assert keyed.verify_audit() == 3  # the database alone is fooled
    with pytest.raises(AuditChainBroken, match=r"truncated|rewritten"):
        keyed.verify_audit(checkpoints)


def test_truncation_is_caught_by_the_checkpoint(keyed: Store, tmp_path: Path):
    checkpoints = tmp_path / "checkpoints"
    _reveals(keyed)
    cp, path = keyed.write_checkpoint(checkpoints)
    assert (cp.seq, cp.count, path.parent) == (5, 5, checkpoints)
    assert keyed.verify_audit(checkpoints) == 5
    _reveals(keyed, 1)  # later rows are fine
    assert keyed.verify_audit(checkpoints) == 6
    # cut the tail and set the head back: the chain itself still links
    with keyed.engine.connect() as conn:
        head3 = conn.execute(text("SELECT hash FROM audit_log WHERE seq = 3")).scalar_one()
    _sql(keyed, "DELETE FROM audit_log WHERE seq > 3",
         f"UPDATE audit_head SET seq = 3, hash = '{head3}'")  # fmt: skip
    assert keyed.verify_audit() == 3
    with pytest.raises(AuditChainBroken, match="truncated, or an older copy restored"):
        keyed.verify_audit(checkpoints)


def test_a_restored_older_copy_is_caught(tmp_path: Path):
    url = f"sqlite:///{tmp_path}/queue.db"
    checkpoints = tmp_path / "checkpoints"
    store = Store(url, policy=POLICY, audit_key=KEY)
    store.migrate()
    _reveals(store, 3)
    store.dispose()
    shutil.copy(tmp_path / "queue.db", tmp_path / "backup.db")
    store = Store(url, policy=POLICY, audit_key=KEY)
    _reveals(store, 3)
    store.write_checkpoint(checkpoints)
    store.dispose()
    shutil.copy(tmp_path / "backup.db", tmp_path / "queue.db")  # the 3 later reveals vanish
    store = Store(url, policy=POLICY, audit_key=KEY)
    assert store.verify_audit() == 3
    with pytest.raises(AuditChainBroken, match="older copy"):
        store.verify_audit(checkpoints)
    _reveals(store, 4)  # and writing past the checkpoint's length does not hide it
    with pytest.raises(AuditChainBroken, match="rewritten"):
        store.verify_audit(checkpoints)
    store.dispose()


def test_a_forged_checkpoint_is_refused(keyed: Store, tmp_path: Path):
    checkpoints = tmp_path / "checkpoints"
    _reveals(keyed, 2)
    _, path = keyed.write_checkpoint(checkpoints)
    path.write_text(path.read_text().replace('"seq": 2', '"seq": 1'))
    with pytest.raises(AuditChainBroken, match="not signed"):
        keyed.verify_audit(checkpoints)


def test_checkpoints_need_the_key(sqlite_store: Store, tmp_path: Path):
    with pytest.raises(TriageError, match="audit key"):
        sqlite_store.write_checkpoint(tmp_path)


def test_an_unkeyed_store_keys_from_its_next_row(sqlite_store: Store, tmp_path: Path):
    """A store from before the keyed chain: its rows stay SHA-256, the next are HMACs."""
    _reveals(sqlite_store, 2)
    url = sqlite_store.engine.url.render_as_string(hide_password=False)
    upgraded = Store(url, policy=POLICY, audit_key=KEY)
    _reveals(upgraded, 2)
    assert upgraded.verify_audit() == 4
    with upgraded.engine.connect() as conn:
        assert conn.execute(text("SELECT keyed_from FROM audit_head")).scalar_one() == 3
    upgraded.dispose()


def test_the_verification_metric(keyed: Store, tmp_path: Path):
    registry = CollectorRegistry()
    metrics = QueueMetrics(registry, keyed, checkpoint_dir=tmp_path, audit_verify_interval_s=0)
    _reveals(keyed, 2)
    keyed.write_checkpoint(tmp_path)
    metrics.refresh()
    assert registry.get_sample_value("probity_queue_audit_chain_ok") == 1
    assert registry.get_sample_value("probity_queue_audit_rows") == 2
    taken = keyed.latest_checkpoint(tmp_path)
    assert taken is not None
    assert registry.get_sample_value(
        "probity_queue_audit_checkpoint_timestamp_seconds") == taken.at.timestamp()  # fmt: skip
    _sql(keyed, "UPDATE audit_log SET username = 'someone' WHERE seq = 1")
    metrics.refresh()
    assert registry.get_sample_value("probity_queue_audit_chain_ok") == 0
    assert registry.get_sample_value("probity_queue_audit_verified_timestamp_seconds") > 0


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_checkpoint_and_verify_commands(kind: str, tmp_path: Path, request):
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path}/queue.db"
    else:
        schema = request.getfixturevalue("pg_schema")
        url = f"{PG_URL}?options=-csearch_path%3D{schema}"
    env = {"PROBITY_TRIAGE__AUDIT_KEY": KEY.decode(),
           "PROBITY_TRIAGE__AUDIT_CHECKPOINT_DIR": str(tmp_path / "cp")}  # fmt: skip
    assert (
        run(
            ["create-admin", "--username", "root", "--staff-id", "S-IT-1", "--password-stdin"],
            url,
            "a long enough passphrase\n",
            env,
        ).returncode
        == 0
    )
    first = run(["audit", "verify"], url, env_extra=env)
    assert first.returncode == 0 and "no checkpoint" in first.stderr
    made = run(["audit", "checkpoint"], url, env_extra=env)
    assert made.returncode == 0 and "checkpoint of row 1" in made.stdout, made.stderr
    ok = run(["audit", "verify"], url, env_extra=env)
    assert ok.returncode == 0 and "matches the checkpoint" in ok.stdout, ok.stderr
    store = Store(url, audit_key=KEY)
    _sql(store, "DELETE FROM audit_log", "UPDATE audit_head SET seq = 0, hash = :genesis"
         .replace(":genesis", f"'{chain.GENESIS}'"))  # fmt: skip
    store.dispose()
    bad = run(["audit", "verify"], url, env_extra=env)
    assert bad.returncode == 1 and "truncated" in bad.stderr
    again = run(["audit", "checkpoint"], url, env_extra=env)
    assert again.returncode == 1 and "no checkpoint written" in again.stderr


# ------------------------------------------------------------------ PostgreSQL roles
@pytest.mark.postgres
def test_the_owner_cannot_truncate_the_log(keyed_pg: Store):
    _reveals(keyed_pg, 1)
    with pytest.raises(Exception, match="append-only"), keyed_pg.engine.begin() as conn:
        conn.execute(text("TRUNCATE audit_log"))
    assert keyed_pg.verify_audit() == 1


@pytest.fixture
def keyed_pg(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    store = make_store("postgres", tmp_path, request, audit_key=KEY)
    yield store
    store.dispose()


def test_the_runtime_role_is_granted_every_table_but_the_evidence():
    """Taken from the schema, so the case tables (added after the grants were written) are
    the runtime's too; the audit log and its head never."""
    tables = set(working_tables())
    assert {"alerts", "cases", "case_alerts", "case_notes", "case_tasks", "users"} <= tables
    assert not tables & {"audit_log", "audit_head"}
    assert tables == set(Base.metadata.tables) - {"audit_log", "audit_head"}


@pytest.mark.postgres
def test_the_runtime_role_may_only_insert_and_select_the_log(keyed_pg: Store):
    """The documented grants, run as the owner; then the service's role appends and reads,
    and cannot UPDATE, DELETE, TRUNCATE or disable the triggers."""
    role = "probity_app_" + uuid.uuid4().hex[:8]
    schema = _same_schema(keyed_pg)["connect_args"]["options"].split("=", 1)[1]
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN")
        conn.execute(f'SET search_path TO "{schema}"')
        conn.execute(runtime_role_sql(role))
    runtime = Store(f"postgresql+psycopg://{role}@127.0.0.1:5432/test", policy=POLICY,
                    audit_key=KEY, engine_kwargs=_same_schema(keyed_pg))  # fmt: skip
    try:
        runtime.migrate()  # at head already: a no-op the runtime role may run
        runtime.create_user("ana", "correct horse battery staple", Role.ANALYST, "S-ANA")
        _reveals(runtime, 2)
        assert runtime.verify_audit() == 3
        refused = (
            "UPDATE audit_log SET username = 'x'",
            "DELETE FROM audit_log",
            "TRUNCATE audit_log",
            "ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only",
        )
        for statement in refused:
            with (
                pytest.raises(Exception, match=r"permission denied|must be owner"),
                runtime.engine.begin() as conn,
            ):
                conn.execute(text(statement))
        assert runtime.verify_audit() == 3
    finally:
        runtime.dispose()
        with psycopg.connect(PG_DSN, autocommit=True) as conn:
            conn.execute(f"DROP OWNED BY {role}")
            conn.execute(f"DROP ROLE {role}")
