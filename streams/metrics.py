"""Prometheus metrics of a worker: what it consumed, judged, raised, and how far behind it is.

Metrics take a :class:`~prometheus_client.CollectorRegistry` (tests pass a fresh one and read
values with ``registry.get_sample_value``). Label values come from small, bounded sets only:
detector ids, categories, severities, source names (capped), known event kinds and a closed
set of decode-failure classes. Never an officer, a subject, an event id or free text: those
would leak into dashboards and blow up Prometheus's memory.

Label sets are bound once and cached, so a call costs a dict look-up and an increment.

>>> from prometheus_client import CollectorRegistry
>>> reg = CollectorRegistry()
>>> m = WorkerMetrics(reg)
>>> m.event_invalid("not valid JSON: unexpected end of data")
>>> reg.get_sample_value("probity_events_invalid_total", {"reason": "json"})
1.0
"""

from __future__ import annotations

import hmac
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from socketserver import ThreadingMixIn
from typing import TYPE_CHECKING, Any, Final
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    make_wsgi_app,
)
from prometheus_client.exposition import choose_encoder

from engine.hooks import PipelineHooks
from models.events import KNOWN_KINDS

if TYPE_CHECKING:
    from models.alerts import Alert, Finding
    from models.edges import EdgeRecord
    from models.events import Event

log = logging.getLogger(__name__)

#: The closed set of ``reason`` label values of ``probity_events_invalid_total``.
INVALID_REASONS: Final = (
    "json",
    "not_object",
    "missing_field",
    "wrong_type",
    "bad_time",
    "bad_value",
    "other",
)
#: Label value for an event kind outside the contract (unknown kinds are valid but unbounded).
UNKNOWN_KIND: Final = "unknown"
#: Label value for sources beyond ``max_sources`` distinct names.
OVERFLOW_SOURCE: Final = "_overflow"

# Detector evaluation is microseconds to milliseconds; a slow one is a bug worth seeing.
DETECTOR_BUCKETS: Final = (
    0.00001,
    0.000025,
    0.00005,
    0.0001,
    0.00025,
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.1,
    0.5,
)
# Event time to alert: seconds when live, hours or days when a source delivers late or in
# batches (replays land in the top bucket and are visible as such).
#: a checkpoint waits for the broker's acknowledgements: milliseconds normally, seconds
#: when the broker struggles
CHECKPOINT_BUCKETS: Final = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 15.0, 60.0)
DELAY_BUCKETS: Final = (
    0.1,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
    60.0,
    300.0,
    900.0,
    3600.0,
    21600.0,
    86400.0,
    604800.0,
)


def invalid_reason_class(reason: str) -> str:
    """Map a :class:`~models.exceptions.DecodeError` reason to a label value in
    :data:`INVALID_REASONS`, judged on the first field at fault.

    >>> invalid_reason_class("time: Field required; source: Field required")
    'missing_field'
    >>> invalid_reason_class("attrs.results: Input should be a valid integer")
    'wrong_type'
    >>> invalid_reason_class("attrs.dob: must be a date YYYY-MM-DD")
    'bad_time'
    """
    if reason.startswith("not valid JSON"):
        return "json"
    if reason.startswith("not a JSON object"):
        return "not_object"
    first = reason.split("; ", 1)[0]
    loc, sep, msg = first.partition(": ")
    if not sep:
        loc, msg = "", first
    if "Field required" in msg or msg.startswith("required for"):
        return "missing_field"
    leaf = loc.rsplit(".", 1)[-1]
    if (
        leaf in ("time", "start", "end", "dob", "expires")
        or "RFC 3339" in msg
        or "must be a date" in msg
        or "valid datetime" in msg
        or "valid date" in msg
    ):
        return "bad_time"
    if msg.startswith("Input should be a valid") or msg.endswith("must be an object"):
        return "wrong_type"
    if msg.startswith(("String should", "Input should be", "List should", "Value should")):
        return "bad_value"
    return "other"


