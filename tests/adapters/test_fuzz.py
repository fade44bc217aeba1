"""Every parser fuzzed (hypothesis): whatever the bytes, converting never raises, and every
record becomes exactly one event that decodes through the contract's decoder, or one reject
whose reason names a field. Inputs: random bytes and text, and the golden inputs mutated
(JSON values replaced or dropped; text lines cut, spliced and duplicated)."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters import AdapterConfig, Converted, Reject, create, registered
from adapters.base import JsonAdapter
from models.events import decode_event
from tests.adapters.conftest import DATA, ROOT, is_input

REASON = re.compile(r"^[^:\n]+: .+", re.DOTALL)
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MAPPING = ROOT / "adapters" / "mappings" / "records_audit.toml"
text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=60)
json_leaf = (
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.floats(allow_nan=False) | text
)
json_values = st.recursive(
    json_leaf,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=6,
)


def _golden_lines(fmt: str) -> list[bytes]:
    lines: list[bytes] = []
    for path in sorted((DATA / fmt).iterdir()):
        if not is_input(path):
            continue
        data = path.read_bytes()
        if data.lstrip().startswith(b"["):
            lines += [orjson.dumps(x) for x in orjson.loads(data)]
        else:
            lines += [line for line in data.splitlines() if line.strip()]
    return lines


def _mutate(draw: Any, value: Any) -> Any:
    roll = draw(st.integers(0, 11))
    if roll == 0:
        return draw(json_values)
    if isinstance(value, dict):
        return {k: _mutate(draw, v) for k, v in value.items() if draw(st.integers(0, 11)) != 0}
    if isinstance(value, list):
        return [_mutate(draw, v) for v in value]
    if roll == 1 and isinstance(value, str):
        return value[: draw(st.integers(0, len(value)))]
    return value


@st.composite
def mutated_json_line(draw: Any, golden: list[bytes]) -> bytes:
    base = draw(st.sampled_from(golden))
    try:
        obj = orjson.loads(base)
    except orjson.JSONDecodeError:
        return base
    return orjson.dumps(_mutate(draw, obj), option=orjson.OPT_NON_STR_KEYS)


@st.composite
def mutated_text_line(draw: Any, golden: list[bytes]) -> bytes:
    line = draw(st.sampled_from(golden)).decode("utf-8", "replace")
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(line)))
        j = draw(st.integers(i, min(len(line), i + 12)))
        op = draw(st.sampled_from(["cut", "insert", "double"]))
        if op == "cut":
            line = line[:i] + line[j:]
        elif op == "insert":
            line = line[:i] + draw(text) + line[j:]
        else:
            line = line[:j] + line[i:j] + line[j:]
    return line.replace("\r", " ").replace("\n", " ").encode("utf-8")


def _adapter(fmt: str) -> Any:
    mapping = MAPPING if fmt == "csv" else None
    return create(fmt, AdapterConfig(tz=ZoneInfo("Europe/London"), mapping=mapping))


def _check(fmt: str, lines: list[bytes]) -> None:
    adapter = _adapter(fmt)
    header = b""
    if fmt == "csv":
        header = (DATA / "csv" / "audit_trail.csv").read_bytes().splitlines()[0] + b"\n"
    body = b"\n".join(line.replace(b"\r", b" ").replace(b"\n", b" ") for line in lines) + b"\n"
    items = list(adapter.convert(io.BufferedReader(io.BytesIO(header + body)), "fuzz"))
    for item in items:
        if isinstance(item, Converted):
            event = decode_event(item.json)
            assert event.kind == item.event.kind
        else:
            assert isinstance(item, Reject)
            assert REASON.match(item.reason), item.reason
            assert isinstance(item.original, str)
    numbers = [item.line for item in items]
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)
    if fmt == "csv":
        return  # quoted cells may join lines: one record per CSV record, checked above
    if fmt == "evtx":
        return  # a binary file: records are numbered by their place in it (test_evtx)
    if isinstance(adapter, JsonAdapter) and body.lstrip().startswith(b"["):
        return  # read as one JSON array: its elements are numbered instead
    expected = [n for n, line in enumerate(body.split(b"\n")[:-1], start=1) if line.strip()]
    assert numbers == expected, "every non-blank line is an event or a reject, once"


FORMATS = sorted(registered())


@pytest.mark.parametrize("fmt", FORMATS)
@FUZZ
@given(lines=st.lists(st.binary(max_size=80), max_size=5))
def test_random_bytes(fmt: str, lines: list[bytes]) -> None:
    _check(fmt, lines)


@pytest.mark.parametrize("fmt", FORMATS)
@FUZZ
@given(data=st.data())
def test_mutated_golden_inputs(fmt: str, data: st.DataObject) -> None:
    golden = _golden_lines(fmt)
    if fmt == "csv":
        golden = [g for g in golden if not g.startswith((b"AuditRef", b"when;"))]
    json_format = isinstance(_adapter(fmt), JsonAdapter)
    line = mutated_json_line(golden) if json_format else mutated_text_line(golden)
    _check(fmt, data.draw(st.lists(line | st.sampled_from(golden), min_size=1, max_size=6)))


@FUZZ
@given(items=st.lists(json_values, max_size=5))
def test_json_arrays(items: list[Any]) -> None:
    """A file that is one JSON array: each element is one record, numbered from 1."""
    for fmt in FORMATS:
        adapter = _adapter(fmt)
        if not isinstance(adapter, JsonAdapter):
            continue
        data = orjson.dumps(items)
        out = list(adapter.convert(io.BufferedReader(io.BytesIO(data)), "fuzz"))
        assert [i.line for i in out] == list(range(1, len(items) + 1))


def test_golden_line_source_exists() -> None:
    for fmt in FORMATS:
        assert _golden_lines(fmt), fmt
        assert isinstance(DATA / fmt, Path)
