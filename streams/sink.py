"""The alerts sink: alerts topic → ACU queue store, exactly once in the queue.

Consumes the alerts topic in its own consumer group, upserts each polled batch by alert id in
one transaction, and commits the offsets only after the store has committed. A crash between
the two re-delivers the batch, which the upsert ignores; a store that is down is retried with
backoff (visible in ``probity_sink_store_up`` and ``probity_sink_store_errors_total``) and
nothing is committed meanwhile, so no alert is lost. An alert the store refuses (malformed,
too long) goes to the dead letters with the reason.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from kafka import KafkaConsumer, KafkaProducer
from prometheus_client import CollectorRegistry, Counter, Gauge
from pydantic import ValidationError

from models.alerts import Alert
from models.deadletters import DeadLetter, Origin
from probity.settings import Settings
from probity.transport import kafka_client_config

log = logging.getLogger(__name__)

SINK_GROUP_SUFFIX = "-alert-sink"


class SinkMetrics:
    """Sink health for Prometheus: stored alerts, store errors, whether the store answers."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.stored = Counter("probity_sink_alerts_stored", "Alerts newly stored in the queue",
                              registry=registry)  # fmt: skip
        self.redelivered = Counter(
            "probity_sink_alerts_redelivered",
            "Alerts received again and ignored by id",
            registry=registry,
        )
        self.errors = Counter("probity_sink_store_errors", "Failed store writes (retried)",
                              registry=registry)  # fmt: skip
        self.invalid = Counter("probity_sink_alerts_invalid", "Alerts refused, dead-lettered",
                               registry=registry)  # fmt: skip
        self.up = Gauge("probity_sink_store_up", "1 while the queue store accepts writes",
                        registry=registry)  # fmt: skip
        self.up.set(1)


def _group_timeouts(settings: Settings) -> dict[str, int]:
    """Short group timeouts on the embedded broker (Tansu holds a JoinGroup for the session
    timeout); Kafka's defaults elsewhere."""
    if settings.mode != "embedded":
        return {}
    return {"session_timeout_ms": 6000, "heartbeat_interval_ms": 1000}


@dataclass
class AlertSink:
    """One sink loop. ``store`` needs ``upsert_alerts(list[Alert]) -> int``."""

    settings: Settings
    store: Any
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)
    max_backoff_s: float = 30.0
    #: test hook: called after the store commit and before the offset commit
    after_store: Callable[[list[Alert]], None] | None = None

    def __post_init__(self) -> None:
        self.metrics = SinkMetrics(self.registry)
        self._stop = threading.Event()

    @property
    def group_id(self) -> str:
        return self.settings.app_id + SINK_GROUP_SUFFIX

    def stop(self) -> None:
        self._stop.set()

    def run(self, *, until_idle_s: float | None = None) -> None:
        """Consume until :meth:`stop` (or, with ``until_idle_s``, until nothing arrives for
        that long: used by tests and one-shot loads)."""
        consumer = KafkaConsumer(
            self.settings.topics.alerts,
            **kafka_client_config(self.settings, "kafka-python"),
            group_id=self.group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            client_id="probity-alert-sink",
            max_poll_records=500,
            **_group_timeouts(self.settings),
        )
        producer: KafkaProducer | None = None
        idle_since = time.monotonic()
        try:
            while not self._stop.is_set():
                polled = consumer.poll(timeout_ms=500)
                records = [r for batch in polled.values() for r in batch]
                if not records:
                    if not consumer.assignment():
                        idle_since = time.monotonic()  # still joining the group
                    elif until_idle_s is not None and time.monotonic() - idle_since > until_idle_s:
                        return
                    continue
                idle_since = time.monotonic()
                alerts, bad = self._decode(records)
                if bad:
                    producer = producer or KafkaProducer(
                        **kafka_client_config(self.settings, "kafka-python"), acks="all"
                    )
                    for raw, reason, origin in bad:
                        dl = DeadLetter.of(raw, reason, origin)
                        producer.send(self.settings.topics.dead_letters, value=dl.dumps())
                    producer.flush()
                if not self._store(alerts):
                    return  # stopped while the store was down: nothing committed, nothing lost
                if self.after_store is not None:
                    self.after_store(alerts)
                consumer.commit()
        finally:
            consumer.close(autocommit=False)
            if producer is not None:
                producer.close()

    def _decode(self, records: list[Any]) -> tuple[list[Alert], list[tuple[bytes, str, Origin]]]:
        alerts, bad = [], []
        for r in records:
            origin = Origin(topic=r.topic, partition=r.partition, offset=r.offset)
            try:
                alerts.append(Alert.model_validate(orjson.loads(r.value)))
            except (orjson.JSONDecodeError, ValidationError, TypeError) as exc:
                self.metrics.invalid.inc()
                bad.append((r.value or b"", f"not a contract-v1 alert: {exc}"[:300], origin))
        return alerts, bad

    def _store(self, alerts: list[Alert]) -> bool:
        """Upsert with retries; False only if stopped while the store stayed down."""
        from triage.exceptions import InvalidAlert

        backoff = 0.5
        while True:
            try:
                new = self.store.upsert_alerts(alerts)
            except InvalidAlert:
                # one bad alert must not block the rest: store them one by one
                new = 0
                for alert in alerts:
                    try:
                        new += self.store.upsert_alerts([alert])
                    except InvalidAlert as exc:
                        self.metrics.invalid.inc()
                        log.warning(
                            "alert refused by the store",
                            extra={"alert_id": alert.id, "reason": str(exc)},
                        )
            except Exception:  # the store is down: wait, retry, never skip
                self.metrics.errors.inc()
                self.metrics.up.set(0)
                log.warning("queue store write failed; retrying in %.1fs", backoff, exc_info=True)
                if self._stop.wait(backoff):
                    return False
                backoff = min(backoff * 2, self.max_backoff_s)
                continue
            self.metrics.up.set(1)
            self.metrics.stored.inc(new)
            self.metrics.redelivered.inc(len(alerts) - new)
            return True
