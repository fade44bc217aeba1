"""Stops, use of force and body-worn video."""

from __future__ import annotations

from models.events import Event
from tests.detectors.misuse_helpers import RunDetectors, ev, staff, ts


def stop(
    id_: str,
    actor: str,
    person: str,
    time: str,
    *,
    operation: str | None = None,
    bwv: bool = True,
) -> Event:
    return ev(
        id_,
        "stop_search.recorded",
        time,
        actor=actor,
        subjects=[person],
        attrs={"operation": operation, "bwv": bwv, "grounds": "drugs"},
    )


def test_repeat_stops_without_operation(run_detectors: RunDetectors) -> None:
    events = [stop(f"s{i}", "S1", "P-1", ts(i * 7, 14)) for i in range(4)]
    events += [stop(f"o{i}", "S2", "P-2", ts(i, 14), operation="OP-X") for i in range(5)]
    alerts = run_detectors(events, only={"field.repeat_stop"})
    assert [(a.officer, a.evidence) for a in alerts] == [("S1", ["s0", "s1", "s2"])]


def test_no_bwv_unless_an_activation_covers_the_encounter(run_detectors: RunDetectors) -> None:
    events = [
        ev("act", "bwv.activated", ts(0, 10), actor="S2", attrs={"duration_s": 900}),
        stop("covered", "S2", "P-1", ts(0, 10, 10), bwv=False),
        stop("bare", "S1", "P-2", ts(0, 11), bwv=False),
        ev(
            "uof",
            "use_of_force.recorded",
            ts(0, 12),
            actor="S1",
            subjects=["P-2"],
            attrs={"bwv": False},
        ),
        stop("ok", "S1", "P-3", ts(0, 13), bwv=True),
    ]
    alerts = sorted(run_detectors(events, only={"field.no_bwv"}), key=lambda a: a.time)
    assert [(a.evidence, a.severity) for a in alerts] == [(["bare"], "medium"), (["uof"], "high")]


def test_repeated_stops_without_video_raise_again_at_the_repeat_line(
    run_detectors: RunDetectors,
) -> None:
    events = [stop(f"b{i}", "S1", f"P-{i}", ts(i, 11), bwv=False) for i in range(4)]
    alerts = sorted(run_detectors(events, only={"field.no_bwv"}), key=lambda a: a.time)
    assert [a.evidence for a in alerts] == [["b0"], ["b0", "b1", "b2"]]


def test_deleting_own_footage_but_not_retention_jobs(run_detectors: RunDetectors) -> None:
    events = [
        staff("S1"),
        ev(
            "a",
            "bwv.activated",
            ts(0, 9),
            actor="S1",
            record={"type": "bwv_footage", "id": "F-1"},
            attrs={"duration_s": 60},
        ),
        ev(
            "d1",
            "bwv.footage.deleted",
            ts(0, 20),
            actor="S1",
            record={"type": "bwv_footage", "id": "F-1"},
        ),
        ev(
            "d2",
            "bwv.footage.deleted",
            ts(1, 3),
            actor="SVC-RETENTION",
            record={"type": "bwv_footage", "id": "F-1"},
        ),
        ev(
            "d3",
            "bwv.footage.deleted",
            ts(9, 3),
            actor="S1",
            record={"type": "bwv_footage", "id": "F-99"},
            subjects=["P-77"],
        ),  # not theirs
    ]
    alerts = run_detectors(events, only={"field.bwv_deleted"})
    got = [(a.officer, a.evidence, a.severity) for a in alerts]
    assert got == [("S1", ["d1", "a"], "critical")]


def test_footage_record_naming_the_officer_is_their_own(run_detectors: RunDetectors) -> None:
    gone = ev(
        "d",
        "bwv.footage.deleted",
        ts(0, 20),
        actor="S1",
        record={"type": "bwv_footage", "id": "F-7"},
        attrs={"recorded_by": "S1"},
    )
    alerts = run_detectors([staff("S1"), gone], only={"field.bwv_deleted"})
    assert [a.evidence for a in alerts] == [["d"]]


def test_missing_flag_judged_only_where_the_officer_usually_has_video(
    run_detectors: RunDetectors,
) -> None:
    def encounter(i: int, sid: str, with_video: bool) -> list[Event]:
        out = []
        if with_video:
            out.append(
                ev(f"a{sid}{i}", "bwv.activated", ts(i, 10), actor=sid, attrs={"duration_s": 600})
            )
        out.append(
            ev(
                f"s{sid}{i}",
                "stop_search.recorded",
                ts(i, 10, 2),
                actor=sid,
                subjects=[f"P-{i}"],
                attrs={"grounds": "drugs"},
            )
        )
        return out

    usual = [e for i in range(6) for e in encounter(i, "S1", True)] + encounter(6, "S1", False)
    never = [e for i in range(7) for e in encounter(i, "S2", False)]  # no camera feed at all
    alerts = run_detectors([*usual, *never], only={"field.no_bwv"})
    assert [(a.officer, a.evidence) for a in alerts] == [("S1", ["sS16"])]


def test_operation_written_as_none_is_no_operation(run_detectors: RunDetectors) -> None:
    events = [stop(f"s{i}", "S1", "P-1", ts(i, 14), operation="N/A") for i in range(3)]
    assert len(run_detectors(events, only={"field.repeat_stop"})) == 1


def test_where_stops_without_video_are_common_only_repeats_raise(
    run_detectors: RunDetectors,
) -> None:
    # one officer in four has had a stop without video: camera failures, spread thin
    events = [stop(f"f{i}", f"F{i}", f"P-{i}", ts(0, 8, i), bwv=(i % 4 != 0)) for i in range(60)]
    events += [stop(f"s{i}", "S1", f"Q-{i}", ts(1 + i, 11), bwv=False) for i in range(3)]
    alerts = run_detectors(events, only={"field.no_bwv"})
    # until 50 officers are known the picture is unknown, and single ones raise
    assert {a.officer for a in alerts} == {f"F{i}" for i in range(0, 50, 4)} | {"S1"}
    assert [a.evidence for a in alerts if a.officer == "S1"] == [["s0", "s1", "s2"]]


def test_misconduct_concentrated_in_few_officers_still_raises_singly(
    run_detectors: RunDetectors,
) -> None:
    events = [stop(f"f{i}", f"F{i}", f"P-{i}", ts(0, 8, i), bwv=(i % 20 != 0)) for i in range(80)]
    events += [stop("s", "S1", "Q", ts(1, 11), bwv=False)]
    alerts = run_detectors(events, only={"field.no_bwv"})
    assert [a.evidence for a in alerts if a.officer == "S1"] == [["s"]]
