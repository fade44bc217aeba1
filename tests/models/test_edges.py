"""Edge records: what the workers send the graph agent round-trips, and bad bytes on the
edges topic are a decode error naming the field (for the dead letters), never a crash."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.edges import Crossing, EdgeRecord, Watched, decode_edge
from models.events import Event
from models.exceptions import DecodeError

T = datetime(2026, 3, 2, 9, tzinfo=UTC)


def test_a_record_round_trips(event_factory: Callable[..., Event]) -> None:
    look = event_factory("record.view", id="v3", actor="S1",
                         record={"type": "person", "id": "P-N"}, subjects=["P-N"])
    record = EdgeRecord(
        event=look,
        lookups=[Watched(person="P-N", key="OCG-A")],
        looked_up=[Crossing(person="P-N", evidence=[(T, "v1"), (T, "v3")], opened=T)],
    )
    back = decode_edge(record.dumps())
    assert back == record
    assert (back.id, back.key) == ("v3", b"S1")


def test_a_reference_record_keeps_its_attrs(event_factory: Callable[..., Event]) -> None:
    staff = event_factory("staff.upsert", id="hr-1", source="hr",
                          attrs={"staff_id": "S1", "addresses": ["1 High St"]})
    back = decode_edge(EdgeRecord(event=staff).dumps())
    assert back.event.attrs == staff.attrs and back.key == b"S1"


@pytest.mark.parametrize(
    ("raw", "blamed"),
    [
        (b"{", "not valid JSON"),
        (b"[1]", "not a JSON object"),
        (b'{"lookups": []}', "event"),
        (b'{"event": {"id": "c1", "time": "2026-03-02T09:00:00Z", "source": "s",'
         b' "kind": "call.made"}}', "event"),  # no actor
        (b'{"event": {"id": "v1", "time": "2026-03-02T09:00:00Z", "source": "s",'
         b' "kind": "record.view", "actor": "S1", "record": {"type": "person", "id": "P"}},'
         b' "looked_up": [{"person": "P", "evidence": [], "opened": "2026-03-02T09:00:00Z"}]}',
         "looked_up.0.evidence"),
    ],
)
def test_bad_records_are_decode_errors_naming_the_field(raw: bytes, blamed: str) -> None:
    with pytest.raises(DecodeError) as err:
        decode_edge(raw)
    assert err.value.reason.startswith(blamed)


def test_a_bad_record_keeps_its_event_id() -> None:
    raw = orjson.dumps({"event": {"id": "c1", "time": "nope", "source": "s", "kind": "x"}})
    with pytest.raises(DecodeError) as err:
        decode_edge(raw)
    assert err.value.event_id == "c1"


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.binary(max_size=200), st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["event", "lookups", "looked_up", "id", "person", "key"]), inner,
        max_size=4),
    max_leaves=12,
).map(orjson.dumps)))
def test_any_bytes_decode_or_raise_only_decode_error(raw: bytes) -> None:
    try:
        record = decode_edge(raw)
    except DecodeError as exc:
        assert exc.reason  # a reason for the dead letters, never another exception
        return
    assert decode_edge(record.dumps()) == record  # what decodes is a whole, usable record
