"""Reference state, versioned by event time, and the views detectors read it through.

Reference events (staff, vetting, watchlists, tasks, rosters, links, complaints...) take
effect from their *event time*: a view taken at time ``t`` sees exactly the reference events
with ``time <= t``. That makes a replay of last month give the alerts live processing would
have given, whatever order the worker happened to read the topics in. Applying an event is
idempotent (by event id), so at-least-once redelivery changes nothing.

Pure: no I/O. The worker fills it from the reference topic; tests fill it from a list.
"""

from __future__ import annotations

import bisect
import sys
from array import array
from collections import OrderedDict, defaultdict
from collections.abc import Iterable, Iterator, MutableMapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any, Generic, TypeVar

from models.events import (
    AssociationAttrs,
    ComplaintAttrs,
    Event,
    MisconductAttrs,
    PersonLinkAttrs,
    ReviewCompletedAttrs,
    ShiftAttrs,
    StaffAttrs,
    TaskAttrs,
    VettingAttrs,
    WatchlistAttrs,
    WatchlistRemovedAttrs,
)

T = TypeVar("T")
#: longer than any rostered shift: bounds the search for the shift covering a moment
MAX_SHIFT = timedelta(hours=36)
#: officers whose tasks (and tasked subjects) stay worked out: those recently asked about
TASK_MEMO_OFFICERS = 4096


@dataclass(frozen=True, slots=True)
class Fact(Generic[T]):
    """One reference fact: its value, when it took effect, and the event that said so."""

    time: datetime
    event_id: str
    value: T

    def at(self, t: datetime) -> Fact[T] | None:
        """As the only version of its key: itself if in effect at ``t`` (see ``_Versions``)."""
        return self if self.value is not None and self.time <= t else None


# Reference facts are held for as long as the worker runs (every member of staff, task and
# shift of the retention period): each keeps the fields its event's attrs declare, in a
# slotted object with tuples for lists, not the decoded pydantic model (several times the
# memory, and many more objects for the garbage collector to walk).


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
    """Ids as one shared string each: the same staff and subjects recur in many facts."""
    return None if values is None else tuple(sys.intern(v) for v in values)


def _word(value: str | None) -> str | None:
    """A value from a small vocabulary (role, unit, status, level...) as one shared string."""
    return None if value is None else sys.intern(value)


def staff_info(a: StaffAttrs) -> StaffInfo:
    """The fact a ``staff.upsert`` event's attrs state."""
    return StaffInfo(sys.intern(a.staff_id), a.name, a.dob, _word(a.role), _word(a.unit),
                     _word(a.station), _tuple(a.addresses), _tuple(a.phones),
                     _word(a.status))  # fmt: skip


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


#: an officer's tasks as of some count of task changes, and their subjects once asked
_TasksMemo = tuple[int, tuple[Fact[TaskInfo], ...], dict[str, None] | None]
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


class _Roster:
    """One member of staff's rostered shifts, ordered by start, as parallel sequences: the
    starts (shared times, bisected), the ends and when each became known (as numbers of
    shared times), and the event ids end to end in one string. A :class:`Shift` object and
    an id string per shift, kept for the whole retention, cost several times what they hold;
    views rebuild the few a question needs."""

    __slots__ = ("ends", "id_ends", "ids", "since", "starts", "times")

    def __init__(self, times: list[datetime]) -> None:
        self.times = times  # the state's shared times, which ``ends`` and ``since`` number
        self.starts: list[datetime] = []
        self.ends = array("I")
        self.since = array("I")  # when each became known (its roster's event time)
        self.ids = ""  # every shift's event id, in order, end to end
        self.id_ends = array("I")  # where each shift's id ends in ``ids``

    def event_id(self, idx: int) -> str:
        id_ends = self.id_ends
        return self.ids[id_ends[idx - 1] if idx else 0 : id_ends[idx]]

    def insert(self, idx: int, start: datetime, end: int, event_id: str,
               since: int) -> None:  # fmt: skip
        self.starts.insert(idx, start)
        self.ends.insert(idx, end)
        self.since.insert(idx, since)
        id_ends, n = self.id_ends, len(event_id)
        at = id_ends[idx - 1] if idx else 0
        self.ids = self.ids[:at] + event_id + self.ids[at:]
        id_ends[idx:] = array("I", [at + n, *(x + n for x in id_ends[idx:])])

    def shift(self, idx: int) -> Shift:
        times = self.times
        return Shift(self.starts[idx], times[self.ends[idx]], self.event_id(idx),
                     times[self.since[idx]])  # fmt: skip


