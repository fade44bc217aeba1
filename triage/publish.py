"""The triage system's own activity, ready for the events topics ("the watchers are watched").

Kafka-free on purpose: the caller (the worker or ``probity run``) owns the producer. Event
ids are ``triage-audit-<seq>``, so re-publishing after a crash is harmless: the pipeline
processes a repeated id once. Keep the last published ``seq`` and pass it back in.
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson

from triage.audit import to_event
from triage.store import Store


@dataclass(frozen=True)
class AuditBatch:
    """``records`` are (key = actor staff id, value = contract-v1 event JSON) pairs."""

    records: list[tuple[bytes, bytes]]
    last_seq: int


def audit_batch(store: Store, after_seq: int, limit: int = 500) -> AuditBatch:
    """Audit rows after ``after_seq`` as activity-topic records; ``last_seq`` to resume."""
    entries = store.audit_entries(after_seq, limit)
    records = [(e.staff_id.encode(), orjson.dumps(to_event(e))) for e in entries]
    return AuditBatch(records, entries[-1].seq if entries else after_seq)
