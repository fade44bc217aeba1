"""``evtx``: a real ``.evtx`` file read with the ``evtx`` extra into the Windows event table
that ``windows-json`` and ``ecs`` use (the golden files hold what it gives: test_golden);
here, that it is the same table (a record flattened as NXLog would ship it gives the same
event), and what a file that is not an EVTX file or an install without the extra gives."""

from __future__ import annotations

import io
import subprocess
import sys

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters import Converted, Reject, create
from adapters.exceptions import ConfigError
from tests.adapters.conftest import DATA, ROOT

SAMPLE = DATA / "evtx" / "Security_short_selected.evtx"


def _convert(data: bytes) -> list[Converted | Reject]:
    return list(create("evtx").convert(io.BufferedReader(io.BytesIO(data)), "t.evtx"))


def test_a_record_and_its_nxlog_flattening_give_the_same_event():
    (event,) = [o for o in _convert(SAMPLE.read_bytes()) if isinstance(o, Converted)]
    (raw,) = [r for n, r in create("evtx").records(io.BytesIO(SAMPLE.read_bytes())) if n == 4]
    system = orjson.loads(raw)["Event"]["System"]
    flat = {
        **orjson.loads(raw)["Event"]["EventData"],
        "EventID": system["EventID"], "Channel": system["Channel"],
        "Hostname": system["Computer"], "RecordNumber": system["EventRecordID"],
        "TimeCreated": system["TimeCreated"]["#attributes"]["SystemTime"],
    }  # fmt: skip
    (nxlog,) = _convert_as("windows-json", orjson.dumps(flat))
    assert isinstance(nxlog, Converted)
    assert orjson.loads(nxlog.json) == orjson.loads(event.json)
    assert event.event.kind == "auth.failed" and event.line == 4


def _convert_as(fmt: str, line: bytes) -> list[Converted | Reject]:
    return list(create(fmt).convert(io.BufferedReader(io.BytesIO(line + b"\n")), "t"))


def test_a_file_that_is_not_evtx_is_one_reject_naming_it():
    (reject,) = _convert(b"EventID,Channel\n4624,Security\n")
    assert isinstance(reject, Reject) and reject.line == 1
    assert reject.reason.startswith("record: not an EVTX file")


def test_stdin_is_read_whole_when_it_cannot_seek():
    out = subprocess.run(
        [sys.executable, "-m", "probity", "convert", "--format", "evtx", "-"],
        input=SAMPLE.read_bytes(), capture_output=True, cwd=ROOT, check=True, timeout=120,
    )  # fmt: skip
    (line,) = out.stdout.splitlines()
    assert orjson.loads(line)["id"] == "win:temporal:security:319457832"


def test_without_the_extra_the_format_says_how_to_get_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "evtx", None)  # import evtx -> ImportError
    with pytest.raises(ConfigError, match=r"pip install 'probity\[evtx\]'"):
        create("evtx")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_damaged_file_never_raises_and_every_record_is_an_event_or_a_reject(data):
    """The real file with bytes overwritten and cut short: records numbered in order, each
    an event that decodes or a reject naming its field."""
    from models.events import decode_event

    raw = bytearray(SAMPLE.read_bytes())
    for _ in range(data.draw(st.integers(0, 8))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    out = _convert(bytes(raw[: data.draw(st.integers(0, len(raw)))]))
    numbers = [o.line for o in out]
    assert numbers == sorted(set(numbers))
    for o in out:
        if isinstance(o, Converted):
            assert decode_event(o.json).kind == o.event.kind
        else:
            field, sep, why = o.reason.partition(": ")
            assert sep and field and why, o.reason
