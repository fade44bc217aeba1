"""Ingest: JSONL events onto the right topics with the contract's keys.

Each line is decoded once here, to choose its topic and key; the *original bytes* are
published, so the worker decodes exactly what the source sent. Invalid lines go to the dead
letters with file and line number; nothing is dropped.

The producer is librdkafka's (confluent-kafka): handing it a record costs about 1.5 us of
Python time where kafka-python's costs about 60 us, which made publishing a third of a
replay. It uses the Java client's partitioner (``murmur2_random``), as kafka-python, aiokafka
and :func:`streams.topics.partition_for` do, so a key lands on the same partition whichever
client sent it.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import IO, Any

import orjson
from confluent_kafka import KafkaError, Message, Producer

from models.deadletters import DeadLetter, Origin
from models.events import ACTIVITY_KINDS, Event, decode_event
from models.exceptions import DecodeError
from probity.settings import Settings
from probity.transport import kafka_client_config


@dataclass
class IngestSummary:
    """What an ingest did: lines read, published per topic, invalid by reason, and records
    the broker did not take (by error)."""

    read: int = 0
    published: Counter[str] = field(default_factory=Counter)
    invalid: Counter[str] = field(default_factory=Counter)
    failed: Counter[str] = field(default_factory=Counter)
    #: per topic and partition, the next offset after the last record published
    end_offsets: dict[tuple[str, int], int] = field(default_factory=dict)

    @property
    def published_total(self) -> int:
        return sum(self.published.values())

    @property
    def invalid_total(self) -> int:
        return sum(self.invalid.values())

    @property
    def failed_total(self) -> int:
        return sum(self.failed.values())

    def merge(self, other: IngestSummary) -> None:
        self.read += other.read
        self.published.update(other.published)
        self.invalid.update(other.invalid)
        self.failed.update(other.failed)
        for tp, off in other.end_offsets.items():
            self.end_offsets[tp] = max(off, self.end_offsets.get(tp, 0))

    def lines(self) -> list[str]:
        out = [f"read {self.read}, published {self.published_total}, invalid {self.invalid_total}"]
        out += [f"  {topic}: {n}" for topic, n in sorted(self.published.items())]
        out += [f"  invalid: {reason} x{n}" for reason, n in self.invalid.most_common()]
        if self.failed:
            out.append(f"of these, NOT ACCEPTED by the broker: {self.failed_total} (publish again)")
            out += [f"  {error} x{n}" for error, n in self.failed.most_common()]
        return out


#: the reason an over-long line is dead-lettered with (before it is decoded)
OVERSIZE = "event too large"


def reason_class(reason: str) -> str:
    """A short, bounded summary of a decode reason, for summaries and metric labels."""
    if reason.startswith(OVERSIZE):
        return OVERSIZE
    if reason.startswith("not valid JSON"):
        return "not valid JSON"
    if reason.startswith("not a JSON object"):
        return "not a JSON object"
    head = reason.split(";")[0]
    field_name, _, msg = head.partition(": ")
    return f"{field_name}: {msg.split(',')[0]}"[:80] if msg else head[:80]


def topic_for(event: Event, settings: Settings) -> str:
    return settings.topics.reference if event.is_reference else settings.topics.activity


class RecordProducer:
    """A librdkafka producer with full acknowledgement (``acks=all``): each record's outcome
    (its offset, or the error once librdkafka's retries and ``message.timeout.ms`` are spent)
    reaches the callbacks given to :meth:`send`, called from :meth:`send` and :meth:`flush`
    on the caller's thread."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self._producer = Producer(dict(config))
        self._sent = 0

    def send(
        self,
        topic: str,
        key: bytes | None,
        value: bytes,
        done: Callable[[str, int, int], None],
        failed: Callable[[str], None],
    ) -> None:
        """Queue one record; ``done(topic, partition, offset)`` or ``failed(error name)``
        is called once the broker answers."""

        def report(err: KafkaError | None, msg: Message) -> None:
            if err is not None:
                failed(err.name())
            else:
                done(msg.topic() or topic, msg.partition() or 0, msg.offset() or 0)

        while True:
            try:
                self._producer.produce(topic, value=value, key=key, on_delivery=report)
                break
            except BufferError:  # librdkafka's queue is full: let the broker catch up
                self._producer.poll(0.05)
        self._sent += 1
        if self._sent % 1000 == 0:
            self._producer.poll(0)  # serve the delivery callbacks as we go

    def flush(self, timeout_s: float | None = None) -> int:
        """Wait for every queued record's answer (at most ``timeout_s``); returns how many
        are still unanswered (0 unless the timeout passed)."""
        if timeout_s is None:
            while self._producer.flush(1.0):
                pass
            return 0
        return int(self._producer.flush(timeout_s))

    def close(self, timeout_s: float = 30.0) -> None:
        """Flush what is queued (at most ``timeout_s``); librdkafka frees the rest itself."""
        self.flush(timeout_s)


def make_producer(
    settings: Settings,
    bootstrap: str | None = None,
    client_id: str = "probity-ingest",
    config: Mapping[str, Any] | None = None,
) -> RecordProducer:
    """A producer tuned for throughput with full acknowledgement (nothing lost silently),
    with the settings' transport security (probity.transport), to ``bootstrap`` (default:
    the settings' brokers); ``config`` overrides librdkafka settings (e.g.
    ``{"message.timeout.ms": 3000}``)."""
    conf: dict[str, Any] = {
        **kafka_client_config(settings, "confluent", bootstrap=bootstrap),
        "client.id": client_id,
        "acks": "all",
        "linger.ms": 20,
        "batch.size": 1024 * 1024,
        "message.max.bytes": 4 * 1024 * 1024,  # a dead letter of a record near the limit
        "partitioner": "murmur2_random",
        "message.timeout.ms": 120_000,  # then a record counts as not taken (publish again)
        "log_level": 3,  # errors only
    }
    conf.update(config or {})
    return RecordProducer(conf)


class Ingestor:
    """Publishes lines to Kafka; collects offsets so callers can wait for the worker."""

    def __init__(self, settings: Settings, producer: RecordProducer) -> None:
        self.settings = settings
        self.producer = producer
        self.summary = IngestSummary()

    def _send(self, topic: str, key: bytes | None, value: bytes) -> None:
        """Hand one record to the producer; the broker's answer lands in the summary (its
        offsets, or the error if it refused the record after the producer's retries)."""
        summary = self.summary

        def done(topic: str, partition: int, offset: int) -> None:
            tp = (topic, partition)
            summary.end_offsets[tp] = max(offset + 1, summary.end_offsets.get(tp, 0))

        def failed(error: str) -> None:
            summary.failed[f"{topic}: {error}"] += 1

        self.producer.send(topic, key, value, done, failed)

    def publish_line(
        self,
        raw: bytes,
        origin: Origin,
        only: str | None = None,
        defer: list[tuple[int, str | None]] | None = None,
    ) -> None:
        """Decode one line, then publish it (or its dead letter). ``only`` = 'reference' or
        'activity' skips the other family (used to publish reference data first). With
        ``defer``, an activity line is not published but its line number and key are added
        to it, for :meth:`publish_deferred`; a line whose kind is an activity kind is added
        undecoded (key ``None``), to be decoded there."""
        raw = raw.rstrip(b"\r\n")
        if not raw.strip():
            return
        limit = self.settings.max_record_bytes
        if defer is not None and origin.line is not None and _activity_kind(raw, limit):
            # validated in the second pass, which publishes it: the reference data goes out
            # after one JSON parse of each activity line, not a full decode
            defer.append((origin.line, None))
            return
        try:
            if len(raw) > limit:  # not decoded: a broker would refuse it anyway
                raise DecodeError(
                    f"{OVERSIZE}: {len(raw)} bytes, the limit is {limit} (PROBITY_MAX_RECORD_BYTES)"
                )
            event = decode_event(raw)
        except DecodeError as exc:
            if only in (None, "invalid"):
                self.summary.read += 1
                self.summary.invalid[reason_class(exc.reason)] += 1
                dl = DeadLetter.of(raw, exc.reason, origin, exc.event_id)
                self._send(self.settings.topics.dead_letters, dl.key(), dl.dumps())
            return
        family = "reference" if event.is_reference else "activity"
        if only is not None and only != family:
            return
        if defer is not None and family == "activity" and origin.line is not None:
            defer.append((origin.line, event.key))
            return
        self.summary.read += 1
        topic = topic_for(event, self.settings)
        self._send(topic, event.key.encode(), raw)
        self.summary.published[topic] += 1

    def publish_file(
        self,
        stream: IO[bytes],
        name: str,
        only: str | None = None,
        progress: bool = False,
        defer: list[tuple[int, str | None]] | None = None,
    ) -> None:
        for lineno, raw in enumerate(_progress(stream, name, progress), start=1):
            self.publish_line(raw, Origin(file=name, line=lineno), only, defer)

    def publish_deferred(
        self,
        stream: IO[bytes],
        name: str,
        deferred: list[tuple[int, str | None]],
        progress: bool = False,
    ) -> None:
        """Publish the activity lines a first :meth:`publish_file` pass deferred, read again
        from ``stream`` (the same file): sent with the key that pass decoded, or decoded here
        (and dead-lettered if invalid) where it only saw an activity kind. Each line is
        decoded once."""
        topic = self.settings.topics.activity
        plan = iter(deferred)
        wanted = next(plan, None)
        for lineno, raw in enumerate(_progress(stream, name, progress), start=1):
            if wanted is None:
                break
            if lineno == wanted[0]:
                if wanted[1] is None:
                    self.publish_line(raw, Origin(file=name, line=lineno))
                else:
                    self.summary.read += 1
                    self._send(topic, wanted[1].encode(), raw.rstrip(b"\r\n"))
                    self.summary.published[topic] += 1
                wanted = next(plan, None)

    # --- converted input (`probity ingest --format`, issue 15: adapters/) ---------------

    def publish_converted(self, items: Iterable[Any], only: str | None = None) -> None:
        """Publish what a format adapter converted: each event as its contract JSON (through
        :meth:`publish_line`, so topic, key and limits are the same), each reject as a dead
        letter with the bytes read, file, line and the adapter's reason."""
        from adapters.base import Reject

        for item in items:
            if not isinstance(item, Reject):
                self.publish_line(item.json, Origin(file=item.file, line=item.line), only)
            elif only in (None, "invalid"):
                self.summary.read += 1
                self.summary.invalid[reason_class(item.reason)] += 1
                dl = DeadLetter.of(item.raw, item.reason, Origin(file=item.file, line=item.line))
                self._send(self.settings.topics.dead_letters, dl.key(), dl.dumps())

    def flush(self) -> IngestSummary:
        self.producer.flush()
        return self.summary


def _activity_kind(raw: bytes, limit: int) -> bool:
    """Whether ``raw`` is a JSON object of an activity kind, within the size limit (one
    parse, no validation: :func:`decode_event` still judges it valid or not)."""
    if len(raw) > limit:
        return False
    try:
        obj = orjson.loads(raw)
    except ValueError:  # orjson's JSONDecodeError: the full decode gives the reason
        return False
    if not isinstance(obj, dict):
        return False
    kind = obj.get("kind")
    return isinstance(kind, str) and kind in ACTIVITY_KINDS


def _progress(stream: IO[bytes], name: str, enabled: bool) -> Iterator[bytes]:
    if not enabled:
        yield from stream
        return
    from tqdm import tqdm

    total = None
    try:
        import os

        total = os.fstat(stream.fileno()).st_size
    except (OSError, ValueError, AttributeError):
        pass
    tty = sys.stderr.isatty()
    with tqdm(total=total, unit="B", unit_scale=True, desc=name, file=sys.stderr,
              mininterval=0.2 if tty else 10.0) as bar:  # fmt: skip
        for line in stream:
            bar.update(len(line))
            yield line


def ingest_paths(
    settings: Settings,
    bootstrap: str,
    paths: Iterable[str],
    *,
    reference_first: bool = True,
    progress: bool = False,
    adapter: Any = None,
    on_reference_published: Callable[[IngestSummary], None] | None = None,
) -> IngestSummary:
    """Publish JSONL files (``-`` = stdin). With ``reference_first`` every file's reference
    events (and dead letters) go out and are acknowledged before any activity, so a worker
    starting after that has all reference data (it takes effect from its event time either
    way); ``on_reference_published`` is called at that point with the summary so far (its
    offsets: where the reference data ends), so a replay judges while the activity is
    published. Each JSONL line is decoded once: the
    first pass notes the activity lines' keys, the second sends them. With ``adapter`` (an
    ``adapters.base.Adapter``) the files are in that format and converted first."""
    producer = make_producer(settings, bootstrap)
    ing = Ingestor(settings, producer)
    reference_done = on_reference_published or (lambda _summary: None)
    try:
        paths = list(paths)
        if "-" in paths:
            if len(paths) > 1:
                raise ValueError("'-' (stdin) cannot be combined with files")
            if adapter is not None:
                ing.publish_converted(adapter.convert(sys.stdin.buffer, "<stdin>"))
            else:
                ing.publish_file(sys.stdin.buffer, "<stdin>")
            summary = ing.flush()
            reference_done(summary)
            return summary
        if not reference_first:
            for path in paths:
                with open(path, "rb") as fh:
                    if adapter is not None:
                        ing.publish_converted(adapter.convert(fh, path))
                    else:
                        ing.publish_file(fh, path, progress=progress)
            summary = ing.flush()
            reference_done(summary)
            return summary
        if adapter is not None:
            for only in ("invalid", "reference"):
                for path in paths:
                    with open(path, "rb") as fh:
                        ing.publish_converted(adapter.convert(fh, path), only)
            reference_done(ing.flush())
            for path in paths:
                with open(path, "rb") as fh:
                    ing.publish_converted(adapter.convert(fh, path), "activity")
            return ing.flush()
        deferred: list[tuple[str, list[tuple[int, str | None]]]] = []
        for path in paths:
            with open(path, "rb") as fh:
                deferred.append((path, []))
                ing.publish_file(fh, path, defer=deferred[-1][1])
        reference_done(ing.flush())
        for path, plan in deferred:
            with open(path, "rb") as fh:
                ing.publish_deferred(fh, path, plan, progress)
        return ing.flush()
    finally:
        producer.close()
