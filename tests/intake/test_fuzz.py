"""The intake's parsers fuzzed (hypothesis), Kafka-free: a body of any bytes gives one answer
per record, each an event (valid contract, the token's source) or a reject whose reason names
a field; RFC 6587 framing never raises and never yields more than the limit; the identity
resolver copes with any account text."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.identity import IdentityResolver
from intake.batch import Preparer
from intake.syslog import frames
from models.events import decode_event, decode_obj
from probity.settings import IntakeSettings, Settings

REASON = re.compile(r"^[^:\n]+: .+", re.DOTALL)
FUZZ = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SETTINGS = Settings(intake=IntakeSettings(max_line_bytes=512))
GOOD = orjson.dumps(
    {
        "id": "e1",
        "time": "2026-03-02T09:00:00Z",
        "source": "athena",
        "kind": "auth.login",
        "actor": "S1",
    }
)
lines = st.one_of(
    st.binary(max_size=80),
    st.just(GOOD),
    st.just(GOOD.replace(b"athena", b"pnc")),
    st.just(GOOD.replace(b'"actor":"S1"', b'"actor":7')),
    st.just(b"x" * 600),
)


@FUZZ
@given(st.lists(lines, max_size=8), st.booleans())
def test_every_record_is_answered(body_lines: list[bytes], as_array: bool) -> None:
    body = b"[" + b",".join(body_lines) + b"]" if as_array else b"\n".join(body_lines)
    out = Preparer(SETTINGS, "athena").contract(body)
    assert len({o.line for o in out}) == len(out)  # one answer per record
    for o in out:
        if o.reason is not None:
            assert REASON.match(o.reason), o.reason
            assert o.topic == SETTINGS.topics.dead_letters
        else:
            event = decode_event(o.value)
            assert event.source == "athena" and o.event_id == event.id
            assert o.key == event.key.encode()


@FUZZ
@given(st.binary(max_size=400))
def test_framing_never_raises(data: bytes) -> None:
    async def read() -> list[bytes | int]:
        reader = asyncio.StreamReader(limit=300)
        reader.feed_data(data)
        reader.feed_eof()
        return [f async for f in frames(reader, 100)]

    for frame in asyncio.run(read()):
        assert (isinstance(frame, int) and frame > 100) or len(frame) <= 100  # type: ignore[arg-type]


@FUZZ
@given(st.text(max_size=40), st.text(max_size=40), st.datetimes(timezones=st.just(UTC)))
def test_resolver_any_account(declared: str, asked: str, at: datetime) -> None:
    r = IdentityResolver()
    if declared.strip():
        r.observe(
            decode_obj(
                {
                    "id": "h",
                    "time": "2026-03-01T00:00:00Z",
                    "source": "hr",
                    "kind": "staff.upsert",
                    "attrs": {"staff_id": "S1", "accounts": [{"id": declared}]},
                }
            )
        )
    found = r.resolve(asked, at, "x")
    assert found in (None, "S1")
    if declared.strip() and asked.strip().casefold() == declared.strip().casefold():
        assert found == "S1"
