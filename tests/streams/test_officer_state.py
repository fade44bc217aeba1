"""The worker's officer state on the real broker: written to its own changelog on the
officer's partition, read back per partition when assigned, forgotten when revoked; bytes in
memory with a bounded decoded cache."""

from __future__ import annotations

import asyncio

import orjson
import pytest
from aiokafka import AIOKafkaProducer

from engine.codec import unpack_state
from streams.officer_state import OfficerStore
from streams.topics import officer_changelog

pytestmark = pytest.mark.broker


async def test_state_round_trips_through_the_changelog_per_partition(stream_settings):
    s = stream_settings
    topic = officer_changelog(s)
    producer = AIOKafkaProducer(bootstrap_servers=s.bootstrap_servers, acks="all")
    await producer.start()

    async def send(topic: str, key: bytes, value: bytes, partition: int) -> asyncio.Future:
        return await producer.send(topic, value, key=key, partition=partition)

    try:
        first = OfficerStore(topic, s.bootstrap_servers, cache_size=16)
        await first.ready([0, 1, 2, 3])  # an empty changelog loads at once
        touched = {}
        for i in range(40):
            officer = f"S{i}"
            first[officer] = {"_seen": [f"e{i}"]}
            touched[officer] = i % 4
        await asyncio.gather(*await first.send(first.pack(touched), send))  # one checkpoint
        # half the cache is kept decoded after a checkpoint, least recently active dropped
        assert len(first.cache) == 8 and len(first.data) == 40
        assert next(iter(first.cache)) == "S32" and not first.full()
        # an evicted officer's state comes back from its bytes, unchanged
        assert first.get("S3") == {"_seen": ["e3"]}
        assert len(first) == 40 and "S0" in first and "S99" not in first
        # the next checkpoint touches S3 only: the idle officers are kept as bytes alone
        await asyncio.gather(*await first.send(first.pack({"S3": 3}), send))
        assert list(first.cache) == ["S3"] and len(first.data) == 40

        # another worker is given partitions 1 and 3: it has their officers, only them
        second = OfficerStore(topic, s.bootstrap_servers)
        second.assign([1, 3])
        await second.ready([1, 3])
        assert set(second.data) == {f"S{i}" for i in range(40) if i % 4 in (1, 3)}
        assert unpack_state(second.data["S3"]) == {"_seen": ["e3"]}
        assert second.loaded() == {1, 3}
        # revoked: forgotten, and read again (with what others wrote since) when back
        second.revoke([3])
        assert "S3" not in second and second.loaded() == {1}
        first["S3"] = {"_seen": ["e3", "e99"]}
        await asyncio.gather(*await first.send(first.pack({"S3": 3}), send))
        await second.ready([3])
        assert second.get("S3") == {"_seen": ["e3", "e99"]}

        # a record an older version wrote (plain JSON, before compression) still loads
        old = {"_seen": ["e7"], "access.off_duty": {"last_on": 1.0}}
        await (await send(topic, b"S7", orjson.dumps(old), 3))
        third = OfficerStore(topic, s.bootstrap_servers)
        await third.ready([3])
        assert third.get("S7") == old
    finally:
        await producer.stop()