@dataclass
class _SourceSeries:
    """The bound series of one source and the newest event time it has shown."""

    label: str
    events: Any
    last_event: Any
    last_seen: Any
    newest_event_ts: float = float("-inf")


class WorkerMetrics:
    """Every metric a worker exports, registered in ``registry``.

    The worker calls the methods below from its consume loop; each is cheap (no I/O, no
    locks beyond prometheus-client's own) and never raises on odd input.
    """

    def __init__(
        self,
        registry: CollectorRegistry,
        *,
        detectors: Iterable[str] = (),
        topics: Iterable[str] = (),
        max_sources: int = 256,
    ) -> None:
        """``detectors`` and ``topics`` (the input topics) are bound up front, so their
        error and dead-letter counters exist at zero and the first one shows in ``rate()``.
        """
        self.registry = registry
        self.max_sources = max_sources
        r = registry
        self.events = Counter(
            "probity_events",
            "Events consumed, by source system and event kind.",
            ["source", "kind"],
            registry=r,
        )
        self.events_invalid = Counter(
            "probity_events_invalid",
            "Events that failed decoding, by class of reason.",
            ["reason"],
            registry=r,
        )
        self.dead_letters = Counter(
            "probity_dead_letters",
            "Records written to the dead-letter topic, by input topic.",
            ["topic"],
            registry=r,
        )
        self.refetched = Counter(
            "probity_records_refetched",
            "Records the consumer skipped (after a recovery or rebalance) that the worker "
            "fetched directly and judged, by topic.",
            ["topic"],
            registry=r,
        )
        self.detector_seconds = Histogram(
            "probity_detector_seconds",
            "Time one detector took to evaluate one event.",
            ["detector"],
            buckets=DETECTOR_BUCKETS,
            registry=r,
        )
        self.detector_errors = Counter(
            "probity_detector_errors",
            "Detector evaluations that raised (event skipped).",
            ["detector"],
            registry=r,
        )
        self.findings = Counter(
            "probity_findings",
            "Findings returned by detectors.",
            ["detector"],
            registry=r,
        )
        self.alerts = Counter(
            "probity_alerts",
            "Alerts produced, by detector, category and severity.",
            ["detector", "category", "severity"],
            registry=r,
        )
        self.event_to_alert = Histogram(
            "probity_event_to_alert_seconds",
            "Delay from the triggering event's time to the alert being produced.",
            buckets=DELAY_BUCKETS,
            registry=r,
        )
        self.consumer_lag = Gauge(
            "probity_consumer_lag",
            "Records behind the partition's high watermark.",
            ["topic", "partition"],
            registry=r,
        )
        self.worker_up = Gauge(
            "probity_worker_up",
            "1 while this worker process runs.",
            registry=r,
        )
        self.partitions_assigned = Gauge(
            "probity_partitions_assigned",
            "Partitions assigned to this worker.",
            registry=r,
        )
        self.source_last_event = Gauge(
            "probity_source_last_event_timestamp_seconds",
            "Event time (Unix seconds) of the latest event from each source.",
            ["source"],
            registry=r,
        )
        self.source_last_seen = Gauge(
            "probity_source_last_seen_timestamp_seconds",
            "Wall-clock time (Unix seconds) this worker last received an event from each source.",
            ["source"],
            registry=r,
        )
        self.source_events = Counter(
            "probity_source_events",
            "Events consumed per source system.",
            ["source"],
            registry=r,
        )
        self.edges_published = Counter(
            "probity_edge_records_published",
            "Edge records this worker derived and sent to the graph agent.",
            registry=r,
        )
        self.checkpoint_seconds = Histogram(
            "probity_checkpoint_seconds",
            "Time a checkpoint took: every record sent since the last one acknowledged, the "
            "touched officers' state written and acknowledged (the offset commit excluded).",
            buckets=CHECKPOINT_BUCKETS,
            registry=r,
        )
        self.records_too_large = Counter(
            "probity_records_too_large",
            "Records a worker did not write because they are over PROBITY_MAX_RECORD_BYTES "
            "(officer state or edge records keyed by an absurdly long id): by topic.",
            ["topic"],
            registry=r,
        )
        self.officer_states_written = Counter(
            "probity_officer_states_written",
            "Officer states written to the officer-state changelog (one per touched officer "
            "per checkpoint).",
            registry=r,
        )
        self.graph_records = Counter(
            "probity_graph_records",
            "Edge records the graph agent took: judged, or applied only while rebuilding the "
            "graph from the edges topic; by what they carry.",
            ["mode", "kind"],
            registry=r,
        )
        self.graph_nodes = Gauge(
            "probity_graph_nodes",
            "Nodes of the association graph this worker holds (0 unless it runs the graph agent).",
            registry=r,
        )
        self.graph_edges = Gauge(
            "probity_graph_edges",
            "Edges of the association graph this worker holds (0 unless it runs the graph agent).",
            registry=r,
        )
        self.feed_coverage = Gauge(
            "probity_reference_feed_coverage_ratio",
            "Share of staff with a record in a reference feed, as of the latest event time.",
            ["feed"],
            registry=r,
        )
        self.detectors_inactive = Gauge(
            "probity_detectors_inactive",
            "Detectors not judging for want of a reference feed covering enough staff.",
            ["feed"],
            registry=r,
        )
        self.worker_up.set(1)
        # children bound once per label set: a call then costs a dict look-up
        self._events: dict[tuple[str, str], Any] = {}
        self._sources: dict[str, _SourceSeries] = {}
        self._invalid = {reason: self.events_invalid.labels(reason) for reason in INVALID_REASONS}
        self._dead: dict[str, Any] = {}
        self._det_seconds: dict[str, Any] = {}
        self._det_errors: dict[str, Any] = {}
        self._findings: dict[str, Any] = {}
        self._alerts: dict[tuple[str, str, str], Any] = {}
        self._lag: dict[tuple[str, int], Any] = {}
        self._lock = threading.Lock()
        for detector_id in detectors:
            self._det_errors[detector_id] = self.detector_errors.labels(detector_id)
            self._findings[detector_id] = self.findings.labels(detector_id)
            self._det_seconds[detector_id] = self.detector_seconds.labels(detector_id)
        for topic in topics:
            self._dead[topic] = self.dead_letters.labels(topic)
        self._graph_records = {
            (mode, kind): self.graph_records.labels(mode, kind)
            for mode in ("judged", "rebuilt") for kind in ("reference", "call", "lookup")
        }  # fmt: skip

    # -- ingestion ------------------------------------------------------------------------

    def _source(self, source: str) -> _SourceSeries:
        """The bound series of one source, or of ``_overflow`` past ``max_sources``."""
        series = self._sources.get(source)
        if series is not None:
            return series
        with self._lock:
            if source not in self._sources and len(self._sources) >= self.max_sources:
                if OVERFLOW_SOURCE not in self._sources:
                    log.warning(
                        "more than %d sources: further ones counted as %s",
                        self.max_sources,
                        OVERFLOW_SOURCE,
                    )
                label = OVERFLOW_SOURCE
            else:
                label = source
            series = self._sources.get(label)
            if series is None:
                series = _SourceSeries(
                    label=label,
                    events=self.source_events.labels(label),
                    last_event=self.source_last_event.labels(label),
                    last_seen=self.source_last_seen.labels(label),
                )
                self._sources[label] = series
            if label != source:
                self._sources[source] = series
        return series

    def event_consumed(self, event: Event, *, now: float | None = None) -> None:
        """Count one decoded event and mark its source as alive.

        ``now`` (Unix seconds) is for tests; the worker leaves it to the wall clock, which is
        what "last seen" means: when the event reached us, whatever its event time.
        """
        source = self._source(event.source)
        kind = event.kind if event.kind in KNOWN_KINDS else UNKNOWN_KIND
        key = (source.label, kind)
        child = self._events.get(key)
        if child is None:
            child = self._events.setdefault(key, self.events.labels(*key))
        child.inc()
        source.events.inc()
        event_ts = event.time.timestamp()
        if event_ts > source.newest_event_ts:  # a late event does not move the clock back
            source.newest_event_ts = event_ts
            source.last_event.set(event_ts)
        source.last_seen.set(time.time() if now is None else now)

    def events_consumed(self, events: Iterable[Event]) -> None:
        """:meth:`event_consumed` for a batch: the same counts, one update per series (the
        worker calls this once per batch, so metrics cost little per event)."""
        counts: dict[tuple[str, str], int] = {}
        newest: dict[str, float] = {}
        for event in events:
            key = (event.source, event.kind)
            counts[key] = counts.get(key, 0) + 1
            ts = event.time.timestamp()
            if ts > newest.get(event.source, float("-inf")):
                newest[event.source] = ts
        if not counts:
            return
        now = time.time()
        per_source: dict[str, int] = {}
        for (source_name, kind_name), n in counts.items():
            source = self._source(source_name)
            kind = kind_name if kind_name in KNOWN_KINDS else UNKNOWN_KIND
            key = (source.label, kind)
            child = self._events.get(key)
            if child is None:
                child = self._events.setdefault(key, self.events.labels(*key))
            child.inc(n)
            per_source[source_name] = per_source.get(source_name, 0) + n
        for source_name, n in per_source.items():
            source = self._source(source_name)
            source.events.inc(n)
            if newest[source_name] > source.newest_event_ts:
                source.newest_event_ts = newest[source_name]
                source.last_event.set(newest[source_name])
            source.last_seen.set(now)

    def event_invalid(self, reason: str) -> None:
        """Count one event that failed decoding; ``reason`` is the DecodeError's text."""
        self._invalid[invalid_reason_class(reason)].inc()

    def dead_letter(self, topic: str) -> None:
        """Count one record sent to the dead letters, labelled by the topic it came from."""
        child = self._dead.get(topic)
        if child is None:
            child = self._dead.setdefault(topic, self.dead_letters.labels(topic))
        child.inc()

    def fits(self, topic: str, key: bytes | None, value: bytes, limit: int) -> bool:
        """Is a record within ``limit`` bytes, so the producer and broker will take it? One
        that is not is logged and counted here; the caller does not write it (a send would
        fail and stop the worker on every restart)."""
        size = len(value) + (len(key) if key else 0)
        if size <= limit:
            return True
        self.records_too_large.labels(topic).inc()
        shown = (key or b"")[:64].decode(errors="replace")
        log.error("record over PROBITY_MAX_RECORD_BYTES not written",
                  extra={"topic": topic, "bytes": size, "key": shown})  # fmt: skip
        return False

    def gap_refilled(self, topic: str, n: int) -> None:
        """Count records fetched directly because the consumer skipped them."""
        self.refetched.labels(topic).inc(n)

    # -- detection ------------------------------------------------------------------------

    def detector_time(self, detector_id: str, seconds: float) -> None:
        child = self._det_seconds.get(detector_id)
        if child is None:
            child = self._det_seconds.setdefault(
                detector_id, self.detector_seconds.labels(detector_id)
            )
        child.observe(seconds)

    def detector_error(self, detector_id: str, exc: BaseException | None = None) -> None:
        """Count a detector that raised (the exception itself goes to the log, not here)."""
        child = self._det_errors.get(detector_id)
        if child is None:
            child = self._det_errors.setdefault(
                detector_id, self.detector_errors.labels(detector_id)
            )
        child.inc()

    def finding(self, finding: Finding) -> None:
        child = self._findings.get(finding.detector)
        if child is None:
            child = self._findings.setdefault(
                finding.detector, self.findings.labels(finding.detector)
            )
        child.inc()

    def alert(self, alert: Alert) -> None:
        """Count an alert produced and observe its delay from event time to ``raised_at``."""
        key = (alert.detector, str(alert.category), alert.severity)
        child = self._alerts.get(key)
        if child is None:
            child = self._alerts.setdefault(key, self.alerts.labels(*key))
        child.inc()
        delay = (alert.raised_at - alert.time).total_seconds()
        self.event_to_alert.observe(max(delay, 0.0))

    def coverage(self, feed: str, share: float, inactive: tuple[str, ...]) -> None:
        """A reference feed's share of staff covered and the detectors inactive for want of
        it (the engine's ``on_coverage``)."""
        self.feed_coverage.labels(feed).set(share)
        self.detectors_inactive.labels(feed).set(len(inactive))

    def pipeline_hooks(self) -> PipelineHooks:
        """Hooks for :class:`engine.pipeline.Pipeline` feeding these metrics."""
        return PipelineHooks(
            on_detector_time=self.detector_time,
            on_finding=self.finding,
            on_detector_error=self.detector_error,
            on_coverage=self.coverage,
        )

    # -- the graph ------------------------------------------------------------------------

    def checkpointed(self, seconds: float, officers: int) -> None:
        """One checkpoint of the worker: how long it took and how many states it wrote."""
        self.checkpoint_seconds.observe(seconds)
        self.officer_states_written.inc(officers)

    def edge_published(self) -> None:
        self.edges_published.inc()

    def graph_record(self, record: EdgeRecord, *, judged: bool) -> None:
        """Count one record the graph agent took."""
        event = record.event
        kind = "reference" if event.is_reference else (
            "call" if event.kind == "call.made" else "lookup")  # fmt: skip
        self._graph_records[("judged" if judged else "rebuilt", kind)].inc()

    def set_graph_size(self, nodes: int, edges: int) -> None:
        self.graph_nodes.set(nodes)
        self.graph_edges.set(edges)

    # -- consumer -------------------------------------------------------------------------

    def set_lag(self, topic: str, partition: int, lag: int | float) -> None:
        """Records behind the high watermark for one assigned partition."""
        key = (topic, partition)
        child = self._lag.get(key)
        if child is None:
            child = self._lag.setdefault(key, self.consumer_lag.labels(topic, str(partition)))
        child.set(max(lag, 0))

    def set_assigned(self, n: int) -> None:
        self.partitions_assigned.set(n)

    def partitions_revoked(self, partitions: Iterable[tuple[str, int]]) -> None:
        """Drop the lag series of partitions this worker no longer owns.

        Called on rebalance, so a stale lag does not linger beside the new owner's.
        """
        for topic, partition in partitions:
            if self._lag.pop((topic, partition), None) is not None:
                self.consumer_lag.remove(topic, str(partition))

    def stopping(self) -> None:
        """Called on shutdown: the last scrape then says the worker is going down."""
        self.worker_up.set(0)


