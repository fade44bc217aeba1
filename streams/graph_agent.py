"""The graph agent: one association graph for the whole force, fed by the derived edge stream.

Every worker derives edge records where it judges events
(:class:`detectors.graph.deriver.EdgeDeriver`:
graph-relevant reference events once, by the worker that judges them; from activity only what
the officer's state says changes the graph) and publishes them to the edges topic with its
batch (:class:`EdgeOutbox`), awaited before the batch's offsets are committed, like alerts.
The edges topic has one partition by default, so one :class:`GraphAgent` in the group (whichever
worker holds that partition) keeps the graph and runs the detectors that read it
(:class:`engine.graph_judge.GraphJudge`); its cost follows the graph's changes, not the volume
of activity, and the other workers keep no graph at all.

State after a restart or a rebalance: the graph is rebuilt from the edges topic, read from its
beginning up to the group's committed offset without judging (judged before), then judged
onwards. So the edges topic must keep every record the graph still needs (see
docs/operations.md: no deletion by time, or a retention longer than the graph's memory).

Offline (golden tests, ``Pipeline.run``), the pipeline hands its records straight to a
:class:`~engine.graph_judge.GraphJudge` in the same process: the same records, the same
judge, no broker.
"""

from __future__ import annotations

import asyncio
import logging
import time as _time
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from engine.graph_judge import GraphJudge
from models.alerts import Alert
from models.edges import EdgeRecord, decode_edge
from models.exceptions import DecodeError
from probity.transport import kafka_client_config

if TYPE_CHECKING:
    from probity.settings import Settings
    from streams.metrics import WorkerMetrics

log = logging.getLogger(__name__)

#: how long the graph agent waits to fill a batch (its records are few: judge them soon)
BATCH_WITHIN_S = 0.05


class EdgeOutbox:
    """Where a worker's pipeline puts the records it derives; the worker sends them with the
    batch (:meth:`GraphAgent.send`)."""

    def __init__(self) -> None:
        self.pending: list[EdgeRecord] = []

    def take(self, record: EdgeRecord) -> list[Alert]:
        self.pending.append(record)
        return []  # judged by the graph agent, wherever it runs


