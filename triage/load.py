"""Load a replay's alerts (contract-v1 JSONL, as ``probity replay --alerts-out`` writes)
into a store: a shadow queue the ACU can triage without touching the live one.

Idempotent by alert id like the alerts sink; a line that is not a valid alert is reported
with its line number and skipped, never guessed at. An alert written without ``raised_at``
(the offline bench leaves it out) is stamped with the load time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson
from pydantic import ValidationError

from models.alerts import Alert
from triage.exceptions import InvalidAlert
from triage.store import Store
from triage.store.accounts import CLI

BATCH = 500


@dataclass
class LoadResult:
    read: int = 0
    new: int = 0
    known: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (line number, reason)


def _alert(line: bytes, stamp: Any) -> Alert:
    data = orjson.loads(line)
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    data.setdefault("raised_at", stamp)
    return Alert.model_validate(data)


def load_alerts(store: Store, lines: Iterable[bytes], *, source: str = "") -> LoadResult:
    """Upsert every valid alert of ``lines`` into ``store`` (batches of 500, one transaction
    each); audited once as ``alerts.loaded`` by the command line."""
    out = LoadResult()
    stamp = store.clock().isoformat()
    batch: list[Alert] = []

    def flush() -> None:
        if not batch:
            return
        try:
            new = store.upsert_alerts(batch)
        except InvalidAlert:  # one beyond the schema's limits: find it, keep the others
            new = 0
            for alert in batch:
                try:
                    new += store.upsert_alerts([alert])
                except InvalidAlert as exc:
                    out.rejected.append((0, str(exc)))
        out.new += new
        batch.clear()

    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line:
            continue
        out.read += 1
        try:
            batch.append(_alert(line, stamp))
        except (orjson.JSONDecodeError, ValidationError, ValueError) as exc:
            reason = str(exc).splitlines()[0][:200]
            out.rejected.append((number, reason))
            continue
        if len(batch) >= BATCH:
            flush()
    flush()
    out.known = out.read - out.new - len(out.rejected)
    store.record(CLI, "alerts.loaded", {"source": source[:200], "read": out.read,
                                        "new": out.new, "rejected": len(out.rejected)})  # fmt: skip
    return out