def render(registry: CollectorRegistry, accept: str | None = None) -> tuple[bytes, str]:
    """The exposition body and its content type, for a ``/metrics`` handler of any web
    framework (the faust worker's aiohttp web, for one)."""
    encoder, content_type = choose_encoder(accept or "")
    return encoder(registry), content_type


def metrics_bearer(token: str | None) -> bytes | None:
    """The ``Authorization`` value ``/metrics`` wants, or None (with the one warning of the
    process's start) when ``metrics_token`` is unset and ``/metrics`` refuses everyone."""
    if not token:
        log.warning("PROBITY_METRICS_TOKEN is not set: /metrics answers 401 to everyone "
                    "(Prometheus scrapes it with that bearer token)")  # fmt: skip
        return None
    return f"Bearer {token}".encode()


def bearer_matches(given: str, expected: bytes | None) -> bool:
    """Constant-time check of an ``Authorization`` header against :func:`metrics_bearer`."""
    if expected is None:
        return False
    return hmac.compare_digest(given.encode(errors="replace"), expected)


def start_metrics_server(
    registry: CollectorRegistry, host: str, port: int, *, token: str | None
) -> tuple[WSGIServer, threading.Thread]:
    """Serve ``registry`` on ``http://host:port/metrics`` (behind ``token``, as
    :func:`web_app`) from a daemon thread.

    For processes without a web server of their own; stop it with ``server.shutdown()``.
    """
    return start_web_server(registry, host, port, ready=lambda: True, token=token)


