"""The worker: decode once at the boundary, keep state, run detectors, publish alerts.

Topology (no repartition: producers key activity by actor, so one officer's events and state
share a partition):

- event consumer (:class:`streams.consumer.GroupConsumer`, the consumer group ``app_id``):
  batches of activity records → :class:`engine.pipeline.Pipeline` with the officer's state
  (:class:`streams.officer_state.OfficerStore`: our own compacted changelog, written once per
  batch, read for a partition when it is assigned, before any of its events is judged) →
  alerts; invalid bytes → dead letters. Reference records of the partitions it holds →
  reference state → detectors that read them (barred lists, reviews owed...) → alerts, so
  each reference event is judged once.
- reference follower: every worker also reads the *whole* reference topic (no group), so each
  holds all reference data whichever partitions it owns. The consumer joins the group once it
  has caught up, so a restarted worker judges activity against complete reference data.
- ``graph`` agent (:mod:`streams.graph_agent`): the batches above publish the edge records
  they derive (rarely: the graph changes far more slowly than activity) to the edges topic,
  one partition, so one worker keeps the association graph and judges it.
- a faust app hosts these tasks, the timers, the metrics server and the graph agent (in its
  own consumer group, ``<app_id>-agents``).

Delivery: at-least-once from Kafka. Batches are judged back to back, their alerts sent as they
are raised; at each checkpoint (every ``commit_interval_s``, at once when idle, and before a
rebalance gives partitions up) the worker awaits the acknowledgement of every alert, dead
letter and edge record sent, then writes the state of the officers touched since the last one,
and only then are the offsets committed (:mod:`streams.consumer`). Redelivered events are
recognised by id in the officer's state and alert ids are deterministic, so the queue gets
every alert exactly once. What the pipeline raised about reference coverage (a feed covering
too few staff: "inactive", then "resumed") is kept the same way, on each partition held
(changelog key ``~coverage/<partition>``), so a worker restarted mid-stretch says once, when
the feed arrives, that judging resumed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import faust
import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition
from prometheus_client import CollectorRegistry
from pydantic import SecretStr

from detectors.registry import build
from engine.graph_judge import GraphJudge, reads_graph
from engine.pipeline import Pipeline
from models.alerts import Alert
from models.deadletters import DeadLetter, Origin
from models.events import Event, decode_event
from models.exceptions import DecodeError
from probity.runtime import tune_gc
from probity.settings import Settings
from probity.transport import kafka_client_config
from streams.consumer import GroupConsumer
from streams.graph_agent import EdgeOutbox, GraphAgent
from streams.metrics import WorkerMetrics, start_web_server
from streams.officer_state import OfficerStore
from streams.topics import agents_group, officer_changelog, partition_for

log = logging.getLogger(__name__)

#: the changelog key of partition ``p``'s coverage memory (:meth:`Pipeline.coverage_memory`):
#: no officer id starts with ``~``
COVERAGE_KEY = "~coverage/{}"

#: records judged between two turns of the event loop within a batch: alerts already raised
#: go out meanwhile (the producer sends only when the loop turns), heartbeats are answered
YIELD_EVERY = 64


class ReferenceFollower:
    """Reads every partition of the reference topic into the pipeline's reference state."""

    def __init__(self, settings: Settings, pipeline: Pipeline) -> None:
        self.settings = settings
        self.pipeline = pipeline
        self.ready = asyncio.Event()
        self.applied = 0
        self._consumer: AIOKafkaConsumer | None = None

    async def run(self) -> None:
        topic = self.settings.topics.reference
        consumer = AIOKafkaConsumer(
            **kafka_client_config(self.settings, "aiokafka"),
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            client_id=f"{self.settings.app_id}-reference-follower",
        )
        self._consumer = consumer
        await consumer.start()
        try:
            parts = None
            while not parts:
                parts = consumer.partitions_for_topic(topic)
                if not parts:
                    await consumer._client.force_metadata_update()
                    await asyncio.sleep(0.2)
            tps = [TopicPartition(topic, p) for p in sorted(parts)]
            consumer.assign(tps)
            await consumer.seek_to_beginning(*tps)
            idle = 0
            pending: list[Event] = []
            while True:
                batches = await consumer.getmany(timeout_ms=200, max_records=5000)
                for records in batches.values():
                    pending.extend(e for e in map(self._decode, records) if e is not None)
                if self.ready.is_set():
                    self._apply_in_time_order(pending)
                    continue
                idle = 0 if batches else idle + 1
                if idle >= 2 and await self._caught_up(consumer, tps):
                    # the whole topic, applied in event-time order (partitions interleave
                    # arbitrarily; state that keeps only the latest value needs the order)
                    self._apply_in_time_order(pending)
                    log.info("reference state loaded", extra={"events": self.applied})
                    self.ready.set()
        finally:
            await consumer.stop()

    async def _caught_up(self, consumer: AIOKafkaConsumer, tps: list[TopicPartition]) -> bool:
        for tp in tps:
            high = consumer.highwater(tp)
            if high is not None and await consumer.position(tp) < high:
                return False
        return True

    @staticmethod
    def _decode(record: Any) -> Event | None:
        if record.value is None:
            return None
        try:
            return decode_event(record.value)
        except DecodeError:
            return None  # the worker holding its partition dead-letters it; the follower only skips

    def _apply_in_time_order(self, events: list[Event]) -> None:
        events.sort(key=lambda e: (e.time, e.id))
        for event in events:
            if self.pipeline.apply_reference(event):
                self.applied += 1
        events.clear()


