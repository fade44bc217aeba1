"""Off-duty access against the officer's own roster."""

from __future__ import annotations

from models.events import Event
from tests.detectors.misuse_helpers import RunDetectors, ev, shift, staff, ts, view


def _roster() -> list[Event]:
    return [
        staff("S1"),
        staff("N1"),
        *(shift("S1", ts(d, 7), ts(d, 17)) for d in (0, 1, 2, 4)),
        *(shift("N1", ts(d, 22), ts(d + 1, 7)) for d in range(5)),
    ]


def test_rest_day_remote_access_raises_with_shift_context(run_detectors: RunDetectors) -> None:
    views = [view(f"o{i}", "S1", f"P-{i}", ts(3, 2, i), terminal="REMOTE-VPN-1") for i in range(3)]
    alerts = run_detectors([*_roster(), *views], only={"access.off_duty"})
    assert len(alerts) == 1
    a = alerts[0]
    assert a.severity == "high" and a.facts["remote"] is True
    assert "last shift ended 2026-03-04 17:00" in a.explanation


def test_local_access_needs_more_than_remote(run_detectors: RunDetectors) -> None:
    two = [view(f"o{i}", "S1", f"P-{i}", ts(3, 2, i)) for i in range(2)]
    assert run_detectors([*_roster(), *two], only={"access.off_duty"}) == []
    four = [view(f"o{i}", "S1", f"P-{i}", ts(3, 2, i)) for i in range(4)]
    assert len(run_detectors([*_roster(), *four], only={"access.off_duty"})) == 1


def test_night_worker_overrun_and_unrostered_staff_are_not_off_duty(
    run_detectors: RunDetectors,
) -> None:
    night = [view(f"n{i}", "N1", f"P-{i}", ts(2, 3, i * 5)) for i in range(8)]
    overrun = [view(f"r{i}", "S1", f"P-{i}", ts(1, 16, 30 + i * 30)) for i in range(8)]
    nobody = [view(f"u{i}", "U1", f"P-{i}", ts(3, 2, i), terminal="REMOTE") for i in range(8)]
    assert run_detectors([*_roster(), *night, *overrun, *nobody], only={"access.off_duty"}) == []


def test_a_login_from_home_makes_its_terminal_remote(run_detectors: RunDetectors) -> None:
    login = ev(
        "in",
        "auth.login",
        ts(3, 1, 58),
        actor="S1",
        terminal="LAPTOP-7",
        attrs={"location": "home"},
    )
    views = [view(f"o{i}", "S1", f"P-{i}", ts(3, 2, i), terminal="LAPTOP-7") for i in range(2)]
    alerts = run_detectors([*_roster(), login, *views], only={"access.off_duty"})
    assert len(alerts) == 1 and alerts[0].facts["remote"] is True


def test_slower_pacing_needs_more_and_scores_less(run_detectors: RunDetectors) -> None:
    """Day 3 is a rest day: look-ups 2 h apart from 10:00 are joined across the pauses."""

    def paced(n: int, gap_h: float) -> list[Event]:
        return [view(f"o{i}", "S1", f"P-{i}", ts(3, 10 + i * gap_h)) for i in range(n)]

    quick = run_detectors([*_roster(), *paced(4, 1)], only={"access.off_duty"})
    slow = run_detectors([*_roster(), *paced(6, 2)], only={"access.off_duty"})
    assert len(quick) == 1 and len(slow) == 1
    assert slow[0].score < quick[0].score and slow[0].facts["span_h"] == 10
    assert "the line rose" in slow[0].explanation
    # four look-ups over 6 h: the line has risen past them
    assert run_detectors([*_roster(), *paced(4, 2)], only={"access.off_duty"}) == []
    # a pause longer than join_h ends the slow episode
    assert run_detectors([*_roster(), *paced(6, 3.5)], only={"access.off_duty"}) == []
