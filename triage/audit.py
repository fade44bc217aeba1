"""The audit log's hash chain and its contract-event form.

Each row stores ``hash = HMAC-SHA256(audit key, prev_hash || canonical(row))`` where
``canonical`` is the row's content as sorted-key JSON; altering, deleting or reordering any
row breaks every later link, and :func:`verify` names the first bad row. The key lives in
the settings, not in the database, so a database administrator cannot re-hash a rewritten
chain; rows written before the chain was keyed (``audit_head.keyed_from``) are plain
SHA-256. Truncation and the restore of an older copy are caught against the signed
checkpoints kept outside the database (:mod:`triage.checkpoints`).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import orjson

from triage.base import AuditEntry
from triage.exceptions import AuditChainBroken

GENESIS = "0" * 64

#: audit action -> contract event kind (the triage system's own activity events)
EVENT_KINDS = {
    "login": "triage.auth.login",
    "login_failed": "triage.auth.failed",
    "login_locked": "triage.auth.locked",
    "queue.searched": "triage.queue.searched",
    "alert.viewed": "triage.alert.viewed",
    "subject.revealed": "triage.subject.revealed",
    "subject.reveal_refused": "triage.subject.reveal_refused",
    "alert.assigned": "triage.alert.assigned",
    "alert.review_started": "triage.alert.review_started",
    "alert.closed": "triage.alert.closed",
    "alert.reopened": "triage.alert.reopened",
    "alert.noted": "triage.alert.noted",
    "suppression.created": "triage.suppression.created",
    "suppression.removed": "triage.suppression.removed",
    "audit.viewed": "triage.audit.viewed",
    "user.created": "triage.user.created",
    "user.approved": "triage.user.approved",
    "token.created": "triage.token.created",
    "token.revoked": "triage.token.revoked",
    "alert.closure_proposed": "triage.alert.closure_proposed",
    "alert.closure_rejected": "triage.alert.closure_rejected",
    "suppression.approved": "triage.suppression.approved",
    "subject.reveal_requested": "triage.subject.reveal_requested",
    "subject.reveal_approved": "triage.subject.reveal_approved",
    "subject.reveal_declined": "triage.subject.reveal_declined",
}


def canonical(
    seq: int,
    at: datetime,
    username: str,
    staff_id: str,
    action: str,
    alert_id: str | None,
    detail: dict[str, Any],
    client: str | None = None,
    user_agent: str | None = None,
) -> bytes:
    """The row's content as hashed. ``client`` and ``user_agent`` (the request's origin)
    count only when present, so rows written before they existed verify as they were."""
    row: dict[str, Any] = {
        "seq": seq,
        "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
        "username": username,
        "staff_id": staff_id,
        "action": action,
        "alert_id": alert_id,
        "detail": detail,
    }
    if client is not None:
        row["client"] = client
    if user_agent is not None:
        row["user_agent"] = user_agent
    return orjson.dumps(row, option=orjson.OPT_SORT_KEYS)


def chain_hash(prev_hash: str, content: bytes, key: bytes | None = None) -> str:
    """``HMAC-SHA256(key, prev_hash || content)``; plain SHA-256 without a key (rows from
    before the chain was keyed, or a local demo without a secret)."""
    if key is None:
        return hashlib.sha256(prev_hash.encode() + content).hexdigest()
    return hmac.new(key, prev_hash.encode() + content, hashlib.sha256).hexdigest()


def verify(
    entries: Iterable[AuditEntry],
    head: tuple[int, str] | None = None,
    *,
    key: bytes | None = None,
    keyed_from: int | None = None,
) -> int:
    """Check the chain in ``seq`` order; return the number of rows, or raise
    :class:`AuditChainBroken` naming the first bad row. ``head`` (last seq, last hash)
    catches rows cut off the end. Rows from ``keyed_from`` on are HMACs under ``key``:
    whoever lacks the key cannot rewrite them and re-hash the rest."""
    prev, expected_seq = GENESIS, 1
    for e in entries:
        if e.seq != expected_seq:
            raise AuditChainBroken(expected_seq, f"missing (next row is {e.seq})")
        if e.prev_hash != prev:
            raise AuditChainBroken(e.seq, "prev_hash does not match the previous row")
        keyed = keyed_from is not None and e.seq >= keyed_from
        if keyed and key is None:
            raise AuditChainBroken(e.seq, "the row is keyed: verifying it needs the audit key")
        content = canonical(e.seq, e.at, e.username, e.staff_id, e.action, e.alert_id, e.detail,
                            e.client, e.user_agent)  # fmt: skip
        if not hmac.compare_digest(chain_hash(prev, content, key if keyed else None), e.hash):
            raise AuditChainBroken(e.seq, "content does not match its hash (altered)")
        prev, expected_seq = e.hash, expected_seq + 1
    if head is not None and head != (expected_seq - 1, prev):
        raise AuditChainBroken(expected_seq, f"rows after {expected_seq - 1} are missing")
    return expected_seq - 1


def to_event(entry: AuditEntry) -> dict[str, Any]:
    """The entry as a contract-v1 activity event (source ``triage``, actor = staff id).

    Publish these to the activity topic keyed by ``actor`` so the detectors watch the
    watchers. A revealed subject is named in ``subjects``, so access to people of concern
    through the queue is judged like access through any other system.
    """
    event: dict[str, Any] = {
        "id": f"triage-audit-{entry.seq}",
        "time": entry.at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "source": "triage",
        "kind": EVENT_KINDS.get(entry.action, "triage." + entry.action),
        "actor": entry.staff_id,
        "attrs": {"username": entry.username, "audit_seq": entry.seq, "audit_hash": entry.hash},
    }
    if entry.client:
        event["attrs"]["client"] = entry.client
    if entry.alert_id:
        event["record"] = {"type": "alert", "id": entry.alert_id}
    subject = entry.detail.get("subject")
    if isinstance(subject, str):
        event["subjects"] = [subject]
    for key in ("outcome", "reason", "filters", "assignee", "results", "reference", "why",
                "approved_by"):
        if key in entry.detail:
            event["attrs"][key] = entry.detail[key]
    return event
