"""The event contract: every example line judged as the contract says, and bad bytes never
raise anything but the project's decode error."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.events import ACTIVITY_KINDS, REFERENCE_KINDS, Event, decode_event
from models.exceptions import DecodeError

# the field each invalid example must be blamed on (contract/examples/invalid.md)
INVALID_REASONS = {
    1: "not valid JSON",
    2: "id",
    3: "time",
    4: "time",
    5: "actor",
    6: "record",
    7: "attrs.count",
    8: "source",
    9: "id",
    10: "not a JSON object",
    11: "attrs.dob",
    12: "attrs",
}


def test_every_valid_example_is_accepted(contract_examples):
    lines = (contract_examples / "valid.jsonl").read_bytes().splitlines()
    events = [decode_event(line) for line in lines]
    assert len(events) == 30
    assert all(e.time.tzinfo is not None for e in events)


@pytest.mark.parametrize("lineno", sorted(INVALID_REASONS))
def test_every_invalid_example_is_rejected_naming_the_field(contract_examples, lineno):
    line = (contract_examples / "invalid.jsonl").read_bytes().splitlines()[lineno - 1]
    with pytest.raises(DecodeError) as info:
        decode_event(line)
    assert info.value.reason.startswith(INVALID_REASONS[lineno]), info.value.reason


def test_unknown_kinds_are_valid_and_kept(contract_examples):
    line = (contract_examples / "valid.jsonl").read_bytes().splitlines()[-1]
    event = decode_event(line)
    assert event.kind == "door.opened" and not event.is_known
    assert event.attrs.model_dump() == {"door": "HQ-2-EAST"}
    assert json.loads(event.dumps())["attrs"] == {"door": "HQ-2-EAST"}


def test_unknown_attribute_keys_are_kept_but_typed_ones_checked():
    ok = decode_event(
        b'{"id":"e","time":"2026-03-02T09:00:00Z","source":"pnc","kind":"record.search",'
        b'"actor":"S1","record":{"type":"person","id":"P"},"attrs":{"results":3,"extra":"x"}}'
    )
    assert ok.attrs.results == 3 and ok.attrs.model_extra == {"extra": "x"}
    with pytest.raises(DecodeError, match=r"attrs\.results"):
        decode_event(
            b'{"id":"e","time":"2026-03-02T09:00:00Z","source":"pnc","kind":"record.search",'
            b'"actor":"S1","record":{"type":"person","id":"P"},"attrs":{"results":"3"}}'
        )


@pytest.mark.parametrize(
    "time",
    ["2026-03-02T09:00:00", "2026-03-02", "1772442000", "2026-03-02T25:00:00Z", ""],
)
def test_naive_or_malformed_times_are_rejected(time):
    raw = json.dumps(
        {"id": "e", "time": time, "source": "pnc", "kind": "auth.login", "actor": "S1"}
    )
    with pytest.raises(DecodeError, match=r"^time"):
        decode_event(raw.encode())


def test_epoch_numbers_are_not_times():
    with pytest.raises(DecodeError, match=r"^time"):
        decode_event(b'{"id":"e","time":1772442000,"source":"p","kind":"auth.login","actor":"S"}')


def test_offsets_other_than_utc_are_kept():
    e = decode_event(
        b'{"id":"e","time":"2026-03-02T09:00:00+01:00","source":"p","kind":"auth.login","actor":"S"}'
    )
    assert e.time.utcoffset().total_seconds() == 3600


def test_reference_key_and_required_entity_attrs():
    e = decode_event(
        b'{"id":"w","time":"2026-03-01T06:00:00Z","source":"v","kind":"watchlist.upsert",'
        b'"attrs":{"list":"barred","person":null,"name":"Jon Smyth","dob":"1983-07-02"}}'
    )
    assert e.key == "Jon Smyth|1983-07-02"
    with pytest.raises(DecodeError, match=r"attrs\.staff_id"):
        decode_event(
            b'{"id":"s","time":"2026-03-01T06:00:00Z","source":"hr","kind":"staff.upsert",'
            b'"attrs":{"name":"X"}}'
        )


# --- property-based -----------------------------------------------------------------------

ids = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=20)
sources = st.from_regex(r"[a-z0-9_.-]{1,12}", fullmatch=True)
times = st.datetimes(
    timezones=st.sampled_from(
        [
            __import__("datetime").UTC,
            __import__("datetime").timezone(__import__("datetime").timedelta(hours=-5)),
        ]
    )
)


@st.composite
def valid_events(draw):
    kind = draw(st.sampled_from(sorted(ACTIVITY_KINDS | {"door.opened"})))
    obj = {
        "id": draw(ids),
        "time": draw(times).isoformat(),
        "source": draw(sources),
        "kind": kind,
        "actor": draw(ids),
    }
    if kind.startswith("record."):
        obj["record"] = {"type": "person", "id": draw(ids)}
    if draw(st.booleans()):
        obj["subjects"] = draw(st.lists(ids, max_size=3))
    if draw(st.booleans()):
        obj["purpose"] = draw(st.none() | ids)
    return obj


@settings(max_examples=200, deadline=None)
@given(valid_events())
def test_round_trip_of_valid_events(obj):
    event = decode_event(json.dumps(obj).encode())
    again = decode_event(event.dumps())
    assert again == event
    assert again.model_dump() == event.model_dump()


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_only_ever_raise_decode_error(raw):
    try:
        decode_event(raw)
    except DecodeError as exc:
        assert exc.reason


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(
    st.fixed_dictionaries(
        {},
        optional={
            "id": json_values,
            "time": json_values,
            "source": json_values,
            "kind": st.sampled_from(sorted(ACTIVITY_KINDS | REFERENCE_KINDS)) | json_values,
            "actor": json_values,
            "record": json_values,
            "attrs": json_values,
            "subjects": json_values,
        },
    )
)
def test_wrong_types_anywhere_only_ever_raise_decode_error(obj):
    try:
        event = decode_event(json.dumps(obj).encode())
    except DecodeError as exc:
        assert exc.reason
    else:
        assert isinstance(event, Event)


def test_each_kind_decodes_in_one_pass_to_its_attrs_model():
    """Decoding picks a per-kind model (attrs validated with the event, no chooser called);
    what comes out is an Event with the kind's attrs, as the base model would give."""
    from models.events import ACTIVITY_ATTRS, EVENT_BY_KIND, REFERENCE_ATTRS, decode_obj

    base = {"id": "e1", "time": "2026-03-02T09:15:02Z", "source": "pnc", "actor": "S1",
            "record": {"type": "person", "id": "P-1"}}  # fmt: skip
    for kind, model in {**ACTIVITY_ATTRS, **REFERENCE_ATTRS}.items():
        if kind in REFERENCE_KINDS:
            continue  # their attrs have required keys, covered by the examples
        e = decode_obj({**base, "kind": kind, "attrs": None})
        assert isinstance(e, Event) and type(e) is EVENT_BY_KIND[kind]
        assert type(e.attrs) is model
        assert e == decode_obj({**base, "kind": kind})
        assert e == decode_obj({**base, "kind": kind, "attrs": {}})
    with pytest.raises(DecodeError, match="attrs: attrs must be an object"):
        decode_event(json.dumps({**base, "kind": "record.view", "attrs": [1]}))
    with pytest.raises(ValueError, match="attrs must be an object"):
        Event.model_validate({**base, "kind": "record.view", "attrs": [1]})


def test_a_reference_event_without_attrs_lacks_its_entity_key():
    """The contract requires the entity's key: no attrs at all is no key (the base model used
    to default them to an empty object, which reference state could not take)."""
    obj = {"id": "e1", "time": "2026-03-02T09:15:02Z", "source": "hr", "kind": "staff.upsert"}
    with pytest.raises(DecodeError, match="staff_id: Field required"):
        decode_event(json.dumps(obj))
