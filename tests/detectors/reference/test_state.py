"""Reference state: the memoised and indexed queries answer as a plain scan would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from detectors.reference.facts import Shift
from detectors.reference.state import ReferenceState
from detectors.reference.view import ReferenceView
from models.events import Event, decode_obj

T0 = datetime(2026, 3, 2, tzinfo=UTC)
STAFF = ("S1", "S2", "S3")
PEOPLE = ("P-1", "P-2", "P-3")


def _task(n: int, ref: str, minutes: int, staff: list[str], subjects: list[str]) -> Event:
    return decode_obj({
        "id": f"t-{n}", "time": (T0 + timedelta(minutes=minutes)).isoformat(),
        "source": "tasking", "kind": "task.assigned",
        "attrs": {"ref": ref, "staff_ids": staff, "subjects": subjects},
    })  # fmt: skip


def _shift(n: int, staff: str, known: int, start: int, hours: int) -> Event:
    begin = T0 + timedelta(hours=start)
    return decode_obj({
        "id": f"sh-{n}", "time": (T0 + timedelta(hours=known)).isoformat(),
        "source": "roster", "kind": "shift.rostered",
        "attrs": {"staff_id": staff, "start": begin.isoformat(),
                  "end": (begin + timedelta(hours=hours)).isoformat()},
    })  # fmt: skip


def _scan_tasks(view: ReferenceView, staff_id: str) -> list[str]:
    """``tasks_of`` as it was before the memo: every task of the officer, at ``t``."""
    out = []
    for ref in view._s._tasks_by_staff.get(staff_id, ()):
        fact = view.task(ref)
        if fact and staff_id in (fact.value.staff_ids or ()):
            out.append(fact.event_id)
    return sorted(out)


def _scan_shift(view: ReferenceView, staff_id: str, moment: datetime, tol: float) -> Shift | None:
    """``shift_at`` as a forward scan of every known shift."""
    pad = timedelta(seconds=tol)
    for shift in view.shifts(staff_id):
        if shift.start - pad <= moment <= shift.end + pad:
            return shift
    return None


tasks = st.lists(
    st.tuples(
        st.sampled_from(("T1", "T2", "T3", "T4")),
        st.integers(0, 300),
        st.lists(st.sampled_from(STAFF), max_size=2, unique=True),
        st.lists(st.sampled_from(PEOPLE), max_size=2, unique=True),
    ),
    max_size=12,
)


@settings(max_examples=150, deadline=None)
@given(tasks, st.lists(st.integers(-10, 320), min_size=1, max_size=10))
def test_tasks_of_memo_matches_a_scan_whatever_the_arrival_order(
    given_tasks: list[tuple[str, int, list[str], list[str]]], moments: list[int]
) -> None:
    state = ReferenceState()
    # queries interleaved with arrivals, in any time order: the memo must follow each change
    for n, (ref, minutes, staff, subjects) in enumerate(given_tasks):
        state.apply(_task(n, ref, minutes, staff, subjects))
        for m in moments:
            view = state.at(T0 + timedelta(minutes=m))
            for staff_id in STAFF:
                got = view.tasks_of(staff_id)
                assert sorted(f.event_id for f in got) == _scan_tasks(view, staff_id)
                assert view.subjects_tasked(staff_id) == {
                    s for f in got for s in (f.value.subjects or ())
                }
                for person in PEOPLE:  # every task of theirs naming the person, as a scan
                    assert sorted(f.event_id for f in view.tasks_linking(staff_id, person)) == [
                        f.event_id for f in sorted(got, key=lambda f: f.event_id)
                        if person in (f.value.subjects or ())
                    ]  # fmt: skip


def test_tasks_of_answers_a_copy() -> None:
    state = ReferenceState()
    state.apply(_task(1, "T1", 0, ["S1"], ["P-1"]))
    view = state.at(T0 + timedelta(hours=1))
    view.tasks_of("S1").clear()  # a caller's list is its own
    assert [f.value.ref for f in view.tasks_of("S1")] == ["T1"]
    state.apply(_task(2, "T1", 30, ["S2"], ["P-1"]))  # re-assigned: no longer S1's
    assert view.tasks_of("S1") == [] and view.subjects_tasked("S2") == {"P-1"}


shifts = st.lists(
    st.tuples(st.sampled_from(STAFF[:2]), st.integers(0, 200), st.integers(0, 200),
              st.integers(1, 14)),
    max_size=10,
)  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(shifts, st.integers(0, 220), st.integers(0, 220), st.sampled_from((0.0, 900.0, 3600.0)))
def test_shift_at_matches_a_forward_scan(
    given_shifts: list[tuple[str, int, int, int]], known_at: int, hour: int, tol: float
) -> None:
    state = ReferenceState()
    for n, (staff, known, start, hours) in enumerate(given_shifts):
        state.apply(_shift(n, staff, known, start, hours))
    view = state.at(T0 + timedelta(hours=known_at))
    moment = T0 + timedelta(hours=hour, minutes=7)
    for staff_id in STAFF:
        assert view.shift_at(staff_id, moment, tol) == _scan_shift(view, staff_id, moment, tol)


def _ref(n: int, kind: str, attrs: dict[str, object], minutes: int = 0) -> Event:
    return decode_obj({"id": f"r-{n}", "time": (T0 + timedelta(minutes=minutes)).isoformat(),
                       "source": "hr", "kind": kind, "attrs": attrs})  # fmt: skip


SHIFT = {"staff_id": "S1", "start": "2026-03-02T07:00:00Z", "end": "2026-03-02T16:00:00Z"}


def test_every_reference_kind_is_applied_once_whatever_the_redeliveries() -> None:
    """Idempotence is checked where each fact is kept (no set of every id): a second
    delivery of any reference event changes nothing, at the same time or another order."""
    events = [
        _ref(1, "staff.upsert", {"staff_id": "S1", "name": "A B", "phones": ["+447700900123"]}),
        _ref(2, "staff.upsert", {"staff_id": "S1", "name": "A C"}),  # same time, later id
        _ref(3, "vetting.changed", {"staff_id": "S1", "status": "granted"}),
        _ref(4, "misconduct.outcome", {"staff_id": "S1", "case": "C1", "outcome": "no_case"}),
        _ref(5, "vetting.review.completed", {"staff_id": "S1", "case": "C1"}),
        _ref(6, "association.declared", {"staff_id": "S1", "person": "P-1"}),
        _ref(7, "watchlist.upsert", {"list": "canary", "person": "P-1"}),
        _ref(8, "watchlist.removed", {"list": "canary", "person": "P-1"}, minutes=5),
        _ref(9, "person.link", {"person": "P-1", "link": "phone", "value": "07700 900123"}),
        _ref(10, "task.assigned", {"ref": "T1", "staff_ids": ["S1"], "subjects": ["P-1"]}),
        _ref(11, "shift.rostered", SHIFT),
        _ref(12, "shift.rostered", {"staff_id": "S1"}),  # no times: no fact, still idempotent
        _ref(13, "complaint.logged", {"staff_id": "S1", "complaint": "K1"}),
    ]
    state = ReferenceState()
    assert all(state.apply(e) for e in events)
    assert not any(state.apply(e) for e in reversed(events))
    assert state.applied == len(events)
    view = state.at(T0 + timedelta(hours=1))
    staff = view.staff("S1")
    assert staff is not None and staff.value.name == "A C" and staff.value.phones is None
    assert view.on_list("P-1", "canary") is None  # removed at minute 5
    assert state.at(T0).on_list("P-1", "canary") is not None
    assert len(view.misconduct("S1")) == len(view.reviews_completed("S1")) == 1
    assert len(view.associations("S1")) == len(view.links_of("P-1")) == 1
    assert [f.value.subjects for f in view.tasks_of("S1")] == [("P-1",)]
    assert len(view.shifts("S1")) == 1 and len(view.complaints("S1")) == 1
    assert view.persons_linked_to("+44 7700 900123") == {"P-1"}
    assert view.at(T0 - timedelta(seconds=1)).staff("S1") is None


@settings(max_examples=150, deadline=None)
@given(shifts, st.integers(0, 220), st.integers(0, 220), st.sampled_from((0.0, 3600.0, 43200.0)))
def test_shifts_near_matches_a_scan_of_every_shift(
    given_shifts: list[tuple[str, int, int, int]], known_at: int, hour: int, horizon: float
) -> None:
    state = ReferenceState()
    for n, (staff, known, start, hours) in enumerate(given_shifts):
        state.apply(_shift(n, staff, known, start, hours))
    view = state.at(T0 + timedelta(hours=known_at))
    moment = T0 + timedelta(hours=hour)
    for staff_id in STAFF[:2]:
        scan = [s for s in view.shifts(staff_id)
                if abs(s.start.timestamp() - moment.timestamp()) <= horizon]  # fmt: skip
        assert view.shifts_near(staff_id, moment, horizon) == scan
        assert view.has_shifts(staff_id) == bool(view.shifts(staff_id))


def test_shared_shift_times_keep_each_offset() -> None:
    """Shift times are shared between shifts, but the same instant written in another
    offset stays as written (explanations print it)."""
    state = ReferenceState()
    state.apply(_ref(1, "shift.rostered", SHIFT))
    state.apply(_ref(2, "shift.rostered", {**SHIFT, "staff_id": "S2"}))
    state.apply(_ref(3, "shift.rostered", {"staff_id": "S3", "start": "2026-03-02T08:00:00+01:00",
                                           "end": "2026-03-02T17:00:00+01:00"}))  # fmt: skip
    view = state.at(T0 + timedelta(days=1))
    (s1,), (s2,), (s3,) = view.shifts("S1"), view.shifts("S2"), view.shifts("S3")
    assert s1.start is s2.start and s1.end is s2.end
    assert s3.start == s1.start and s3.start.isoformat() == "2026-03-02T08:00:00+01:00"


def test_tasks_memo_forgets_the_oldest_and_still_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tasks memo is bounded: an officer worked out long ago is worked out again."""
    import detectors.reference.state

    monkeypatch.setattr(detectors.reference.state, "TASK_MEMO_OFFICERS", 2)
    state = ReferenceState()
    for n, staff_id in enumerate(STAFF):
        state.apply(_task(n, f"T{n}", 0, [staff_id], [PEOPLE[n]]))
    view = state.at(T0 + timedelta(hours=1))
    for _ in range(2):
        for n, staff_id in enumerate(STAFF):
            assert [f.value.ref for f in view.tasks_of(staff_id)] == [f"T{n}"]
            assert view.subjects_tasked(staff_id) == {PEOPLE[n]}
    assert len(state._tasks_memo) == 2
