"""What ``probity detectors`` prints: every detector's contract, parameters and volume presets
(what ``fewer`` and ``more`` set), read from the classes and their ``Params`` models (never
from a hand-kept list).

>>> "access.canary  [misuse_of_systems]" in describe()
True
>>> import json as _json
>>> entry = {d["id"]: d for d in _json.loads(describe(json=True))}["access.canary"]
>>> entry["mode"], entry["params"][0]["name"], entry["params"][0]["unit"]
('event', 'score', 'points')
"""

from __future__ import annotations

import json as _json
import types
import typing
from typing import Any

from detectors.base import Detector
from detectors.registry import registered


def type_name(annotation: Any) -> str:
    """A field's type as written: ``float``, ``tuple[str, ...]``, ``str | None``.

    >>> type_name(tuple[str, ...]), type_name(float | None)
    ('tuple[str, ...]', 'float | None')
    """
    if isinstance(annotation, type) and not isinstance(annotation, types.GenericAlias):
        return "None" if annotation is type(None) else annotation.__name__
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        return " | ".join(type_name(a) for a in args)
    if origin is not None:
        inner = ", ".join("..." if a is Ellipsis else type_name(a) for a in args)
        return f"{getattr(origin, '__name__', str(origin))}[{inner}]"
    return str(annotation).replace("typing.", "")


def entry(cls: type[Detector]) -> dict[str, Any]:
    """One detector as data: what the JSON output lists for it."""
    defaults = cls.Params().model_dump(mode="json")
    params = []
    for name, f in cls.Params.model_fields.items():
        extra = f.json_schema_extra if isinstance(f.json_schema_extra, dict) else {}
        params.append({
            "name": name,
            "type": type_name(f.annotation),
            "default": defaults[name],
            "unit": extra.get("unit"),
            "description": f.description or "",
        })  # fmt: skip
    return {
        "id": cls.id,
        "mode": cls.mode,
        "kinds": sorted(cls.kinds),
        "category": str(cls.category.value),
        "category_varies": cls.category_varies,
        "description": cls.description,
        "module": cls.__module__,
        "tick_every_s": cls.tick_every_s,
        "feeds_risk": cls.feeds_risk,
        "depends_on": list(cls.depends_on),
        "state_cap_bytes": cls.state_cap_bytes,
        "params": params,
        "volume": {v: _json.loads(_json.dumps(cls.Params.preset(v))) for v in ("fewer", "more")},
    }


def describe(json: bool = False) -> str:
    """Every registered detector: id, mode, kinds, category, each parameter's type,
    default, unit and description, and its volume presets; ``json=True`` gives the same as a
    JSON array."""
    entries = [entry(cls) for cls in registered().values()]
    if json:
        return _json.dumps(entries, indent=2)
    lines: list[str] = []
    for e in entries:
        category = e["category"] + (" or the dominant one" if e["category_varies"] else "")
        lines.append(f"{e['id']}  [{category}]  {e['description']}")
        mode = e["mode"] + (f", every {e['tick_every_s']:g} s" if e["tick_every_s"] else "")
        lines.append(f"    mode: {mode}; reads: {', '.join(e['kinds'])}")
        if e["depends_on"]:
            lines.append(f"    reads the state of: {', '.join(e['depends_on'])}")
        for p in e["params"]:
            unit = f" {p['unit']}" if p["unit"] else ""
            lines.append(
                f"    {p['name']}: {p['type']} = {_json.dumps(p['default'])}{unit}"
                f"  ({p['description']})"
            )
        for level, values in e["volume"].items():
            sets = ", ".join(f"{k}={_json.dumps(v)}" for k, v in values.items())
            lines.append(f"    volume {level}: {sets or 'as default (no preset)'}")
    return "\n".join(lines)
