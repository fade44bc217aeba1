"""Publishing with the broker's acknowledgement: what the intake answers ``accepted`` the
broker has (acks=all); what it could not confirm in time is answered ``failed``.

One aiokafka producer for the process. Records handed to it and not yet acknowledged are
counted (:attr:`Publisher.in_flight`); a batch that would take the count over
``intake.max_in_flight`` is refused with :class:`~intake.exceptions.Throttled` (429) before
anything of it is sent. That count grows when the broker is slow or gone, so the limit is the
back-pressure: senders wait, the intake's memory stays bounded.

Idempotent by event id per source: an id accepted before (:class:`~intake.recent.RecentIds`)
or being published by another request right now is not published again; the second answer
waits for the first's outcome.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import defaultdict
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from intake.base import LineResult
from intake.batch import Outgoing
from intake.exceptions import Throttled
from intake.metrics import IntakeMetrics
from intake.recent import RecentIds
from models.deadletters import DeadLetter, Origin
from probity.settings import Settings
from probity.transport import kafka_client_config

log = logging.getLogger(__name__)


class Publisher:
    """The intake's producer, its in-flight count and its recent ids."""

    def __init__(self, settings: Settings, metrics: IntakeMetrics) -> None:
        self.settings = settings
        self.metrics = metrics
        self._producer: AIOKafkaProducer | None = None
        self._in_flight = 0
        cap = settings.intake.recent_ids_per_source
        self._recent: defaultdict[str, RecentIds] = defaultdict(lambda: RecentIds(cap))
        self._pending: dict[tuple[str, str], asyncio.Future[bool]] = {}

    async def start(self) -> None:
        """Connect to the broker (called by the intake's start-up; fails if it is not there)."""
        timeout_ms = int(self.settings.intake.ack_timeout_s * 1000)
        producer = AIOKafkaProducer(
            **kafka_client_config(self.settings, "aiokafka"),
            acks="all",
            linger_ms=5,
            max_request_size=self.settings.max_record_bytes + 64 * 1024,
            request_timeout_ms=timeout_ms,
            client_id="probity-intake",
        )
        await producer.start()
        self._producer = producer

    async def stop(self) -> None:
        """Flush what is in flight and disconnect (called at shut-down)."""
        if self._producer is not None:
            producer, self._producer = self._producer, None
            with contextlib.suppress(Exception):
                await asyncio.wait_for(producer.flush(), self.settings.intake.ack_timeout_s)
            await producer.stop()

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def _take(self, n: int) -> None:
        self._in_flight += n
        self.metrics.in_flight.set(self._in_flight)

    def _release(self, n: int = 1) -> None:
        self._in_flight -= n
        self.metrics.in_flight.set(self._in_flight)

    def check(self, source: str, n: int = 1) -> None:
        """Raise :class:`Throttled` if ``n`` more records would exceed the limit. A batch
        larger than the limit is let through when nothing waits, so it is not refused for ever."""
        limit = self.settings.intake.max_in_flight
        if self._in_flight and self._in_flight + n > limit:
            self.metrics.throttled(source)
            raise Throttled(self._in_flight, limit, self.settings.intake.retry_after_s)

    async def publish(self, source: str, items: list[Outgoing], origin: str) -> list[LineResult]:
        """Publish ``items`` (events, and rejects as dead letters) and answer each once the
        broker acknowledged it or ``ack_timeout_s`` passed. Raises :class:`Throttled` first if
        the batch does not fit."""
        self.check(source, len(items))
        if self._producer is None:
            raise RuntimeError("the intake's producer is not started")
        producer = self._producer
        self._take(len(items))
        deadline = time.monotonic() + self.settings.intake.ack_timeout_s
        recent = self._recent[source]
        results: list[LineResult | None] = [None] * len(items)
        sent: list[tuple[int, asyncio.Future[Any]]] = []
        waiting: list[tuple[int, asyncio.Future[bool]]] = []
        mine: dict[int, asyncio.Future[bool]] = {}
        rejected: set[int] = set()
        loop = asyncio.get_running_loop()

        def release(fut: asyncio.Future[Any]) -> None:
            self._release()
            if not fut.cancelled():
                fut.exception()  # retrieved: a late failure is answered (failed), not logged

        def failed(i: int, why: str) -> LineResult:
            item = items[i]
            return LineResult(
                line=item.line,
                id=item.event_id,
                status="failed",
                reason=f"broker: not acknowledged ({why}); send again",
            )

        async def send(i: int, topic: str, value: bytes, key: bytes | None) -> bool:
            """Hand one record to the producer; False (answered failed) if it refused it."""
            try:
                fut = await producer.send(topic, value, key=key)
            except KafkaError as exc:
                self._release()
                results[i] = failed(i, type(exc).__name__)
                return False
            fut.add_done_callback(release)
            sent.append((i, fut))
            return True

        try:
            try:
                async with asyncio.timeout_at(loop.time() + self.settings.intake.ack_timeout_s):
                    for i, item in enumerate(items):
                        if item.reason is not None:
                            origin_at = Origin(file=origin, line=item.line)
                            dl = DeadLetter.of(item.value, item.reason, origin_at, item.event_id)
                            if await send(i, item.topic, dl.dumps(), dl.key()):
                                rejected.add(i)
                            else:  # the answer is the reject, dead letter or not
                                results[i] = LineResult(
                                    line=item.line,
                                    id=item.event_id,
                                    status="rejected",
                                    reason=item.reason,
                                )
                            continue
                        assert item.event_id is not None
                        if item.event_id in recent:
                            self._release()
                            results[i] = LineResult(
                                line=item.line, id=item.event_id, status="duplicate"
                            )
                            continue
                        other = self._pending.get((source, item.event_id))
                        if other is not None:
                            self._release()
                            waiting.append((i, other))
                            continue
                        claim: asyncio.Future[bool] = loop.create_future()
                        self._pending[(source, item.event_id)] = claim
                        mine[i] = claim
                        await send(i, item.topic, item.value, item.key)
            except TimeoutError:
                pass  # the broker took no more: what was not handed over is answered failed
            finally:
                handed = sum(1 for r in results if r is not None) + len(sent) + len(waiting)
                unsent = len(items) - handed
                if unsent:
                    self._release(unsent)

            futures = [f for _, f in sent]
            if futures:
                await asyncio.wait(futures, timeout=max(0.0, deadline - time.monotonic()))
            for i, fut in sent:
                item = items[i]
                if i in rejected:  # its dead letter's fate does not change the answer
                    results[i] = LineResult(
                        line=item.line, id=item.event_id, status="rejected", reason=item.reason
                    )
                elif fut.done() and not fut.cancelled() and fut.exception() is None:
                    recent.add(item.event_id)  # type: ignore[arg-type]
                    results[i] = LineResult(line=item.line, id=item.event_id, status="accepted")
                elif not fut.done():
                    results[i] = failed(i, "no answer in time")
                else:
                    exc = None if fut.cancelled() else fut.exception()
                    results[i] = failed(i, type(exc).__name__ if exc else "cancelled")
        finally:
            # claims are settled whatever happened, so no later request waits on a stale one
            for i, claim in mine.items():
                self._pending.pop((source, items[i].event_id), None)  # type: ignore[arg-type]
                r = results[i]
                if not claim.done():
                    claim.set_result(r is not None and r.status == "accepted")
        if waiting:
            await asyncio.wait(
                [f for _, f in waiting], timeout=max(0.0, deadline - time.monotonic())
            )
            for i, other in waiting:
                item = items[i]
                if other.done() and other.result():
                    results[i] = LineResult(line=item.line, id=item.event_id, status="duplicate")
                else:
                    results[i] = failed(i, "its first copy was not acknowledged")
        out: list[LineResult] = []
        for i, r in enumerate(results):
            if r is None:  # never handed to the producer (timeout)
                r = failed(i, "not taken in time")
            out.append(r)
        for r in out:
            self.metrics.lines(source, r.status)
        return out
