"""The Windows Security event table (``windows.toml``) applied to one event, whichever
shipper wrote it: ``ecs`` and ``windows-json`` each build a :class:`WinEvent` (event id,
channel, UTC time, host, EventData fields) and this module does the rest."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from adapters.base import MAX_ID, content_id, text
from adapters.exceptions import FieldError

TABLE: dict[str, Any] = tomllib.loads((Path(__file__).with_name("windows.toml")).read_text())
EVENTS: dict[int, dict[str, Any]] = {int(k): v for k, v in TABLE["events"].items()}
_LOWER_TABLES = {"failure_status"}


@dataclass(frozen=True, slots=True)
class WinEvent:
    """What both shippers agree on, in the names of the shipper that wrote it (``names``
    maps the roles ``event_id`` and ``channel`` to the source's field, for reasons)."""

    event_id: int
    channel: str | None
    time: str
    host: str | None
    record_id: str | None
    data: dict[str, Any]
    names: dict[str, str]
    #: the account for a role when EventData does not carry it (ECS ``user.*``)
    fallback_user: Callable[[str], str | None] | None = None
    #: an EventData field the shipper moved elsewhere (ECS ``source.ip``), asked only
    #: when the field is missing
    fallback_field: Callable[[str], Any] | None = None


def field(ev: WinEvent, name: str) -> Any:
    """EventData's ``name``, else what the shipper's fallback says."""
    value = ev.data.get(name)
    if value is None and ev.fallback_field is not None:
        return ev.fallback_field(name)
    return value


def event_number(value: Any, field: str) -> int:
    if isinstance(value, bool) or value is None:
        raise FieldError(field, "missing" if value is None else f"not an event id: {value!r}")
    try:
        return int(str(value).strip())
    except ValueError as exc:
        raise FieldError(field, f"not an event id: {value!r}"[:120]) from exc


# the rendered message's subject block, for events whose account is in UserData (1102),
# which NXLog's flattening leaves out: "Subject:\r\n\tSecurity ID:\t...\tAccount Name:..."
_MESSAGE_FIELDS = {
    "UserName": re.compile(r"Account Name:\s*([^\r\n\t]+)"),
    "DomainName": re.compile(r"Domain Name:\s*([^\r\n\t]+)"),
    "UserSid": re.compile(r"Security ID:\s*([^\r\n\t]+)"),
}


def subject_from_message(data: dict[str, Any]) -> dict[str, str]:
    """``SubjectUserName``... read from ``Message``'s ``Subject:`` block, when present."""
    message = data.get("Message")
    if not isinstance(message, str) or "Subject:" not in message:
        return {}
    block = message.split("Subject:", 1)[1]
    out = {}
    for suffix, pattern in _MESSAGE_FIELDS.items():
        m = pattern.search(block)
        if m:
            out[f"Subject{suffix}"] = m.group(1).strip()
    return out


def account(ev: WinEvent, role: str) -> str | None:
    """``DOMAIN\\name`` for a role (``Target``, ``Subject``), or the bare name."""
    name = text(ev.data.get(f"{role}UserName"))
    if not name:
        return ev.fallback_user(role) if ev.fallback_user is not None else None
    domain = text(ev.data.get(f"{role}DomainName"))
    return f"{domain}\\{name}" if domain and "\\" not in name and "@" not in name else name


def _lookup(table: str, value: str) -> str:
    key = value.lower() if table in _LOWER_TABLES else value
    found = TABLE[table].get(key)
    return found if isinstance(found, str) else value


def _attr(ev: WinEvent, spec: Any) -> Any:
    if isinstance(spec, str):
        return text(field(ev, spec))
    if "const" in spec:
        return spec["const"]
    if "account" in spec:
        return account(ev, spec["account"])
    raw = text(field(ev, spec["field"]))
    if raw in spec.get("ignore", ()):
        raw = None
    if raw is None and "fallback" in spec:
        raw = text(field(ev, spec["fallback"]))
    if raw is None:
        return spec.get("default")
    if "list" in spec:
        codes = [_lookup(spec["list"], code) for code in raw.replace(",", " ").split()]
        if "join" in spec:
            return spec["join"].join(codes) or None
        return codes or None
    if "table" in spec:
        found = TABLE[spec["table"]].get(raw.lower() if spec["table"] in _LOWER_TABLES else raw)
        return found if isinstance(found, str) else spec.get("default", raw)
    return raw


def to_contract(ev: WinEvent, source: str, raw: bytes) -> dict[str, Any]:
    """The contract event for one Windows event, or :class:`FieldError`."""
    rule = EVENTS.get(ev.event_id)
    if rule is None or (ev.channel is not None and ev.channel.lower() != "security"):
        raise FieldError(
            ev.names["event_id"], f"{ev.event_id} on channel {ev.channel} is not mapped"
        )
    role = rule["actor"]
    if rule.get("subject_in_message") and not text(ev.data.get("SubjectUserName")):
        ev = replace(ev, data={**ev.data, **subject_from_message(ev.data)})
    actor = account(ev, role)
    if actor is None:
        raise FieldError(f"{role}UserName", f"missing: no account for event {ev.event_id}")
    kind = rule["kind"]
    if "kind_by" in rule:
        value = text(ev.data.get(rule["kind_by"]["field"]))
        kind = rule["kind_by"]["values"].get(value, kind) if value else kind
    attrs = {}
    for name, spec in rule.get("attrs", {}).items():
        value = _attr(ev, spec)
        if value is not None:
            attrs[name] = value
    sid = text(ev.data.get(f"{role}UserSid"))
    if sid:
        attrs["actor_sid"] = sid
    if ev.record_id and ev.host:
        event_id = f"win:{ev.host}:{(ev.channel or 'security').lower()}:{ev.record_id}"
    else:
        event_id = ""
    out: dict[str, Any] = {
        "id": event_id if 0 < len(event_id) <= MAX_ID else content_id("win", raw),
        "time": ev.time,
        "source": source,
        "kind": kind,
        "actor": actor,
    }
    if ev.host:
        out["terminal"] = ev.host
    ip = text(field(ev, rule["ip"])) if "ip" in rule else None
    if ip:
        out["ip"] = ip
    out["attrs"] = attrs
    return out
