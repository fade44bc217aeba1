"""The alert builder's evidence digests: what they carry, what they never carry, and what an
alert says when an evidence event is no longer held."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest

from detectors.registry import build
from engine.alerts import EvidenceBook, build_alert, digest
from engine.pipeline import Pipeline
from models.alerts import Alert, Finding
from models.events import Event, decode_event

T = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _raw(**fields: object) -> bytes:
    base = {
        "id": "e1", "time": "2026-03-02T09:00:00Z", "source": "athena", "kind": "record.view",
        "actor": "S1001", "record": {"type": "crime", "id": "CR-1"},
    }  # fmt: skip
    return orjson.dumps({**base, **fields})


def _event(**fields: object) -> Event:
    return decode_event(_raw(**fields))


def _finding(evidence: list[str]) -> Finding:
    return Finding(detector="access.canary", category="misuse_of_systems", officer="S1001",
                   time=T, severity="high", score=80, title="t", explanation="x",
                   evidence=evidence)  # fmt: skip


def test_a_digest_keeps_the_envelope_and_structured_attributes_only():
    view = _event(
        record={"type": "person", "id": "P-1"},
        subjects=["P-1"],
        purpose="INC-7",
        terminal="WS-12",
        attrs={"fields": ["contact_details"]},
    )
    d = digest(view)
    assert (d.source, d.kind, d.actor, d.record_type, d.record_id) == (
        "athena",
        "record.view",
        "S1001",
        "person",
        "P-1",
    )
    assert (d.purpose, d.terminal, d.subjects) == ("INC-7", "WS-12", ["P-1"])
    assert d.attrs == {"fields": ["contact_details"]}
    msg = _event(
        id="m1",
        kind="message.sent",
        attrs={
            "channel": "whatsapp",
            "to": ["+447700900001", "+447700900002"],
            "text": "meet at the usual place",
            "subject": "secret",
        },
    )
    assert digest(msg).attrs == {"channel": "whatsapp", "recipients": 2}
    search = _event(id="s1", kind="record.search", attrs={"query": "smith john", "results": 3})
    assert digest(search).attrs == {"results": 3}
    stop = _event(
        id="x1", kind="stop_search.recorded", attrs={"grounds": "smelt cannabis", "bwv": False}
    )
    assert digest(stop).attrs == {"bwv": False}


def test_the_builder_digests_held_events_in_time_order_and_names_the_rest():
    book = EvidenceBook(size=2)
    for i, minute in ((1, 30), (2, 10), (3, 20)):
        book.note(_event(id=f"e{i}", time=f"2026-03-02T09:{minute}:00Z"))
    alert = build_alert(_finding(["e1", "e2", "e3"]), evidence=book.get)
    assert [d.id for d in alert.evidence_events or []] == ["e2", "e3"]  # e1 fell out; by time
    assert alert.evidence_missing == ["e1"]
    data = alert.to_json()
    assert Alert.model_validate(data) == alert  # round trip
    assert data["evidence_events"][0]["time"] == "2026-03-02T09:10:00Z"


def test_without_a_book_the_alert_is_exactly_as_before():
    data = build_alert(_finding(["e1"]), clock=lambda: T).to_json()
    assert "evidence_events" not in data and "evidence_missing" not in data
    assert list(data)[:2] == ["id", "version"]


def test_the_pipelines_alerts_carry_their_evidence(contract_examples):
    lines = (contract_examples / "valid.jsonl").read_bytes().splitlines()
    alerts = Pipeline(build()).run(decode_event(line) for line in lines)
    canary = next(a for a in alerts if a.detector == "access.canary")
    assert [d.id for d in canary.evidence_events or []] == canary.evidence
    assert canary.evidence_events and canary.evidence_events[0].actor == "S1001"
    assert not canary.evidence_missing


def test_every_alert_carries_the_officers_unit_and_its_sensitive_people(event_factory):
    """Who watches the ACU: the unit comes from staff reference data, not from the detector,
    so an alert about an ACU member is known as one whichever detector raised it."""
    from detectors.registry import build
    from engine.pipeline import Pipeline

    staff = event_factory("staff.upsert", id="hr-1", time="2026-03-01T00:00:00Z",
                          attrs={"staff_id": "S7", "unit": "acu", "role": "intel"})  # fmt: skip
    canary = event_factory("watchlist.upsert", id="w-1", time="2026-03-01T00:00:00Z",
                           attrs={"list": "canary", "person": "P-1"})  # fmt: skip
    view = event_factory("record.view", id="v-1", time="2026-03-01T05:00:00Z", actor="S7",
                         record={"type": "person", "id": "P-1"}, subjects=["P-1"])  # fmt: skip
    [alert] = [a for a in Pipeline(build()).run([staff, canary, view])
               if a.detector == "access.canary"]  # fmt: skip
    assert alert.officer_unit == "acu" and alert.sensitive_subjects == ["P-1"]
    data = alert.to_json()
    assert data["officer_unit"] == "acu" and data["sensitive_subjects"] == ["P-1"]
    # without staff data the field is absent (additive: older readers see no change)
    [bare] = [a for a in Pipeline(build()).run([canary, view]) if a.detector == "access.canary"]
    assert "officer_unit" not in bare.to_json()


@pytest.mark.parametrize("given", ["none", "all", "some"])
def test_the_book_holds_the_latest_notes_and_digests_them_as_the_events_do(given: str):
    """Sealed blocks (compressed bytes as the worker hands them, or compressed JSON of the
    held tuples offline, or both in one block) give the digests the events' own tuples give,
    and hold exactly the latest ``size`` notes: a redelivered event is held again at the end
    and read from its newest note; older ones are missing."""
    from engine.alerts import digest_of
    from simulation.generator import Force

    raws = [orjson.dumps(e) for e in Force(staff=30, days=7, seed=1, it=True).events()]
    extra = [
        _raw(id="d1", kind="vetting.changed", attrs={"staff_id": "S1", "expires": "2027-01-31"}),
        _raw(id="d2", time="2026-03-02T09:00:00.123456+01:00", attrs={"case": "C-1"}),
    ]
    stream = raws[:300] + extra + raws[:40] + raws[300:]  # redeliveries of sealed ones
    book, notes = EvidenceBook(size=500, block=16), list[str]()
    by_id = {}
    for i, raw in enumerate(stream):
        event = decode_event(raw)
        by_id[event.id] = event
        if given == "all" or (given == "some" and i >= len(stream) - 250):  # half the book
            book.note(event, raw)
        else:
            book.note(event)
        notes.append(event.id)
    latest = notes[-500:]
    assert len(book) == 500
    assert book.held_ids() == list(reversed(dict.fromkeys(reversed(latest))))
    # what the sealed blocks hold: the held tuples' JSON (a list), the events' bytes, or both
    holds = {frozenset(part[:1] == b"[" for part in block.opened()) for block in book._sealed}
    rows, raw_bytes, both = frozenset({True}), frozenset({False}), frozenset({True, False})
    expected = {"none": {rows}, "all": {raw_bytes}, "some": {rows, raw_bytes, both}}
    assert holds == expected[given]
    for eid in by_id:
        entry = book.get(eid)
        assert (entry is None) == (eid not in latest)
        if entry is not None:
            ours, theirs = digest_of(entry), digest(by_id[eid])
            assert ours == theirs and ours.model_dump_json() == theirs.model_dump_json()
    assert len(book._sealed) <= 500 // 16 + 1  # blocks whose notes all went are freed


@pytest.mark.parametrize("given", [False, True])
def test_an_event_noted_again_is_read_from_its_newest_note(given: bool):
    from engine.alerts import digest_of

    def raw(i: int, case: str) -> bytes:
        return _raw(id=f"e{i}", time=f"2026-03-02T09:{i % 60:02d}:00Z", attrs={"case": case})

    book = EvidenceBook(size=64, block=16)
    for i in range(40):
        first = raw(i, "old")
        book.note(decode_event(first), first if given else None)
    again = raw(3, "new")  # block 0 is sealed: held twice, the newest read
    book.note(decode_event(again), again if given else None)
    assert len(book) == 41 and book.held_ids()[-1] == "e3" and len(book.held_ids()) == 40
    assert digest_of(book.get("e3")).attrs == {"case": "new"}  # type: ignore[arg-type]
    last = raw(40, "x")
    book.note(decode_event(last), last if given else None)
    book.note(decode_event(last), last if given else None)  # while open: moved, not twice
    assert len(book) == 42
    for i in range(41, 64 + 3):  # the oldest notes go, e3's first one among them
        r = raw(i, "x")
        book.note(decode_event(r), r if given else None)
    assert book.get("e2") is None and book.get("e4") is not None
    assert digest_of(book.get("e3")).attrs == {"case": "new"}  # type: ignore[arg-type]


def test_an_id_whose_hash_another_has_is_told_apart():
    from engine.alerts import _key

    book = EvidenceBook(size=64, block=4)
    for i in range(12):
        book.note(_event(id=f"e{i}"))
    first, second = book._sealed[0], book._sealed[1]
    first.keys = _key("e9") * 2 + first.keys[16:]  # as if e0 and e1 shared e9's hash
    assert list(first.places(_key("e9"), 0)) == [1, 0]
    assert book.get("e9") is not None and book.get("e9")[0] == "e9"  # type: ignore[index]
    assert book.get("e0") is None  # its hash no longer points to it
    # the hash's bytes across two entries' (4 of one, 4 of the next) are not a match
    second.keys = b"\0" * 4 + _key("e1") + b"\0" * 4 + second.keys[16:]
    assert list(second.places(_key("e1"), 0)) == []


def test_a_value_orjson_cannot_write_is_held_as_it_was():
    from engine.alerts import digest_of
    from models.events import decode_obj

    base = orjson.loads(_raw())
    huge = decode_obj({**base, "id": "big", "attrs": {"count": 2**70}})
    book = EvidenceBook(size=64, block=4)
    for event in [huge, *(_event(id=f"e{i}") for i in range(8))]:
        book.note(event)
    assert book._sealed[0].odd is not None
    assert digest_of(book.get("big")) == digest(huge)  # type: ignore[arg-type]
    assert digest_of(book.get("big")).attrs["count"] == 2**70  # type: ignore[arg-type]
