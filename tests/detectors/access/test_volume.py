"""Volume against robust baselines, and bursts followed by data leaving."""

from __future__ import annotations

from detectors.lib.volume import robust
from models.events import Event
from tests.detectors.misuse_helpers import RunDetectors, ev, shift, staff, task, ts, view


def _shifts(sid: str, counts: list[int], role_prefix: str = "P") -> list[Event]:
    out = []
    for day, n in enumerate(counts):
        out.append(shift(sid, ts(day, 8), ts(day, 18)))
        out += [
            view(f"{sid}-{day}-{i}", sid, f"{role_prefix}-{day}-{i}", ts(day, 8, 5 + i * 0.5))
            for i in range(n)
        ]
    return out


def test_robust_ignores_one_wild_value() -> None:
    med, sd = robust([10, 12, 11, 13, 500])
    assert med == 12 and sd < 3


def test_shift_far_above_own_baseline_raises_once(run_detectors: RunDetectors) -> None:
    alerts = run_detectors(
        [staff("S1"), *_shifts("S1", [20, 18, 22, 19, 21, 20, 120])], only={"access.volume_anomaly"}
    )
    assert len(alerts) == 1
    a = alerts[0]
    assert a.facts["median"] == 20 and a.facts["lookups"] > a.facts["line"]
    assert "median 20 per shift over their last 6 shifts" in a.explanation


def test_new_starter_and_steady_high_volume_do_not_alarm(run_detectors: RunDetectors) -> None:
    new = _shifts("S2", [20, 30, 150])  # warm-up: three shifts are no baseline
    control = _shifts("S3", [300, 280, 320, 310, 295, 305, 330])
    assert (
        run_detectors(
            [staff("S2"), staff("S3", "control_room"), *new, *control],
            only={"access.volume_anomaly"},
        )
        == []
    )


def test_a_quiet_week_then_normal_is_not_an_anomaly(run_detectors: RunDetectors) -> None:
    counts = [40, 42, 38, 41, 39, 40, 10, 9, 11, 12, 10, 45]
    events = [staff("S1"), *_shifts("S1", counts)]
    assert run_detectors(events, only={"access.volume_anomaly"}) == []


def _history(sid: str) -> list[Event]:
    return [
        view(f"h-{sid}-{d}-{h}-{i}", sid, f"P-{d}{h}{i}", ts(d, h, i * 10))
        for d in range(5)
        for h in (9, 11, 14)
        for i in range(3)
    ]


def _burst(sid: str, n: int, day: int = 5) -> list[Event]:
    return [view(f"b-{sid}-{i}", sid, f"P-b{i}", ts(day, 1, i)) for i in range(n)]


def _export(id_: str, sid: str, time: str, channel: str) -> Event:
    return ev(
        id_,
        "record.export",
        time,
        actor=sid,
        record={"type": "case", "id": "C"},
        attrs={"channel": channel, "count": 5},
    )


def test_burst_then_usb_export_is_one_sequence(run_detectors: RunDetectors) -> None:
    events = [
        staff("S1"),
        *_history("S1"),
        *_burst("S1", 50),
        _export("x1", "S1", ts(5, 2), "usb"),
        _export("x2", "S1", ts(5, 2, 30), "email"),
    ]
    alerts = run_detectors(events, only={"access.bulk_exfiltration"})
    assert len(alerts) == 1 and "x1" in alerts[0].evidence and "x2" not in alerts[0].evidence
    assert "their median is 3 look-ups per active hour" in alerts[0].explanation


def test_printing_after_a_burst_and_exports_without_a_burst_are_normal(
    run_detectors: RunDetectors,
) -> None:
    events = [
        staff("S1"),
        staff("S2"),
        *_history("S1"),
        *_burst("S1", 50),
        _export("p", "S1", ts(5, 2), "print"),
        *_history("S2"),
        *_burst("S2", 5),
        _export("e", "S2", ts(5, 2), "email"),
    ]
    assert run_detectors(events, only={"access.bulk_exfiltration"}) == []


def test_without_history_the_burst_must_be_twice_the_minimum(run_detectors: RunDetectors) -> None:
    small = [staff("S1"), *_burst("S1", 40), _export("x", "S1", ts(5, 2), "usb")]
    big = [staff("S2"), *_burst("S2", 70), _export("y", "S2", ts(5, 2), "usb")]
    alerts = run_detectors([*small, *big], only={"access.bulk_exfiltration"})
    assert [a.officer for a in alerts] == ["S2"]


def test_a_large_export_with_no_purpose_stands_for_its_own_burst(
    run_detectors: RunDetectors,
) -> None:
    big = ev(
        "x",
        "record.export",
        ts(5, 2),
        actor="S1",
        record={"type": "case", "id": "C"},
        attrs={"channel": "download", "count": 400},
    )
    justified = ev(
        "y",
        "record.export",
        ts(5, 2),
        actor="S2",
        record={"type": "case", "id": "C"},
        purpose="CASE-1",
        attrs={"channel": "download", "count": 400},
    )
    alerts = run_detectors(
        [staff("S1"), staff("S2"), big, justified], only={"access.bulk_exfiltration"}
    )
    assert [(a.officer, a.evidence) for a in alerts] == [("S1", ["x"])]
    assert "the export alone holds 400 records" in alerts[0].explanation


def test_an_export_under_the_officers_own_task_is_case_work(run_detectors: RunDetectors) -> None:
    events = [
        staff("S1"),
        task("CASE-9", ["S1"], ["P-1"]),
        *_history("S1"),
        *_burst("S1", 80),
        ev(
            "x",
            "record.export",
            ts(5, 2),
            actor="S1",
            record={"type": "case", "id": "CASE-9"},
            purpose="CASE-9",
            attrs={"channel": "email", "count": 80},
        ),
    ]
    assert run_detectors(events, only={"access.bulk_exfiltration"}) == []
