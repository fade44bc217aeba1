"""The worker on the real broker: bad bytes straight onto its topics are dead-lettered with
their position, misrouted events are routed on, and the worker keeps going."""

from __future__ import annotations

import json

import pytest
from kafka import KafkaProducer

from models.deadletters import load_dead_letter
from streams.ingest import ingest_paths
from streams.replay import read_topic, unique_alerts, wait_processed

pytestmark = pytest.mark.broker

CANARY = (
    b'{"id":"w1","time":"2026-03-01T06:00:00Z","source":"intel","kind":"watchlist.upsert",'
    b'"attrs":{"list":"canary","person":"P-9"}}'
)
VIEW = (
    b'{"id":"v1","time":"2026-03-02T09:00:00Z","source":"athena","kind":"record.view",'
    b'"actor":"S7","record":{"type":"person","id":"P-9"}}'
)


def test_garbage_on_the_topics_goes_to_dead_letters_and_processing_goes_on(
    stream_settings, worker_factory, tmp_path
):
    s = stream_settings
    producer = KafkaProducer(bootstrap_servers=s.bootstrap_servers, acks="all")
    offsets = {}

    def send(topic, key, value):
        meta = producer.send(topic, key=key, value=value).get(timeout=10)
        tp = (meta.topic, meta.partition)
        offsets[tp] = max(offsets.get(tp, 0), meta.offset + 1)
        return meta

    bad = [
        b"\xff\xfe not utf-8",
        b"{",
        b'{"id":"x","time":"nope","source":"a","kind":"k"}',
        b"[" * 5000,
        b'"' + b"A" * 200_000 + b'"',
    ]
    bad_meta = [send(s.topics.activity, b"S7", raw) for raw in bad]
    send(s.topics.reference, b"P-9", CANARY)
    send(s.topics.activity, b"S7", VIEW)
    # a reference event published to the activity topic is routed on, not lost
    send(s.topics.activity, b"S8", CANARY.replace(b'"w1"', b'"w2"').replace(b"P-9", b"P-10"))
    send(
        s.topics.activity,
        b"S8",
        VIEW.replace(b'"v1"', b'"v2"')
        .replace(b"P-9", b"P-10")
        .replace(b'"S7"', b'"S8"')
        .replace(b"09:00", b"10:00"),
    )
    producer.flush()

    worker = worker_factory(s)
    worker.start()
    wait_processed(s, offsets, worker, timeout_s=120)

    dead = [load_dead_letter(v) for v in read_topic(s, s.topics.dead_letters)]
    assert len(dead) == len(bad)
    by_offset = {(d.origin.partition, d.origin.offset): d for d in dead}
    for raw, meta in zip(bad, bad_meta, strict=True):
        d = by_offset[(meta.partition, meta.offset)]
        assert d.origin.topic == s.topics.activity
        assert d.original_bytes == raw
        assert d.reason
    assert worker.alive()

    import time

    deadline = time.monotonic() + 30
    alerts = []
    while time.monotonic() < deadline:
        alerts = unique_alerts(read_topic(s, s.topics.alerts))
        if len([a for a in alerts if a["detector"] == "access.canary"]) >= 2:
            break
        time.sleep(0.5)
    canary = {
        (a["officer"], tuple(a["evidence"])) for a in alerts if a["detector"] == "access.canary"
    }
    assert canary == {("S7", ("v1",)), ("S8", ("v2",))}


def test_ingest_keys_and_topics(stream_settings, contract_examples):
    from kafka import KafkaConsumer, TopicPartition

    s = stream_settings
    summary = ingest_paths(s, s.bootstrap_servers, [str(contract_examples / "valid.jsonl")])
    assert summary.read == 30 and summary.invalid_total == 0
    assert summary.published[s.topics.reference] == 15
    assert summary.published[s.topics.activity] == 15
    consumer = KafkaConsumer(bootstrap_servers=s.bootstrap_servers, consumer_timeout_ms=2000)
    keys = {}
    for topic in (s.topics.activity, s.topics.reference):
        tps = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        for rec in consumer:
            keys[json.loads(rec.value)["id"]] = (topic, rec.key)
    consumer.close()
    assert keys["ath-4"] == (s.topics.activity, b"S1001")
    assert keys["int-3"] == (s.topics.reference, b"P-9003")
    assert keys["vet-2"] == (s.topics.reference, b"Jonathan Smyth|1983-07-02")
    assert keys["tsk-1"] == (s.topics.reference, b"INC-2026-0042")
    assert keys["hr-1"] == (s.topics.reference, b"S1001")
    assert keys["x-1"] == (s.topics.activity, b"S1001")
