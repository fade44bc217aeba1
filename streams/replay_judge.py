"""A replay's judge: the Kafka-free engine fed straight from the replay's own broker.

A replay owns its broker, topics and run (:mod:`streams.replay`), so its judge needs none of
what a worker needs to share a force with others and survive crashes: no consumer group (the
embedded broker holds a group's first join for seconds), no officer-state changelog, no
checkpoints, no graph agent in a group of its own. It reads every partition, assigned by
hand, from the beginning: the reference topic first, applied in event-time order (the
worker's reference follower does the same), then judges each reference event and the
activity as it is published, with the association graph judged in the same process (as
``Pipeline.run`` does offline), and publishes the alerts (and dead letters) to the run's
topics, from which the replay writes its files.

It runs as a child process (``python -m streams.replay_judge [ENDS_FILE]``, settings in the
environment) so that it loads its code while the replay publishes. The replay tells it on
stdin where each topic ends, one JSON line each: ``{"reference": {partition: end}}`` once the
reference data is on the broker, ``{"activity": {...}}`` once everything is; it exits when it
has judged up to there and the broker has acknowledged what it sent, having written to
``ENDS_FILE`` where each partition it sent to ends (JSON ``[[topic, partition, end], ...]``).
"""

from __future__ import annotations

import io
import logging
import os
import queue
import sys
import threading
import time
from collections.abc import Callable
from typing import IO

import orjson
from confluent_kafka import Consumer, Message, TopicPartition

from detectors.graph.association import AssociationGraph
from detectors.registry import build
from engine.graph_judge import GraphJudge, reads_graph
from engine.pipeline import Pipeline
from models.alerts import Alert
from models.deadletters import DeadLetter, Origin
from models.edges import decode_edge
from models.events import Event, decode_event
from models.exceptions import DecodeError
from probity.runtime import tune_gc
from probity.settings import Settings
from probity.transport import kafka_client_config
from streams.graph_agent import EdgeOutbox
from streams.ingest import make_producer
from streams.replay_protocol import Ends, decode_ends, where
from streams.topics import partition_for

log = logging.getLogger(__name__)

#: records taken from the consumer at a time (the engine ticks once per batch, as the
#: worker does per fetched batch)
BATCH = 5000

#: judge 0 of several also judges the graph (as the edge records come): it takes this
#: share of an even split of the partitions (7 of 16 with two judges)
GRAPH_JUDGE_SHARE = 0.875


def owner(partition: int, partitions: int, count: int) -> int:
    """Which of ``count`` judges reads ``partition``: judge 0 the first few (fewer than the
    others: it also judges the graph), the rest in turn among the others."""
    if count == 1:
        return 0
    first = max(1, int(partitions / count * GRAPH_JUDGE_SHARE))
    return 0 if partition < first else 1 + (partition - first) % (count - 1)


class JudgeError(Exception):
    """The broker refused what the judge sent: the replay would be incomplete."""


