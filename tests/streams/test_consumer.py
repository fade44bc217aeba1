"""The event consumer's checkpoints on the real broker: the next batches are judged while a
checkpoint is made safe, and a checkpoint that fails commits nothing of its own and stops
the consumer."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from streams.consumer import GroupConsumer
from streams.replay import committed_offsets

pytestmark = pytest.mark.broker


async def _nothing(_tps: Any) -> None:
    return None


def test_a_failed_checkpoint_commits_nothing_of_its_own_and_stops_the_consumer(
    stream_settings,
) -> None:
    s = stream_settings.model_copy(update={"batch_size": 5, "commit_interval_s": 0.1})
    judged: list[int] = []  # offsets, in the order handed over
    during_first: list[int] = []  # judged while the first checkpoint was being made safe
    cut: list[int] = []  # how many records each checkpoint covered
    first_in_flight = asyncio.Event()

    async def handle(records: Any, reference: bool) -> None:
        await asyncio.sleep(0.02)  # judging takes time, and turns the loop
        judged.extend(r.offset for r in records)
        if first_in_flight.is_set():
            during_first.extend(r.offset for r in records)

    async def slow_then_safe() -> None:
        first_in_flight.set()
        await asyncio.sleep(0.5)
        first_in_flight.clear()

    async def fails() -> None:
        raise RuntimeError("the broker never acknowledged the alerts")

    async def checkpoint() -> Awaitable[None]:
        cut.append(len(judged))
        return slow_then_safe() if len(cut) == 1 else fails()

    async def main() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=s.bootstrap_servers)
        await producer.start()
        try:
            for i in range(40):
                await producer.send(s.topics.activity, f"e{i}".encode(), b"S1", partition=0)
            await producer.flush()
        finally:
            await producer.stop()
        consumer = GroupConsumer(s, on_assigned=_nothing, on_revoked=_nothing)
        with pytest.raises(RuntimeError, match="never acknowledged"):
            await asyncio.wait_for(consumer.run(handle, checkpoint), 60)

    asyncio.run(main())
    assert during_first, "no batch was judged while the first checkpoint was made safe"
    assert judged[: cut[0]] == list(range(cut[0]))
    # the first checkpoint's offsets only: the failed one's batches will be judged again
    tp = (s.topics.activity, 0)
    assert committed_offsets(s, [tp]) == {tp: cut[0]}
    assert 0 < cut[0] < cut[1] <= 40