@dataclass
class ReferenceState:
    """All reference facts a worker knows, indexed for the questions detectors ask.

    Applying is idempotent by event id, checked where the event's fact is kept (the versions
    of its staff member, task, list entry...), not in one set of every id ever applied."""

    _staff: dict[str, _Held[StaffInfo]] = field(default_factory=dict)
    _vetting: dict[str, _Held[VettingInfo]] = field(default_factory=dict)
    _watch: dict[tuple[str, str], _Held[WatchEntry]] = field(default_factory=dict)
    _watch_by_person: dict[str, set[tuple[str, str]]] = field(
        default_factory=lambda: defaultdict(set)
    )
    _watch_by_list: dict[str, set[tuple[str, str]]] = field(
        default_factory=lambda: defaultdict(set)
    )
    _tasks: dict[str, _Held[TaskInfo]] = field(default_factory=dict)
    # staff -> task refs, in arrival order (deduplicated on insert): a list of a dozen refs is
    # a fifth of the memory of a set of them, and an officer's tasks are walked, not probed
    _tasks_by_staff: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    # staff -> subject -> task refs, in arrival order: most pairs have one task, kept as the
    # bare ref (a tuple once there are more); nested rather than keyed by a (staff, subject)
    # tuple, which cost a tuple, a list and an entry of a table of every pair
    _tasks_by_pair: dict[str, dict[str, str | tuple[str, ...]]] = field(
        default_factory=lambda: defaultdict(dict)
    )
    # the staff lists of tasks, one tuple each: the same officer or team is tasked again and again
    _staff_tuples: dict[tuple[str, ...], tuple[str, ...]] = field(default_factory=dict)
    # ``tasks_of`` is asked on every look-up and used to walk all an officer's tasks each
    # time: its answer only changes when a version of one of their tasks takes effect, so the
    # latest answer is kept per officer with how many such changes precede its ``t`` (and
    # ``subjects_tasked``'s, once asked, as a dict's keys: half a frozenset), for the
    # ``TASK_MEMO_OFFICERS`` officers most recently worked out, not every member of staff
    _task_changes: dict[str, list[datetime]] = field(default_factory=lambda: defaultdict(list))
    _tasks_memo: OrderedDict[str, _TasksMemo] = field(default_factory=OrderedDict)
    _links: dict[str, list[Fact[LinkInfo]]] = field(default_factory=lambda: defaultdict(list))
    _persons_by_value: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    # contact value -> staff ids, and staff.upsert event id -> its contact values: tuples, as
    # a value is nearly always one officer's and an officer has a couple (a set: 4x a tuple)
    _staff_by_value: dict[str, tuple[str, ...]] = field(default_factory=dict)
    _staff_contacts: dict[str, tuple[str, ...]] = field(default_factory=dict)
    _associations: dict[str, list[Fact[AssociationInfo]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    _shifts: dict[str, _Roster] = field(default_factory=dict)
    # shift starts and ends repeat (on the hour, the same for a whole team), and so do the
    # times rosters are published and tasks given out: one object each, numbered
    _times: list[datetime] = field(default_factory=list)
    _time_ids: dict[tuple[datetime, timedelta | None], int] = field(default_factory=dict)
    _misconduct: dict[str, list[Fact[MisconductInfo]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    _reviews: dict[str, list[Fact[ReviewInfo]]] = field(default_factory=lambda: defaultdict(list))
    _complaints: dict[str, list[Fact[ComplaintInfo]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    # reference events that leave no fact (a shift without its times): ids, to stay idempotent
    _factless: set[str] = field(default_factory=set)
    applied: int = 0
    latest_time: datetime | None = None

    # -- writing ------------------------------------------------------------------------

    def apply(self, event: Event) -> bool:
        """Take one reference event into account; False if it was seen before or not reference."""
        if not event.is_reference:
            return False
        handler = getattr(self, "_on_" + event.kind.replace(".", "_"))
        if not handler(event, event.attrs):
            return False
        self.applied += 1
        if self.latest_time is None or event.time > self.latest_time:
            self.latest_time = event.time
        return True

    def apply_all(self, events: Iterable[Event]) -> int:
        return sum(self.apply(e) for e in events)

    @staticmethod
    def _append(facts: list[Fact[T]], fact: Fact[T]) -> bool:
        """Add a fact to an entity's list unless its event is already there."""
        event_id = fact.event_id
        for f in facts:
            if f.event_id == event_id:
                return False
        facts.append(fact)
        return True

    def _on_staff_upsert(self, e: Event, a: StaffAttrs) -> bool:
        if not _put(self._staff, a.staff_id, Fact(e.time, e.id, staff_info(a))):
            return False
        values = (*(a.addresses or ()), *(a.phones or ()))
        contacts = tuple(dict.fromkeys(normalise_value(v) for v in values))
        self._staff_contacts[e.id] = contacts
        staff_id = sys.intern(a.staff_id)
        by_value = self._staff_by_value
        for value in contacts:
            staff_ids = by_value.get(value, ())
            if staff_id not in staff_ids:
                by_value[value] = (*staff_ids, staff_id)
        return True

    def _on_vetting_changed(self, e: Event, a: VettingAttrs) -> bool:
        vetting = VettingInfo(sys.intern(a.staff_id), _word(a.level), _word(a.status), a.expires)
        return _put(self._vetting, a.staff_id, Fact(e.time, e.id, vetting))

    def _on_misconduct_outcome(self, e: Event, a: MisconductAttrs) -> bool:
        fact = Fact(e.time, e.id, MisconductInfo(a.staff_id, a.case, a.outcome))
        return self._append(self._misconduct[a.staff_id], fact)

    def _on_vetting_review_completed(self, e: Event, a: ReviewCompletedAttrs) -> bool:
        fact = Fact(e.time, e.id, ReviewInfo(a.staff_id, a.case))
        return self._append(self._reviews[a.staff_id], fact)

    def _on_association_declared(self, e: Event, a: AssociationAttrs) -> bool:
        fact = Fact(e.time, e.id, AssociationInfo(a.staff_id, a.person, a.relationship))
        return self._append(self._associations[a.staff_id], fact)

    def _on_watchlist_upsert(self, e: Event, a: WatchlistAttrs) -> bool:
        key = (a.list, watch_key(a.person, a.name, a.dob))
        entry = WatchEntry(
            list=a.list,
            person=a.person,
            name=a.name,
            dob=a.dob,
            group=a.group,
            authorised=tuple(a.authorised or ()),
            since=e.time,
            event_id=e.id,
        )
        if not _put(self._watch, key, Fact(e.time, e.id, entry)):
            return False
        if a.person:
            self._watch_by_person[a.person].add(key)
        self._watch_by_list[a.list].add(key)
        return True

    def _on_watchlist_removed(self, e: Event, a: WatchlistRemovedAttrs) -> bool:
        key = (a.list, watch_key(a.person, a.name, a.dob))
        removal: Fact[WatchEntry] = Fact(e.time, e.id, None)  # type: ignore[arg-type]
        return _put(self._watch, key, removal)

    def _on_person_link(self, e: Event, a: PersonLinkAttrs) -> bool:
        fact = Fact(e.time, e.id, LinkInfo(a.person, a.link, a.value))
        if not self._append(self._links[a.person], fact):
            return False
        if a.value:
            self._persons_by_value[normalise_value(a.value)].add(a.person)
        return True

    def _on_task_assigned(self, e: Event, a: TaskAttrs) -> bool:
        ref = sys.intern(a.ref)
        staff_ids = _tuple(a.staff_ids)
        if staff_ids is not None:
            staff_ids = self._staff_tuples.setdefault(staff_ids, staff_ids)
        task = TaskInfo(ref, staff_ids, _tuple(a.subjects))
        fact = Fact(self._shared(e.time), e.id, task)  # tasks are given out in briefings
        if not _put(self._tasks, ref, fact):
            return False
        versions = self._tasks[ref]
        facts = versions._facts if isinstance(versions, _Versions) else [versions]
        times = [f.time for f in facts]
        # whoever any earlier version named: their tasks change with every version
        earlier = (f.value.staff_ids or () for f in facts if f is not fact)
        holders = list(dict.fromkeys(s for staff_ids in earlier for s in staff_ids))
        for staff_id in task.staff_ids or ():
            refs_of = self._tasks_by_staff[staff_id]
            if ref not in refs_of:
                refs_of.append(ref)
            pairs = self._tasks_by_pair[staff_id]
            for subject in task.subjects or ():
                refs = pairs.get(subject)
                if refs is None:
                    pairs[subject] = ref
                elif isinstance(refs, str):
                    if refs != ref:
                        pairs[subject] = (refs, ref)
                elif ref not in refs:
                    pairs[subject] = (*refs, ref)
            if staff_id not in holders:  # every version of the task now matters to them
                holders.append(staff_id)
                self._task_changes[staff_id].extend(times)
        for staff_id in holders:
            changes = self._task_changes[staff_id]
            changes.append(fact.time)
            changes.sort()
            self._tasks_memo.pop(staff_id, None)
        return True

    def _on_shift_rostered(self, e: Event, a: ShiftAttrs) -> bool:
        if a.start is None or a.end is None:
            if e.id in self._factless:
                return False
            self._factless.add(e.id)
            return True
        roster = self._shifts.get(a.staff_id)
        if roster is None:
            roster = self._shifts[a.staff_id] = _Roster(self._times)
        starts = roster.starts
        idx = bisect.bisect_right(starts, a.start)
        back = idx
        while back and starts[back - 1] == a.start:  # a redelivery sits with its start
            back -= 1
            if roster.event_id(back) == e.id:
                return False
        # rosters are published in batches: ``since`` repeats too
        start, end, since = self._shared(a.start), self._time_id(a.end), self._time_id(e.time)
        roster.insert(idx, start, end, e.id, since)
        return True

    def _time_id(self, t: datetime) -> int:
        """The number of a distinct time and offset in ``_times`` (equal instants in other
        offsets print differently, so they are not merged)."""
        key = (t, t.utcoffset())
        n = self._time_ids.get(key)
        if n is None:
            n = self._time_ids[key] = len(self._times)
            self._times.append(t)
        return n

    def _shared(self, t: datetime) -> datetime:
        """One object per distinct time and offset: shift times, roster and briefing times
        repeat."""
        return self._times[self._time_id(t)]

    def _on_complaint_logged(self, e: Event, a: ComplaintAttrs) -> bool:
        complaint = ComplaintInfo(a.staff_id, a.complaint, a.complainant, a.category, a.body)
        return self._append(self._complaints[a.staff_id], Fact(e.time, e.id, complaint))

    _on_complaint_updated = _on_complaint_logged
    _on_complaint_referred = _on_complaint_logged

    def _remember(self, staff_id: str, memo: _TasksMemo) -> None:
        """Keep an officer's tasks memo, forgetting the oldest beyond ``TASK_MEMO_OFFICERS``."""
        memos = self._tasks_memo
        if staff_id not in memos and len(memos) >= TASK_MEMO_OFFICERS:
            memos.popitem(last=False)
        memos[staff_id] = memo

    # -- reading ------------------------------------------------------------------------

    def at(self, t: datetime) -> ReferenceView:
        """The reference data as it stood at event time ``t``."""
        return ReferenceView(self, t)


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


class ReferenceView:
    """Read-only questions about reference data as of one moment (``self.t``)."""

    __slots__ = ("_s", "t")

    def __init__(self, state: ReferenceState, t: datetime) -> None:
        self._s = state
        self.t = t

    def at(self, t: datetime) -> ReferenceView:
        """The same reference data as of another moment (e.g. when a graph path closed)."""
        return ReferenceView(self._s, t)

    # staff
    def staff(self, staff_id: str) -> Fact[StaffInfo] | None:
        versions = self._s._staff.get(staff_id)
        return versions.at(self.t) if versions else None

    def all_staff(self) -> Iterator[Fact[StaffInfo]]:
        """Every member of staff known at ``t`` (leavers included: check ``status``)."""
        for versions in self._s._staff.values():
            fact = versions.at(self.t)
            if fact is not None:
                yield fact

    def staff_sharing(self, value: str) -> set[str]:
        """Staff ids whose address or phone (at ``t``) matches ``value``."""
        out = set()
        norm = normalise_value(value)
        for staff_id in self._s._staff_by_value.get(norm, ()):
            fact = self.staff(staff_id)
            if fact and norm in self._s._staff_contacts.get(fact.event_id, ()):
                out.add(staff_id)
        return out

    def vetting(self, staff_id: str) -> Fact[VettingInfo] | None:
        versions = self._s._vetting.get(staff_id)
        return versions.at(self.t) if versions else None

    def misconduct(self, staff_id: str) -> list[Fact[MisconductInfo]]:
        return [f for f in self._s._misconduct.get(staff_id, ()) if f.time <= self.t]

    def reviews_completed(self, staff_id: str) -> list[Fact[ReviewInfo]]:
        return [f for f in self._s._reviews.get(staff_id, ()) if f.time <= self.t]

    def complaints(self, staff_id: str) -> list[Fact[ComplaintInfo]]:
        """Complaint events (logged, updated, referred) about ``staff_id`` up to ``t``."""
        return [f for f in self._s._complaints.get(staff_id, ()) if f.time <= self.t]

    def associations(self, staff_id: str) -> list[Fact[AssociationInfo]]:
        return [f for f in self._s._associations.get(staff_id, ()) if f.time <= self.t]

    def shifts(self, staff_id: str) -> list[Shift]:
        """Rostered shifts of ``staff_id`` known at ``t`` (ordered by start)."""
        roster = self._s._shifts.get(staff_id)
        if roster is None:
            return []
        t, times = self.t, roster.times
        return [roster.shift(i) for i, since in enumerate(roster.since) if times[since] <= t]

    def has_shifts(self, staff_id: str) -> bool:
        """Whether any shift of ``staff_id`` is known at ``t``."""
        roster = self._s._shifts.get(staff_id)
        t = self.t
        return roster is not None and any(roster.times[since] <= t for since in roster.since)

    def shifts_near(self, staff_id: str, moment: datetime, horizon_s: float) -> list[Shift]:
        """Shifts of ``staff_id`` known at ``t`` starting within ``horizon_s`` of ``moment``
        (ordered by start): a bisect of the starts, not a scan of every shift."""
        roster = self._s._shifts.get(staff_id)
        if roster is None:
            return []
        starts, since, times = roster.starts, roster.since, roster.times
        pad = _seconds(horizon_s)
        lo = bisect.bisect_left(starts, moment - pad)
        hi = bisect.bisect_right(starts, moment + pad, lo)
        t = self.t
        return [roster.shift(i) for i in range(lo, hi) if times[since[i]] <= t]

    def shift_at(self, staff_id: str, moment: datetime, tolerance_s: float = 0) -> Shift | None:
        """The rostered shift covering ``moment`` (widened by ``tolerance_s``), if any."""
        roster = self._s._shifts.get(staff_id)
        if roster is None:
            return None
        starts, ends, since, times = roster.starts, roster.ends, roster.since, roster.times
        tol = _seconds(tolerance_s)
        # shifts are ordered by start: only those starting before moment + tol can cover it,
        # and a shift lasts well under MAX_SHIFT, so the scan back stops early
        idx = bisect.bisect_right(starts, moment + tol)
        earliest = moment - tol - MAX_SHIFT
        latest_end = moment - tol  # a shift covers ``moment`` when ``moment <= end + tol``
        t = self.t
        first = -1
        while idx > 0:
            idx -= 1
            if starts[idx] < earliest:
                break
            if times[since[idx]] <= t and latest_end <= times[ends[idx]]:
                first = idx  # keep the earliest covering shift, as a forward scan would
        return roster.shift(first) if first >= 0 else None

    # watchlists
    def watch_entries(self, person: str) -> list[WatchEntry]:
        """Every list ``person`` is on at ``t``."""
        out = []
        for key in self._s._watch_by_person.get(person, ()):
            fact = self._s._watch[key].at(self.t)
            if fact is not None:
                out.append(fact.value)
        return sorted(out, key=lambda w: w.list)

    def on_list(self, person: str, list_name: str) -> WatchEntry | None:
        versions = self._s._watch.get((list_name, person))
        fact = versions.at(self.t) if versions else None
        return fact.value if fact else None

    def list_entries(self, list_name: str) -> list[WatchEntry]:
        """Every entry of one list at ``t`` (for barred/advisory name matching)."""
        out = []
        for key in self._s._watch_by_list.get(list_name, ()):
            fact = self._s._watch[key].at(self.t)
            if fact is not None:
                out.append(fact.value)
        return out

    # tasks and links
    def task(self, ref: str) -> Fact[TaskInfo] | None:
        versions = self._s._tasks.get(ref)
        return versions.at(self.t) if versions else None

    def tasks_of(self, staff_id: str) -> list[Fact[TaskInfo]]:
        """Tasks assigned to ``staff_id`` at ``t``."""
        changes = self._s._task_changes.get(staff_id)
        if not changes:
            return []
        k = bisect.bisect_right(changes, self.t)
        memo = self._s._tasks_memo.get(staff_id)
        if memo is not None and memo[0] == k:
            return list(memo[1])
        found = self._tasks_of(staff_id)
        self._s._remember(staff_id, (k, tuple(found), None))
        return found

    def subjects_tasked(self, staff_id: str) -> AbstractSet[str]:
        """Every subject (person or group) of the tasks assigned to ``staff_id`` at ``t``."""
        changes = self._s._task_changes.get(staff_id)
        if not changes:
            return frozenset()
        k = bisect.bisect_right(changes, self.t)
        memo = self._s._tasks_memo.get(staff_id)
        if memo is not None and memo[0] == k and memo[2] is not None:
            return memo[2].keys()
        facts = self.tasks_of(staff_id)  # remembered at ``k`` by now
        found = dict.fromkeys(s for f in facts for s in (f.value.subjects or ()))
        self._s._remember(staff_id, (k, tuple(facts), found))
        return found.keys()

    def _tasks_of(self, staff_id: str) -> list[Fact[TaskInfo]]:
        out = []
        for ref in self._s._tasks_by_staff.get(staff_id, ()):
            fact = self.task(ref)
            if fact and staff_id in (fact.value.staff_ids or ()):
                out.append(fact)
        return out

    def tasks_linking(self, staff_id: str, person: str) -> list[Fact[TaskInfo]]:
        """Tasks assigned to ``staff_id`` whose subjects include ``person`` (at ``t``: a task
        re-assigned later without them no longer counts)."""
        pairs = self._s._tasks_by_pair.get(staff_id)
        refs = pairs.get(person) if pairs is not None else None
        if refs is None:
            return []
        out = []
        for ref in (refs,) if isinstance(refs, str) else refs:
            fact = self.task(ref)
            if (fact and staff_id in (fact.value.staff_ids or ())
                    and person in (fact.value.subjects or ())):  # fmt: skip
                out.append(fact)
        return out

    def links_of(self, person: str) -> list[Fact[LinkInfo]]:
        return [f for f in self._s._links.get(person, ()) if f.time <= self.t]

    def persons_linked_to(self, value: str) -> set[str]:
        """Persons with an address, phone or vehicle link equal to ``value`` at ``t``."""
        norm = normalise_value(value)
        out = set()
        for person in self._s._persons_by_value.get(norm, ()):
            if any(
                f.value.value and normalise_value(f.value.value) == norm
                for f in self.links_of(person)
            ):
                out.add(person)
        return out


class OfficerStates:
    """Per-officer, per-detector state: plain JSON-able dicts, so it serialises to a changelog."""

    def __init__(self, data: MutableMapping[str, dict[str, Any]] | None = None) -> None:
        self.data: MutableMapping[str, dict[str, Any]] = data if data is not None else {}

    def officer(self, officer: str) -> dict[str, Any]:
        """One officer's state dict (every detector's slot), created empty if new."""
        officer_state = self.data.get(officer)
        if officer_state is None:
            officer_state = self.data[officer] = {}
        return officer_state

    def slot(self, officer: str, detector_id: str) -> dict[str, Any]:
        officer_state = self.officer(officer)
        slot: dict[str, Any] | None = officer_state.get(detector_id)
        if slot is None:
            slot = officer_state[detector_id] = {}
        return slot
