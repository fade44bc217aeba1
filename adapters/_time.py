"""Times at the boundary: whatever a source writes becomes RFC 3339 UTC text (``...Z``).

A time with an offset is converted as is. A time without one is read in the zone the
adapter is configured with (``--tz``, a mapping's ``timezone``), through :mod:`zoneinfo`:

* a local time that does not exist (the hour skipped when clocks go forward, e.g.
  01:30 on the last Sunday of March in Europe/London) is refused with a reason;
* a local time that happens twice (the hour repeated when clocks go back, 01:30 on the
  last Sunday of October) is resolved by the ``ambiguous`` policy: ``earlier`` (the first
  occurrence, still on summer time: ``fold=0``), ``later`` (the second, ``fold=1``) or
  ``reject``. The caller is told it was ambiguous, so it can flag the event.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Literal

Ambiguous = Literal["earlier", "later", "reject"]

_FRACTION = re.compile(r"\.(\d+)")
_CANONICAL = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{3})?Z$")


def utc_text(dt: datetime) -> str:
    """An aware datetime as RFC 3339 UTC text, milliseconds kept when present."""
    dt = dt.astimezone(UTC)
    if dt.microsecond:
        return dt.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def _fromiso(text: str) -> datetime:
    # Python takes at most 6 fraction digits; Windows writes 7 (100 ns ticks)
    text = _FRACTION.sub(lambda m: "." + m.group(1)[:6].ljust(3, "0"), text, count=1)
    return datetime.fromisoformat(text)


def localize(
    naive: datetime, zone: tzinfo, ambiguous: Ambiguous = "earlier"
) -> tuple[datetime, bool]:
    """A wall-clock time in ``zone`` as an aware datetime, and whether it was ambiguous.

    Raises ``ValueError`` for a time the zone skipped, or an ambiguous one under ``reject``.
    """
    first = naive.replace(tzinfo=zone, fold=0)
    second = naive.replace(tzinfo=zone, fold=1)
    # a skipped time does not survive the round trip through UTC
    if first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != naive:
        when = naive.isoformat(sep=" ")
        raise ValueError(f"{when} does not exist in {zone} (clocks went forward)")
    if first.utcoffset() == second.utcoffset():
        return first, False
    if ambiguous == "reject":
        raise ValueError(f"{naive.isoformat(sep=' ')} happened twice in {zone} (clocks went back)")
    return (first if ambiguous == "earlier" else second), True


def parse_time(value: object, field: str, zone: tzinfo = UTC) -> str:
    """ISO 8601 text (``T`` or space, any fraction, offset or none) as RFC 3339 UTC text.

    A naive time is read in ``zone``. Raises ``ValueError`` naming nothing: the caller
    blames its field."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"not a time: {value!r}"[:120])
    if _CANONICAL.match(value):  # already what utc_text writes (Elastic's @timestamp)
        return value
    try:
        dt = _fromiso(value.strip())
    except ValueError as exc:
        raise ValueError(f"not an ISO 8601 time: {value!r}"[:120]) from exc
    if dt.tzinfo is None:
        dt, _ = localize(dt, zone)
    return utc_text(dt)


def epoch_ms(value: object) -> str:
    """Milliseconds since the epoch (OCSF ``timestamp_t``, CEF ``rt``) as RFC 3339 UTC text."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"not milliseconds since the epoch: {value!r}"[:120])
    try:
        ms = int(value)
    except ValueError as exc:
        raise ValueError(f"not milliseconds since the epoch: {value!r}"[:120]) from exc
    if not 0 <= ms < 253402300800000:  # before year 10000
        raise ValueError(f"out of range: {ms}")
    return utc_text(datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms))

