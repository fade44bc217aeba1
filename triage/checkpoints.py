"""Signed checkpoints of the audit chain, kept outside the database.

A checkpoint records the chain's head (last ``seq`` and its hash), the row count, when it
was taken and where keying began, signed with an HMAC under a key derived from the audit
key. ``probity triage audit checkpoint`` writes one to ``settings.triage.audit_checkpoint_dir``
(run it on a schedule; keep the directory where the database's administrators cannot
write). ``probity triage audit verify`` then checks the database against the latest one:

* a rewritten row fails the chain (its HMAC) or differs from the checkpoint's head hash;
* a truncated log, or an older copy of the database restored, ends before the checkpoint's
  head: it fails too, though every remaining row verifies.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from datetime import datetime
from pathlib import Path

import orjson
from pydantic import AwareDatetime, BaseModel, ConfigDict

from triage.base import AuditEntry
from triage.exceptions import AuditChainBroken, TriageError

PREFIX = "audit-checkpoint-"


class Checkpoint(BaseModel):
    """The chain's state at ``at``: rows ``1..seq``, the last one hashed ``hash``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    seq: int
    hash: str
    count: int
    at: AwareDatetime
    keyed_from: int | None

    def payload(self) -> bytes:
        return orjson.dumps(self.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS)


def _signing_key(audit_key: bytes) -> bytes:
    return hmac.new(audit_key, b"audit-checkpoint", hashlib.sha256).digest()


def sign(cp: Checkpoint, audit_key: bytes) -> str:
    return hmac.new(_signing_key(audit_key), cp.payload(), hashlib.sha256).hexdigest()


def write(cp: Checkpoint, directory: Path, audit_key: bytes) -> Path:
    """Write ``cp`` signed into ``directory`` (created if need be), atomically; the name
    sorts by sequence number then time, so the latest is the last name."""
    directory.mkdir(parents=True, exist_ok=True)
    stamp = cp.at.strftime("%Y%m%dT%H%M%S%fZ")
    path = directory / f"{PREFIX}{cp.seq:015d}-{stamp}.json"
    body = {"checkpoint": cp.model_dump(mode="json"), "signature": sign(cp, audit_key)}
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(orjson.dumps(body, option=orjson.OPT_INDENT_2))
    os.replace(tmp, path)
    return path


def read(path: Path, audit_key: bytes) -> Checkpoint:
    """A checkpoint whose signature holds; a forged or edited file raises."""
    try:
        body = orjson.loads(path.read_bytes())
        cp = Checkpoint.model_validate(body["checkpoint"])
        signature = str(body["signature"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise TriageError(f"unreadable audit checkpoint {path.name}") from exc
    if not hmac.compare_digest(sign(cp, audit_key), signature):
        raise AuditChainBroken(cp.seq, f"checkpoint {path.name} is not signed with the audit key")
    return cp


def latest(directory: Path, audit_key: bytes) -> Checkpoint | None:
    """The checkpoint with the highest sequence number (then the latest time), or None."""
    if not directory.is_dir():
        return None
    names = sorted(p for p in directory.glob(f"{PREFIX}*.json") if p.is_file())
    return read(names[-1], audit_key) if names else None


def compare(cp: Checkpoint, rows: int, at_seq: AuditEntry | None, keyed_from: int | None) -> None:
    """Raise if the database (``rows`` verified rows, ``at_seq`` its row ``cp.seq``) is not
    a continuation of the chain ``cp`` saw."""
    if rows < cp.seq:
        raise AuditChainBroken(
            rows + 1,
            f"the log ends at row {rows} but the checkpoint of {cp.at.isoformat()} saw "
            f"{cp.seq} rows: truncated, or an older copy restored",
        )
    if at_seq is None or not hmac.compare_digest(at_seq.hash, cp.hash):
        raise AuditChainBroken(
            cp.seq, f"row {cp.seq} differs from the checkpoint of {cp.at.isoformat()}: rewritten"
        )
    if keyed_from != cp.keyed_from:
        raise AuditChainBroken(
            keyed_from or 1, "where keying begins differs from the checkpoint: rewritten"
        )


def checkpoint_of(
    head_seq: int, head_hash: str, at: datetime, keyed_from: int | None
) -> Checkpoint:
    return Checkpoint(seq=head_seq, hash=head_hash, count=head_seq, at=at, keyed_from=keyed_from)
