"""TCP syslog on the intake, for sources that can send nothing else (RFC 6587).

Each port in ``intake.syslog`` is bound to one source and one adapter (``syslog``: RFC 5424
or 3164 carrying CEF; ``cef``: bare CEF lines). A frame is octet-counted (``LEN SP MSG``) when
it starts with a digit, else it ends at a newline (non-transparent framing; a NUL trailer is
accepted too). Messages are published as the HTTP intake's lines are (same idempotence, same
dead letters for rejects, same metrics), in batches of what has arrived; a batch is awaited
before the next is read, and while the broker is behind (:class:`Throttled`) the port stops
reading, so TCP holds the sender back. Syslog has no answers: rejects are dead letters.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from intake.batch import Outgoing, Preparer
from intake.exceptions import Throttled
from intake.service import IntakeService
from probity.settings import SyslogListener

log = logging.getLogger(__name__)

#: most messages published as one batch
BATCH = 500


async def frames(reader: asyncio.StreamReader, max_len: int) -> AsyncIterator[bytes | int]:
    """The messages of a connection; a message over ``max_len`` is read past and yields its
    size instead (a reject), so one bad sender's frame cannot take the intake's memory."""
    while True:
        first = await reader.read(1)
        if not first:
            return
        if first in b"\r\n\0 \t":
            continue
        if first.isdigit():
            try:
                digits = first + (await reader.readuntil(b" "))[:-1]
            except asyncio.IncompleteReadError:
                return
            if not digits.isdigit() or len(digits) > 9:
                log.warning("syslog: bad octet count; connection closed")
                return
            size = int(digits)
            if size > max_len:
                while size:
                    chunk = await reader.read(min(size, 65536))
                    if not chunk:
                        return
                    size -= len(chunk)
                yield int(digits)
                continue
            try:
                yield await reader.readexactly(size)
            except asyncio.IncompleteReadError as exc:
                if exc.partial:
                    yield exc.partial
                return
            continue
        line = bytearray(first)
        size = 1
        while True:
            try:
                chunk = await reader.readuntil(b"\n")
            except asyncio.IncompleteReadError as exc:
                chunk = exc.partial
            except asyncio.LimitOverrunError as exc:  # no newline within the reader's limit
                chunk = await reader.readexactly(exc.consumed)
                size += len(chunk)
                if size <= max_len:
                    line += chunk
                continue
            size += len(chunk)
            if size <= max_len:
                line += chunk
            break
        yield bytes(line).rstrip(b"\r\n\0") if size <= max_len else size


class SyslogPort:
    """One listening port. :meth:`start` binds it (port 0: any free port, see :attr:`port`)."""

    def __init__(self, service: IntakeService, listener: SyslogListener) -> None:
        self.service = service
        self.listener = listener
        self.port = listener.port
        self._server: asyncio.Server | None = None
        self._adapter = service.adapter(listener.source, listener.format)
        self._prep = Preparer(service.settings, listener.source)
        self._count = 0

    async def start(self, host: str) -> None:
        limit = self.service.settings.intake.max_line_bytes + 1024
        self._server = await asyncio.start_server(
            self._connection, host, self.listener.port, limit=limit
        )
        self.port = int(self._server.sockets[0].getsockname()[1])
        log.info("syslog listening", extra={"port": self.port, "source": self.listener.source})

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()

    def _item(self, frame: bytes | int, peer: str) -> Outgoing:
        self._count += 1
        n = self._count
        if isinstance(frame, int):
            limit = self.service.settings.intake.max_line_bytes
            return self._prep.reject(n, b"", f"message: {frame} bytes, the limit is {limit}")
        item = self._prep.converted(self._adapter.convert_record(frame, peer, n))
        if self._prep.unresolved:
            self.service.metrics.unresolved(self.listener.source, self._prep.unresolved)
            self._prep.unresolved = 0
        return item

    async def _publish(self, batch: list[Outgoing], origin: str) -> None:
        source = self.listener.source
        while True:
            try:
                results = await self.service.publisher.publish(source, batch, origin)
            except Throttled as exc:
                await asyncio.sleep(exc.retry_after_s)
                continue
            failed = [r for r in results if r.status == "failed"]
            if not failed:
                return
            # not acknowledged: sent again (ids make it safe) until the broker takes them
            retry = {r.line for r in failed}
            batch = [item for item in batch if item.line in retry]
            await asyncio.sleep(self.service.settings.intake.retry_after_s)

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        origin = f"syslog:{self.listener.source}:{peer[0] if peer else '?'}"
        max_len = self.service.settings.intake.max_line_bytes
        queue: asyncio.Queue[Outgoing | None] = asyncio.Queue(maxsize=BATCH * 2)

        async def read() -> None:
            try:
                async for frame in frames(reader, max_len):
                    item = self._item(frame, origin)
                    await queue.put(item)
            finally:
                await queue.put(None)

        reading = asyncio.create_task(read())
        try:
            done = False
            while not done:
                first = await queue.get()
                if first is None:
                    break
                batch = [first]
                while len(batch) < BATCH and not queue.empty():
                    item = queue.get_nowait()
                    if item is None:
                        done = True
                        break
                    batch.append(item)
                await self._publish(batch, origin)
        finally:
            reading.cancel()
            with contextlib.suppress(BaseException):
                await reading
            writer.close()
