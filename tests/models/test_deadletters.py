"""Dead letters: the record on the dead-letter topic keeps its wire form (the JSON the
operators' tools read), carries any bytes back exactly, and stays sendable."""

from __future__ import annotations

import doctest
from datetime import UTC, datetime

import orjson
from hypothesis import given
from hypothesis import strategies as st

import models.deadletters
from models.deadletters import (
    MAX_EVENT_ID,
    MAX_ORIGINAL,
    MAX_REASON,
    DeadLetter,
    Origin,
    load_dead_letter,
)

T = datetime(2026, 3, 2, 9, 0, 1, 250000, tzinfo=UTC)


def test_doctests() -> None:
    result = doctest.testmod(models.deadletters)
    assert result.attempted and not result.failed


def test_the_wire_form_is_unchanged() -> None:
    """Field names, order, the time's form and empty fields left out: as ingest, the worker
    and the sink have always written it."""
    kafka = DeadLetter(reason="attrs.count: Input should be a valid integer", original="e30=",
                       origin=Origin(topic="probity.events.activity", partition=2, offset=41),
                       event_id="e-1", dead_lettered_at=T)  # fmt: skip
    assert kafka.dumps() == (
        b'{"reason":"attrs.count: Input should be a valid integer","original":"e30=",'
        b'"origin":{"topic":"probity.events.activity","partition":2,"offset":41},'
        b'"event_id":"e-1","dead_lettered_at":"2026-03-02T09:00:01.250000Z"}'
    )
    assert kafka.key() == b"e-1"
    line = DeadLetter(reason="not valid JSON", original="ew==", dead_lettered_at=T,
                      origin=Origin(file="feed.jsonl", line=7), original_size=600000)  # fmt: skip
    assert orjson.loads(line.dumps()) == {
        "reason": "not valid JSON", "original": "ew==",
        "origin": {"file": "feed.jsonl", "line": 7},
        "dead_lettered_at": "2026-03-02T09:00:01.250000Z", "original_size": 600000,
    }  # fmt: skip
    assert line.key() is None


@given(raw=st.binary(max_size=2048), reason=st.text(max_size=700),
       event_id=st.none() | st.text(max_size=200))  # fmt: skip
def test_any_bytes_round_trip(raw: bytes, reason: str, event_id: str | None) -> None:
    dl = DeadLetter.of(raw, reason, Origin(topic="t", partition=0, offset=3), event_id)
    back = load_dead_letter(dl.dumps())
    assert back == dl
    assert back.original_bytes == raw and back.original_size is None
    assert back.reason == reason[:MAX_REASON]
    assert back.event_id == (event_id[:MAX_EVENT_ID] if event_id is not None else None)
    assert back.dead_lettered_at.tzinfo is not None


def test_an_oversized_record_keeps_its_prefix_and_size() -> None:
    raw = b"x" * (MAX_ORIGINAL + 10)
    dl = load_dead_letter(DeadLetter.of(raw, "too large", Origin(file="f", line=1)).dumps())
    assert dl.original_bytes == raw[:MAX_ORIGINAL] and dl.original_size == len(raw)
    assert len(dl.dumps()) < 1_000_000  # under Kafka's default message limit
