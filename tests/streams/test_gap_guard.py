"""The worker's guard against records the consumer skips: on the real broker, a batch that
jumps past the next offset expected of its partition (or has holes) gets the missing records
fetched directly, in order."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from kafka import KafkaProducer

from streams.worker import GapGuard

pytestmark = pytest.mark.broker


def _record(topic, partition, offset):
    return SimpleNamespace(topic=topic, partition=partition, offset=offset)


async def test_missing_offsets_are_fetched_in_order(stream_settings):
    s = stream_settings
    producer = KafkaProducer(bootstrap_servers=s.bootstrap_servers, acks="all")
    for i in range(12):
        producer.send(s.topics.activity, value=f"r{i}".encode(), partition=1)
    producer.flush()
    producer.close()
    guard = GapGuard(s)
    topic = s.topics.activity
    try:
        # the first batch after an assignment sets the expectation; 6 and 7 are skipped
        missing = await guard.check([_record(topic, 1, o) for o in (4, 5, 8, 9)])
        [(tp, got)] = missing.items()
        assert (tp.topic, tp.partition) == (topic, 1)
        assert [(rec.offset, raw) for raw, rec in got] == [(6, b"r6"), (7, b"r7")]
        # the next batch jumps: 10 was never delivered
        missing = await guard.check([_record(topic, 1, 11)])
        assert [(rec.offset, raw) for raw, rec in missing[tp]] == [(10, b"r10")]
        assert guard.expected[tp] == 12 and guard.refilled == 3
        # a batch that follows on: nothing to fetch; redeliveries are not "missing"
        assert await guard.check([_record(topic, 1, 12)]) == {}
        assert await guard.check([_record(topic, 1, 3)]) == {}
        guard.reset()  # a rebalance: the consumer starts again from the committed offsets
        assert guard.expected == {}
    finally:
        await guard.stop()