class ReplayJudge:
    """One :class:`Pipeline`, fed by hand-assigned consumers: judge ``index`` of ``count``.

    One judge keeps the association graph in its pipeline. Several split the partitions
    (:func:`owner`) as workers in a group do: each holds all reference data, judges the
    reference and activity records of its partitions, and sends the edge records it derives
    to the edges topic, which judge 0 reads into the one graph (as the worker's graph agent
    does) as they come, between its own batches, and to the end once the others are done."""

    def __init__(self, settings: Settings, index: int = 0, count: int = 1) -> None:
        self.settings = settings
        self.index, self.count = index, count
        detectors = build(
            settings.detectors, settings.disabled_detectors, settings.detector_volume
        )
        self.outbox: EdgeOutbox | None = None
        self.graph: GraphJudge | None = None
        if count == 1:
            self.pipeline = Pipeline(
                detectors, graph=AssociationGraph(),
                seen_per_officer=settings.seen_ids_per_officer,
                min_feed_share=settings.feed_min_share,
            )  # fmt: skip
        else:
            self.outbox = EdgeOutbox()
            self.pipeline = Pipeline(
                detectors, owns=self._owns, edges=self.outbox,
                seen_per_officer=settings.seen_ids_per_officer,
                min_feed_share=settings.feed_min_share,
            )  # fmt: skip
            if index == 0:
                self.graph = GraphJudge([d for d in detectors if reads_graph(d)],
                                        self.pipeline.reference)  # fmt: skip
                if self.pipeline.coverage.feeds:
                    self.graph.gate = self.pipeline.inactive
        self.producer = make_producer(settings, client_id=f"{settings.app_id}-judge")
        self.failed: list[str] = []
        #: per (topic, partition) sent to, the next offset after the last record acknowledged
        self.sent: dict[tuple[str, int], int] = {}
        self.judged = 0
        self.alerts = 0

    def _owns(self, staff_id: str) -> bool:
        return self._mine(partition_for(staff_id, self.settings.partitions))

    def _mine(self, partition: int) -> bool:
        return owner(partition, self.settings.partitions, self.count) == self.index

    def _consumer(self, topic: str, partitions: list[int] | None = None) -> Consumer:
        """A consumer of ``partitions`` of ``topic`` (default: this judge's) from offset 0,
        outside any group (only assigned: librdkafka joins nothing and commits nothing)."""
        s = self.settings
        if partitions is None:
            partitions = [p for p in range(s.partitions) if self._mine(p)]
        consumer = Consumer({
            **kafka_client_config(s, "confluent"), "group.id": f"{s.app_id}-judge",
            "client.id": f"{s.app_id}-judge", "enable.auto.commit": False,
            "enable.auto.offset.store": False, "fetch.wait.max.ms": 50,
            "fetch.max.bytes": 16 * 2**20, "max.partition.fetch.bytes": 4 * 2**20,
            "log_level": 3,
        })  # fmt: skip
        consumer.assign([TopicPartition(topic, p, 0) for p in partitions])
        return consumer

    # -- what it sends ---------------------------------------------------------------------

    def _send(self, topic: str, key: bytes | None, value: bytes) -> None:
        def failed(error: str) -> None:
            self.failed.append(f"{topic}: {error}")

        def done(topic: str, partition: int, offset: int) -> None:
            tp = (topic, partition)
            self.sent[tp] = max(offset + 1, self.sent.get(tp, 0))

        self.producer.send(topic, key, value, done, failed)

    def _publish(self, alerts: list[Alert]) -> None:
        topic = self.settings.topics.alerts
        for alert in alerts:
            self.alerts += 1
            self._send(topic, alert.officer.encode(), orjson.dumps(alert.to_json()))

    def _dead_letter(self, raw: bytes, reason: str, msg: Message, event_id: str | None) -> None:
        topic, partition, offset = where(msg)
        origin = Origin(topic=topic, partition=partition, offset=offset)
        dl = DeadLetter.of(raw, reason, origin, event_id)
        self._send(self.settings.topics.dead_letters, dl.key(), dl.dumps())

    def _decode(self, msg: Message) -> Event | None:
        raw = msg.value() or b""
        try:
            return decode_event(raw)
        except DecodeError as exc:
            self._dead_letter(raw, exc.reason, msg, exc.event_id)
            return None

    def _judge(
        self, event: Event, msg: Message, fn: Callable[[Event, bytes | None], list[Alert]]
    ) -> None:
        """Judge one event (the book keeps its bytes); a bug turns into the event's dead
        letter, as in the worker."""
        try:
            self._publish(fn(event, msg.value()))
        except Exception as exc:
            log.exception("event processing failed", extra={"event_id": event.id})
            self._dead_letter(msg.value() or b"", f"processing failed: {exc!r}"[:300], msg,
                              event.id)  # fmt: skip
        self.judged += 1

    def _send_edges(self) -> None:
        """The edge records derived so far, to the edges topic (several judges)."""
        if self.outbox is None or not self.outbox.pending:
            return
        pending, self.outbox.pending = self.outbox.pending, []
        for record in pending:
            self._send(self.settings.topics.edges, record.key, record.dumps())

    def _take_edges(self, msgs: list[Message]) -> None:
        """Edge records into the graph (judge 0 of several), as the graph agent does."""
        assert self.graph is not None
        for msg in msgs:
            raw = msg.value() or b""
            try:
                record = decode_edge(raw)
            except DecodeError as exc:
                self._dead_letter(raw, exc.reason, msg, exc.event_id)
                continue
            try:
                self._publish(self.graph.take(record, judge=True))
            except Exception as exc:
                log.exception("edge record failed", extra={"event_id": record.id})
                self._dead_letter(raw, f"processing failed: {exc!r}"[:300], msg, record.id)

    # -- reading ---------------------------------------------------------------------------

    @staticmethod
    def _poll(consumer: Consumer, next_offset: dict[int, int], timeout_s: float) -> list[Message]:
        """The records fetched within ``timeout_s`` (at most :data:`BATCH`), noting in
        ``next_offset`` where each partition has been read to."""
        good = []
        for msg in consumer.consume(BATCH, timeout_s):
            if msg.error() is not None:
                log.warning("fetch error: %s", msg.error())
                continue
            good.append(msg)
            _topic, partition, offset = where(msg)
            next_offset[partition] = offset + 1
        return good

    @classmethod
    def _read(cls, consumer: Consumer, ends: Callable[[], Ends | None],
              take: Callable[[list[Message]], None],
              next_offset: dict[int, int] | None = None) -> None:  # fmt: skip
        """Hand ``take`` batches of records until every partition assigned reaches
        ``ends()`` (None: not known yet, keep reading); ``next_offset``: where each has been
        read to already."""
        next_offset = {} if next_offset is None else next_offset
        assigned = {tp.partition for tp in consumer.assignment()}
        while True:
            wanted = ends()
            if wanted is not None and all(
                next_offset.get(p, 0) >= end for p, end in wanted.items() if p in assigned
            ):
                return
            good = cls._poll(consumer, next_offset, 0.1)
            if good:
                take(good)

    def run(self, orders: queue.Queue[dict[str, Ends]]) -> None:
        """Read the reference topic while it is published, apply it in time order once it
        is all there, judge it, then judge the activity as it comes."""
        known: dict[str, Ends] = {}

        def ends(topic: str) -> Callable[[], Ends | None]:
            def get() -> Ends | None:
                while not orders.empty():
                    known.update(orders.get_nowait())
                return known.get(topic)

            return get

        t = self.settings.topics
        reference: list[tuple[Event, Message]] = []
        misrouted: list[tuple[Event, Message]] = []

        def take_reference(msgs: list[Message]) -> None:
            for msg in msgs:
                event = self._decode(msg)
                if event is not None:
                    (reference if event.is_reference else misrouted).append((event, msg))

        # all reference data (each judge holds it all); it judges its own partitions' only
        ref_consumer = self._consumer(t.reference, list(range(self.settings.partitions)))
        activity_consumer = self._consumer(t.activity)  # connects meanwhile
        try:
            self._read(ref_consumer, ends("reference"), take_reference)
        finally:
            ref_consumer.close()
        pipeline = self.pipeline
        # all of it in event-time order first (state that keeps the latest value needs the
        # order), then each judged once
        reference.sort(key=lambda pair: (pair[0].time, pair[0].id))
        for event, _msg in reference:
            pipeline.apply_reference(event)
        for event, msg in reference:
            if self._mine(where(msg)[1]):
                self._judge(event, msg, pipeline.process_reference)
        for event, msg in misrouted:  # activity sent to the reference topic: judged all the same
            if self._mine(where(msg)[1]):
                self._judge(event, msg, pipeline.process_activity)
        self._publish(pipeline.tick())
        self._send_edges()
        loaded = len(reference)
        reference.clear()  # the records read: not to be frozen
        misrouted.clear()
        tune_gc(self.settings)  # reference data is loaded: freeze it, collect less often
        log.info("reference data loaded and judged", extra={"events": loaded})

        # judge 0 of several judges the edge records as they come, between its own batches,
        # so that few are left once the others are done
        edges = self._consumer(t.edges, [0]) if self.graph is not None else None
        edges_read: dict[int, int] = {}

        def take_activity(msgs: list[Message]) -> None:
            for msg in msgs:
                event = self._decode(msg)
                if event is not None:
                    self._judge(event, msg, pipeline.process)
            self._publish(pipeline.tick())
            self._send_edges()
            if edges is not None:
                self._take_edges(self._poll(edges, edges_read, 0))

        try:
            self._read(activity_consumer, ends("activity"), take_activity)
        finally:
            activity_consumer.close()
        self._publish(pipeline.tick())
        self._send_edges()
        self.producer.flush()
        if edges is not None:
            # the rest of the others' edge records (and its own): all sent once the replay
            # says where the edges topic ends, i.e. once the other judges have finished
            own = self.sent.get((t.edges, 0), 0)
            told = ends("edges")

            def edges_end() -> Ends | None:
                others = told()
                return None if others is None else {0: max(others.get(0, 0), own)}

            try:
                self._read(edges, edges_end, self._take_edges, edges_read)
            finally:
                edges.close()
            self.producer.flush()
        if self.failed:
            raise JudgeError(f"the broker refused {len(self.failed)} records: {self.failed[0]}")


