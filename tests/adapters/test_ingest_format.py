"""``probity ingest --format``: a format's file converted and published on the real
embedded broker: events on the activity topic keyed by their actor, every reject on the
dead-letter topic with its reason, file, line and the bytes read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from kafka import KafkaConsumer, TopicPartition

from adapters import create
from models.deadletters import DeadLetter
from probity.settings import Settings
from streams.broker import start_broker
from streams.ingest import ingest_paths
from streams.replay import replay_settings
from streams.topics import ensure_topics
from tests.adapters.conftest import DATA

pytestmark = pytest.mark.broker


def _read(bootstrap: str, topic: str) -> list[tuple[bytes | None, bytes]]:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, consumer_timeout_ms=2000)
    tps = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
    consumer.assign(tps)
    consumer.seek_to_beginning(*tps)
    out = [(rec.key, rec.value) for rec in consumer]
    consumer.close()
    return out


def test_ingest_with_a_format_publishes_events_and_dead_letters_rejects(tmp_path: Path):
    source = DATA / "m365" / "audit.jsonl"
    broker = start_broker(log_dir=tmp_path)
    try:
        s = replay_settings(Settings(data_dir=str(tmp_path)), broker.url)
        ensure_topics(s, s.bootstrap_servers)
        summary = ingest_paths(s, s.bootstrap_servers, [str(source)], adapter=create("m365"))
        activity = _read(s.bootstrap_servers, s.topics.activity)
        dead = _read(s.bootstrap_servers, s.topics.dead_letters)
    finally:
        broker.stop()
    assert summary.published[s.topics.activity] == 12 and summary.invalid_total == 5
    assert not summary.failed
    expected = [json.loads(x) for x in (DATA / "m365" / "audit.expected.jsonl").open()]
    got = {json.loads(value)["id"]: (key, json.loads(value)) for key, value in activity}
    assert {e["id"]: (e["actor"].encode(), e) for e in expected} == got
    lines = source.read_bytes().splitlines()
    letters = [DeadLetter.model_validate_json(value) for _, value in dead]
    assert len(letters) == 5
    for letter in letters:
        assert letter.origin.file == str(source) and letter.origin.line is not None
        assert letter.original_bytes == lines[letter.origin.line - 1]  # byte for byte
        assert ": " in letter.reason
