"""``ocsf``: Open Cybersecurity Schema Framework 1.x events (JSON), for the classes
Authentication (3002), File System Activity (1001), Email Activity (4009), HTTP Activity
(4002) and Web Resources Activity (6001). What each class's attributes mean: ``ocsf.toml``.

``time`` is milliseconds since the epoch (OCSF ``timestamp_t``); ``metadata.uid`` is the id
when the producer sets one, else the line's content is.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from adapters._time import epoch_ms
from adapters.base import MAX_ID, JsonAdapter, content_id, dig, text
from adapters.exceptions import FieldError
from adapters.formats._jsonmap import attrs

TABLE: dict[str, Any] = tomllib.loads(Path(__file__).with_name("ocsf.toml").read_text())
CLASSES: dict[str, dict[str, Any]] = TABLE["classes"]


def _first(obj: dict[str, Any], paths: list[str]) -> str | None:
    for path in paths:
        found = text(dig(obj, path))
        if found:
            return found
    return None


class OcsfAdapter(JsonAdapter):
    format = "ocsf"
    description = "OCSF 1.x: Authentication, File System, Email, HTTP, Web Resources Activity"
    default_source = "ocsf"

    def from_object(self, obj: dict[str, Any], raw: bytes) -> dict[str, Any]:
        class_uid = text(obj.get("class_uid"))
        rule = CLASSES.get(class_uid) if class_uid else None
        if rule is None:
            raise FieldError("class_uid", f"{class_uid} is not mapped" if class_uid else "missing")
        activity = text(obj.get("activity_id"))
        status = text(obj.get("status_id"))
        kinds = rule["kinds"]
        kind = kinds.get(f"{activity}/{status}") or kinds.get(str(activity))
        if kind is None:
            raise FieldError(
                "activity_id", f"{activity} (status {status}) of {rule['name']} is not mapped"
            )
        if obj.get("time") is None:
            raise FieldError("time", "missing")
        try:
            time = epoch_ms(obj["time"])
        except ValueError as exc:
            raise FieldError("time", str(exc)) from exc
        actor = _first(obj, rule["actor"])
        if actor is None:
            raise FieldError(rule["actor"][0], "missing: no user for this event")
        uid = text(dig(obj, "metadata.uid"))
        out: dict[str, Any] = {
            "id": uid if uid and len(uid) <= MAX_ID else content_id("ocsf", raw),
            "time": time,
            "source": self.source,
            "kind": kind,
            "actor": actor,
        }
        terminal = _first(obj, rule["terminal"])
        if terminal:
            out["terminal"] = terminal
        ip = _first(obj, rule["ip"])
        if ip:
            out["ip"] = ip
        out["attrs"] = attrs(obj, rule.get("attrs", {}), TABLE)
        return out
