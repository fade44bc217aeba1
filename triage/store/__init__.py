"""The queue store: alerts, decisions, accounts, suppressions and the audit log.

One class, :class:`Store`, over one SQLAlchemy engine, assembled from a part per job:

* :mod:`.core`: engine, transactions, visibility (conflict of interest), the audit append;
* :mod:`.alerts`: alerts in (the sink), out (queue, alert page) and the workflow;
* :mod:`.suppressions`: false-positive suppressions;
* :mod:`.accounts`: users, passwords, login lock-out, API tokens, sessions;
* :mod:`.mfa`: TOTP secrets (encrypted) and their one-time codes, two-admin resets, OIDC;
* :mod:`.audit`: reading and verifying the audit log;
* :mod:`.cases`: an officer's timeline, and cases (investigations) with their outcome;
* :mod:`.detectors`: analysts' outcomes per detector, and the engine's operational alerts.
"""

from __future__ import annotations

from typing import Any

from triage.security import derive_key
from triage.store.alerts import AlertsMixin, officer_people, officer_unit
from triage.store.audit import AuditMixin
from triage.store.cases import CasesMixin
from triage.store.core import Policy
from triage.store.detectors import DetectorsMixin
from triage.store.mfa import MfaMixin

__all__ = [
    "Policy", "Store", "audit_key", "officer_people", "officer_unit", "store_from_settings"
]  # fmt: skip


class Store(AlertsMixin, MfaMixin, AuditMixin, CasesMixin, DetectorsMixin):
    """The ACU queue store over one SQLAlchemy engine (SQLite file or PostgreSQL)."""


def store_from_settings(settings: Any) -> Store:
    """The store the service, the CLI and the alerts sink share
    (``settings.store_connect_url``: ``store_url`` with its TLS options)."""
    t = settings.triage
    policy = Policy(
        acu_staff_ids=t.acu_staff_ids,
        acu_units=t.acu_units,
        login_max_failures=t.login_max_failures,
        login_window_s=t.login_window_s,
        rationale_min_chars=t.rationale_min_chars,
        suppression_max_days=t.suppression_max_days,
        token_max_days=t.token_max_days,
        service_token_max_days=t.service_token_max_days,
        session_idle_s=t.session_idle_s,
        reveal_daily_quota=t.reveal_daily_quota,
    )
    return Store(settings.store_connect_url, policy=policy, audit_key=audit_key(settings))


def audit_key(settings: Any) -> bytes | None:
    """The audit chain's key: ``triage.audit_key``, else derived from ``secret_key``, else
    None (a local demo: the chain is then plain SHA-256)."""
    if settings.triage.audit_key is not None:
        return bytes(settings.triage.audit_key.get_secret_value().encode())
    if settings.secret_key is not None:
        return derive_key(settings.secret_key.get_secret_value().encode(), "audit")
    return None
