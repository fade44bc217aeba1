"""The view of reference data as of one moment that detectors read."""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from collections.abc import Set as AbstractSet
from datetime import datetime
from typing import TYPE_CHECKING

from detectors.reference.facts import (
    MAX_SHIFT,
    AssociationInfo,
    ComplaintInfo,
    Fact,
    LinkInfo,
    MisconductInfo,
    ReviewInfo,
    Shift,
    StaffInfo,
    TaskInfo,
    TerminalInfo,
    VettingInfo,
    WatchEntry,
    _seconds,
    _Versions,
    normalise_value,
)

if TYPE_CHECKING:
    from detectors.reference.state import ReferenceState, _HeldTask, _TasksMemo


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

    def terminal(self, terminal: str) -> Fact[TerminalInfo] | None:
        """A workstation's assignment at ``t`` (``terminal.assigned``; names compare
        case-insensitively)."""
        versions = self._s._terminals.get(terminal.casefold())
        return versions.at(self.t) if versions else None

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
        held = self._s._tasks.get(ref)
        if held is None:
            return None
        if isinstance(held, _Versions):
            return held.at(self.t)
        return held.fact(ref) if held.time <= self.t else None

    def task_parties(self, ref: str) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
        """The staff and the subjects of task ``ref`` at ``t`` (None: no such task then),
        without building its fact: what most questions about a task need."""
        held = self._s._tasks.get(ref)
        return None if held is None else _parties(held, self.t)

    def tasks_of(self, staff_id: str) -> list[Fact[TaskInfo]]:
        """Tasks assigned to ``staff_id`` at ``t``."""
        memo = self._memo(staff_id)
        return [] if memo is None else [f for f in map(self.task, memo[1]) if f is not None]

    def subjects_tasked(self, staff_id: str) -> AbstractSet[str]:
        """Every subject (person or group) of the tasks assigned to ``staff_id`` at ``t``."""
        memo = self._memo(staff_id)
        return frozenset() if memo is None else memo[2].keys()

    def _memo(self, staff_id: str) -> _TasksMemo | None:
        """The refs and subjects of the tasks of ``staff_id`` at ``t``: remembered, or worked
        out (and remembered); None if they never had one."""
        changes = self._s._task_changes.get(staff_id)
        if not changes:
            return None
        k = bisect.bisect_right(changes, self.t)
        memo = self._s._tasks_memo.get(staff_id)
        if memo is not None and memo[0] == k:
            return memo
        refs: list[str] = []
        subjects: dict[str, None] = {}
        t, tasks = self.t, self._s._tasks
        for ref in self._s._tasks_by_staff.get(staff_id, ()):
            parties = _parties(tasks[ref], t)
            if parties is None or staff_id not in parties[0]:
                continue
            of_task = parties[1]
            refs.append(ref)
            for subject in of_task:
                subjects[subject] = None
        memo = (k, tuple(refs), subjects)
        self._s._remember(staff_id, memo)
        return memo

    def tasks_linking(self, staff_id: str, person: str) -> list[Fact[TaskInfo]]:
        """Tasks assigned to ``staff_id`` whose subjects include ``person`` (at ``t``: a task
        re-assigned later without them no longer counts)."""
        pairs = self._s._tasks_by_pair.get(staff_id)
        refs = pairs.get(person) if pairs is not None else None
        if refs is None:
            return []
        out = []
        for ref in (refs,) if isinstance(refs, str) else refs:
            parties = self.task_parties(ref)
            if parties is None or staff_id not in parties[0] or person not in parties[1]:
                continue
            fact = self.task(ref)
            if fact is not None:
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


def _parties(held: _HeldTask, t: datetime) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """The staff and the subjects of a held task at ``t`` (None: not known then)."""
    if isinstance(held, _Versions):
        fact = held.at(t)
        return None if fact is None else (fact.value.staff_ids or (), fact.value.subjects or ())
    return (held.staff_ids or (), held.subject_tuple() or ()) if held.time <= t else None
