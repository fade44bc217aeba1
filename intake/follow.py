"""The intake's identity resolver follows the reference topic: every ``staff.upsert`` on it,
from the beginning, then as they come.

A thread with a kafka-python consumer (no group: it reads every partition, commits nothing)
feeds :class:`~adapters.identity.IdentityResolver`. The intake's start-up waits until it has
read up to the end the topic had then, so the first request already resolves against the
staff known; later upserts take effect as they are read (within a poll, about a second).
Invalid reference records are skipped here: the worker dead-letters them.
"""

from __future__ import annotations

import logging
import threading
import time

from kafka import KafkaConsumer, TopicPartition
from kafka.errors import KafkaError

from adapters.identity import IdentityResolver
from intake.exceptions import IntakeError
from models.events import decode_event
from models.exceptions import DecodeError
from probity.settings import Settings
from probity.transport import kafka_client_config

log = logging.getLogger(__name__)


class ReferenceFollower:
    """Reads the reference topic into ``resolver`` in a daemon thread."""

    def __init__(self, settings: Settings, resolver: IdentityResolver) -> None:
        self.settings = settings
        self.resolver = resolver
        self.upserts = 0
        self._stop = threading.Event()
        self._caught_up = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="intake-identity", daemon=True)

    def start(self, timeout_s: float = 30.0) -> None:
        """Start reading; return once the topic's current end is read (called at start-up)."""
        self._thread.start()
        if not self._caught_up.wait(timeout_s):
            self.stop()
            raise IntakeError(f"identity: the reference topic was not read in {timeout_s}s "
                              f"({self._error!r})")  # fmt: skip

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _run(self) -> None:
        topic = self.settings.topics.reference
        try:
            consumer = KafkaConsumer(
                **kafka_client_config(self.settings, "kafka-python"),
                enable_auto_commit=False,
                client_id="probity-intake-identity",
            )
        except KafkaError as exc:
            self._error = exc
            return
        try:
            deadline = time.monotonic() + 30
            parts = consumer.partitions_for_topic(topic)
            while not parts and time.monotonic() < deadline and not self._stop.is_set():
                time.sleep(0.2)
                parts = consumer.partitions_for_topic(topic)
            tps = [TopicPartition(topic, p) for p in sorted(parts or ())]
            consumer.assign(tps)
            consumer.seek_to_beginning(*tps)
            ends = consumer.end_offsets(tps)
            if all(consumer.position(tp) >= ends[tp] for tp in tps):
                self._caught_up.set()
            while not self._stop.is_set():
                for records in consumer.poll(timeout_ms=500).values():
                    for record in records:
                        try:
                            self.upserts += self.resolver.observe(decode_event(record.value))
                        except DecodeError:
                            continue
                if not self._caught_up.is_set() and all(
                    consumer.position(tp) >= ends[tp] for tp in tps
                ):
                    self._caught_up.set()
        except Exception as exc:
            self._error = exc
            log.exception("identity: reading the reference topic failed")
        finally:
            consumer.close()
