"""The worker's guard against records the consumer skips: on the real broker, a batch that
starts past the group's committed offset (or has holes) gets the missing records fetched
directly, in order, and faust is told the range is done."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from faust.types import TP
from kafka import KafkaProducer

from streams.worker import GapGuard, _runs

pytestmark = pytest.mark.broker


class _FaustConsumer:
    """Records what the guard tells faust (the real one is faust's consumer)."""

    def __init__(self) -> None:
        self.gaps: list[tuple[int, int]] = []
        self._committed_offset: dict = {}  # faust's view of the group's commits

    async def _add_gap(self, tp, start, end):  # faust's own signature
        self.gaps.append((start, end))


def _event(tp, offset):
    return SimpleNamespace(message=SimpleNamespace(tp=tp, offset=offset))


async def test_missing_offsets_are_fetched_in_order_and_reported(stream_settings):
    s = stream_settings
    producer = KafkaProducer(bootstrap_servers=s.bootstrap_servers, acks="all")
    for i in range(12):
        producer.send(s.topics.activity, value=f"r{i}".encode(), partition=1)
    producer.flush()
    producer.close()
    tp = TP(s.topics.activity, 1)
    consumer = _FaustConsumer()
    guard = GapGuard(s, SimpleNamespace(consumer=consumer))
    try:
        # nothing committed yet: the first batch starts at 4 and skips 6 and 7
        batch = [_event(tp, o) for o in (4, 5, 8, 9)]
        missing = await guard.check(batch)
        got = [(rec.offset, raw) for raw, rec in missing[tp]]
        assert got == [(0, b"r0"), (1, b"r1"), (2, b"r2"), (3, b"r3"), (6, b"r6"), (7, b"r7")]
        assert consumer.gaps == [(0, 3), (6, 7)]
        assert guard.expected[tp] == 10 and guard.refilled == 6
        # the next batch follows on: nothing to fetch
        assert await guard.check([_event(tp, 10), _event(tp, 11)]) == {}
        # a rebalance forgets what was expected; redelivered records are not "missing"
        guard.reset()
        assert guard.expected == {}
    finally:
        await guard.stop()


def test_runs():
    assert _runs([1, 2, 3, 7, 8, 10]) == [(1, 3), (7, 8), (10, 10)]
    assert _runs([]) == []


class _StalledApp:
    """faust's assignment and consumer as the watchdog sees them: one partition, records up
    to offset 12 fetched, nothing committed by the group."""

    def __init__(self, tp) -> None:
        self.tp = tp
        self.seeks: list[tuple[object, int]] = []
        self.assignor = SimpleNamespace(assigned_actives=lambda: {tp})
        self.consumer = SimpleNamespace(highwater=lambda _tp: 12, seek=self._seek,
                                        _committed_offset={}, resume_flow=lambda: None,
                                        resume_partitions=lambda tps: None)  # fmt: skip

    async def _seek(self, tp, offset):
        self.seeks.append((tp, offset))


async def test_a_partition_whose_commits_stand_still_is_read_again(stream_settings):
    s = stream_settings
    tp = TP(s.topics.activity, 2)
    app = _StalledApp(tp)
    guard = GapGuard(s, app)
    try:
        topics = (s.topics.activity,)
        assert await guard.watch(topics, stall_s=3600) == 0  # first look: remembered only
        assert await guard.watch(topics, stall_s=3600) == 0  # not long enough yet
        assert await guard.watch(topics, stall_s=0) == 1  # stalled: read again from 0
        assert app.seeks == [(tp, 0)]
        assert await guard.watch(("other.topic",), stall_s=0) == 0  # only our topics
    finally:
        await guard.stop()