class _QuietHandler(WSGIRequestHandler):
    """No access log line per scrape or probe (they would drown the worker's own log)."""

    def log_message(self, format: str, *args: Any) -> None:
        return None


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


def web_app(
    registry: CollectorRegistry,
    *,
    ready: Callable[[], bool],
    alive: Callable[[], bool] | None = None,
    token: str | None = None,
) -> Callable[..., Iterable[bytes]]:
    """A WSGI app with ``/metrics``, ``/healthz`` (liveness) and ``/readyz`` (readiness).

    ``alive`` says the process is not wedged (default: always, answering is proof enough);
    ``ready`` says it should get traffic, e.g. the worker has joined its group and
    recovered its state. Either answers 503 when false or when the check itself raises.
    ``/metrics`` answers 401 unless the request carries ``Authorization: Bearer <token>``
    (``settings.metrics_token``): the per-detector counts tell an insider whether their
    look-ups trip a detector. Without a token it answers 401 to everyone (closed, not open)
    and a warning says so once. The probes stay open (they say nothing).
    """
    metrics = make_wsgi_app(registry)
    expected = metrics_bearer(token)

    def authorised(environ: dict[str, Any]) -> bool:
        given = str(environ.get("HTTP_AUTHORIZATION", ""))
        return bearer_matches(given, expected)

    def check(fn: Callable[[], bool]) -> bool:
        try:
            return bool(fn())
        except Exception:  # a failing check is a failed probe, not a crash
            log.warning("health check raised", exc_info=True)
            return False

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/metrics":
            if not authorised(environ):
                start_response("401 Unauthorized", [
                    ("Content-Type", "text/plain; charset=utf-8"),
                    ("WWW-Authenticate", 'Bearer realm="probity-worker"'),
                ])  # fmt: skip
                return [b"a bearer token is needed\n"]
            return metrics(environ, start_response)  # type: ignore[no-any-return]
        if path in ("/healthz", "/readyz"):
            fn = ready if path == "/readyz" else alive
            ok = True if fn is None else check(fn)
            status = "200 OK" if ok else "503 Service Unavailable"
            start_response(status, [("Content-Type", "text/plain; charset=utf-8")])
            return [b"ok\n" if ok else b"not ready\n"]
        start_response("404 Not Found", [("Content-Type", "text/plain; charset=utf-8")])
        return [b"not found\n"]

    return app


def start_web_server(
    registry: CollectorRegistry,
    host: str,
    port: int,
    *,
    ready: Callable[[], bool],
    alive: Callable[[], bool] | None = None,
    token: str | None = None,
) -> tuple[WSGIServer, threading.Thread]:
    """Serve :func:`web_app` on ``host:port`` from a daemon thread (the worker's web port:
    ``settings.worker_web_port``). Stop it with ``server.shutdown(); server.server_close()``.
    """
    server = make_server(
        host,
        port,
        web_app(registry, ready=ready, alive=alive, token=token),
        server_class=_ThreadingServer,
        handler_class=_QuietHandler,
    )
    thread = threading.Thread(target=server.serve_forever, name="probity-web", daemon=True)
    thread.start()
    return server, thread
