"""A strict CEF parser and the ``cef.toml`` mapping, shared by ``cef`` and ``syslog``.

No package on PyPI parses CEF and is kept up (``pycef`` last released 2020, with known
escaping bugs), so this is the format's grammar, written small: ``CEF:Version|Device
Vendor|Device Product|Device Version|Signature ID|Name|Severity|Extension``, ``\\|`` and
``\\\\`` escaped in the header, ``key=value`` pairs separated by spaces in the extension
with ``\\=``, ``\\\\``, ``\\n``, ``\\r`` escaped.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from adapters._time import epoch_ms, localize, utc_text
from adapters.base import MAX_ID, content_id, text
from adapters.exceptions import FieldError

TABLE: dict[str, Any] = tomllib.loads(Path(__file__).with_name("cef.toml").read_text())
# a key starts after a space (or the start) and runs to an unescaped '='
_KEY = re.compile(r"(?:^|(?<=\s))([A-Za-z0-9_.\[\]-]+)=")
_EXT_ESCAPES = {"\\=": "=", "\\\\": "\\", "\\n": "\n", "\\r": "\r", "\\|": "|"}
_EXT_ESCAPE = re.compile(r"\\[=\\nr|]")
_HEADER_NAMES = ("version", "vendor", "product", "device_version", "signature", "name", "severity")


@dataclass(frozen=True, slots=True)
class Cef:
    header: dict[str, str]
    ext: dict[str, str]


def parse_cef(message: str) -> Cef:
    """One CEF message (starting ``CEF:``); :class:`FieldError` naming the part at fault."""
    if not message.startswith("CEF:"):
        raise FieldError("CEF", "the message does not start with CEF:")
    fields, ext = _split_header(message[4:])
    if len(fields) < 7:
        raise FieldError("CEF", f"header has {len(fields) - 1} of the 7 '|' separators")
    header = dict(zip(_HEADER_NAMES, fields, strict=True))
    if header["version"] not in ("0", "1"):
        raise FieldError("CEF", f"version {header['version']!r} is not 0 or 1"[:120])
    return Cef(header, parse_extension(ext))


def _split_header(body: str) -> tuple[list[str], str]:
    """The seven header fields (unescaped: ``\\|`` and ``\\\\``) and the extension after
    the seventh unescaped ``|``."""
    fields: list[str] = []
    current: list[str] = []
    i, n = 0, len(body)
    while i < n:
        ch = body[i]
        if ch == "\\" and i + 1 < n and body[i + 1] in "|\\":
            current.append(body[i + 1])
            i += 2
            continue
        if ch == "|":
            fields.append("".join(current))
            current = []
            if len(fields) == 7:
                return fields, body[i + 1 :]
        else:
            current.append(ch)
        i += 1
    return [*fields, "".join(current)], ""


def parse_extension(ext: str) -> dict[str, str]:
    out: dict[str, str] = {}
    matches = list(_KEY.finditer(ext))
    if not matches:
        if ext.strip():
            raise FieldError("CEF extension", "no key=value")
        return out
    if ext.strip() and (not matches or ext[: matches[0].start()].strip()):
        raise FieldError("CEF extension", "text before the first key=value")
    for m, nxt in zip(matches, [*matches[1:], None], strict=True):
        end = nxt.start() if nxt is not None else len(ext)
        value = ext[m.end() : end]
        if nxt is not None:
            value = value[:-1] if value.endswith(" ") else value
        out[m.group(1)] = _EXT_ESCAPE.sub(lambda e: _EXT_ESCAPES[e.group(0)], value)
    return out


_CEF_TIME_FORMATS = ("%b %d %Y %H:%M:%S.%f", "%b %d %Y %H:%M:%S")


def cef_time(value: str, key: str, zone: tzinfo) -> str:
    """``rt``-style times: epoch milliseconds, or ``MMM dd yyyy HH:mm:ss[.SSS][ zone]``
    (the formats without a year are refused: the year cannot be known)."""
    value = value.strip()
    try:
        if value.isdigit():
            return epoch_ms(value)
        stamp, zone_name = _split_zone(value)
        for fmt in _CEF_TIME_FORMATS:
            try:
                naive = datetime.strptime(stamp, fmt)  # noqa: DTZ007 (zone applied below)
            except ValueError:
                continue
            here = _zone(zone_name) if zone_name else zone
            aware, _ = localize(naive, here)
            return utc_text(aware)
    except ValueError as exc:
        raise FieldError(key, str(exc)) from exc
    raise FieldError(key, f"{value!r} is not epoch milliseconds or MMM dd yyyy HH:mm:ss"[:160])


def _split_zone(value: str) -> tuple[str, str]:
    parts = value.split(" ")
    if len(parts) == 5:  # "Mar 02 2026 09:15:02 UTC"
        return " ".join(parts[:4]), parts[4]
    return value, ""


def _zone(name: str) -> tzinfo:
    if name.upper() in ("Z", "UTC", "GMT"):
        name = "UTC"
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}"[:80]) from exc


def _first(ext: dict[str, str], keys: list[str]) -> tuple[str, str] | None:
    for key in keys:
        value = text(ext.get(key))
        if value:
            return key, value
    return None


def to_contract(
    cef: Cef,
    raw: bytes,
    source: str,
    zone: tzinfo,
    header_time: str | None = None,
    header_host: str | None = None,
) -> dict[str, Any]:
    """The contract event for one CEF record (``header_*``: what a syslog header said)."""
    ext = cef.ext
    url = text(ext.get("request"))
    if url is None:
        raise FieldError(
            "request", f"missing: only web requests are mapped ({cef.header['name']})"[:160]
        )
    found = _first(ext, TABLE["time"])
    if found is not None:
        time = cef_time(found[1], found[0], zone)
    elif header_time is not None:
        time = header_time
    else:
        raise FieldError("rt", "missing, and no syslog header time")
    actor = _first(ext, TABLE["actor"])
    if actor is None:
        raise FieldError("suser", "missing: no user for this request")
    own = _first(ext, TABLE["id"])
    out: dict[str, Any] = {
        "id": own[1] if own and len(own[1]) <= MAX_ID else content_id("cef", raw),
        "time": time,
        "source": source,
        "kind": TABLE["kind"],
        "actor": actor[1],
    }
    terminal = _first(ext, TABLE["terminal"])
    if terminal or header_host:
        out["terminal"] = terminal[1] if terminal else header_host
    ip = _first(ext, TABLE["ip"])
    if ip:
        out["ip"] = ip[1]
    attrs: dict[str, Any] = {}
    for name, spec in TABLE["attrs"].items():
        key = spec if isinstance(spec, str) else spec["key"]
        value = text(ext.get(key))
        if value is None:
            continue
        if isinstance(spec, dict) and spec.get("as") == "int":
            if not value.isdigit():
                raise FieldError(key, f"not a byte count: {value!r}"[:120])
            attrs[name] = int(value)
        elif isinstance(spec, dict) and "table" in spec:
            attrs[name] = TABLE[spec["table"]].get(value.lower(), value)
        else:
            attrs[name] = value
    method = (attrs.get("method") or "").upper()
    attrs["action"] = TABLE["methods"].get(method, "visit")
    try:
        host = urlsplit(url if "//" in url else f"//{url}").hostname or text(ext.get("dhost"))
    except ValueError as exc:
        raise FieldError("request", f"not a URL: {exc}") from exc
    if host:
        attrs["domain"] = host
    out["attrs"] = attrs
    return out
