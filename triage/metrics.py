"""Queue metrics, read from the store when Prometheus scrapes (no background thread)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, Gauge

from triage.base import Status
from triage.store import Store


class QueueMetrics:
    """``probity_queue_alerts{status}`` and ``probity_queue_oldest_unassigned_age_seconds``."""

    def __init__(
        self, registry: CollectorRegistry, store: Store,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:  # fmt: skip
        self._store, self._clock = store, clock
        self._alerts = Gauge(
            "probity_queue_alerts", "Alerts in the ACU queue by triage status", ["status"],
            registry=registry,
        )  # fmt: skip
        self._by_status = {s.value: self._alerts.labels(status=s.value) for s in Status}
        self._oldest = Gauge(
            "probity_queue_oldest_unassigned_age_seconds",
            "Age of the oldest alert nobody has picked up (0 when none)",
            registry=registry,
        )

    def refresh(self) -> None:
        """Called by ``/metrics`` before rendering; a store error propagates (scrape fails)."""
        for status, n in self._store.status_counts().items():
            if status in self._by_status:
                self._by_status[status].set(n)
        oldest = self._store.oldest_unassigned()
        self._oldest.set(max((self._clock() - oldest).total_seconds(), 0.0) if oldest else 0.0)
