"""``windows-json``: Windows Security events flattened to one JSON object per line by
NXLog (``im_msvistalog`` + ``to_json()``) or Logstash: ``EventID``, ``Channel``,
``Hostname``, and the EventData fields at the top level (``TargetUserName``,
``SubjectUserName``, ``ObjectName``, ...). Meanings: ``windows.toml``, shared with ``ecs``.

The time is the first of ``TimeCreated``, ``EventTime``, ``@timestamp`` present. NXLog
writes ``EventTime`` in the shipping host's local time without an offset; a time without an
offset is read in ``--tz`` (default UTC), so a force whose shippers run on local time
gives ``--tz Europe/London``. The record number (``RecordNumber``) makes the id when
present, else the line's content does.
"""

from __future__ import annotations

from typing import Any

from adapters._time import parse_time
from adapters.base import JsonAdapter, text
from adapters.exceptions import FieldError
from adapters.formats._windows import WinEvent, event_number, to_contract

_NAMES = {"event_id": "EventID", "channel": "Channel"}
_TIME_FIELDS = ("TimeCreated", "EventTime", "@timestamp")


class WindowsJsonAdapter(JsonAdapter):
    format = "windows-json"
    description = "Windows Security events flattened to JSON (NXLog, Logstash)"
    default_source = "windows"

    def from_object(self, obj: dict[str, Any], raw: bytes) -> dict[str, Any]:
        event_id = event_number(obj.get("EventID"), "EventID")
        for name in _TIME_FIELDS:
            value = obj.get(name)
            if value is not None:
                try:
                    time = parse_time(value, name, self.config.tz)
                except ValueError as exc:
                    raise FieldError(name, str(exc)) from exc
                break
        else:
            raise FieldError("TimeCreated", "missing (nor EventTime, @timestamp)")
        return to_contract(
            WinEvent(
                event_id=event_id,
                channel=text(obj.get("Channel")),
                time=time,
                host=text(obj.get("Hostname")) or text(obj.get("Computer")),
                record_id=text(obj.get("RecordNumber")),
                data=obj,
                names=_NAMES,
            ),
            self.source,
            raw,
        )
