"""Publishes the triage service's own audit trail onto the activity topic, so the people who
watch staff are watched by the same pipeline ("who viewed or unmasked what" is intelligence).

The position (last audit ``seq`` published) is kept in a small file under ``data_dir``;
re-publishing after a crash is harmless because event ids are ``triage-audit-<seq>`` and the
worker processes a repeated id once.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from kafka import KafkaProducer

from probity.settings import Settings
from probity.transport import kafka_client_config

log = logging.getLogger(__name__)


class AuditFeed:
    """Polls the store's audit log and publishes new rows as contract events."""

    def __init__(self, settings: Settings, store: Any, *, interval_s: float = 2.0) -> None:
        self.settings = settings
        self.store = store
        self.interval_s = interval_s
        self.cursor_path = Path(settings.data_dir) / "audit-feed.seq"
        self._stop = threading.Event()
        self.published = 0

    def _load_cursor(self) -> int:
        try:
            return int(self.cursor_path.read_text().strip() or 0)
        except (OSError, ValueError):
            return 0

    def _save_cursor(self, seq: int) -> None:
        self.cursor_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.cursor_path.with_suffix(".tmp")
        tmp.write_text(str(seq))
        tmp.replace(self.cursor_path)

    def stop(self) -> None:
        self._stop.set()

    def publish_once(self, producer: KafkaProducer) -> int:
        """Publish what is new since the cursor; returns how many events went out."""
        from triage.publish import audit_batch

        batch = audit_batch(self.store, self._load_cursor())
        for key, value in batch.records:
            producer.send(self.settings.topics.activity, key=key, value=value)
        if batch.records:
            producer.flush()
            self._save_cursor(batch.last_seq)
            self.published += len(batch.records)
        return len(batch.records)

    def run(self) -> None:
        producer = KafkaProducer(
            **kafka_client_config(self.settings, "kafka-python"), acks="all",
            client_id="probity-audit-feed",
        )  # fmt: skip
        try:
            while not self._stop.is_set():
                try:
                    self.publish_once(producer)
                except Exception:  # store or broker hiccup: try again next round
                    log.warning("audit feed round failed", exc_info=True)
                self._stop.wait(self.interval_s)
        finally:
            producer.close()