class GraphAgent:
    """The faust agent on the edges topic (registered on the worker's app) and the sender
    of the worker's records to it.

    ``publish_alert`` and ``dead_letter`` are the worker's own (they return the send's
    future); ``ready`` is set once the worker's reference data is loaded.
    """

    def __init__(
        self,
        settings: Settings,
        app: Any,
        judge: GraphJudge,
        *,
        metrics: WorkerMetrics,
        ready: asyncio.Event,
        publish_alert: Callable[[Alert], Awaitable[Any]],
        dead_letter: Callable[[bytes, str, Any, str | None], Awaitable[Any]],
    ) -> None:
        self.settings = settings
        self.app = app
        self.judge = judge
        self.metrics = metrics
        self.ready = ready
        self.publish_alert = publish_alert
        self.dead_letter = dead_letter
        self.topic = app.topic(settings.topics.edges, value_type=bytes, key_type=bytes)
        self.next_offset: int | None = None  # the next record the graph has not taken
        self.rebuilt = 0  # records taken without judging (the last rebuild or catch-up)
        self._reported = float("-inf")
        self.held: bool | None = None  # whether this worker holds the edges partition
        self._inflight: list[Any] = []  # sends of edge records not yet acknowledged
        self._sending = asyncio.Lock()
        app.agent(self.topic, name="graph")(self._agent)
        app.timer(5.0)(self._report_now)
        app.on_partitions_assigned.connect(self._on_assigned)

    # -- the workers' side -----------------------------------------------------------------

    async def send(self, outbox: EdgeOutbox) -> list[Any]:
        """Send the records derived so far; the futures to await with the batch's.

        Batches of the event consumer and of other tasks may share the outbox, so one batch may
        send another's records: every send still in flight is returned, and so awaited by
        each batch that flushes while it is, its own batch included."""
        async with self._sending:  # a batch flushing meanwhile waits for these sends too
            pending, outbox.pending = outbox.pending, []
            producer, topic = self.app.producer, self.settings.topics.edges
            limit = self.settings.max_record_bytes
            for record in pending:
                value = record.dumps()
                if not self.metrics.fits(topic, record.key, value, limit):
                    continue
                # the producer itself, as for alerts: faust's per-record send machinery
                # (message objects, callbacks) cost more than deriving the record
                sent = await producer.send(topic, record.key, value, None, None, None)
                self._inflight.append(sent)
                self.metrics.edge_published()
            self._inflight = [f for f in self._inflight if not f.done()]
            return list(self._inflight)

    # -- the graph's side ------------------------------------------------------------------

    async def _on_assigned(self, sender: Any, assigned: set[Any], **_: Any) -> None:
        """A worker that no longer holds the edges partition lets its graph go (memory);
        one that keeps it keeps its graph and catches up on what it missed, if anything."""
        held = any(tp.topic == self.settings.topics.edges
                   for tp in self.app.assignor.assigned_actives())  # fmt: skip
        if held != self.held:
            self.held = held
            log.info("graph agent " + ("runs here" if held else "does not run here"))
        if not held and self.next_offset is not None:
            self.judge.reset()
            self.next_offset = None
            self._report(every_s=0)
            log.info("graph released: the edges partition moved to another worker")

    async def _agent(self, stream: Any) -> None:
        await self.ready.wait()
        async for batch in stream.take_events(self.settings.batch_size, BATCH_WITHIN_S):
            await self._batch(batch)

    async def _batch(self, batch: Sequence[Any]) -> None:
        """Take a batch of records; its alerts are awaited before faust acknowledges it.
        Nothing here may raise (faust acks a batch whatever happens): errors become dead
        letters."""
        futures: list[Any] = []
        by_tp: dict[Any, list[Any]] = {}
        for ev in batch:
            by_tp.setdefault(ev.message.tp, []).append(ev)
        broken = False
        for tp, events in by_tp.items():
            first = min(ev.message.offset for ev in events)
            if self.next_offset is None or first > self.next_offset:
                try:
                    futures.extend(await self._catch_up(tp, first))
                except Exception:  # never block the stream on the rebuild itself
                    log.exception("graph rebuild failed", extra={"topic": tp.topic})
                    broken = True
            for ev in events:
                futures.extend(await self._take(_bytes(ev.value), ev.message, judge=True))
                self.next_offset = max(self.next_offset or 0, ev.message.offset + 1)
        if broken:
            self.next_offset = None  # the graph may miss records: rebuilt with the next batch
        self._report()
        if futures:
            await asyncio.gather(*futures)

    async def _take(self, raw: bytes, msg: Any, *, judge: bool) -> list[Any]:
        try:
            record = decode_edge(raw)
        except DecodeError as exc:
            if not judge:
                return []  # dead-lettered when it was first read
            return [await self.dead_letter(raw, exc.reason, msg, exc.event_id)]
        self.metrics.graph_record(record, judged=judge)
        try:
            alerts = self.judge.take(record, judge=judge)
        except Exception as exc:  # a bug must not lose the record: keep it for inspection
            log.exception("edge record failed", extra={"event_id": record.id})
            if not judge:
                return []
            reason = f"processing failed: {exc!r}"[:300]
            return [await self.dead_letter(raw, reason, msg, record.id)]
        return [await self.publish_alert(a) for a in alerts]

    async def _catch_up(self, tp: Any, first: int) -> list[Any]:
        """Take the records before ``first`` the graph has not: from the beginning of the
        topic when it has none (a start, or the partition came back), else from where it
        stopped. Records before the group's committed offset were judged (by this worker or
        the one that held the partition) and are only applied; records from it on were
        skipped by the consumer and are judged now."""
        if self.next_offset is None:
            self.judge.reset()
        start = self.next_offset or 0
        if start >= first:
            self.next_offset = first
            return []  # nothing before: a fresh topic
        committed = int(self.app.consumer._committed_offset.get(tp) or 0)
        reader = AIOKafkaConsumer(
            **kafka_client_config(self.settings, "aiokafka"), enable_auto_commit=False,
            client_id=f"{self.settings.app_id}-graph-rebuild",
        )  # fmt: skip
        await reader.start()
        futures: list[Any] = []
        taken = judged = 0
        began = _time.monotonic()
        try:
            part = TopicPartition(tp.topic, tp.partition)
            reader.assign([part])
            if start:
                reader.seek(part, start)
            else:
                await reader.seek_to_beginning(part)
            while await reader.position(part) < first:
                got = await reader.getmany(part, timeout_ms=1000, max_records=5000)
                records = got.get(part, [])
                if not records:
                    break
                for rec in records:
                    if rec.offset >= first:
                        break
                    judge = rec.offset >= committed
                    futures.extend(await self._take(_bytes(rec.value), rec, judge=judge))
                    taken += 1
                    judged += judge
                await asyncio.sleep(0)  # let the consumer's heartbeats through
        finally:
            await reader.stop()
        if judged:
            await self.app.consumer._add_gap(tp, max(start, committed), first - 1)
        self.rebuilt = taken - judged
        self.next_offset = first
        log.info(
            "graph caught up from the edges topic",
            extra={"topic": tp.topic, "from_offset": start, "to_offset": first,
                   "applied": taken - judged, "judged": judged,
                   "duration_s": round(_time.monotonic() - began, 2),
                   "nodes": self.judge.graph.g.number_of_nodes(),
                   "edges": self.judge.graph.g.number_of_edges()},
        )  # fmt: skip
        return futures

    async def _report_now(self) -> None:
        self._report(every_s=0)

    def _report(self, *, every_s: float = 5.0) -> None:
        """Graph size gauges, at most every ``every_s`` (counting edges walks the graph)."""
        now = _time.monotonic()
        if now - self._reported < every_s:
            return
        self._reported = now
        g = self.judge.graph.g
        self.metrics.set_graph_size(g.number_of_nodes(), g.number_of_edges())


def _bytes(value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode()
    return bytes(value)