def _orders(stream: IO[bytes], into: queue.Queue[dict[str, Ends]]) -> None:
    """Each JSON line on ``stream``: {topic family: {partition: end offset}}."""
    for line in stream:
        if line.strip():
            into.put(decode_ends(line))


def main() -> None:
    from probity.logging import configure_logging
    from probity.settings import get_settings

    settings = get_settings()
    configure_logging(settings)
    began = time.monotonic()
    args = sys.argv[1:]
    index, count = (int(args[1]), int(args[2])) if len(args) >= 3 else (0, 1)
    judge = ReplayJudge(settings, index, count)
    tune_gc(settings)  # code and detectors loaded (as the worker): freeze, collect less often
    log.info("replay judge ready", extra={"duration_s": round(time.monotonic() - began, 2)})
    orders: queue.Queue[dict[str, Ends]] = queue.Queue()
    # a daemon thread reads stdin, unbuffered: the judge never waits on it, and may exit
    # while it reads (a buffered reader's lock would abort the interpreter's shutdown)
    stdin = io.FileIO(sys.stdin.fileno(), "r", closefd=False)
    threading.Thread(target=_orders, args=(stdin, orders), daemon=True).start()
    try:
        judge.run(orders)
    except JudgeError as exc:
        log.error("%s", exc)
        sys.exit(1)
    if args:  # where what it sent ends: the replay reads up to there
        with open(args[0], "wb") as fh:
            fh.write(orjson.dumps([[t, p, o] for (t, p), o in sorted(judge.sent.items())]))
    log.info(
        "replay judged", extra={"events": judge.judged, "alerts": judge.alerts,
                                "duration_s": round(time.monotonic() - began, 2)},
    )  # fmt: skip
    # everything is sent, acknowledged and written down: exit without taking its state
    # apart object by object (most of a second on the bench force, which the replay, waiting
    # for the exit, would wait for too)
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
