"""The worker's consumer of the event topics: batches straight from aiokafka fetches.

Why not faust's agents for these topics: faust-streaming 0.15 hands every record through its
consumer thread, conductor and stream queues (a task per record), which cost as much as the
detectors; and its rebalance path paused partitions, dropped fetched records and committed
past them (its issues #596 and #606). Here one aiokafka consumer in the group ``app_id``
fetches a batch, the worker judges it, and only then are the batch's offsets committed; a
rebalance waits for the batch in hand (its alerts and state written, its offsets committed)
before partitions are given up.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import KafkaError

from probity.settings import Settings

log = logging.getLogger(__name__)

#: judges one batch of one topic's records: (records, reference?) -> done when all is sent
Handler = Callable[[Sequence[Any], bool], Awaitable[None]]
#: told of partitions given or taken away (topic, partition) pairs
Rebalanced = Callable[[set[TopicPartition]], Awaitable[None]]


class GroupConsumer:
    """One consumer group member over the activity and reference topics."""

    def __init__(self, settings: Settings, *, on_assigned: Rebalanced,
                 on_revoked: Rebalanced) -> None:  # fmt: skip
        self.settings = settings
        self.on_assigned = on_assigned
        self.on_revoked = on_revoked
        self.batch_lock = asyncio.Lock()  # held while a batch is judged and committed
        self.committed: dict[TopicPartition, int] = {}
        self.assigned: set[TopicPartition] = set()  # between a revoke and an assignment: none
        self.consumer: AIOKafkaConsumer | None = None
        self.batches = 0

    def _client(self) -> AIOKafkaConsumer:
        s = self.settings
        embedded = s.mode == "embedded" or s.kafka is None
        timeouts: dict[str, int] = {}
        if embedded:
            # Tansu holds a JoinGroup for the rebalance timeout: keep it short on the embedded
            # broker (never in production, where Kafka's defaults are right)
            timeouts = {"rebalance_timeout_ms": 3000, "session_timeout_ms": 6000,
                        "heartbeat_interval_ms": 1000}  # fmt: skip
        return AIOKafkaConsumer(
            bootstrap_servers=s.bootstrap_servers, group_id=s.app_id,
            client_id=f"{s.app_id}-events", enable_auto_commit=False,
            auto_offset_reset="earliest", fetch_max_wait_ms=s.fetch_max_wait_ms,
            max_partition_fetch_bytes=4 * 2**20, **timeouts,
        )  # fmt: skip

    async def run(self, handle: Handler) -> None:
        """Join the group and judge batches until cancelled."""
        t = self.settings.topics
        consumer = self.consumer = self._client()
        await consumer.start()
        try:
            consumer.subscribe([t.activity, t.reference], listener=_Listener(self))
            while True:
                got = await consumer.getmany(timeout_ms=1000, max_records=self.settings.batch_size)
                if got:
                    await self._judge(consumer, got, handle)
        finally:
            await consumer.stop()  # leaves the group: the others take over at once

    async def _judge(self, consumer: AIOKafkaConsumer, got: dict[TopicPartition, list[Any]],
                     handle: Handler) -> None:  # fmt: skip
        reference_topic = self.settings.topics.reference
        async with self.batch_lock:
            # only partitions held now: a fetch that outlived a rebalance is left to the owner
            got = {tp: records for tp, records in got.items() if records and tp in self.assigned}
            reference = [r for tp, rs in got.items() if tp.topic == reference_topic for r in rs]
            activity = [r for tp, rs in got.items() if tp.topic != reference_topic for r in rs]
            if reference:
                await handle(reference, True)
            if activity:
                await handle(activity, False)
            offsets = {tp: records[-1].offset + 1 for tp, records in got.items()}
            if offsets:
                await self._commit(consumer, offsets)
            self.batches += 1

    async def _commit(self, consumer: AIOKafkaConsumer, offsets: dict[TopicPartition, int]) -> None:
        started = time.monotonic()
        try:
            await consumer.commit(offsets)
        except KafkaError as exc:  # judged, not committed: the next owner judges it again
            log.warning("commit failed: the batch will be judged again (%r)", exc)
            return
        self.committed.update(offsets)
        if (took := time.monotonic() - started) > 5:
            log.warning("commit took %.1f s", took, extra={"duration_s": round(took, 1)})

    def _say_why_idle(self, consumer: AIOKafkaConsumer) -> None:
        """Nothing fetched for 30 s: log the partitions that still have records waiting."""
        behind = []
        for tp in sorted(self.assigned):
            high = consumer.highwater(tp)
            done = self.committed.get(tp)
            if high is not None and done is not None and high > done:
                behind.append(f"{tp.topic}/{tp.partition} {done}<{high}")
        if behind:
            paused = sorted(f"{tp.topic}/{tp.partition}" for tp in consumer.paused())
            log.warning("nothing fetched for 30 s with records waiting: %s; paused %s",
                        ", ".join(behind), paused)  # fmt: skip

    def highwater(self, tp: TopicPartition) -> int | None:
        if self.consumer is None:
            return None
        high = self.consumer.highwater(tp)
        return None if high is None else int(high)

    def assignment(self) -> set[TopicPartition]:
        return set(self.assigned)


class _Listener(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, owner: GroupConsumer) -> None:
        self.owner = owner

    async def on_partitions_revoked(self, revoked: Any) -> None:
        # the batch in hand is finished and committed before its partitions are given up
        async with self.owner.batch_lock:
            self.owner.assigned.clear()
            for tp in revoked:
                self.owner.committed.pop(tp, None)
            await self.owner.on_revoked(set(revoked))

    async def on_partitions_assigned(self, assigned: Any) -> None:
        async with self.owner.batch_lock:
            await self.owner.on_assigned(set(assigned))
            self.owner.assigned = set(assigned)