#: how long a batch waits for the broker's acknowledgements before saying so in the log
SLOW_ACK_S = 15.0


async def _acknowledged(futures: list[Awaitable[Any]]) -> None:
    """Wait until the broker has every record a batch sent (the first failure raises); a
    broker slow to acknowledge is logged every ``SLOW_ACK_S`` rather than waited on silently."""
    every = asyncio.gather(*futures)
    waited = 0.0
    while True:
        try:
            await asyncio.wait_for(asyncio.shield(every), SLOW_ACK_S)
            return
        except TimeoutError:
            waited += SLOW_ACK_S
            pending = sum(1 for f in futures if isinstance(f, asyncio.Future) and not f.done())
            log.warning(
                "batch waits for the broker: %d of %d records unacknowledged after %.0f s",
                pending, len(futures), waited, extra={"count": pending},
            )  # fmt: skip


def _as_bytes(value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode()
    return orjson.dumps(value)


class Worker:
    """One faust app around one :class:`Pipeline`. Build with :func:`create_worker`."""

    def __init__(self, settings: Settings, registry: CollectorRegistry | None = None) -> None:
        self.settings = settings
        self.registry = registry if registry is not None else CollectorRegistry()
        detectors = build(
            settings.detectors, settings.disabled_detectors, settings.detector_volume
        )
        t = settings.topics
        self.metrics = WorkerMetrics(
            self.registry, detectors=[d.id for d in detectors],
            topics=[t.activity, t.reference, t.edges],
        )  # fmt: skip
        hooks = self.metrics.pipeline_hooks()
        self._detector_time = hooks.on_detector_time
        self._batches = 0
        self.suppressions = _suppressions(settings)
        if self.suppressions is not None:
            cache = self.suppressions
            hooks.is_suppressed = lambda finding: cache.check(finding) is not None
        embedded = settings.mode == "embedded" or settings.kafka is None
        app_conf: dict[str, Any] = {
            **kafka_client_config(settings, "faust"),
            "store": "memory://",
            "topic_partitions": settings.partitions,
            "topic_replication_factor": settings.replication_factor,
            "web_enabled": False,
            "datadir": str(Path(settings.data_dir) / "{conf.name}-data"),
            "broker_commit_interval": 1.0,
            "value_serializer": "raw",
            "key_serializer": "raw",
            "consumer_auto_offset_reset": "earliest",
            "producer_acks": -1,
            # above PROBITY_MAX_RECORD_BYTES, which the worker checks itself (WorkerMetrics.fits)
            "producer_max_request_size": settings.max_record_bytes + 64 * 1024,
        }
        if embedded:
            # Tansu holds a JoinGroup for the rebalance timeout: keep it short on the embedded
            # broker (never in production, where Kafka's defaults are right)
            app_conf["broker_rebalance_timeout"] = 3
            app_conf["broker_session_timeout"] = 6
            app_conf["broker_heartbeat_interval"] = 1
        _tune_faust_fetch_wait(settings.fetch_max_wait_ms)
        # faust hosts the worker's tasks, timers and any further agents; it is not in the
        # event topics' consumer group (its own group protocol could not share one)
        self.app = _WorkerApp(agents_group(settings), **app_conf)

        self.officers = OfficerStore(
            officer_changelog(settings), settings.bootstrap_servers,
            cache_size=settings.officer_cache_size, client_id=f"{settings.app_id}-officer-state",
            connection=kafka_client_config(settings, "aiokafka"),
        )  # fmt: skip
        self.edges = EdgeOutbox()  # the edge records a batch derives, sent with it
        self.pipeline = Pipeline(
            detectors,
            officers=self.officers,
            hooks=hooks,
            owns=self._owns,
            seen_per_officer=settings.seen_ids_per_officer,
            edges=self.edges,
            min_feed_share=settings.feed_min_share,
        )
        self.follower = ReferenceFollower(settings, self.pipeline)
        judge = GraphJudge([d for d in detectors if reads_graph(d)], self.pipeline.reference,
                           hooks=hooks)  # fmt: skip
        if self.pipeline.coverage.feeds:  # the pipeline's coverage gates the graph's judges
            judge.gate = self.pipeline.inactive
        self.graph = GraphAgent(
            settings, self.app,
            judge,
            metrics=self.metrics, ready=self.follower.ready,
            publish_alert=self._publish_alert, dead_letter=self._dead_letter,
        )  # fmt: skip
        self.gaps = GapGuard(settings)
        # what the batches since the last checkpoint sent, and whose state they changed
        self._unacknowledged: list[Awaitable[Any]] = []
        self._dirty: dict[str, int] = {}  # officer -> its partition
        #: partitions whose kept coverage memory the pipeline has taken in; the memory as
        #: last written to them (the pipeline's ``coverage_changes``)
        self._coverage_read: set[int] = set()
        self._coverage_written = 0
        self.events = GroupConsumer(settings, on_assigned=self._on_assigned,
                                    on_revoked=self._on_revoked)  # fmt: skip
        self.owned_partitions: set[int] = set()
        #: awaited before the reference data is read: it is complete on the broker then
        #: (a replay's worker connects while the reference data is still being published)
        self.reference_gate: Callable[[], Awaitable[None]] | None = None
        self.app.early_tasks = [self._run_follower, self._consume, self._serve_web]
        self.app.timer(2.0)(self._update_lag)

    # -- ownership ------------------------------------------------------------------------

    def _owns(self, staff_id: str) -> bool:
        """Does this worker hold the activity partition of ``staff_id``?"""
        return partition_for(staff_id, self.settings.partitions) in self.owned_partitions

    async def _on_assigned(self, assigned: set[TopicPartition]) -> None:
        """After a rebalance: remember which officers this worker answers for and start
        reading their state (each batch waits for its partitions' state)."""
        self.gaps.reset()
        self.owned_partitions = {
            tp.partition for tp in assigned if tp.topic == self.settings.topics.activity
        }
        self.officers.assign(self.owned_partitions)
        self.metrics.set_assigned(len(self.owned_partitions))
        log.info("partitions assigned", extra={"partitions": sorted(self.owned_partitions)})

    async def _on_revoked(self, revoked: set[TopicPartition]) -> None:
        """Before partitions are given up (the batch in hand is done and committed): the
        state of revoked partitions may move to another worker, which reads the changelog."""
        activity = self.settings.topics.activity
        self.owned_partitions = set()
        gone = {tp.partition for tp in revoked if tp.topic == activity}
        self.officers.revoke(gone)
        self._coverage_read -= gone
        self.metrics.partitions_revoked((tp.topic, tp.partition) for tp in revoked)

    def ready(self) -> bool:
        """Ready = reference data loaded, partitions assigned and their officer state read
        (the /readyz probe)."""
        owned = self.owned_partitions
        return self.follower.ready.is_set() and bool(owned) and owned <= self.officers.loaded()

    async def _serve_web(self) -> None:
        """/metrics, /healthz and /readyz on ``worker_web_port`` (0 = not served)."""
        if not self.settings.worker_web_port:
            return
        server, _thread = start_web_server(
            self.registry, self.settings.web_host, self.settings.worker_web_port,
            ready=self.ready, alive=lambda: True, token=_secret(self.settings.metrics_token),
        )  # fmt: skip
        log.info("metrics served", extra={"host": self.settings.web_host,
                                          "port": self.settings.worker_web_port,
                                          "token": self.settings.metrics_token is not None})
        try:
            await asyncio.Event().wait()  # until the worker stops
        finally:
            server.shutdown()
            server.server_close()
            self.metrics.stopping()

    async def _update_lag(self) -> None:
        """Consumer lag per partition from the fetch high watermark (right on Tansu too)."""
        for tp in self.events.assignment():
            high = self.events.highwater(tp)
            if high is not None:
                committed = self.events.committed.get(tp, 0)
                self.metrics.set_lag(tp.topic, tp.partition, max(0, high - committed))
        # the graph agent's edges partition, consumed by the faust app (agents group)
        consumer = self.app.consumer
        for tp in self.app.assignor.assigned_actives():
            if tp.topic != self.settings.topics.edges:
                continue
            high = consumer.highwater(tp)
            committed = consumer._committed_offset.get(tp)  # type: ignore[attr-defined]
            if high is not None:
                self.metrics.set_lag(tp.topic, tp.partition, max(0, high - (committed or 0)))

    # -- consuming ------------------------------------------------------------------------

    async def _run_follower(self) -> None:
        if self.reference_gate is not None:
            await self.reference_gate()
        await self.follower.run()

    async def _consume(self) -> None:
        """Join the group once reference data is loaded, so a restarted worker judges
        activity against complete reference data (a lone worker, ``join_before_reference``,
        joins meanwhile and judges once it is loaded)."""
        early = self._reference_loaded if self.settings.join_before_reference else None
        if early is None:
            await self._reference_loaded()
        try:
            await self.events.run(self._judge_batch, self.checkpoint, self.officers.full,
                                  before_fetching=early)  # fmt: skip
        except Exception as exc:  # e.g. alerts that could not be sent: nothing was committed
            log.exception("event consumer failed: the worker stops")
            await self.app.crash(exc)
            raise
        finally:
            await self.gaps.stop()

    async def _reference_loaded(self) -> None:
        await self.follower.ready.wait()
        tune_gc(self.settings)  # reference data is loaded: freeze it, collect less often

    async def _judge_batch(self, batch: Sequence[Any], reference: bool) -> None:
        await self._process_batch(batch, reference=reference)

    async def _process_batch(self, batch: Sequence[Any], *, reference: bool) -> None:
        """Judge a batch of records (of one topic); what it sends and the officers whose
        state it changes are kept for the next :meth:`checkpoint`.

        Nothing here may raise: an error is turned into a dead letter for the event at fault
        instead, so one bad record never holds its partition back."""
        futures = self._unacknowledged
        dirty = self._dirty
        records: list[tuple[bytes, Any]] = []
        for tp, missing in (await self.gaps.check(batch)).items():
            records.extend(missing)  # skipped by the consumer: judged first, in order
            self.metrics.gap_refilled(tp.topic, len(missing))
        records.extend((_as_bytes(rec.value), rec) for rec in batch)
        self._sample_detector_times(len(records))
        if not reference:
            records = await self._with_state(records)
        events: list[Event] = []
        for i, (raw, msg) in enumerate(records, 1):
            if not i % YIELD_EVERY:
                await asyncio.sleep(0)  # let the producer send the alerts raised so far
            try:
                event = decode_event(raw)
            except DecodeError as exc:
                futures.append(await self._dead_letter(raw, exc.reason, msg, exc.event_id))
                continue
            events.append(event)
            try:
                await self._handle(event, raw, reference, futures)
            except Exception as exc:  # a bug must not lose the event: keep it for inspection
                log.exception("event processing failed", extra={"event_id": event.id})
                reason = f"processing failed: {exc!r}"[:300]
                futures.append(await self._dead_letter(raw, reason, msg, event.id))
                continue
            if not reference and event.actor is not None and not event.is_reference:
                dirty[event.actor] = msg.partition
        self.metrics.events_consumed(events)
        try:
            due = self.pipeline.tick()
        except Exception:
            log.exception("tick failed")
            due = []
        for alert in due:  # each on its own: one that cannot be sent does not take the rest
            try:
                futures.append(await self._publish_alert(alert))
            except Exception:
                log.exception("alert not sent", extra={"alert_id": alert.id})
        # sent with the batch, so the graph agent judges them soon; awaited at the checkpoint
        futures.extend(await self.graph.send(self.edges))

    async def checkpoint(self) -> Awaitable[None]:
        """Begin making everything judged so far safe before its offsets are committed (the
        event consumer calls this between batches): the touched officers' state is packed
        now, as of these offsets. The returned awaitable finishes it while the next batches
        are judged: first every alert, dead letter and edge record sent is acknowledged, then
        the state is written and acknowledged, so stored state never remembers an event as
        seen whose alerts could still be lost. It raises on a failure (nothing is committed;
        the worker stops)."""
        started = time.perf_counter()
        sent, self._unacknowledged = self._unacknowledged, []
        sent.extend(await self.graph.send(self.edges))
        dirty, self._dirty = self._dirty, {}
        changes = self.pipeline.coverage_changes
        if changes != self._coverage_written:  # kept on each partition held, for a restart
            memory = self.pipeline.coverage_memory()
            for p in self._coverage_read & self.owned_partitions:
                self.officers[COVERAGE_KEY.format(p)] = memory
                dirty[COVERAGE_KEY.format(p)] = p
            self._coverage_written = changes
        packed = self.officers.pack(dirty) if dirty else []
        return self._make_safe(sent, packed, started)

    async def _make_safe(self, sent: list[Awaitable[Any]],
                         packed: list[tuple[str, int, bytes]], started: float) -> None:  # fmt: skip
        if sent:
            await _acknowledged(sent)
        topic, limit = self.officers.topic, self.settings.max_record_bytes
        fitting = [p for p in packed if self.metrics.fits(topic, p[0].encode(), p[2], limit)]
        written = await self.officers.send(fitting, self._send)
        if written:
            await _acknowledged(written)
        self.metrics.checkpointed(time.perf_counter() - started, len(written))

    def _sample_detector_times(self, n_records: int) -> None:
        """Time the detectors on every small batch, and on one large batch in
        ``detector_timing_every``: the histogram's shape stays right, its count is sampled."""
        self._batches += 1
        every = self.settings.detector_timing_every
        timed = n_records < 100 or self._batches % every == 0
        self.pipeline.hooks.on_detector_time = self._detector_time if timed else None

    async def _with_state(self, records: list[tuple[bytes, Any]]) -> list[tuple[bytes, Any]]:
        """The records, once their partitions' officer state is loaded (the consumer hands
        over records of partitions held now only)."""
        parts = {msg.partition for _raw, msg in records}
        await self.officers.ready(parts)
        for p in parts - self._coverage_read:
            self._coverage_read.add(p)
            memory = self.officers.get(COVERAGE_KEY.format(p))
            if memory:
                self.pipeline.remember_coverage(memory)
            if self.pipeline.coverage_changes:  # the partition's record may lag: rewrite it
                self._coverage_written = -1
        return records

    async def _handle(
        self, event: Event, raw: bytes, reference: bool, futures: list[Awaitable[Any]]
    ) -> None:
        if event.is_reference != reference:
            # published to the wrong topic: route it on rather than lose it. A reference
            # event also takes effect here at once (idempotent), so the activity after it
            # on this partition sees it, as it would have on the right topic.
            t = self.settings.topics
            target = t.reference if event.is_reference else t.activity
            futures.append(await self._send(target, event.key.encode(), raw))
            if not event.is_reference:
                return
        alerts = (
            self.pipeline.process_reference(event, raw)
            if event.is_reference
            else self.pipeline.process_activity(event, raw)
        )
        for alert in alerts:
            futures.append(await self._publish_alert(alert))

    async def _send(
        self, topic: str, key: bytes | None, value: bytes, partition: int | None = None
    ) -> Awaitable[Any]:
        """Hand one record to the producer (no per-record faust machinery); the returned
        future is done when the broker has it (acks=all)."""
        return await self.app.producer.send(topic, key, value, partition, None, None)

    async def _publish_alert(self, alert: Alert) -> Awaitable[Any]:
        self.metrics.alert(alert)
        value = orjson.dumps(alert.to_json())
        return await self._send(self.settings.topics.alerts, alert.officer.encode(), value)

    async def _dead_letter(
        self, raw: bytes, reason: str, msg: Any, event_id: str | None
    ) -> Awaitable[Any]:
        self.metrics.event_invalid(reason)
        self.metrics.dead_letter(msg.topic)
        dl = DeadLetter.of(
            raw,
            reason,
            Origin(topic=msg.topic, partition=msg.partition, offset=msg.offset),
            event_id,
        )
        log.warning(
            "invalid event dead-lettered",
            extra={"topic": msg.topic, "partition": msg.partition, "offset": msg.offset,
                   "event_id": event_id},
        )  # fmt: skip
        return await self._send(self.settings.topics.dead_letters, dl.key(), dl.dumps())


class _WorkerApp(faust.App):
    """faust's app, starting the worker's own tasks (reference follower, event consumer, web
    server) as soon as its services run, the producer among them.

    ``app.task`` tasks start only after the agents group's first assignment (its table
    recovery), which on a broker that holds a JoinGroup for the rebalance timeout costs that
    timeout before the reference data is even read; the event consumer's own group join then
    cost it again. Nothing of these tasks depends on the agents group."""

    early_tasks: list[Callable[[], Awaitable[None]]]

    async def on_started(self) -> None:
        """Called by mode once every child service (producer, consumer...) has started."""
        for task in getattr(self, "early_tasks", ()):
            self.add_future(task())
        await super().on_started()


class GapGuard:
    """Makes sure no offset of a partition goes unjudged, whatever the consumer does.

    Offsets are committed per batch as "everything up to the batch's last record", so a
    record the consumer never delivered would be committed unjudged. (faust-streaming 0.15,
    which consumed these topics before, did skip records around rebalances: its issues #596
    and #606.) The worker remembers, per partition, the next offset it expects; when a batch
    jumps further on, the missing records are fetched directly and judged first.
    Redelivered records are harmless (event ids).
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.expected: dict[Any, int] = {}
        self._reader: AIOKafkaConsumer | None = None
        self._reading = asyncio.Lock()  # one user of the reader at a time
        self.refilled = 0

    def reset(self) -> None:
        """After a rebalance the consumer starts again from the group's committed offsets."""
        self.expected.clear()

    async def _reader_client(self) -> AIOKafkaConsumer:
        if self._reader is None:
            self._reader = AIOKafkaConsumer(
                **kafka_client_config(self.settings, "aiokafka"), enable_auto_commit=False,
                client_id=f"{self.settings.app_id}-gap-reader",
                fetch_max_wait_ms=self.settings.fetch_max_wait_ms,
            )  # fmt: skip
            await self._reader.start()
        return self._reader

    async def check(self, batch: Sequence[Any]) -> dict[Any, list[tuple[bytes, Any]]]:
        """Records of the batch's partitions that come before it and were never delivered."""
        present: dict[Any, set[int]] = {}
        for rec in batch:
            present.setdefault(TopicPartition(rec.topic, rec.partition), set()).add(rec.offset)
        missing: dict[Any, list[tuple[bytes, Any]]] = {}
        for tp, offsets_seen in present.items():
            last = max(offsets_seen)
            want = self.expected.get(tp, min(offsets_seen))
            holes = [o for o in range(want, last) if o not in offsets_seen]
            if holes:
                try:
                    fetched = await self._fetch(tp, holes[0], last)
                except Exception:  # never block the stream on the guard itself
                    log.exception("gap fetch failed", extra={"topic": tp.topic})
                    fetched = []
                gone = set(holes)
                missing[tp] = [(raw, rec) for raw, rec in fetched if rec.offset in gone]
                self.refilled += len(missing[tp])
                log.warning(
                    "records skipped by the consumer fetched directly",
                    extra={"topic": tp.topic, "partition": tp.partition,
                           "offset": holes[0], "count": len(missing[tp])},
                )  # fmt: skip
            self.expected[tp] = max(last + 1, self.expected.get(tp, 0))
        return missing

    async def _fetch(self, tp: Any, start: int, end: int) -> list[tuple[bytes, Any]]:
        async with self._reading:
            reader = await self._reader_client()
            reader.assign([tp])
            reader.seek(tp, start)
            out: list[tuple[bytes, Any]] = []
            while True:
                got = await reader.getmany(tp, timeout_ms=1000, max_records=5000)
                records = got.get(tp, [])
                if not records:
                    break
                for rec in records:
                    if rec.offset >= end:
                        return out
                    out.append((_as_bytes(rec.value), rec))
            return out

    async def stop(self) -> None:
        if self._reader is not None:
            await self._reader.stop()


class _AiokafkaWithFetchWait:
    """aiokafka as faust's driver sees it, with our fetch wait instead of its fixed 1.5 s.

    faust-streaming 0.15 builds its consumer with ``fetch_max_wait_ms=1500``; a broker that
    holds a fetch that long (Tansu does, for a few hundred ms) puts that delay between an
    event and its alert. Only faust's driver module sees this proxy.
    """

    def __init__(self, real: Any, fetch_max_wait_ms: int) -> None:
        base = real.AIOKafkaConsumer

        class Consumer(base):  # type: ignore[misc, valid-type]
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                kwargs["fetch_max_wait_ms"] = fetch_max_wait_ms
                super().__init__(*args, **kwargs)

        self._real = real
        self.AIOKafkaConsumer = Consumer

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


def _tune_faust_fetch_wait(fetch_max_wait_ms: int) -> None:
    import aiokafka
    import faust.transport.drivers.aiokafka as driver

    setattr(driver, "aiokafka", _AiokafkaWithFetchWait(aiokafka, fetch_max_wait_ms))  # noqa: B010


def _suppressions(settings: Settings) -> Any:
    """The analysts' suppressions, from the queue store, when the worker honours them."""
    if not settings.honour_suppressions:
        return None
    from triage.store import store_from_settings
    from triage.suppressions import SuppressionCache

    store = store_from_settings(settings)
    return SuppressionCache(store.active_suppressions)


def _secret(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None


def create_worker(settings: Settings, registry: CollectorRegistry | None = None) -> Worker:
    return Worker(settings, registry)
