"""``probity coverage``: a :class:`intake.coverage.CoverageTracker` over the event topics.

One small process of its own (not the worker: coverage needs every partition, and a worker
holds only some; and it costs the judging nothing). It reads every partition of the activity
and reference topics from the beginning (the topics' retention is its memory: a restart
counts again what is retained), decodes each record once, skips invalid ones (the workers
dead-letter them) and feeds the tracker. It serves ``/metrics`` (Prometheus), ``/coverage``
(the tracker's JSON report, for the ACU queue) and ``/healthz`` on ``coverage.port``.

No endpoint without authentication: ``/metrics`` asks for ``metrics_token`` (the workers'
and the sink's, what Prometheus holds; per-source volumes would tell an insider whether
their system's feed is watched) and ``/coverage`` for ``coverage.token`` (it names staff);
the service refuses to start without both. ``/healthz`` (the probes) stays open.
"""

from __future__ import annotations

import hmac
import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, TopicPartition
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from intake.coverage import CoverageTracker
from intake.sources import load_sources
from models.events import decode_event
from models.exceptions import DecodeError
from probity.settings import Settings
from probity.transport import kafka_client_config
from streams.exceptions import StreamsError

log = logging.getLogger(__name__)


class CoverageUnprotected(StreamsError):
    """``probity coverage`` was started without ``metrics_token`` or ``coverage.token``."""


class CoverageFeed:
    """Reads the event topics into a tracker until :meth:`stop` (:meth:`run` blocks)."""

    def __init__(self, settings: Settings, tracker: CoverageTracker) -> None:
        self.settings = settings
        self.tracker = tracker
        self.records = 0
        self._stop = threading.Event()

    def _partitions(self, consumer: Consumer, topic: str) -> list[TopicPartition]:
        deadline = time.monotonic() + 30
        while True:
            meta = consumer.list_topics(topic, timeout=10).topics.get(topic)
            if meta is not None and meta.error is None and meta.partitions:
                return [TopicPartition(topic, p, OFFSET_BEGINNING) for p in sorted(meta.partitions)]
            if time.monotonic() > deadline:
                raise KafkaException(f"topic {topic} has no partitions")
            time.sleep(0.5)

    def _read(self, consumer: Consumer) -> int:
        """One batch into the tracker; the number of records read."""
        records = consumer.consume(num_messages=5000, timeout=0.5)
        now = time.time()
        for rec in records:
            value = rec.value()
            if rec.error() is not None or value is None:
                continue
            try:
                event = decode_event(value)
            except DecodeError:
                continue
            self.tracker.observe(event, now)
            self.records += 1
        return len(records)

    def _catch_up_reference(self, consumer: Consumer, tps: list[TopicPartition]) -> None:
        """Read the reference topic to its end first, so that the staff it names are known
        before their past activity is counted as resolved or not (activity read first would
        count the whole backlog unresolved)."""
        ends = {tp.partition: consumer.get_watermark_offsets(tp, timeout=10)[1] for tp in tps}
        consumer.assign(tps)
        while not self._stop.is_set():
            positions = consumer.position([TopicPartition(tp.topic, tp.partition) for tp in tps])
            if all(p.offset >= ends[p.partition] for p in positions if ends[p.partition] > 0):
                return
            self._read(consumer)

    def run(self) -> None:
        """Consume until stopped; the broker unreachable at start raises."""
        consumer = Consumer({
            **kafka_client_config(self.settings, "confluent"),
            "group.id": f"{self.settings.app_id}-coverage",  # required; nothing is committed
            "enable.auto.commit": False, "client.id": f"{self.settings.app_id}-coverage",
            "log_level": 3,
        })  # fmt: skip
        try:
            reference = self._partitions(consumer, self.settings.topics.reference)
            activity = self._partitions(consumer, self.settings.topics.activity)
            self._catch_up_reference(consumer, reference)
            consumer.incremental_assign(activity)
            while not self._stop.is_set():
                self._read(consumer)
        finally:
            consumer.close()

    def stop(self) -> None:
        self._stop.set()


def serve(
    tracker: CoverageTracker, registry: CollectorRegistry, host: str, port: int,
    *, token: str, metrics_token: str,
) -> ThreadingHTTPServer:
    """``/metrics``, ``/coverage`` and ``/healthz`` in a daemon thread; the server returned
    (``server_address`` has the port when ``port`` is 0; ``shutdown()`` stops it).
    ``/coverage`` (it names staff and accounts) answers 401 unless the request carries
    ``Authorization: Bearer <token>`` (``coverage.token``), ``/metrics`` unless it carries
    ``metrics_token``; ``/healthz`` answers anyone."""
    if not token or not metrics_token:
        raise CoverageUnprotected("the coverage service needs both of its bearer tokens")
    wanted = {"/coverage": f"Bearer {token}".encode(),
              "/metrics": f"Bearer {metrics_token}".encode()}  # fmt: skip

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?")[0].rstrip("/")
            body: bytes
            expected = wanted.get(path)
            if expected is not None and not hmac.compare_digest(
                self.headers.get("Authorization", "").encode(), expected
            ):
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Bearer realm="probity-coverage"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if path == "/metrics":
                body, ctype = generate_latest(registry), CONTENT_TYPE_LATEST
            elif path == "/coverage":
                body, ctype = orjson.dumps(tracker.report()), "application/json"
            elif path == "/healthz":
                body, ctype = b'{"status":"ok"}', "application/json"
            else:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer((host, port), Handler)
    threading.Thread(target=server.serve_forever, name="coverage-web", daemon=True).start()
    return server


def run_coverage(settings: Settings, stop: threading.Event | None = None) -> None:
    """The ``probity coverage`` process: load the sources file, serve, consume until
    SIGTERM/Ctrl-C (or ``stop``). Without ``metrics_token`` or ``coverage.token`` it
    refuses to start (:class:`CoverageUnprotected`), before reading anything."""
    c = settings.coverage
    missing = [name for name, value in (("PROBITY_METRICS_TOKEN", settings.metrics_token),
                                        ("PROBITY_COVERAGE__TOKEN", c.token)) if value is None]
    if missing:
        raise CoverageUnprotected(
            f"set {' and '.join(missing)}: no endpoint of the coverage service is open "
            "(/metrics takes the metrics token, /coverage the coverage token)"
        )
    assert settings.metrics_token is not None and c.token is not None  # for the type checker
    registry = CollectorRegistry()
    tracker = CoverageTracker(load_sources(c.sources_path), registry, days=c.days)
    server = serve(tracker, registry, c.host, c.port, token=c.token.get_secret_value(),
                   metrics_token=settings.metrics_token.get_secret_value())  # fmt: skip
    feed = CoverageFeed(settings, tracker)
    log.info("coverage serving", extra={"port": server.server_address[1]})
    if stop is not None:

        def stop_when_told() -> None:
            stop.wait()
            feed.stop()

        threading.Thread(target=stop_when_told, daemon=True).start()
    try:
        feed.run()
    finally:
        server.shutdown()
        server.server_close()
