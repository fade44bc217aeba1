"""Reference state, versioned by event time, and the views detectors read it through.

Reference events (staff, vetting, watchlists, tasks, rosters, links, complaints...) take
effect from their *event time*: a view taken at time ``t`` sees exactly the reference events
with ``time <= t``. That makes a replay of last month give the alerts live processing would
have given, whatever order the worker happened to read the topics in. Applying an event is
idempotent (by event id), so at-least-once redelivery changes nothing.

Pure: no I/O. The worker fills it from the reference topic; tests fill it from a list."""

from __future__ import annotations

import bisect
import sys
from array import array
from collections import OrderedDict, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from detectors.reference.facts import (
    AssociationInfo,
    ComplaintInfo,
    Fact,
    LinkInfo,
    MisconductInfo,
    ReviewInfo,
    Shift,
    StaffInfo,
    T,
    TaskInfo,
    TerminalInfo,
    VettingInfo,
    WatchEntry,
    _Held,
    _put,
    _tuple,
    _Versions,
    _word,
    normalise_value,
    staff_info,
    watch_key,
)
from detectors.reference.view import ReferenceView
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
    TerminalAttrs,
    VettingAttrs,
    WatchlistAttrs,
    WatchlistRemovedAttrs,
)

#: officers whose tasks (and tasked subjects) stay worked out: those recently asked about
TASK_MEMO_OFFICERS = 4096


#: an officer's tasks (their refs) as of some count of task changes, and their subjects
_TasksMemo = tuple[int, tuple[str, ...], dict[str, None]]


class _Task:
    """A task's only version (most tasks have one): what ``Fact(time, event_id,
    TaskInfo(ref, staff_ids, subjects))`` holds, in one object keyed by its ref, one subject
    as its bare string. A fact, its info and a subjects tuple per task cost three times this
    for the 100,000 tasks of a large force's three weeks; views build the facts a question
    needs."""

    __slots__ = ("event_id", "staff_ids", "subjects", "time")

    def __init__(self, time: datetime, event_id: str, staff_ids: tuple[str, ...] | None,
                 subjects: tuple[str, ...] | None) -> None:  # fmt: skip
        self.time = time
        self.event_id = event_id
        self.staff_ids = staff_ids
        self.subjects: str | tuple[str, ...] | None = (
            subjects[0] if subjects is not None and len(subjects) == 1 else subjects
        )

    def subject_tuple(self) -> tuple[str, ...] | None:
        subjects = self.subjects
        return (subjects,) if isinstance(subjects, str) else subjects

    def fact(self, ref: str) -> Fact[TaskInfo]:
        return Fact(self.time, self.event_id, TaskInfo(ref, self.staff_ids, self.subject_tuple()))


#: what the state keeps of a task: its only version, or its versions
_HeldTask = _Task | _Versions[TaskInfo]


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
    _tasks: dict[str, _HeldTask] = field(default_factory=dict)
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
    # latest answer is kept per officer (the refs, and the subjects as a dict's keys: half a
    # frozenset) with how many such changes precede its ``t``, for the ``TASK_MEMO_OFFICERS``
    # officers most recently worked out, not every member of staff
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
    _terminals: dict[str, _Held[TerminalInfo]] = field(default_factory=dict)
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

    def _on_terminal_assigned(self, e: Event, a: TerminalAttrs) -> bool:
        info = TerminalInfo(sys.intern(a.terminal), _word(a.owner), bool(a.shared),
                            _word(a.location))  # fmt: skip
        return _put(self._terminals, a.terminal.casefold(), Fact(e.time, e.id, info))

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
        # not interned: a task's ref is one string however many indexes name it, and an
        # entry in the interpreter's table of interned strings for each of 100,000 refs
        # would cost about as much as the strings
        ref = a.ref
        staff_ids = _tuple(a.staff_ids)
        if staff_ids is not None:
            staff_ids = self._staff_tuples.setdefault(staff_ids, staff_ids)
        subjects = _tuple(a.subjects)
        time = self._shared(e.time)  # tasks are given out in briefings
        held = self._tasks.get(ref)
        if held is None:
            self._tasks[ref] = _Task(time, e.id, staff_ids, subjects)
            times, holders = [time], []
        else:
            if isinstance(held, _Task):
                if held.event_id == e.id:
                    return False
                versions: _Versions[TaskInfo] = _Versions()
                versions.put(held.fact(ref))
                held = self._tasks[ref] = versions
            fact = Fact(time, e.id, TaskInfo(ref, staff_ids, subjects))
            if not held.put(fact):
                return False
            facts = held._facts
            times = [f.time for f in facts]
            # whoever any earlier version named: their tasks change with every version
            earlier = (f.value.staff_ids or () for f in facts if f is not fact)
            holders = list(dict.fromkeys(s for ids in earlier for s in ids))
        for staff_id in staff_ids or ():
            refs_of = self._tasks_by_staff[staff_id]
            if ref not in refs_of:
                refs_of.append(ref)
            pairs = self._tasks_by_pair[staff_id]
            for subject in subjects or ():
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
            changes.append(time)
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
