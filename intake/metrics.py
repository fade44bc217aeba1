"""Prometheus metrics of the intake, per source (label values: the sources of the token file
and the syslog ports, a bounded set), on a registry passed in.

>>> from prometheus_client import CollectorRegistry
>>> reg = CollectorRegistry()
>>> m = IntakeMetrics(reg)
>>> m.lines("athena", "accepted", 3)
>>> reg.get_sample_value("probity_intake_events_total", {"source": "athena", "status": "accepted"})
3.0
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class IntakeMetrics:
    """What the intake took, refused and held back, per source."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self._events = Counter(
            "probity_intake_events",
            "records received, by source and answer (accepted, duplicate, rejected, failed)",
            ["source", "status"],
            registry=registry,
        )
        self._throttled = Counter(
            "probity_intake_throttled",
            "requests answered 429 because the broker is behind",
            ["source"],
            registry=registry,
        )
        self._unauthorized = Counter(
            "probity_intake_unauthorized",
            "requests without a valid token (401)",
            registry=registry,
        )
        self._refused = Counter(
            "probity_intake_refused",
            "requests refused whole, by source and HTTP status "
            "(403 another source, 413 too large, 400 bad format)",
            ["source", "code"],
            registry=registry,
        )
        self.in_flight = Gauge(
            "probity_intake_in_flight_records",
            "records handed to the producer and not yet acknowledged by the broker",
            registry=registry,
        )
        self._seconds = Histogram(
            "probity_intake_request_seconds",
            "time from a request's body read to its answer (the broker's acknowledgement included)",
            ["source"],
            registry=registry,
        )
        self._unresolved = Counter(
            "probity_intake_unresolved_accounts",
            "events whose account resolved to no member "
            "of staff (kept, flagged, keyed by the account)",
            ["source"],
            registry=registry,
        )

    def lines(self, source: str, status: str, n: int = 1) -> None:
        if n:
            self._events.labels(source, status).inc(n)

    def throttled(self, source: str) -> None:
        self._throttled.labels(source).inc()

    def unauthorized(self) -> None:
        self._unauthorized.inc()

    def refused(self, source: str, code: int) -> None:
        self._refused.labels(source, str(code)).inc()

    def request_seconds(self, source: str, seconds: float) -> None:
        self._seconds.labels(source).observe(seconds)

    def unresolved(self, source: str, n: int = 1) -> None:
        if n:
            self._unresolved.labels(source).inc(n)
