"""The worker's consumer of the event topics: batches straight from aiokafka fetches.

Why not faust's agents for these topics: faust-streaming 0.15 hands every record through its
consumer thread, conductor and stream queues (a task per record), which cost as much as the
detectors; and its rebalance path paused partitions, dropped fetched records and committed
past them (its issues #596 and #606). Here one aiokafka consumer in the group ``app_id``
fetches a batch and the worker judges it at once (its alerts are sent as they are raised);
batches follow each other without waiting on the broker. Every ``commit_interval_s`` (at once
when no more records are waiting, when the worker asks for one, and before partitions are
given up in a rebalance) the consumer **checkpoints**: the worker awaits the broker's
acknowledgement of everything it sent, then writes the state of the officers it touched, and
only then are the offsets of every batch judged so far committed. A crash therefore judges
again at most one interval's records, and an event never counts as seen in stored state
before its alerts are safe.
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
from probity.transport import kafka_client_config

log = logging.getLogger(__name__)

#: judges one batch of one topic's records: (records, reference?); what it sends is awaited
#: at the next checkpoint
Handler = Callable[[Sequence[Any], bool], Awaitable[None]]
#: begins making everything judged so far safe (acknowledged, state written) before a
#: commit: what it returns finishes that, while the next batches are judged
Checkpoint = Callable[[], Awaitable[Awaitable[None]]]
#: told of partitions given or taken away (topic, partition) pairs
Rebalanced = Callable[[set[TopicPartition]], Awaitable[None]]


async def _done() -> None:
    return None


async def _nothing() -> Awaitable[None]:
    return _done()


class GroupConsumer:
    """One consumer group member over the activity and reference topics."""

    def __init__(self, settings: Settings, *, on_assigned: Rebalanced,
                 on_revoked: Rebalanced) -> None:  # fmt: skip
        self.settings = settings
        self.on_assigned = on_assigned
        self.on_revoked = on_revoked
        self.batch_lock = asyncio.Lock()  # held while a batch is judged or a checkpoint made
        self.committed: dict[TopicPartition, int] = {}
        self.pending: dict[TopicPartition, int] = {}  # judged, not yet committed: next offsets
        self.assigned: set[TopicPartition] = set()  # between a revoke and an assignment: none
        self.consumer: AIOKafkaConsumer | None = None
        self.batches = 0
        self.checkpoints = 0
        self._checkpoint: Checkpoint = _nothing
        self.failed: Exception | None = None  # a checkpoint that failed in a rebalance
        self._inflight: asyncio.Future[None] | None = None  # the checkpoint being finished
        self._last_checkpoint = time.monotonic()

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
            **kafka_client_config(s, "aiokafka"), group_id=s.app_id,
            client_id=f"{s.app_id}-events", enable_auto_commit=False,
            auto_offset_reset="earliest", fetch_max_wait_ms=s.fetch_max_wait_ms,
            max_partition_fetch_bytes=4 * 2**20, **timeouts,
        )  # fmt: skip

    async def run(self, handle: Handler, checkpoint: Checkpoint = _nothing,
                  due: Callable[[], bool] = lambda: False,
                  before_fetching: Callable[[], Awaitable[Any]] | None = None) -> None:  # fmt: skip
        """Join the group and judge batches until cancelled; ``checkpoint`` is called before
        each commit (see the module docstring), and after any batch when ``due()`` says so
        (the worker's memory bound on decoded officer state). ``before_fetching`` is awaited
        once the group is being joined, before the first fetch."""
        t = self.settings.topics
        self._checkpoint = checkpoint
        consumer = self.consumer = self._client()
        await consumer.start()
        try:
            consumer.subscribe([t.activity, t.reference], listener=_Listener(self))
            if before_fetching is not None:  # the join goes on meanwhile (aiokafka's task)
                await before_fetching()
            while True:
                if self.failed is not None:
                    raise self.failed
                if self._inflight is not None and self._inflight.done():
                    await self.settle()  # raises what failed
                # with judged records not yet committed, wait only as long as a fetch does:
                # nothing more within it means the worker is idle, so commit now
                wait_ms = self.settings.fetch_max_wait_ms if self.pending else 1000
                got = await consumer.getmany(timeout_ms=wait_ms,
                                             max_records=self.settings.batch_size)  # fmt: skip
                if got:
                    await self._judge(got, handle)
                elapsed = time.monotonic() - self._last_checkpoint
                if self.pending and (
                    not got or elapsed >= self.settings.commit_interval_s or due()
                ):
                    async with self.batch_lock:
                        await self.commit(consumer)
        finally:
            try:  # a checkpoint begun before a stop is finished and committed, if it can be
                await asyncio.wait_for(self.settle(), 15)
            except Exception:
                log.warning("the last checkpoint did not finish: its batches will be judged again")
            await consumer.stop()  # leaves the group: the others take over at once

    async def _judge(self, got: dict[TopicPartition, list[Any]], handle: Handler) -> None:
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
            self.pending.update({tp: records[-1].offset + 1 for tp, records in got.items()})
            self.batches += 1

    async def commit(self, consumer: AIOKafkaConsumer, *, wait: bool = False) -> None:
        """Checkpoint every batch judged since the last one and commit their offsets once it
        is safe (the caller holds ``batch_lock``). The acknowledgements and the commit run
        beside the next batches (``wait`` to have them done on return); one checkpoint at a
        time, in order. A failed checkpoint raises here (at the latest at the next one), and
        nothing of it is committed."""
        self._last_checkpoint = time.monotonic()
        await self.settle()
        if self.pending:
            finish = await self._checkpoint()
            offsets, self.pending = self.pending, {}
            self._inflight = asyncio.ensure_future(self._commit(consumer, finish, offsets))
        if wait:
            await self.settle()

    async def settle(self) -> None:
        """Wait for the checkpoint in flight, if any; its failure raises."""
        task, self._inflight = self._inflight, None
        if task is not None:
            await task

    async def _commit(self, consumer: AIOKafkaConsumer, finish: Awaitable[None],
                      offsets: dict[TopicPartition, int]) -> None:  # fmt: skip
        await finish
        self.checkpoints += 1
        started = time.monotonic()
        try:
            await consumer.commit(offsets)
        except KafkaError as exc:  # judged, not committed: the next owner judges it again
            log.warning("commit failed: the batches will be judged again (%r)", exc)
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
        # the batch in hand is finished, and everything judged committed, before its
        # partitions are given up
        owner = self.owner
        async with owner.batch_lock:
            if owner.consumer is not None:
                try:
                    await owner.commit(owner.consumer, wait=True)
                except Exception as exc:  # aiokafka would only log it: stop the worker
                    owner.failed = exc
            owner.pending.clear()
            owner.assigned.clear()
            for tp in revoked:
                owner.committed.pop(tp, None)
            await owner.on_revoked(set(revoked))

    async def on_partitions_assigned(self, assigned: Any) -> None:
        async with self.owner.batch_lock:
            await self.owner.on_assigned(set(assigned))
            self.owner.assigned = set(assigned)
