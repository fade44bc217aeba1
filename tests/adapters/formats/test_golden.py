"""Golden files per adapter (STYLE 12): each input under ``tests/adapters/data/<format>/``
gives exactly the events in ``<case>.expected.jsonl`` and the rejects (line, reason) in
``<case>.rejects.jsonl``; every event decodes through the contract's decoder.

Regenerate after a reviewed change with ``PROBITY_GOLDEN_UPDATE=1`` and read the diff.
"""

from __future__ import annotations

import os

import orjson
import pytest

from adapters import registered
from models.events import decode_event
from tests.adapters.conftest import DATA, GoldenCase, golden_cases, jsonl

CASES = golden_cases()
UPDATE = os.environ.get("PROBITY_GOLDEN_UPDATE") == "1"


def test_every_format_has_golden_files_and_every_folder_a_format():
    folders = {p.name for p in DATA.iterdir() if p.is_dir()}
    assert folders == set(registered()), "one data folder per registered format"
    for folder in folders:
        assert (DATA / folder / "README.md").exists(), f"{folder}: README citing the schema"
    assert {c.format for c in CASES} == folders


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.format}/{c.name}")
def test_golden(case: GoldenCase):
    if case.zip_path is not None and not case.zip_path.exists():
        pytest.fail(f"shared sample missing: {case.zip_path} (shared/ must sit beside the repo)")
    events, rejects = case.convert()
    got_events = [orjson.loads(e.json) for e in events]
    if UPDATE:
        case.expected.write_bytes(b"".join(e.json + b"\n" for e in events))
        case.rejects.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rejects))
    assert got_events == jsonl(case.expected)
    assert rejects == jsonl(case.rejects)
    for e in events:  # the boundary's promise, checked from the outside
        decoded = decode_event(e.json)
        assert decoded.kind == e.event.kind and decoded.time.tzinfo is not None
    for r in rejects:
        field, sep, why = r["reason"].partition(": ")
        assert sep and field and why, f"a reject names its field: {r}"
