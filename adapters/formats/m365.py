"""``m365``: Office 365 Management Activity API records (the unified audit log), one JSON
object per line or a JSON array as the API's content blobs hold them. What each
``Operation`` means: ``m365.toml``.

``CreationTime`` is UTC written without an offset (Microsoft's schema says so), so it is
read as UTC whatever ``--tz`` says. ``ClientIP`` may carry a port (``1.2.3.4:5678``,
``[2001:db8::1]:443``); the address alone is kept.
"""

from __future__ import annotations

import re
import tomllib
from datetime import UTC
from pathlib import Path
from typing import Any

from adapters._time import parse_time
from adapters.base import MAX_ID, JsonAdapter, content_id, text
from adapters.exceptions import FieldError
from adapters.formats._jsonmap import attrs

TABLE: dict[str, Any] = tomllib.loads(Path(__file__).with_name("m365.toml").read_text())
_IPV4_PORT = re.compile(r"^(\d{1,3}(?:\.\d{1,3}){3}):\d+$")
_IPV6_PORT = re.compile(r"^\[([0-9A-Fa-f:.]+)\](?::\d+)?$")


def client_ip(value: Any) -> str | None:
    ip = text(value)
    if ip is None:
        return None
    m = _IPV4_PORT.match(ip) or _IPV6_PORT.match(ip)
    return m.group(1) if m else ip


class M365Adapter(JsonAdapter):
    format = "m365"
    description = (
        "Office 365 Management Activity API audit records (SharePoint, Exchange, DLP, Entra)"
    )
    default_source = "m365"

    def from_object(self, obj: dict[str, Any], raw: bytes) -> dict[str, Any]:
        op = text(obj.get("Operation"))
        rule = TABLE["operations"].get(op) if op else None
        if rule is None:
            workload = text(obj.get("Workload"))
            raise FieldError("Operation", f"{op} ({workload}) is not mapped" if op else "missing")
        try:
            time = parse_time(obj.get("CreationTime"), "CreationTime", UTC)
        except ValueError as exc:
            raise FieldError("CreationTime", str(exc)) from exc
        actor = text(obj.get("UserId"))
        if actor is None:
            raise FieldError("UserId", "missing")
        record_id = text(obj.get("Id"))
        out: dict[str, Any] = {
            "id": record_id if record_id and len(record_id) <= MAX_ID else content_id("m365", raw),
            "time": time,
            "source": self.source,
            "kind": rule["kind"],
            "actor": actor,
        }
        ip = client_ip(obj.get("ClientIP"))
        if ip:
            out["ip"] = ip
        terminal = text(obj.get(rule["terminal"])) if "terminal" in rule else None
        if terminal:
            out["terminal"] = terminal
        out["attrs"] = attrs(obj, rule.get("attrs", {}), TABLE)
        return out
