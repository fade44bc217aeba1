"""The csv adapter's time rules at the Europe/London clock changes (zoneinfo), beyond the
golden files: every minute of both change days either converts to the right UTC instant
or is rejected for the right reason."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from adapters import AdapterConfig, Converted, Reject, create

LONDON = ZoneInfo("Europe/London")


def _mapping(tmp_path: Path, ambiguous: str) -> Path:
    path = tmp_path / "m.toml"
    path.write_text(
        'source = "rms"\nactor = "who"\n'
        f'[time]\ncolumn = "when"\nformat = "%Y-%m-%d %H:%M"\ntimezone = "Europe/London"\n'
        f'ambiguous = "{ambiguous}"\n'
        '[kind]\ncolumn = "what"\nvalues = { in = "auth.login" }\n'
    )
    return path


def _convert(mapping: Path, times: list[str]) -> list[Converted | Reject]:
    adapter = create("csv", AdapterConfig(mapping=mapping))
    body = "when,who,what\n" + "".join(f"{t},S1,in\n" for t in times)
    return list(adapter.convert(io.BufferedReader(io.BytesIO(body.encode())), "t.csv"))


def _minutes(day: str) -> list[str]:
    start = datetime.fromisoformat(day)
    return [(start + timedelta(minutes=m)).strftime("%Y-%m-%d %H:%M") for m in range(0, 240, 5)]


@pytest.mark.parametrize("ambiguous", ["earlier", "later", "reject"])
def test_clocks_go_back_the_repeated_hour(tmp_path, ambiguous):
    out = _convert(_mapping(tmp_path, ambiguous), _minutes("2026-10-25 00:00"))
    for wall, item in zip(_minutes("2026-10-25 00:00"), out, strict=True):
        repeated = wall.startswith("2026-10-25 01:")
        if repeated and ambiguous == "reject":
            assert isinstance(item, Reject) and "happened twice" in item.reason
            assert item.reason.startswith("when: ")
            continue
        assert isinstance(item, Converted), item
        fold = 1 if repeated and ambiguous == "later" else 0
        expected = datetime.fromisoformat(wall).replace(tzinfo=LONDON, fold=fold).astimezone(UTC)
        assert item.event.time == expected
        assert (item.event.attrs.model_extra or {}).get("time_ambiguous", False) is repeated


def test_clocks_go_forward_the_skipped_hour_is_rejected(tmp_path):
    walls = _minutes("2026-03-29 00:00")
    out = _convert(_mapping(tmp_path, "earlier"), walls)
    for wall, item in zip(walls, out, strict=True):
        if wall.startswith("2026-03-29 01:"):
            assert isinstance(item, Reject) and "does not exist in Europe/London" in item.reason
        else:
            assert isinstance(item, Converted)
            offset = 0 if wall < "2026-03-29 01:00" else 1
            naive = datetime.fromisoformat(wall)
            assert item.event.time == (naive - timedelta(hours=offset)).replace(tzinfo=UTC)


def test_the_callers_stream_stays_open(tmp_path):
    """The adapter wraps the byte stream in text; the wrapper must not close it (stdin)."""
    stream = io.BufferedReader(io.BytesIO(b"when,who,what\n2026-03-02 09:00,S1,in\n"))
    out = list(create("csv", AdapterConfig(mapping=_mapping(tmp_path, "earlier"))).convert(
        stream, "stdin"))  # fmt: skip
    assert len(out) == 1 and isinstance(out[0], Converted)
    assert not stream.closed
