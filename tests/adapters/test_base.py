"""The adapter contract's helpers: record splitting, ids, field access, rejects."""

from __future__ import annotations

import io

import orjson

from adapters import create
from adapters.base import content_id, dig, text


def _lines(fmt: str, data: bytes) -> list[tuple[int, str]]:
    out = create(fmt).convert(io.BufferedReader(io.BytesIO(data)), "f")
    return [(item.line, getattr(item, "reason", "event")) for item in out]


def test_a_json_array_file_is_read_record_by_record():
    data = orjson.dumps([{"Operation": "Nope"}, {"Operation": "Nope2"}], option=orjson.OPT_INDENT_2)
    assert [n for n, _ in _lines("m365", b"\n  " + data)] == [1, 2]


def test_jsonl_whose_first_line_is_an_array_is_still_read_line_by_line():
    got = _lines("m365", b'[1, 2]\n\n{"Operation": "Nope"}\n')
    assert got == [(1, "line: not a JSON object (got list)"),
                   (3, "Operation: Nope (None) is not mapped")]  # fmt: skip


def test_content_ids_are_stable_and_distinct():
    assert content_id("win", b"a") == content_id("win", b"a") != content_id("win", b"b")
    assert content_id("win", b"a").startswith("win-") and len(content_id("win", b"a")) == 28


def test_dig_reads_nested_flat_dotted_and_list_paths():
    obj = {"event.code": "1", "winlog": {"event_data": {"X": "y"}}, "w": [{"n": "first"}]}
    assert dig(obj, "event.code") == "1"
    assert dig(obj, "winlog.event_data.X") == "y"
    assert dig(obj, "w.0.n") == "first" and dig(obj, "w.5.n") is None
    assert dig(obj, "winlog.event_data.X.deeper") is None


def test_text_treats_windows_placeholders_as_absent():
    assert [text(v) for v in ("-", " ", "", None, {}, [], " a ", 3, True)] == [
        None, None, None, None, None, None, "a", "3", "true"]  # fmt: skip


def test_reject_json_carries_file_line_reason_and_original():
    (item,) = create("ocsf").convert(io.BufferedReader(io.BytesIO(b"{oops\n")), "in.json")
    assert orjson.loads(item.dumps()) == {  # type: ignore[union-attr]
        "file": "in.json", "line": 1, "original": "{oops",
        "reason": item.reason,  # type: ignore[union-attr]
    }  # fmt: skip
    assert item.raw == b"{oops"  # type: ignore[union-attr]
