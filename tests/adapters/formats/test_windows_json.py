"""windows-json's time rule on the real NXLog recording: ``EventTime`` is the shipping
host's local time without an offset, read in ``--tz``; with the host's zone the event times
agree with Logstash's ``@timestamp`` (UTC, written on arrival) to within the shipping delay,
and with the default (UTC) they would be four hours out."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import orjson
import pytest

from adapters import AdapterConfig, Converted, create
from tests.adapters.conftest import SAMPLES

ZIP = SAMPLES / "windows-json" / "covenant_sharpsc_start_dcerpc_smb_svcctl.zip"


def _convert(tz: str) -> list[tuple[Converted, datetime]]:
    if not ZIP.exists():
        pytest.fail(f"shared sample missing: {ZIP}")
    with zipfile.ZipFile(ZIP) as zf:
        data = zf.read(zf.namelist()[0])
    lines = data.splitlines()
    adapter = create("windows-json", AdapterConfig(tz=ZoneInfo(tz)))
    out = []
    for item in adapter.convert(io.BufferedReader(io.BytesIO(data)), ZIP.name):
        if isinstance(item, Converted):
            stamp = orjson.loads(lines[item.line - 1])["@timestamp"]
            out.append((item, datetime.fromisoformat(stamp.replace("Z", "+00:00"))))
    return out


def test_event_time_in_the_hosts_zone_agrees_with_logstash_arrival_time():
    events = _convert("America/New_York")
    assert len(events) == 414
    for item, arrived in events:
        assert timedelta(0) <= arrived - item.event.time < timedelta(seconds=10)


def test_event_time_read_as_utc_is_four_hours_out():
    item, arrived = _convert("UTC")[0]
    assert arrived - item.event.time == timedelta(hours=4, seconds=1, microseconds=540000)
