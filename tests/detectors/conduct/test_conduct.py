"""Complaint patterns and discrimination complaints not referred to the IOPC."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from detectors.conduct._complaints import fold_complaints
from detectors.reference.state import ReferenceState
from detectors.registry import build
from engine.pipeline import Pipeline
from models.alerts import Alert
from models.events import Event

Make = Callable[..., Event]


def _run(detector_id: str, events: list[Event], **params: Any) -> list[Alert]:
    dets = [d for d in build({detector_id: params} if params else None) if d.id == detector_id]
    return Pipeline(dets).run(events)


def staff(f: Make, sid: str = "S1") -> Event:
    return f("staff.upsert", id=f"hr-{sid}", time="2024-01-01T00:00:00Z", source="hr",
             attrs={"staff_id": sid, "name": "Ann Lee", "status": "active"})  # fmt: skip


def complaint(f: Make, ref: str, t: str, category: str | None, kind: str = "complaint.logged",
              sid: str = "S1", **attrs: Any) -> Event:  # fmt: skip
    a = {"staff_id": sid, "complaint": ref, **attrs}
    if category:
        a["category"] = category
    return f(kind, id=f"{kind}-{ref}-{t}", time=t, source="psd", attrs=a)


def clock(f: Make, t: str) -> Event:
    return f("auth.login", id=f"clock-{t}", time=t, actor="S99")


# -- folding ------------------------------------------------------------------------------------


def test_fold_groups_events_by_complaint_and_keeps_the_latest_category(event_factory: Make) -> None:
    f = event_factory
    ref = ReferenceState()
    ref.apply_all([
        complaint(f, "CO-1", "2026-01-01T00:00:00Z", "incivility"),
        complaint(f, "CO-1", "2026-01-03T00:00:00Z", "discrimination", kind="complaint.updated"),
        complaint(f, "CO-1", "2026-01-04T00:00:00Z", None, kind="complaint.referred", body="IOPC"),
        complaint(f, "CO-2", "2026-01-02T00:00:00Z", "other"),
    ])  # fmt: skip
    folded = fold_complaints(ref.at(datetime(2026, 2, 1, tzinfo=UTC)).complaints("S1"))
    assert [c.key for c in folded] == ["CO-1", "CO-2"]
    one = folded[0]
    assert one.category == "discrimination"
    assert one.category_since == datetime(2026, 1, 3, tzinfo=UTC)
    assert one.logged.event_id == "complaint.logged-CO-1-2026-01-01T00:00:00Z"
    assert [r.value.body for r in one.referrals] == ["IOPC"]


# -- complaint pattern --------------------------------------------------------------------------


def test_pattern_weighs_serious_categories_most(event_factory: Make) -> None:
    f = event_factory
    serious = [staff(f), complaint(f, "CO-1", "2025-05-01T00:00:00Z", "sexual_misconduct"),
               complaint(f, "CO-2", "2025-09-01T00:00:00Z", "discrimination")]  # fmt: skip
    minor = [staff(f), complaint(f, "CO-1", "2025-05-01T00:00:00Z", "incivility"),
             complaint(f, "CO-2", "2025-09-01T00:00:00Z", "incivility")]  # fmt: skip
    alerts = _run("conduct.complaint_pattern", serious)
    assert len(alerts) == 1 and alerts[0].facts["weight"] == 6
    assert "1 discrimination, 1 sexual misconduct" in alerts[0].explanation
    assert _run("conduct.complaint_pattern", minor) == []


def test_pattern_window_is_twelve_months(event_factory: Make) -> None:
    f = event_factory
    events = [staff(f), complaint(f, "CO-1", "2024-05-01T00:00:00Z", "sexual_misconduct"),
              complaint(f, "CO-2", "2025-05-02T00:00:00Z", "sexual_misconduct")]  # fmt: skip
    assert _run("conduct.complaint_pattern", events) == []
    assert len(_run("conduct.complaint_pattern", events, window_days=400)) == 1


def test_pattern_parameters_come_from_settings(event_factory: Make) -> None:
    f = event_factory
    events = [staff(f)] + [
        complaint(f, f"CO-{i}", f"2025-0{i}-01T00:00:00Z", "incivility") for i in range(1, 5)
    ]
    assert _run("conduct.complaint_pattern", events) == []  # 4 x 1 < 5
    got = _run("conduct.complaint_pattern", events, weights={"incivility": 2.0})
    assert len(got) == 1  # one alert for the run, however many complaints join it
    assert got[0].evidence == [e.id for e in events[1:4]]


def test_updates_of_an_old_complaint_do_not_make_a_new_pattern(event_factory: Make) -> None:
    f = event_factory
    events = [
        staff(f),
        complaint(f, "CO-1", "2025-05-01T00:00:00Z", "sexual_misconduct"),
        complaint(f, "CO-1", "2025-06-01T00:00:00Z", "sexual_misconduct", kind="complaint.updated"),
    ]
    assert _run("conduct.complaint_pattern", events) == []


# -- discrimination complaints not referred -----------------------------------------------------


@pytest.mark.parametrize(
    ("referral", "expected"),
    [
        (None, 1),
        (("2026-01-14T00:00:00Z", "IOPC"), 0),
        (("2026-01-14T00:00:00Z", "Independent Office for Police Conduct (IOPC)"), 0),
        (("2026-01-14T00:00:00Z", "PSD"), 1),  # referred, but not to the IOPC
        (("2026-01-20T00:00:00Z", "IOPC"), 1),  # late
    ],
)
def test_discrimination_referred_within_ten_days(
    event_factory: Make, referral: tuple[str, str] | None, expected: int
) -> None:
    f = event_factory
    events = [staff(f), complaint(f, "CO-1", "2026-01-05T00:00:00Z", "discrimination")]
    if referral:
        events.append(complaint(f, "CO-1", referral[0], None, kind="complaint.referred",
                                body=referral[1]))  # fmt: skip
    events.append(clock(f, "2026-02-01T00:00:00Z"))
    alerts = _run("conduct.discrimination_not_referred", events)
    assert len(alerts) == expected
    if alerts:
        assert alerts[0].time.isoformat() == "2026-01-15T00:00:00+00:00"
        assert alerts[0].category == "discrimination"


def test_clock_starts_when_recategorised_as_discrimination(event_factory: Make) -> None:
    f = event_factory
    events = [
        staff(f),
        complaint(f, "CO-1", "2026-01-01T00:00:00Z", "incivility"),
        complaint(f, "CO-1", "2026-01-10T00:00:00Z", "discrimination", kind="complaint.updated"),
        clock(f, "2026-01-19T00:00:00Z"),
    ]
    assert _run("conduct.discrimination_not_referred", events) == []
    events[-1] = clock(f, "2026-01-21T00:00:00Z")
    alerts = _run("conduct.discrimination_not_referred", events)
    assert [a.time.isoformat() for a in alerts] == ["2026-01-20T00:00:00+00:00"]
    assert _run("conduct.discrimination_not_referred", events, refer_days=30) == []


def test_not_referred_raised_once_however_often_it_ticks(event_factory: Make) -> None:
    f = event_factory
    det = [d for d in build() if d.id == "conduct.discrimination_not_referred"]
    p = Pipeline(det)
    for e in [staff(f), complaint(f, "CO-1", "2026-01-05T00:00:00Z", "discrimination")]:
        p.process(e)
    ids = set()
    for day in range(16, 28, 3):
        p.process(clock(f, f"2026-01-{day}T00:00:00Z"))
        ids |= {a.id for a in p.tick()}
    assert len(ids) == 1
