"""Fixtures for the ACU queue: a migrated store on SQLite and on the real PostgreSQL, an
alert factory and users of every role."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from models.alerts import Alert, alert_id
from tests.triage.helpers import PASSWORD, enrol_totp
from triage.base import Role, TokenScope, User
from triage.store import Policy, Store

PG_DSN = "postgresql://postgres@127.0.0.1:5432/test"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
POLICY = Policy(acu_staff_ids=frozenset({"S-ACU-7"}), acu_units=frozenset({"acu"}))


def _pg_available() -> bool:
    try:
        with psycopg.connect(PG_DSN, connect_timeout=2):
            return True
    except psycopg.OperationalError:
        return False


@pytest.fixture
def pg_schema() -> Iterator[str]:
    """A fresh schema in the ``test`` database, dropped afterwards."""
    if not _pg_available():
        pytest.fail("PostgreSQL is not reachable at 127.0.0.1:5432 (the tests need it)")
    schema = "triage_" + uuid.uuid4().hex[:12]
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield schema
    finally:
        with psycopg.connect(PG_DSN, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def make_store(kind: str, tmp_path: Any, request: pytest.FixtureRequest, **kw: Any) -> Store:
    if kind == "sqlite":
        store = Store(f"sqlite:///{tmp_path}/queue.db", policy=POLICY, **kw)
    else:
        schema = request.getfixturevalue("pg_schema")
        store = Store(
            PG_URL,
            policy=POLICY,
            engine_kwargs={"connect_args": {"options": f"-csearch_path={schema}"}},
            **kw,
        )
    store.migrate()
    return store


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Store]:
    """A migrated store, once on SQLite and once on PostgreSQL."""
    s = make_store(request.param, tmp_path, request)
    yield s
    s.dispose()


@pytest.fixture
def sqlite_store(tmp_path: Any, request: pytest.FixtureRequest) -> Iterator[Store]:
    s = make_store("sqlite", tmp_path, request)
    yield s
    s.dispose()


@pytest.fixture
def alert_factory() -> Callable[..., Alert]:
    """``alert_factory(officer="S1", score=80, title=...)``: a valid contract alert."""
    counter = itertools.count(1)

    def make(**fields: Any) -> Alert:
        n = next(counter)
        t0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC) + timedelta(minutes=n)
        data: dict[str, Any] = {
            "detector": "access.no_purpose",
            "category": "misuse_of_systems",
            "officer": "S1001",
            "time": t0,
            "raised_at": t0 + timedelta(seconds=1),
            "severity": "high",
            "score": 70.0,
            "title": f"Alert number {n}",
            "explanation": "S1001 viewed P-9003 4 times; no task links them.",
            "evidence": [f"ev-{n}"],
            "subjects": ["P-9003"],
        }
        data.update(fields)
        data.setdefault("id", alert_id(data["detector"], data["officer"], data["evidence"]))
        return Alert.model_validate(data)

    return make


@pytest.fixture
def users(store: Store) -> dict[Role, User]:
    """One active user per role (analyst declares S2002 as an associate, manager S3003)."""
    out = {}
    for role in Role:
        extra: dict[str, Any] = {}
        if role is Role.ANALYST:
            extra = {"line_manager": "S3003", "associates": ["S2002"]}
        out[role] = store.create_user(role.value, PASSWORD, role, f"S-{role.value}", **extra)
    return out


SECRET = "test-secret-key-0123456789abcdef"


@pytest.fixture
def app_env(sqlite_store: Store, alert_factory: Callable[..., Alert]) -> dict[str, Any]:
    """A service over a SQLite store with one user and one API token per role, and alerts:
    ``ordinary`` (S1001, subject P-9003) and ``acu`` (an ACU member's)."""
    return build_app_env(sqlite_store, alert_factory)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_app_env(
    request: pytest.FixtureRequest, tmp_path: Any, alert_factory: Callable[..., Alert]
) -> Iterator[dict[str, Any]]:
    """``app_env`` over SQLite, then over PostgreSQL."""
    store = make_store(request.param, tmp_path, request)
    yield build_app_env(store, alert_factory)
    store.dispose()


def build_app_env(store: Store, alert_factory: Callable[..., Alert]) -> dict[str, Any]:
    from prometheus_client import CollectorRegistry
    from pydantic import SecretStr

    from probity.settings import Settings
    from triage.app import create_app

    users, tokens = {}, {}
    for role in Role:
        extra: dict[str, Any] = {}
        if role is Role.ANALYST:
            extra = {"line_manager": "S3003", "associates": ["S2002"]}
        users[role] = store.create_user(role.value, PASSWORD, role, f"S-{role.value}", **extra)
    for role in Role:
        if role is Role.SERVICE:  # a machine's: an admin issues it, for reading alerts
            tokens[role] = store.create_token(users[role].id, "test", users[Role.ADMIN],
                                              TokenScope.SERVICE)  # fmt: skip
        else:
            tokens[role] = store.create_token(users[role].id, "test", users[role])  # its owner
    ordinary = alert_factory(
        title="Canary record viewed: P-9003",
        path=[{"from": "S1001", "to": "+447700900999", "relation": "called"},
              {"from": "+447700900999", "to": "P-9003", "relation": "phone_of"}],
        facts={"views": 4, "officer_unit": "response-2"},
    )  # fmt: skip
    acu = alert_factory(officer="S5005", facts={"officer_unit": "acu"}, title="ACU member alert")
    store.upsert_alerts([ordinary, acu])
    registry = CollectorRegistry()
    # plain HTTP test client: no Secure cookie (cookie_secure's own test is test_settings)
    settings = Settings(secret_key=SecretStr(SECRET), store_url="sqlite://",
                        triage={"cookie_secure": False})  # fmt: skip
    app = create_app(settings, store, registry=registry)
    # the roles that need a second factor have an authenticator app, as they must to work
    totp = {}
    for role in (Role.ADMIN, Role.HEAD_OF_UNIT):
        totp[role] = enrol_totp(app, store, users[role])
        users[role] = store.get_user(users[role].id)
    return {"app": app, "store": store, "users": users, "tokens": tokens, "totp": totp,
            "ordinary": ordinary, "acu": acu, "registry": registry}  # fmt: skip



@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2 with its production cost makes every login ~0.1 s on a shared CPU; the tests
    check behaviour, not cost, so they use the same algorithm with minimal parameters."""
    from argon2 import PasswordHasher

    import triage.security as sec

    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(sec, "_HASHER", cheap)
    monkeypatch.setattr(sec, "_DUMMY_HASH", cheap.hash("dummy"))
