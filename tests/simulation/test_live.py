"""``probity simulate --live``: the live feed goes through ``streams.ingest`` to a real broker."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from kafka import KafkaConsumer, TopicPartition

from models.events import decode_event
from probity.cli import main
from probity.commands.simulation import publish_live
from probity.settings import Settings, get_settings
from simulation.generator import live_events
from streams.broker import EmbeddedBroker, start_broker
from streams.replay import replay_settings


def test_live_without_a_broker_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PROBITY_KAFKA", raising=False)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(main, ["simulate", "--live", "--count", "5"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2
    assert "PROBITY_KAFKA" in result.output


def test_simulate_without_out_or_live_is_a_usage_error() -> None:
    result = CliRunner().invoke(main, ["simulate", "--staff", "30"])
    assert result.exit_code == 2
    assert "--out" in result.output


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedBroker]:
    b = start_broker(log_dir=tmp_path_factory.mktemp("broker"))
    yield b
    b.stop()


@pytest.mark.broker
def test_live_feed_reaches_the_topics(broker: EmbeddedBroker, tmp_path: Path) -> None:
    settings = replay_settings(Settings(partitions=2, data_dir=str(tmp_path)), broker.url)
    now = [datetime.now(UTC)]

    def clock() -> datetime:
        return now[0]

    def sleep(seconds: float) -> None:  # simulated pacing: the test does not wait
        now[0] += timedelta(seconds=seconds)

    feed = live_events(staff=30, seed=2, rate=100, clock=clock, sleep=sleep)
    summary = publish_live(settings, feed, count=3000)
    assert summary.read == 3000 and summary.invalid_total == 0
    topics = (settings.topics.reference, settings.topics.activity)
    assert set(summary.published) <= set(topics)

    consumer = KafkaConsumer(bootstrap_servers=settings.bootstrap_servers,
                             auto_offset_reset="earliest", enable_auto_commit=False)  # fmt: skip
    try:
        parts = [TopicPartition(t, p) for t in topics for p in range(2)]
        consumer.assign(parts)
        consumer.seek_to_beginning(*parts)
        got: list[bytes] = []
        deadline = time.monotonic() + 20
        while len(got) < 3000 and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=500).values():
                got += [r.value for r in records]
    finally:
        consumer.close()
    assert len(got) == 3000
    events = [decode_event(v) for v in got]
    assert any(e.is_reference for e in events) and any(not e.is_reference for e in events)
    assert set(summary.published) == set(topics)
