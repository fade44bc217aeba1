"""Queue metrics, read from the store when Prometheus scrapes (no background thread), and
the HTTP request counts (:class:`RequestCounter`)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from triage.base import Status
from triage.exceptions import TriageError
from triage.store import Store

log = logging.getLogger(__name__)

#: the route label of a request whose path no route has (scanners, typos): one label, so a
#: stranger's paths cannot grow the series without bound
UNMATCHED = "unmatched"
#: methods counted by name; any other is ``other`` (the method is the client's text)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class QueueMetrics:
    """``probity_queue_alerts{status}``, ``probity_queue_oldest_unassigned_age_seconds`` (of
    integrity alerts; the operational ones have their own gauge), the audit chain's
    verification (``probity_queue_audit_chain_ok``: 1 when the chain and its latest signed
    checkpoint verified at the last check; re-checked on a scrape at most every
    ``audit_verify_interval_s``), and counters of logins, second-factor codes, reveals and
    HTTP requests, counted as they happen."""

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
            "asker's alert; all audited), over_quota (the user's daily limit) or "
            "awaiting_approval (a sensitive subject's, waiting for a second person)",
            ["outcome"], registry=registry,
        )  # fmt: skip
        for outcome in ("revealed", "refused", "over_quota", "awaiting_approval"):
            self._reveals.labels(outcome=outcome)
        self._logins = Counter(
            "probity_queue_logins",
            "Login attempts by outcome: ok, failed (wrong name or password), throttled (429: "
            "the client or everyone is backing off) or busy (503: no hashing slot)",
            ["outcome"], registry=registry,
        )  # fmt: skip
        for outcome in ("ok", "failed", "throttled", "busy"):
            self._logins.labels(outcome=outcome)
        self._codes = Counter(
            "probity_queue_second_factor_codes",
            "Second-factor (TOTP) codes given, by purpose (login, step_up before a sensitive "
            "act, enrolment) and outcome: ok, failed (wrong, malformed or used) or throttled "
            "(429: too many wrong codes from the client or for the account)",
            ["purpose", "outcome"], registry=registry,
        )  # fmt: skip
        for purpose in ("login", "step_up", "enrolment"):
            for outcome in ("ok", "failed", "throttled"):
                self._codes.labels(purpose=purpose, outcome=outcome)
        self._http = Counter(
            "probity_queue_http_requests",
            "HTTP requests answered, by method, route template (e.g. /alerts/{alert_id}; "
            "'unmatched' for a path no route has) and status code",
            ["method", "route", "status"], registry=registry,
        )  # fmt: skip
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
            "probity_queue_alerts",
            "Integrity alerts in the ACU queue by triage status (operational ones not counted)",
            ["status"],
            registry=registry,
        )  # fmt: skip
        self._by_status = {s.value: self._alerts.labels(status=s.value) for s in Status}
        self._oldest = Gauge(
            "probity_queue_oldest_unassigned_age_seconds",
            "Age of the oldest integrity alert nobody has picked up (0 when none; the "
            "engine's operational alerts are not counted)",
            registry=registry,
        )
        self._oldest_operational = Gauge(
            "probity_queue_oldest_unassigned_operational_age_seconds",
            "Age of the oldest operational alert (engine.coverage: a reference feed is "
            "missing) nobody has picked up (0 when none)",
            registry=registry,
        )

    def refresh(self) -> None:
        """Called by ``/metrics`` before rendering; a store error propagates (scrape fails)."""
        for status, n in self._store.status_counts().items():
            if status in self._by_status:
                self._by_status[status].set(n)
        now = self._clock()
        for gauge, operational in ((self._oldest, False), (self._oldest_operational, True)):
            oldest = self._store.oldest_unassigned(operational=operational)
            gauge.set(max((now - oldest).total_seconds(), 0.0) if oldest else 0.0)
        if self._verified_at is None or (now - self._verified_at).total_seconds() >= self._interval:
            self.verify_audit(now)

    def login(self, outcome: str) -> None:
        """Count one login attempt (``ok``, ``failed``, ``throttled`` or ``busy``)."""
        self._logins.labels(outcome=outcome).inc()

    def second_factor(self, purpose: str, outcome: str) -> None:
        """Count one TOTP code (``login``, ``step_up`` or ``enrolment``; ``ok``, ``failed``
        or ``throttled``)."""
        self._codes.labels(purpose=purpose, outcome=outcome).inc()

    def http_request(self, method: str, route: str, status: int) -> None:
        """Count one answered request; ``route`` is a template or :data:`UNMATCHED`."""
        method = method if method in METHODS else "other"
        self._http.labels(method=method, route=route, status=str(status)).inc()

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


def _routes(routes: Sequence[BaseRoute]) -> Iterator[BaseRoute]:
    """``routes`` with FastAPI's included routers opened (the app's routers carry their
    own prefix, ``APIRouter(prefix=...)``: no prefix is added at inclusion)."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from _routes(included.routes)
        else:
            yield route


def route_template(routes: Sequence[BaseRoute], scope: Scope) -> str:
    """The template of the route ``scope`` goes to (``/alerts/{alert_id}``, ``/static`` for
    a mount), or of the one whose path but not method matches (405); :data:`UNMATCHED`
    when none. Never the raw path: its ids would make a series per alert."""
    partial = None
    for route in _routes(routes):
        path = getattr(route, "path", None)
        if not isinstance(path, str):
            continue
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return path
        if match is Match.PARTIAL and partial is None:
            partial = path
    return partial or UNMATCHED


class RequestCounter:
    """ASGI middleware counting every answered request in
    ``probity_queue_http_requests_total{method, route, status}``. The route is the one the
    router chose (``scope["route"]``), else, for what the router never handled or handled
    without naming a route (a body the guard refused, a mount, a 404), the app's routes
    matched against the scope as it came in (routing rewrites a mount's ``root_path``).
    Outermost but for Starlette's error middleware: the guard's 413 is counted, and an
    unhandled exception counts as the 500 the error middleware sends."""

    def __init__(self, app: ASGIApp, *, metrics: QueueMetrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        arrived = dict(scope)  # routing updates the scope in place
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            chosen = getattr(scope.get("route"), "path", None)
            if isinstance(chosen, str):
                route = chosen
            else:
                app: Any = scope.get("app")
                route = route_template(app.router.routes if app is not None else [], arrived)
            self.metrics.http_request(scope["method"], route, status)
