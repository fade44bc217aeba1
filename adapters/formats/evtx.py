"""``evtx``: Windows event log files (``.evtx``) as Windows writes them, read with the
``evtx`` package (pyevtx-rs, bindings of the Rust ``evtx`` parser; the ``evtx`` extra:
``pip install 'probity[evtx]'``). Meanings: ``windows.toml``, shared with ``windows-json``
and ``ecs``: this module only finds the event id, channel, time, host, record number and
EventData fields in each record's JSON.

A record's ``line`` is its place in the file (1, 2, ...); the bytes a reject or a dead
letter keeps are the record as the parser renders it in JSON (an ``.evtx`` file has no
lines to quote). ``Event.System.TimeCreated`` is UTC. Events whose fields are in
``UserData`` rather than ``EventData`` (1102, the audit log cleared) have that element's
fields read instead. A record the parser cannot read is a reject naming it; a file that is
not an EVTX file is one reject.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC
from typing import IO, Any

import orjson

from adapters._time import parse_time
from adapters.base import Adapter, AdapterConfig, text
from adapters.exceptions import ConfigError, FieldError
from adapters.formats._windows import WinEvent, event_number, to_contract

_NAMES = {"event_id": "Event.System.EventID", "channel": "Event.System.Channel"}
_TIME = "Event.System.TimeCreated"
#: what a record the parser could not read becomes (its bytes are not to be had)
_UNREADABLE = "probity_evtx_error"


def _value(node: Any) -> Any:
    """An element's text: ``{"#attributes": {...}, "#text": v}`` when it has attributes."""
    return node.get("#text") if isinstance(node, dict) else node


def _fields(event: dict[str, Any]) -> dict[str, Any]:
    """EventData's named fields, else the one element under UserData (1102's
    ``LogFileCleared``)."""
    data = event.get("EventData")
    if isinstance(data, dict):
        return {k: _value(v) for k, v in data.items() if k != "#attributes"}
    user = event.get("UserData")
    if isinstance(user, dict):
        for element in user.values():
            if isinstance(element, dict):
                return {k: _value(v) for k, v in element.items() if k != "#attributes"}
    return {}


class EvtxAdapter(Adapter):
    format = "evtx"
    description = "Windows event log files (.evtx), with the evtx extra"
    default_source = "windows"

    def __init__(self, config: AdapterConfig | None = None) -> None:
        super().__init__(config)
        try:
            from evtx import PyEvtxParser
        except ImportError as exc:
            raise ConfigError(
                "format evtx needs the evtx extra: pip install 'probity[evtx]'"
            ) from exc
        self._parser = PyEvtxParser

    def records(self, stream: IO[bytes]) -> Iterator[tuple[int, bytes]]:
        """Each record as compact JSON, numbered by its place in the file."""
        source: IO[bytes] = stream if stream.seekable() else io.BytesIO(stream.read())
        try:
            parser = self._parser(source, number_of_threads=1, indent=False)
            records = iter(parser.records_json())
        except (RuntimeError, OSError, ValueError) as exc:
            yield 1, orjson.dumps({_UNREADABLE: f"not an EVTX file ({exc})"[:200]})
            return
        n = 0
        while True:
            n += 1
            try:
                record = next(records)
            except StopIteration:
                return
            except (RuntimeError, OSError, ValueError) as exc:  # one record, or the rest
                yield n, orjson.dumps({_UNREADABLE: f"unreadable record ({exc})"[:200]})
                return
            data = record.get("data") if isinstance(record, dict) else None
            if isinstance(data, str):
                yield n, data.encode()
            else:
                yield n, orjson.dumps({_UNREADABLE: "the parser gave no data for this record"})

    def to_event(self, raw: bytes) -> dict[str, Any]:
        obj = orjson.loads(raw)
        if _UNREADABLE in obj:
            raise FieldError("record", obj[_UNREADABLE])
        event = obj.get("Event")
        system = event.get("System") if isinstance(event, dict) else None
        if not isinstance(event, dict) or not isinstance(system, dict):
            raise FieldError("Event.System", "missing")
        created = system.get("TimeCreated")
        attrs = created.get("#attributes") if isinstance(created, dict) else None
        stamp = attrs.get("SystemTime") if isinstance(attrs, dict) else None
        if stamp is None:
            raise FieldError(_TIME, "missing")
        try:
            time = parse_time(stamp, _TIME, UTC)
        except ValueError as exc:
            raise FieldError(_TIME, str(exc)) from exc
        return to_contract(
            WinEvent(
                event_id=event_number(_value(system.get("EventID")), _NAMES["event_id"]),
                channel=text(system.get("Channel")),
                time=time,
                host=text(system.get("Computer")),
                record_id=text(system.get("EventRecordID")),
                data=_fields(event),
                names=_NAMES,
            ),
            self.source,
            raw,
        )
