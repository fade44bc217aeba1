"""Facts of reference data and their versions by event time."""

from __future__ import annotations

import bisect
import sys
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Generic, TypeVar

from models.events import (
    StaffAttrs,
)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Fact(Generic[T]):
    """One reference fact: its value, when it took effect, and the event that said so."""

    time: datetime
    event_id: str
    value: T

    def at(self, t: datetime) -> Fact[T] | None:
        """As the only version of its key: itself if in effect at ``t`` (see ``_Versions``)."""
        return self if self.value is not None and self.time <= t else None


@dataclass(frozen=True, slots=True)
class StaffInfo:
    staff_id: str
    name: str | None
    dob: date | None
    role: str | None
    unit: str | None
    station: str | None
    addresses: tuple[str, ...] | None
    phones: tuple[str, ...] | None
    status: str | None
    # contract 1.3 (None when HR does not say)
    leaving_date: date | None = None
    notice_date: date | None = None
    line_manager: str | None = None
    personal_emails: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class TerminalInfo:
    """A workstation's assignment (``terminal.assigned``): its owner, or shared."""

    terminal: str
    owner: str | None
    shared: bool
    location: str | None


@dataclass(frozen=True, slots=True)
class VettingInfo:
    staff_id: str
    level: str | None
    status: str | None
    expires: date | None


@dataclass(frozen=True, slots=True)
class MisconductInfo:
    staff_id: str
    case: str | None
    outcome: str | None


@dataclass(frozen=True, slots=True)
class ReviewInfo:
    staff_id: str
    case: str | None


@dataclass(frozen=True, slots=True)
class AssociationInfo:
    staff_id: str
    person: str | None
    relationship: str | None


@dataclass(frozen=True, slots=True)
class LinkInfo:
    person: str
    link: str | None
    value: str | None


@dataclass(frozen=True, slots=True)
class TaskInfo:
    ref: str
    staff_ids: tuple[str, ...] | None
    subjects: tuple[str, ...] | None


@dataclass(frozen=True, slots=True)
class ComplaintInfo:
    staff_id: str
    complaint: str | None
    complainant: str | None
    category: str | None
    body: str | None


def _tuple(values: list[str] | None) -> tuple[str, ...] | None:
    """Ids as one shared string each: the same staff and subjects recur in many facts. From a
    list, not a generator: ``tuple()`` of a generator keeps the spare room of its first guess
    (86 bytes for one id, against 48)."""
    return None if values is None else tuple([sys.intern(v) for v in values])


def _own(values: list[str] | None) -> tuple[str, ...] | None:
    """Values of one member of staff (their addresses, phones): not shared, so not interned
    (an interned string also costs an entry in the interpreter's table of them)."""
    return None if values is None else tuple(values)


def _word(value: str | None) -> str | None:
    """A value from a small vocabulary (role, unit, status, level...) as one shared string."""
    return None if value is None else sys.intern(value)


def staff_info(a: StaffAttrs) -> StaffInfo:
    """The fact a ``staff.upsert`` event's attrs state."""
    return StaffInfo(sys.intern(a.staff_id), a.name, a.dob, _word(a.role), _word(a.unit),
                     _word(a.station), _own(a.addresses), _own(a.phones),
                     _word(a.status), a.leaving_date, a.notice_date,
                     _word(a.line_manager),
                     None if a.personal_emails is None
                     else tuple(e.casefold() for e in a.personal_emails))  # fmt: skip


class _Versions(Generic[T]):
    """Values of one key over event time; ``at(t)`` is the latest with ``time <= t``.

    Versions are ordered by (time, event id); a removal is a fact whose value is ``None``."""

    __slots__ = ("_facts", "_times")

    def __init__(self) -> None:
        self._times: list[datetime] = []  # the times alone, for a cheap bisect in ``at``
        self._facts: list[Fact[T]] = []  # a removal's value is None

    def put(self, fact: Fact[T]) -> bool:
        """Insert in (time, event id) order; False if this event's version is already in."""
        times, facts = self._times, self._facts
        time, event_id = fact.time, fact.event_id
        idx = bisect.bisect_right(times, time)
        while idx and times[idx - 1] == time:  # same time: order by event id
            other = facts[idx - 1].event_id
            if other == event_id:
                return False
            if other < event_id:
                break
            idx -= 1
        times.insert(idx, time)
        facts.insert(idx, fact)
        return True

    def index(self, t: datetime) -> int:
        """How many versions took effect at or before ``t``."""
        times = self._times
        if len(times) == 1:  # most keys have one version: skip the bisect
            return 1 if times[0] <= t else 0
        return bisect.bisect_right(times, t)

    def at(self, t: datetime) -> Fact[T] | None:
        idx = self.index(t)
        if not idx:
            return None
        fact = self._facts[idx - 1]
        return fact if fact.value is not None else None

    def all_until(self, t: datetime) -> list[Fact[T]]:
        return [f for f in self._facts[: self.index(t)] if f.value is not None]


#: what a versioned key holds: most keys have one version, kept as the bare fact
_Held = _Versions[T] | Fact[T]


K = TypeVar("K")


def _put(store: dict[K, _Held[T]], key: K, fact: Fact[T]) -> bool:
    """Add a version to ``store[key]``; False if this event's version is already there."""
    held = store.get(key)
    if held is None:
        store[key] = fact
        return True
    if isinstance(held, Fact):
        if held.event_id == fact.event_id:
            return False
        versions: _Versions[T] = _Versions()
        versions.put(held)
        held = store[key] = versions
    return held.put(fact)


@dataclass(frozen=True, slots=True)
class WatchEntry:
    """A person or name+dob on one list (``canary``, ``covert_subject``, ``barred``...)."""

    list: str
    person: str | None
    name: str | None
    dob: date | None
    group: str | None
    authorised: tuple[str, ...]
    since: datetime
    event_id: str


@dataclass(frozen=True, slots=True)
class Shift:
    start: datetime
    end: datetime
    event_id: str
    since: datetime


#: longer than any rostered shift: bounds the search for the shift covering a moment
MAX_SHIFT = timedelta(hours=36)


@lru_cache(maxsize=200_000)
def normalise_value(value: str) -> str:
    """Phones and addresses compared loosely: case, spaces and punctuation do not matter, and
    a UK number in international form equals its national form.

    >>> normalise_value("+44 7700 900123") == normalise_value("07700 900123")
    True
    >>> normalise_value("14 Mill Lane, Worcester") == normalise_value("14 MILL LANE WORCESTER")
    True
    """
    out = "".join(ch for ch in value.casefold() if ch.isalnum())
    if out.isdigit():
        if out.startswith("0044"):
            out = "0" + out[4:]
        elif out.startswith("44") and len(out) == 12:
            out = "0" + out[2:]
    return out


@lru_cache(maxsize=64)
def _seconds(seconds: float) -> timedelta:
    """A tolerance as a timedelta (detectors pass the same few, on every event)."""
    return timedelta(seconds=seconds)


def watch_key(person: str | None, name: str | None, dob: date | None) -> str:
    return person if person else f"{name}|{dob}"
