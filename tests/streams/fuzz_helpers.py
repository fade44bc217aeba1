"""Hypothesis strategies for bad input (malformed JSON, wrong types, huge strings, deep
nesting, control characters, invalid UTF-8, boundary timestamps), shared by the worker's
and ingest's fuzz tests, and a reproducible way to draw examples from them."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

VIEW = {
    "id": "fz-1", "time": "2026-03-02T09:00:00Z", "source": "athena", "kind": "record.view",
    "actor": "S-FZ", "record": {"type": "person", "id": "P-FUZZ"}, "subjects": ["P-FUZZ"],
}  # fmt: skip
UPSERT = {
    "id": "fz-w1", "time": "2026-03-01T06:00:00Z", "source": "intel", "kind": "watchlist.upsert",
    "attrs": {"list": "canary", "person": "P-FUZZ"},
}  # fmt: skip
BASES = st.sampled_from([VIEW, UPSERT])
FIELDS = ["id", "time", "source", "kind", "actor", "record", "subjects", "attrs"]
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=10,
)  # fmt: skip
BAD_UTF8 = [b"\xff", b"\xfe\xfe", b"\xc3\x28", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80", b"\x80"]
BOUNDARY_TIMES = [
    "0001-01-01T00:00:00Z", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59.999999Z",
    "9999-12-31T23:59:59-12:00", "10000-01-01T00:00:00Z", "0000-12-31T00:00:00Z",
    "1970-01-01T00:00:00Z", "1969-12-31T23:59:59Z", "2026-06-30T23:59:60Z",
    "2026-02-30T00:00:00Z", "2026-03-02T09:00:00", "2026-03-02", "", "T", "nan", "1e308",
    "2026-03-02T24:00:00Z", "2026-03-02T09:00:00+25:00",
]  # fmt: skip


def dumps(obj: object) -> bytes:
    return json.dumps(obj, ensure_ascii=False).encode()


def _with(base: dict, field: str, value: object) -> dict:
    return {**base, field: value}


malformed = st.one_of(
    st.binary(max_size=300),
    st.builds(lambda b, n: dumps(b)[: n % len(dumps(b))], BASES, st.integers(0, 10_000)),
    st.builds(lambda b, junk: dumps(b) + junk, BASES, st.binary(min_size=1, max_size=20)),
    JSON_VALUES.map(dumps),  # JSON, but not an event
)
wrong_types = st.builds(_with, BASES, st.sampled_from(FIELDS), JSON_VALUES).map(dumps)
huge_strings = st.builds(
    lambda b, f, ch, n: dumps(_with(b, f, ch * n)),
    BASES, st.sampled_from(["id", "actor", "source", "kind", "subjects", "attrs"]),
    st.characters(codec="utf-8"), st.integers(10_000, 600_000),
)  # fmt: skip
deep_nesting = st.one_of(
    st.integers(2, 200_000).map(lambda d: b"[" * d + b"]" * d),
    st.integers(2, 200_000).map(lambda d: b'{"a":' * d + b"1" + b"}" * d),
    st.builds(
        lambda b, d: dumps(b).replace(b'"P-FUZZ"', b"[" * d + b'"P-FUZZ"' + b"]" * d, 1),
        BASES, st.integers(1, 5_000),
    ),
)  # fmt: skip
control_chars = st.builds(
    lambda b, f, s, raw: (
        dumps(_with(b, f, "\x00PLACE"))
        .replace(b"\\u0000PLACE", s.encode() if raw else json.dumps(s)[1:-1].encode())
    ),
    BASES, st.sampled_from(["id", "actor", "source", "kind", "time"]),
    st.text(st.characters(max_codepoint=0x1F), min_size=1, max_size=10), st.booleans(),
)  # fmt: skip
invalid_utf8 = st.builds(
    lambda b, at, junk: (lambda raw: raw[: at % len(raw)] + junk + raw[at % len(raw) :])(dumps(b)),
    BASES, st.integers(0, 1_000), st.sampled_from(BAD_UTF8),
)  # fmt: skip
OFFSETS = [timezone(timedelta(hours=h)) for h in (-12, -5, 0, 5, 14)]
boundary_times = st.builds(
    lambda b, t: dumps(_with(b, "time", t)),
    BASES,
    st.sampled_from(BOUNDARY_TIMES)
    | st.datetimes(timezones=st.none() | st.sampled_from(OFFSETS)).map(datetime.isoformat)
    | st.integers(-(2**63), 2**63),
)
PAYLOADS = st.one_of(
    malformed, wrong_types, huge_strings, deep_nesting, control_chars, invalid_utf8,
    boundary_times,
)  # fmt: skip


def generate(strategy: st.SearchStrategy[bytes], n: int) -> list[bytes]:
    """``n`` examples, up front and reproducibly (a fixed seed, no example database)."""
    out: list[bytes] = []

    @settings(
        max_examples=n, database=None, derandomize=True, deadline=None,
        phases=[Phase.generate], suppress_health_check=list(HealthCheck),
    )  # fmt: skip
    @given(strategy)
    def gather(x: bytes) -> None:
        out.append(x)

    gather()
    return out
