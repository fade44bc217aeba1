"""docs/contract.md stays the authoritative contract: it names every kind and attribute the
code decodes, and every kind an adapter's table produces is a kind the code knows."""

from __future__ import annotations

import tomllib

from models.events import ACTIVITY_ATTRS, KNOWN_KINDS, REFERENCE_ATTRS
from tests.adapters.conftest import ROOT

DOC = (ROOT / "docs" / "contract.md").read_text()


def test_every_kind_and_attribute_is_documented():
    for kind, model in {**ACTIVITY_ATTRS, **REFERENCE_ATTRS}.items():
        assert f"`{kind}`" in DOC, kind
        for name in model.model_fields:
            assert f"`{name}`" in DOC, f"{kind}.{name}"


def _kinds(node: object, under: str = "") -> set[str]:
    """Every value a table gives as a kind: ``kind = "..."``, ``kinds = {...}``, and the
    ``values`` of ``kind`` / ``kind_by`` tables."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "kind" and isinstance(value, str):
                found.add(value)
            elif key == "kinds" or (key == "values" and under in ("kind", "kind_by")):
                found |= set(value.values())
            else:
                found |= _kinds(value, key)
    return found


def test_every_kind_in_the_adapters_tables_is_known():
    found: set[str] = set()
    for path in (ROOT / "adapters").rglob("*.toml"):
        found |= _kinds(tomllib.loads(path.read_text()))
    assert "process.started" in found and "record.view" in found
    assert found <= KNOWN_KINDS, found - KNOWN_KINDS


def test_the_documents_examples_are_valid_events():
    """Every JSON line in docs/contract.md's examples decodes: the revisions' examples are
    compatibility tests, as shared/contract/examples are for revision 1.0."""
    from models.events import decode_event

    blocks = DOC.split("```json\n")[1:]
    lines = [ln for b in blocks for ln in b.split("```", 1)[0].splitlines() if ln.strip()]
    assert any('"terminal.assigned"' in ln for ln in lines)
    for line in lines:
        decode_event(line)
