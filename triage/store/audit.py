"""The audit log as the store reads it: extra rows, the publisher's feed, verification
(the chain itself is :mod:`triage.audit`; rows are appended by ``StoreCore._append``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select

from triage import audit as chain
from triage import checkpoints
from triage.base import AuditEntry, User
from triage.exceptions import TriageError
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

    def verify_audit(self, checkpoint_dir: Path | None = None) -> int:
        """Verify the whole chain against the head row, and against the latest signed
        checkpoint in ``checkpoint_dir`` if given and one exists there; return the number
        of rows or raise ``AuditChainBroken`` (rewritten, truncated or an older copy)."""
        with self._tx() as s:
            seq, digest, keyed_from = s.execute(
                select(AuditHeadRow.seq, AuditHeadRow.hash, AuditHeadRow.keyed_from)
            ).one()
            rows = s.execute(select(AuditRow).order_by(AuditRow.seq)).scalars()
            n = chain.verify(
                (as_entry(r) for r in rows), head=(seq, digest), key=self._audit_key,
                keyed_from=keyed_from,
            )  # fmt: skip
            if checkpoint_dir is None:
                return n
            cp = checkpoints.latest(checkpoint_dir, self._require_key())
            if cp is not None:
                row = s.get(AuditRow, cp.seq)
                checkpoints.compare(cp, n, as_entry(row) if row else None, keyed_from)
            return n

    def latest_checkpoint(self, checkpoint_dir: Path) -> checkpoints.Checkpoint | None:
        return checkpoints.latest(checkpoint_dir, self._require_key())

    def write_checkpoint(self, checkpoint_dir: Path) -> tuple[checkpoints.Checkpoint, Path]:
        """Verify the chain, then write a signed checkpoint of its head to
        ``checkpoint_dir`` (outside the database). Refused without the audit key."""
        key = self._require_key()
        self.verify_audit(checkpoint_dir)  # never sign a chain that is already broken
        with self._tx() as s:
            seq, digest, keyed_from = s.execute(
                select(AuditHeadRow.seq, AuditHeadRow.hash, AuditHeadRow.keyed_from)
            ).one()
        cp = checkpoints.checkpoint_of(seq, digest, self.clock(), keyed_from)
        return cp, checkpoints.write(cp, checkpoint_dir, key)

    @property
    def has_audit_key(self) -> bool:
        return self._audit_key is not None

    def _require_key(self) -> bytes:
        if self._audit_key is None:
            raise TriageError("audit checkpoints need the audit key (settings.triage.audit_key)")
        return self._audit_key
