"""Analysts' feedback reaches the worker, and the queue's own audit trail reaches the events:
a suppression stops the next alert of its scope; reveals and views are published back as
contract events the pipeline processes like any other system's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
import pytest
from kafka import KafkaProducer

from models.events import decode_event
from streams.audit_feed import AuditFeed
from streams.replay import read_topic, unique_alerts, wait_processed
from triage.base import Role, Suppression, User
from triage.store import Store

pytestmark = pytest.mark.broker

SUPERVISOR = User(id=1, username="sup", staff_id="S-SUP", role=Role.SUPERVISOR)
SECOND_SUPERVISOR = User(id=2, username="sup2", staff_id="S-SUP2", role=Role.SUPERVISOR)


def _view(i: int, officer: str, person: str) -> bytes:
    return orjson.dumps({
        "id": f"v{i}", "time": f"2026-03-02T09:{i:02d}:00Z", "source": "athena",
        "kind": "record.view", "actor": officer,
        "record": {"type": "person", "id": person}})  # fmt: skip


def test_worker_honours_a_suppression_from_the_queue(stream_settings, worker_factory, tmp_path):
    store = Store(f"sqlite:///{tmp_path}/queue.db")
    store.migrate()
    created = store.create_suppression(
        Suppression(detector="access.canary", officer="S1", reason="canary tests run by IT",
                    expires_at=datetime.now(UTC) + timedelta(days=30), created_by="sup",
                    created_at=datetime.now(UTC)),
        SUPERVISOR,
    )  # fmt: skip
    store.approve_suppression(created.id, SECOND_SUPERVISOR)  # four eyes: now in force
    s = stream_settings.model_copy(update={
        "honour_suppressions": True, "store_url": f"sqlite:///{tmp_path}/queue.db"})  # fmt: skip
    producer = KafkaProducer(bootstrap_servers=s.bootstrap_servers, acks="all")
    offsets: dict = {}

    def send(topic, key, value):
        meta = producer.send(topic, key=key, value=value).get(timeout=10)
        offsets[(meta.topic, meta.partition)] = max(
            offsets.get((meta.topic, meta.partition), 0), meta.offset + 1
        )

    send(s.topics.reference, b"P-C", orjson.dumps({
        "id": "w", "time": "2026-03-01T00:00:00Z", "source": "intel", "kind": "watchlist.upsert",
        "attrs": {"list": "canary", "person": "P-C"}}))  # fmt: skip
    send(s.topics.activity, b"S1", _view(1, "S1", "P-C"))  # suppressed: S1's canary tests
    send(s.topics.activity, b"S2", _view(2, "S2", "P-C"))  # not suppressed
    producer.flush()
    worker = worker_factory(s)
    worker.start()
    wait_processed(s, offsets, worker, timeout_s=120)
    canary = [a for a in unique_alerts(read_topic(s, s.topics.alerts))
              if a["detector"] == "access.canary"]  # fmt: skip
    assert [a["officer"] for a in canary] == ["S2"]


def test_audit_trail_is_published_as_events(stream_settings, tmp_path):
    store = Store(f"sqlite:///{tmp_path}/queue.db")
    store.migrate()
    store.record(SUPERVISOR, "alert.viewed", {"alert": "a-1"})
    store.record(SUPERVISOR, "queue.searched", {"filters": {"status": "new"}})
    s = stream_settings.model_copy(update={"data_dir": str(tmp_path)})
    feed = AuditFeed(s, store)
    producer = KafkaProducer(bootstrap_servers=s.bootstrap_servers, acks="all")
    assert feed.publish_once(producer) == 2
    assert feed.publish_once(producer) == 0  # the cursor moved on
    store.record(SUPERVISOR, "alert.viewed", {"alert": "a-2"})
    assert AuditFeed(s, store).publish_once(producer) == 1  # a restart resumes, no repeats
    producer.close()
    events = [decode_event(v) for v in read_topic(s, s.topics.activity)]
    assert len(events) == 3
    assert {e.source for e in events} == {"triage"} and {e.actor for e in events} == {"S-SUP"}
    assert len({e.id for e in events}) == 3
