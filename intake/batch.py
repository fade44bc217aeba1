"""A request body (or a syslog message) into records to publish: each an event with its topic
and key, or a reject with the reason naming the field.

The body is NDJSON or one JSON array in the contract's own JSON (the default), or anything a
format adapter reads (``adapters``). The token decides the source: an adapter is configured
with it, and a contract event naming another source is rejected (one without ``source`` gets
the token's). An adapter resolves accounts to staff ids (``adapters.identity``) before the
event is keyed here; the contract's own JSON names staff ids already and is not resolved.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass

import orjson

from adapters.base import Adapter, Converted, JsonAdapter, Reject
from models.events import Event, attr_or_none, decode_obj
from models.exceptions import DecodeError
from probity.settings import Settings

#: the format name of the contract's own JSON (no adapter)
CONTRACT = "contract"


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One record of a request: an event to publish (``topic``, ``key``, ``value``), or,
    when ``reason`` is set, a reject (``value`` = the bytes received, for the dead letter)."""

    line: int
    event_id: str | None
    topic: str
    key: bytes | None
    value: bytes
    reason: str | None = None


def is_array(body: bytes) -> bool:
    return body.lstrip()[:1] == b"["


def _records(body: bytes) -> Iterator[tuple[int, bytes]]:
    if is_array(body):
        yield from JsonAdapter._array(body)
        return
    for lineno, raw in enumerate(body.split(b"\n"), start=1):
        raw = raw.rstrip(b"\r")
        if raw.strip():
            yield lineno, raw


def _id_of(obj: object) -> str | None:
    found = obj.get("id") if isinstance(obj, dict) else None
    return found[:128] if isinstance(found, str) and found else None


class Preparer:
    """Turns bodies into :class:`Outgoing` records for one source."""

    def __init__(self, settings: Settings, source: str) -> None:
        self.settings = settings
        self.source = source
        #: events whose account resolved to no member of staff (flagged by the adapter)
        self.unresolved = 0

    def reject(self, line: int, raw: bytes, reason: str, event_id: str | None = None) -> Outgoing:
        return Outgoing(line, event_id, self.settings.topics.dead_letters, None, raw, reason)

    def event(self, line: int, event: Event, value: bytes, raw: bytes) -> Outgoing:
        """An event to publish, checked against the token's source and the record limit."""
        if event.source != self.source:
            return self.reject(
                line,
                raw,
                f"source: {event.source!r} is not this token's source {self.source!r}",
                event.id,
            )
        limit = self.settings.max_record_bytes
        if len(value) > limit:
            return self.reject(
                line, raw, f"event too large: {len(value)} bytes, the limit is {limit}", event.id
            )
        topics = self.settings.topics
        topic = topics.reference if event.is_reference else topics.activity
        return Outgoing(line, event.id, topic, event.key.encode(), value)

    def contract(self, body: bytes) -> list[Outgoing]:
        """Contract JSON: NDJSON or an array of events."""
        out: list[Outgoing] = []
        max_line = self.settings.intake.max_line_bytes
        for line, raw in _records(body):
            if len(raw) > max_line:
                out.append(
                    self.reject(line, raw, f"line: {len(raw)} bytes, the limit is {max_line}")
                )
                continue
            try:
                obj = orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                out.append(self.reject(line, raw, f"line: not valid JSON ({exc})"))
                continue
            if not isinstance(obj, dict):
                out.append(
                    self.reject(line, raw, f"line: not a JSON object ({type(obj).__name__})")
                )
                continue
            value = raw
            if "source" not in obj:
                obj["source"] = self.source
                value = orjson.dumps(obj)
            try:
                event = decode_obj(obj)
            except DecodeError as exc:
                out.append(self.reject(line, raw, exc.reason, _id_of(obj)))
                continue
            out.append(self.event(line, event, value, raw))
        return out

    def converted(self, item: Converted | Reject) -> Outgoing:
        """What an adapter made of one record."""
        if isinstance(item, Reject):
            return self.reject(item.line, item.raw, item.reason)
        if attr_or_none(item.event.attrs, "unresolved_account") is True:
            self.unresolved += 1
        return self.event(item.line, item.event, item.json, item.json)

    def adapted(self, adapter: Adapter, body: bytes, origin: str) -> list[Outgoing]:
        """A body in an adapter's format (its line limit was checked as it was read)."""
        stream = io.BufferedReader(io.BytesIO(body))
        return [self.converted(item) for item in adapter.convert(stream, origin)]
