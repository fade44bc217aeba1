"""``probity detectors``: every detector's contract and parameters, from the models."""

from __future__ import annotations

import json

from detectors.catalogue import describe
from detectors.registry import registered


def test_the_json_lists_every_detector_with_its_parameters() -> None:
    entries = {e["id"]: e for e in json.loads(describe(json=True))}
    assert set(entries) == set(registered())
    for det_id, cls in registered().items():
        e = entries[det_id]
        assert e["mode"] == cls.mode and e["kinds"] == sorted(cls.kinds)
        assert [p["name"] for p in e["params"]] == list(cls.Params.model_fields)
        assert all(p["type"] and p["description"] for p in e["params"])
    off = {p["name"]: p for p in entries["access.off_duty"]["params"]}
    assert off["gap_min"] == {"name": "gap_min", "type": "float", "default": 90.0,
                              "unit": "min", "description": off["gap_min"]["description"]}
    assert off["remote_markers"]["type"] == "tuple[str, ...]"
    assert entries["risk.accumulation"]["depends_on"] == ["access.off_duty"]


def test_the_text_shows_mode_kinds_and_units() -> None:
    text = describe()
    assert "access.off_duty  [misuse_of_systems]" in text
    assert "    gap_min: float = 90.0 min  (" in text
    assert "mode: tick, every 86400 s" in text
    assert "mode: graph;" in text and "mode: findings;" in text
