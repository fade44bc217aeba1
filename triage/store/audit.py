"""The audit log as the store reads it: extra rows, the publisher's feed, verification
(the chain itself is :mod:`triage.audit`; rows are appended by ``StoreCore._append``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from triage import audit as chain
from triage.base import AuditEntry, User
from triage.store.core import StoreCore, as_entry
from triage.tables import AuditHeadRow, AuditRow


class AuditMixin(StoreCore):
    """Reading and verifying the hash-chained audit log."""

    # ----------------------------------------------------------------- audit
    def record(self, viewer: User, action: str, detail: dict[str, Any] | None = None) -> None:
        """Append an audit row for an action that changes nothing else (e.g. audit viewed)."""
        with self._tx() as s:
            self._append(s, viewer, action, None, detail or {})

    def audit_entries(self, after_seq: int = 0, limit: int | None = None) -> list[AuditEntry]:
        """Audit rows after ``after_seq`` in order (the publisher resumes from its last seq)."""
        with self._tx() as s:
            q = select(AuditRow).where(AuditRow.seq > after_seq).order_by(AuditRow.seq)
            if limit is not None:
                q = q.limit(limit)
            return [as_entry(r) for r in s.execute(q).scalars()]

    def verify_audit(self) -> int:
        """Verify the whole chain against the head row; raises ``AuditChainBroken``."""
        with self._tx() as s:
            head = s.execute(select(AuditHeadRow.seq, AuditHeadRow.hash)).one()
            rows = s.execute(select(AuditRow).order_by(AuditRow.seq)).scalars()
            return chain.verify((as_entry(r) for r in rows), head=(head[0], head[1]))
