"""Fixtures for the intake: a real embedded broker, fresh topics per test, a token file, and
the intake served by uvicorn in a thread (``intake_factory``), always stopped after."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from kafka import KafkaConsumer, TopicPartition
from prometheus_client import CollectorRegistry
from pydantic import SecretStr

from intake.server import RunningIntake
from intake.tokens import TokenStore, tokens_path
from probity.settings import IntakeSettings, Settings, Topics
from streams.broker import EmbeddedBroker, start_broker
from streams.topics import ensure_topics

pytestmark = pytest.mark.broker


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedBroker]:
    b = start_broker(log_dir=tmp_path_factory.mktemp("broker"))
    yield b
    b.stop()


ADMIN = "intake-admin-token"


def with_admin(settings: Settings, token: str = ADMIN) -> Settings:
    """``settings`` with the intake's admin token set to ``token``."""
    intake = settings.intake.model_copy(update={"admin_token": SecretStr(token)})
    return settings.model_copy(update={"intake": intake})


def intake_settings(broker: EmbeddedBroker, tmp_path: Path, **intake: Any) -> Settings:
    """Settings on ``broker`` with run-scoped topics (created), data under ``tmp_path`` and
    the intake on a free port; ``intake`` overrides its settings."""
    run = uuid.uuid4().hex[:8]
    topics = Topics(
        activity=f"t{run}.activity",
        reference=f"t{run}.reference",
        dead_letters=f"t{run}.dead",
        alerts=f"t{run}.alerts",
        edges=f"t{run}.edges",
    )
    s = Settings(
        kafka=broker.url,
        partitions=4,
        data_dir=str(tmp_path),
        topics=topics,
        app_id=f"app-{run}",
        intake=IntakeSettings(port=0, **intake),
    )
    ensure_topics(s, s.bootstrap_servers)
    return s


@pytest.fixture
def settings(broker: EmbeddedBroker, tmp_path: Path) -> Settings:
    return intake_settings(broker, tmp_path)


@pytest.fixture
def token_for(settings: Settings) -> Callable[..., str]:
    """``token_for("athena", format_name=...)``: a new token of that source in the file."""

    def make(source: str, **kwargs: Any) -> str:
        return TokenStore(tokens_path(settings)).create(source, **kwargs)[1]

    return make


@pytest.fixture
def intake_factory() -> Iterator[Callable[..., RunningIntake]]:
    started: list[RunningIntake] = []

    def make(
        settings: Settings, registry: CollectorRegistry | None = None, **kwargs: Any
    ) -> RunningIntake:
        running = RunningIntake(settings, registry, **kwargs).start()
        started.append(running)
        return running

    yield make
    for running in started:
        running.stop()


@pytest.fixture
def contract_event() -> Callable[..., dict[str, Any]]:
    """A valid activity event of source athena: ``contract_event(actor="S1", id=...)``."""
    counter = itertools.count(1)

    def make(**fields: Any) -> dict[str, Any]:
        n = next(counter)
        obj: dict[str, Any] = {
            "id": f"ev-{uuid.uuid4().hex[:8]}-{n}",
            "time": "2026-03-02T09:00:00Z",
            "source": "athena",
            "kind": "record.view",
            "actor": f"S{n % 7}",
            "record": {"type": "person", "id": f"P-{n}"},
        }
        obj.update(fields)
        return obj

    return make


def ndjson(events: list[dict[str, Any]]) -> bytes:
    return b"\n".join(orjson.dumps(e) for e in events) + b"\n"


def read_topic(settings: Settings, topic: str) -> list[tuple[int, bytes | None, bytes]]:
    """Every record of ``topic`` now: (partition, key, value)."""
    consumer = KafkaConsumer(
        bootstrap_servers=settings.bootstrap_servers,
        enable_auto_commit=False,
        consumer_timeout_ms=2000,
    )
    try:
        parts = consumer.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in sorted(parts)]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        ends = consumer.end_offsets(tps)
        out: list[tuple[int, bytes | None, bytes]] = []
        while any(consumer.position(tp) < ends[tp] for tp in tps):
            for tp, records in consumer.poll(timeout_ms=1000).items():
                out += [(tp.partition, r.key, r.value) for r in records]
        return out
    finally:
        consumer.close()


def topic_ids(settings: Settings, topic: str) -> list[str]:
    return [orjson.loads(v)["id"] for _, _, v in read_topic(settings, topic)]
