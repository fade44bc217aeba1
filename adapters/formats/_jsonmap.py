"""Attribute specs for JSON formats (``m365.toml``, ``ocsf.toml``): what one contract
attribute is, read from a source record.

A spec is a dotted path (``Item.Subject``: the text there, absent if empty or ``-``), or a
table with one of: ``const`` (a fixed value); ``path`` with ``as = "int" | "list"`` (typed;
a value of the wrong type is the source's fault and rejects the record naming the path);
``path`` + ``name`` (the ``Value`` of the ``{Name, Value}`` item called ``name`` in the list
at ``path``, as Microsoft writes extended properties); ``count`` + ``of`` (the number of
items in the lists ``of`` inside the list at ``count``); ``first`` (the first of several
specs that gives a value); ``table`` (a lookup of the value in a named table, the value
itself if not found).
"""

from __future__ import annotations

from typing import Any

from adapters.base import dig, text
from adapters.exceptions import FieldError


def _int(value: Any, path: str) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise FieldError(path, f"not an integer: {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    raise FieldError(path, f"not an integer: {value!r}"[:120])


def attr(obj: dict[str, Any], spec: Any, tables: dict[str, Any]) -> Any:
    """The value one spec gives for ``obj``, or None (absent)."""
    if isinstance(spec, str):
        return text(dig(obj, spec))
    if "const" in spec:
        return spec["const"]
    if "first" in spec:
        for option in spec["first"]:
            found = attr(obj, option, tables)
            if found is not None:
                return found
        return None
    if "count" in spec:
        outer = dig(obj, spec["count"])
        if not isinstance(outer, list):
            return None
        inner = spec["of"]
        return sum(
            len(x[inner]) for x in outer if isinstance(x, dict) and isinstance(x.get(inner), list)
        )
    path = spec["path"]
    raw = dig(obj, path)
    if "name" in spec:
        raw = _named(raw, spec["name"])
        path = f"{path}[{spec['name']}]"
    kind = spec.get("as")
    if kind == "int":
        return _int(raw, path)
    if kind == "list":
        if raw is None:
            return None
        items = raw if isinstance(raw, list) else [raw]
        out = [_lookup(tables, spec, t) for t in (_item_text(i) for i in items) if t]
        return out or None
    value = text(raw)
    return _lookup(tables, spec, value) if value is not None else None


def _lookup(tables: dict[str, Any], spec: dict[str, Any], value: str) -> str:
    if "table" not in spec:
        return value
    found = tables.get(spec["table"], {}).get(value)
    return found if isinstance(found, str) else value


def _item_text(item: Any) -> str | None:
    if isinstance(item, dict):  # OCSF email addresses, M365 recipients: {"Address": ...}
        for key in ("email_addr", "Address", "address", "name", "Name"):
            if key in item:
                return text(item[key])
        return None
    return text(item)


def _named(items: Any, name: str) -> Any:
    if not isinstance(items, list):
        return None
    for item in items:
        if isinstance(item, dict) and item.get("Name") == name:
            return item.get("Value")
    return None


def attrs(obj: dict[str, Any], specs: dict[str, Any], tables: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for name, spec in specs.items():
        value = attr(obj, spec, tables)
        if value is not None:
            out[name] = value
    return out
