"""Ingest: JSONL events onto the right topics with the contract's keys (kafka-python).

Each line is decoded once here, to choose its topic and key; the *original bytes* are
published, so the worker decodes exactly what the source sent. Invalid lines go to the dead
letters with file and line number; nothing is dropped.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from kafka import KafkaProducer

from models.deadletters import DeadLetter, Origin
from models.events import Event, decode_event
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


def make_producer(
    bootstrap: str, *, settings: Settings | None = None, **overrides: Any
) -> KafkaProducer:
    """A producer tuned for throughput with full acknowledgement (nothing lost silently);
    with ``settings``, their transport security too (probity.transport)."""
    conf: dict[str, Any] = {
        **(kafka_client_config(settings, "kafka-python", bootstrap=bootstrap) if settings
           else {"bootstrap_servers": bootstrap}),
        "acks": "all",
        "linger_ms": 20,
        "batch_size": 256 * 1024,
        "max_request_size": 4 * 1024 * 1024,
        "retries": 10,
        "client_id": "probity-ingest",
    }
    conf.update(overrides)
    return KafkaProducer(**conf)


class Ingestor:
    """Publishes lines to Kafka; collects offsets so callers can wait for the worker."""

    def __init__(self, settings: Settings, producer: KafkaProducer) -> None:
        self.settings = settings
        self.producer = producer
        self.summary = IngestSummary()

    def _send(self, topic: str, key: bytes | None, value: bytes) -> None:
        """Hand one record to the producer; the broker's answer lands in the summary (its
        offsets, or the error if it refused the record after the producer's retries)."""
        summary = self.summary

        def done(meta: Any) -> None:
            tp = (meta.topic, meta.partition)
            summary.end_offsets[tp] = max(meta.offset + 1, summary.end_offsets.get(tp, 0))

        def failed(exc: BaseException) -> None:
            summary.failed[f"{topic}: {type(exc).__name__}"] += 1

        self.producer.send(topic, key=key, value=value).add_callback(done).add_errback(failed)

    def publish_line(self, raw: bytes, origin: Origin, only: str | None = None) -> None:
        """Decode one line, then publish it (or its dead letter). ``only`` = 'reference' or
        'activity' skips the other family (used to publish reference data first)."""
        raw = raw.rstrip(b"\r\n")
        if not raw.strip():
            return
        limit = self.settings.max_record_bytes
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
        self.summary.read += 1
        topic = topic_for(event, self.settings)
        self._send(topic, event.key.encode(), raw)
        self.summary.published[topic] += 1

    def publish_file(
        self, stream: IO[bytes], name: str, only: str | None = None, progress: bool = False
    ) -> None:
        for lineno, raw in enumerate(_progress(stream, name, progress), start=1):
            self.publish_line(raw, Origin(file=name, line=lineno), only)

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
) -> IngestSummary:
    """Publish JSONL files (``-`` = stdin). With ``reference_first`` every file's reference
    events go out before any activity, so a worker starting afterwards has all reference data
    (it takes effect from its event time either way). With ``adapter`` (an
    ``adapters.base.Adapter``) the files are in that format and converted first."""
    producer = make_producer(bootstrap, settings=settings)
    ing = Ingestor(settings, producer)
    try:
        paths = list(paths)
        if "-" in paths:
            if len(paths) > 1:
                raise ValueError("'-' (stdin) cannot be combined with files")
            if adapter is not None:
                ing.publish_converted(adapter.convert(sys.stdin.buffer, "<stdin>"))
            else:
                ing.publish_file(sys.stdin.buffer, "<stdin>")
            return ing.flush()
        passes: list[str | None] = (
            ["invalid", "reference", "activity"] if reference_first else [None]
        )
        for only in passes:
            for path in paths:
                with open(path, "rb") as fh:
                    if adapter is not None:
                        ing.publish_converted(adapter.convert(fh, path), only)
                    else:
                        ing.publish_file(fh, path, only, progress and only in (None, "activity"))
        return ing.flush()
    finally:
        producer.close()
