"""Ingest against a broker that goes away: what it did not take is counted and said, never
reported as published and forgotten."""

from __future__ import annotations

from pathlib import Path

import pytest

from models.deadletters import Origin
from probity.settings import Settings
from streams.broker import start_broker
from streams.ingest import Ingestor, make_producer
from streams.replay import replay_settings
from streams.topics import ensure_topics

pytestmark = pytest.mark.broker

LINE = (
    b'{"id":"a1","time":"2026-03-02T09:00:00Z","source":"athena","kind":"record.view",'
    b'"actor":"S1","record":{"type":"person","id":"P1"}}'
)


def test_records_the_broker_never_took_are_counted_and_reported(tmp_path: Path) -> None:
    broker = start_broker(log_dir=tmp_path)  # its own: this test stops it
    try:
        s = replay_settings(Settings(data_dir=str(tmp_path)), broker.url)
        ensure_topics(s, s.bootstrap_servers)
        producer = make_producer(s, config={"message.timeout.ms": 3000})
        ingestor = Ingestor(s, producer)
        ingestor.publish_line(LINE, Origin(file="f", line=1))
        producer.flush()
        broker.stop()
        ingestor.publish_line(LINE.replace(b"a1", b"a2"), Origin(file="f", line=2))
        summary = ingestor.flush()
        producer.close(timeout_s=1)
    finally:
        broker.stop()
    assert summary.read == 2
    assert summary.failed == {f"{s.topics.activity}: _MSG_TIMED_OUT": 1}
    assert len(summary.end_offsets) == 1  # the first record's partition only
    assert any("NOT ACCEPTED by the broker: 1" in line for line in summary.lines())
