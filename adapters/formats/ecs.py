"""``ecs``: Windows Security events as Elastic's System integration / Winlogbeat writes
them (Elastic Common Schema JSON, one document per line).

The event is ``event.code`` (or ``winlog.event_id``) on ``winlog.channel``; its time is
``@timestamp``; the host is ``winlog.computer_name`` (else ``host.name``); the record
number ``winlog.record_id`` makes the id. What a field means is ``windows.toml``, shared
with ``windows-json``, read from ``winlog.event_data`` (and ``winlog.user_data`` for 1102).

The logged-on user moved between versions (``user.name`` held the target of a logon in
7.x, ``user.target.name`` appeared later, and the System integration's pipeline has put the
subject in ``user.name`` for some events), so EventData's ``TargetUserName`` /
``SubjectUserName`` are read first, and ``user.target.name`` / ``user.name`` only when a
pipeline removed them.
"""

from __future__ import annotations

from typing import Any

from adapters._time import parse_time
from adapters.base import JsonAdapter, dig, text
from adapters.exceptions import FieldError
from adapters.formats._windows import WinEvent, event_number, to_contract

_NAMES = {"event_id": "event.code", "channel": "winlog.channel"}


class EcsAdapter(JsonAdapter):
    format = "ecs"
    description = "Windows Security events in ECS JSON (Winlogbeat, Elastic Agent System)"
    default_source = "windows"

    def from_object(self, obj: dict[str, Any], raw: bytes) -> dict[str, Any]:
        winlog = obj.get("winlog")
        winlog = winlog if isinstance(winlog, dict) else {}
        event = obj.get("event")
        code = event.get("code") if isinstance(event, dict) else obj.get("event.code")
        if code is None:
            code = winlog.get("event_id")
        event_id = event_number(code, "event.code")
        stamp = obj.get("@timestamp")
        if stamp is None:
            raise FieldError("@timestamp", "missing")
        try:
            time = parse_time(stamp, "@timestamp", self.config.tz)
        except ValueError as exc:
            raise FieldError("@timestamp", str(exc)) from exc
        data = winlog.get("event_data")
        if not isinstance(data, dict):
            data = {}
        user_data = winlog.get("user_data")
        if isinstance(user_data, dict):
            data = {**user_data, **data}
        return to_contract(
            WinEvent(
                event_id=event_id,
                channel=text(winlog.get("channel")),
                time=time,
                host=text(winlog.get("computer_name")) or text(dig(obj, "host.name")),
                record_id=text(winlog.get("record_id")),
                data=data,
                names=_NAMES,
                fallback_user=lambda role: _fallback(obj, role),
                fallback_field=lambda name: _moved(obj, winlog, name),
            ),
            self.source,
            raw,
        )


def _moved(obj: dict[str, Any], winlog: dict[str, Any], name: str) -> Any:
    """EventData fields some pipelines move to ECS fields instead."""
    if name == "LogonType":
        return dig(winlog, "logon.type")
    if name == "IpAddress":
        return dig(obj, "source.ip")
    return None


def _fallback(obj: dict[str, Any], role: str) -> str | None:
    if role == "Target":
        return _ecs_user(obj, "user.target") or _ecs_user(obj, "user")
    return _ecs_user(obj, "user")


def _ecs_user(obj: dict[str, Any], prefix: str) -> str | None:
    """``user.domain\\user.name`` (or ``user.target.*``), as EventData's account reads."""
    name = text(dig(obj, f"{prefix}.name"))
    if not name:
        return None
    domain = text(dig(obj, f"{prefix}.domain"))
    return f"{domain}\\{name}" if domain and "\\" not in name else name
