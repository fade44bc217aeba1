"""Queue metrics, read from the store when Prometheus scrapes (no background thread)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Gauge

from triage.base import Status
from triage.exceptions import TriageError
from triage.store import Store

log = logging.getLogger(__name__)


class QueueMetrics:
    """``probity_queue_alerts{status}``, ``probity_queue_oldest_unassigned_age_seconds`` and
    the audit chain's verification (``probity_queue_audit_chain_ok``: 1 when the chain and
    its latest signed checkpoint verified at the last check; re-checked on a scrape at most
    every ``audit_verify_interval_s``)."""

    def __init__(
        self, registry: CollectorRegistry, store: Store,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        *, checkpoint_dir: Path | None = None, audit_verify_interval_s: float = 300.0,
    ) -> None:  # fmt: skip
        self._store, self._clock = store, clock
        self._checkpoint_dir, self._interval = checkpoint_dir, audit_verify_interval_s
        self._verified_at: datetime | None = None
        self._audit_ok = Gauge(
            "probity_queue_audit_chain_ok",
            "1 if the audit chain and its latest signed checkpoint verified at the last "
            "check, 0 if not (rewritten, truncated or an older copy)",
            registry=registry,
        )
        self._audit_rows = Gauge(
            "probity_queue_audit_rows", "Rows of the audit chain at the last check",
            registry=registry,
        )  # fmt: skip
        self._reveals = Counter(
            "probity_queue_reveals",
            "Reveals asked for, by outcome: revealed, refused (unknown, hidden or not the "
            "asker's alert; all audited) or over_quota (the user's daily limit)",
            ["outcome"], registry=registry,
        )  # fmt: skip
        for outcome in ("revealed", "refused", "over_quota"):
            self._reveals.labels(outcome=outcome)
        self._logins = Counter(
            "probity_queue_logins",
            "Login attempts by outcome: ok, failed (wrong name or password), throttled (429: "
            "the client or everyone is backing off) or busy (503: no hashing slot)",
            ["outcome"], registry=registry,
        )  # fmt: skip
        for outcome in ("ok", "failed", "throttled", "busy"):
            self._logins.labels(outcome=outcome)
        self._audit_checked = Gauge(
            "probity_queue_audit_verified_timestamp_seconds",
            "When the audit chain was last verified (Unix time)",
            registry=registry,
        )
        self._checkpoint_at = Gauge(
            "probity_queue_audit_checkpoint_timestamp_seconds",
            "When the latest signed checkpoint of the audit chain was taken (Unix time; 0: "
            "none yet). Stale means `probity triage audit checkpoint --every` is not running",
            registry=registry,
        )
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
        now = self._clock()
        if self._verified_at is None or (now - self._verified_at).total_seconds() >= self._interval:
            self.verify_audit(now)

    def login(self, outcome: str) -> None:
        """Count one login attempt (``ok``, ``failed``, ``throttled`` or ``busy``)."""
        self._logins.labels(outcome=outcome).inc()

    def reveal(self, outcome: str) -> None:
        """Count one reveal asked for (``revealed``, ``refused``, ``over_quota`` or
        ``awaiting_approval``: a sensitive subject's, waiting for a second person)."""
        self._reveals.labels(outcome=outcome).inc()

    def verify_audit(self, now: datetime) -> None:
        self._verified_at = now
        try:
            self._audit_rows.set(self._store.verify_audit(self._checkpoint_dir))
            self._audit_ok.set(1)
            cp = (self._store.latest_checkpoint(self._checkpoint_dir)
                  if self._checkpoint_dir is not None else None)  # fmt: skip
            self._checkpoint_at.set(cp.at.timestamp() if cp is not None else 0.0)
        except TriageError:  # a broken chain, a bad checkpoint or no key for checkpoints
            log.error("audit chain verification failed", exc_info=True)
            self._audit_ok.set(0)
        self._audit_checked.set(now.timestamp())
