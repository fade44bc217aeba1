"""Risk accumulation: convergence of several categories over time, decaying."""

from __future__ import annotations

from typing import Any

import pytest

from detectors.base import StateView
from detectors.exceptions import ConfigError
from detectors.reference.state import ReferenceState
from detectors.risk.accumulation import RiskAccumulation, family, independent
from models.alerts import Category, Finding, Severity
from models.events import Event
from tests.detectors.misuse_helpers import RunDetectors, ev, shift, staff, ts, view, watch


def _state() -> dict[str, Any]:
    return {}


def _finding(det: str, cat: Category, sev: Severity, time: str, eid: str) -> Finding:
    return Finding(
        detector=det,
        category=cat,
        officer="S1",
        time=ev("x", "auth.login", time, actor="S1").time,
        severity=sev,
        score=50,
        title=det,
        explanation="x",
        evidence=[eid],
    )


def _absorb(
    det: RiskAccumulation, state: dict[str, Any], findings: list[Finding], time: str
) -> list[Finding]:
    e = ev(f"e-{time}", "auth.login", time, actor="S1")
    view_ = StateView(now=e.time, officer="S1", ref=ReferenceState().at(e.time), state=state)
    return det.absorb(findings, e, view_)


def test_one_category_or_one_day_is_not_convergence() -> None:
    det, state = RiskAccumulation(inputs=()), _state()
    same_cat = [_finding("a", Category.MISUSE_OF_SYSTEMS, "high", ts(d), f"m{d}") for d in range(3)]
    for f in same_cat:
        assert _absorb(det, state, [f], f.time.isoformat()) == []
    det, state = RiskAccumulation(inputs=()), _state()
    same_day = [
        _finding("a", Category.MISUSE_OF_SYSTEMS, "high", ts(0, 9), "m"),
        _finding("b", Category.INTEGRITY_OF_EVIDENCE, "high", ts(0, 9), "i"),
    ]
    assert _absorb(det, state, same_day, ts(0, 9)) == []


def test_convergence_raises_with_dominant_category_and_escalates_under_one_id() -> None:
    det, state = RiskAccumulation(inputs=()), _state()
    assert (
        _absorb(det, state, [_finding("a", Category.MISUSE_OF_SYSTEMS, "high", ts(0), "m0")], ts(0))
        == []
    )
    first = _absorb(
        det, state, [_finding("b", Category.INTEGRITY_OF_EVIDENCE, "critical", ts(1), "i1")], ts(1)
    )
    assert len(first) == 1 and first[0].category == Category.INTEGRITY_OF_EVIDENCE
    again = _absorb(
        det, state, [_finding("c", Category.MISUSE_OF_SYSTEMS, "medium", ts(2), "m2")], ts(2)
    )
    assert again == []  # +15 is less than the step
    worst = _finding("d", Category.MISUSE_OF_SYSTEMS, "critical", ts(3), "m3")
    worse = _absorb(det, state, [worst], ts(3))
    assert len(worse) == 1 and worse[0].dedup == first[0].dedup
    assert worse[0].score > first[0].score


def test_risk_decays_so_old_findings_do_not_converge_with_new() -> None:
    det, state = RiskAccumulation(inputs=()), _state()
    _absorb(det, state, [_finding("a", Category.MISUSE_OF_SYSTEMS, "medium", ts(0), "m0")], ts(0))
    late = _finding("b", Category.INTEGRITY_OF_EVIDENCE, "medium", ts(60), "i60")
    assert _absorb(det, state, [late], ts(60)) == []


def test_runs_its_inputs_and_counts_weak_off_duty_signals(run_detectors: RunDetectors) -> None:
    vetted = ev(
        "vet",
        "vetting.changed",
        ts(-5),
        attrs={"staff_id": "S1", "level": "MV", "status": "granted"},
    )
    ref = [
        staff("S1"),
        vetted,
        watch("vip", "P-8"),
        *(shift("S1", ts(d, 7), ts(d, 17)) for d in range(9)),
    ]
    events = [
        *ref,
        ev(
            "s",
            "stop_search.recorded",
            ts(0, 13),
            actor="S1",
            subjects=["P-1"],
            attrs={"bwv": False},
        ),  # field.no_bwv, medium
        view("od", "S1", "P-2", ts(4, 2), terminal="REMOTE-1"),  # one off-duty access: weak
        view("vip", "S1", "P-8", ts(8, 16)),  # access.vip_browsing, medium
    ]
    alerts = run_detectors(events, only={"risk.accumulation"})
    assert len(alerts) == 1
    assert alerts[0].evidence == ["s", "od", "vip"]
    assert "1 weaker signals" in alerts[0].explanation or "1 weaker signal" in alerts[0].explanation
    without_weak = [e for e in events if e.id != "od"]
    assert run_detectors(without_weak, only={"risk.accumulation"}) == []


def test_inputs_star_means_every_activity_detector_and_empty_means_none() -> None:
    star = {d.id for d in RiskAccumulation(inputs=("*",))._detectors()}
    assert "access.no_purpose" in star and "field.no_bwv" in star
    assert not any(i.startswith("risk.") for i in star)
    assert RiskAccumulation(inputs=())._detectors() == []


def test_weak_signals_add_risk_but_no_category() -> None:
    det, state = RiskAccumulation(inputs=()), _state()
    first = _finding("a", Category.DISCRIMINATION, "high", ts(0), "d0")
    assert _absorb(det, state, [first], ts(0)) == []
    e = ev("w", "auth.login", ts(1), actor="S1")
    view_ = StateView(now=e.time, officer="S1", ref=ReferenceState().at(e.time), state=state)
    weak = [[e.time.timestamp(), "off-duty access", "misuse_of_systems", 8.0, "w", "x", 0]]
    second = _finding("b", Category.DISCRIMINATION, "high", ts(2), "d2")
    assert det.absorb([], e, view_, weak=weak) == []
    assert _absorb(det, state, [second], ts(2)) == []  # one category of findings


def test_three_detectors_in_one_category_are_broad_enough() -> None:
    det, state = RiskAccumulation(inputs=()), _state()
    for day, name in enumerate(("access.vip_browsing", "access.off_duty")):
        found = [_finding(name, Category.MISUSE_OF_SYSTEMS, "medium", ts(day), f"m{day}")]
        assert _absorb(det, state, found, ts(day)) == []
    third = [_finding("access.self_family_colleague", Category.MISUSE_OF_SYSTEMS, "medium",
                      ts(2), "m2")]  # fmt: skip
    alerts = _absorb(det, state, third, ts(2))
    assert len(alerts) == 1 and alerts[0].category == Category.MISUSE_OF_SYSTEMS


def _force_events() -> list[Any]:
    import tempfile
    from pathlib import Path

    from devtools.bench.force import write_force
    from models.events import decode_event

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "force.jsonl"
        write_force(30, 21, 2, path)
        return [decode_event(line) for line in path.read_bytes().splitlines()]


def _risk_of(pipeline: Any) -> RiskAccumulation:
    return next(d for d in pipeline.detectors if isinstance(d, RiskAccumulation))


def _weak_off_duty(pipeline: Any) -> int:
    return sum(
        1
        for state in pipeline.officers.values()
        for signal in state.get("risk.accumulation", {}).get("signals", [])
        if signal[1] == "off-duty access"
    )


def test_in_a_pipeline_risk_reads_the_configured_off_duty_slot() -> None:
    """Risk reads the episodes the pipeline's own access.off_duty keeps (no private copy), so
    tuning off_duty tunes what risk sees: judging no access without a roster in reach, off_duty
    keeps no episodes, and risk sees no weak off-duty signals."""
    from detectors.registry import build
    from engine.pipeline import Pipeline

    events = _force_events()
    default = Pipeline(build())
    default.run(events)
    risk_states = [s.get("risk.accumulation", {}) for s in default.officers.values()]
    assert not any("inputs" in s for s in risk_states)
    assert _weak_off_duty(default) > 0
    tuned = Pipeline(build({"access_off_duty": {"roster_horizon_days": 0.0}}))
    tuned.run(events)
    assert _weak_off_duty(tuned) == 0


def test_risk_without_its_dependency_is_refused() -> None:
    from detectors.exceptions import ConfigError, RegistrationError
    from detectors.registry import build
    from engine.pipeline import Pipeline

    with pytest.raises(ConfigError, match=r"access\.off_duty, which is disabled"):
        build(disabled=frozenset({"access.off_duty"}))
    with pytest.raises(RegistrationError, match=r"access\.off_duty"):
        Pipeline([RiskAccumulation()])


def test_risk_reads_only_the_findings_of_its_inputs() -> None:
    """``inputs`` takes effect in the pipeline: with none of the detectors that fire, risk
    sees no findings and raises nothing."""
    from detectors.registry import build
    from engine.pipeline import Pipeline

    events = _force_events()
    every = [a for a in Pipeline(build()).run(events) if a.detector == RiskAccumulation.id]
    assert every
    narrow = build({"risk.accumulation": {"inputs": ["audit.monitoring_disabled"]}})
    assert not [a for a in Pipeline(narrow).run(events) if a.detector == RiskAccumulation.id]
    with pytest.raises(ConfigError, match="unknown detectors"):
        build({"risk.accumulation": {"inputs": ["access.nope"]}})


def _on(
    source: str, det: str, cat: Category, sev: Severity, day: int, eid: str, hour: int = 9
) -> tuple[Event, list[Finding]]:
    """A finding of ``det`` on an event of the system ``source``, as the pipeline hands it."""
    time = ts(day, hour)
    return ev(f"e-{eid}", "auth.login", time, actor="S1", source=source), [
        _finding(det, cat, sev, time, eid)
    ]


def _feed(det: RiskAccumulation, batches: list[tuple[Event, list[Finding]]]) -> list[Finding]:
    state: dict[str, Any] = {}
    out: list[Finding] = []
    for e, found in batches:
        view_ = StateView(now=e.time, officer="S1", ref=ReferenceState().at(e.time), state=state)
        out.extend(det.absorb(found, e, view_))
    return out


MISUSE, DISCLOSURE = Category.MISUSE_OF_SYSTEMS, Category.UNAUTHORISED_DISCLOSURE
EVIDENCE, DISCRIMINATION = Category.INTEGRITY_OF_EVIDENCE, Category.DISCRIMINATION


def test_one_chatty_detector_hits_its_cap_and_does_not_alert() -> None:
    """Four medium findings of one detector (60) and a low one of another category (5): without
    the cap the officer is over the line (65 >= 30) on one feed's say-so; with it 24 + 5."""
    chatty = [_on("athena", "access.no_purpose", MISUSE, "medium", d, f"n{d}") for d in range(4)]
    other = _on("endpoint", "insider.removable_media", DISCLOSURE, "low", 4, "u4")
    assert _feed(RiskAccumulation(inputs=()), [*chatty, other]) == []
    uncapped = _feed(RiskAccumulation(inputs=(), cap=100.0), [*chatty, other])
    assert len(uncapped) == 1  # the cap is what holds it back
    # a cap can be set per detector; the others keep the default
    loose = RiskAccumulation(inputs=(), caps=(("access.no_purpose", 60.0),))
    alerts = _feed(loose, [*chatty, other])
    assert len(alerts) == 1 and alerts[0].facts["capped"] == {}
    # a cap that binds is named with what it held back
    tight = RiskAccumulation(inputs=(), caps=(("access.no_purpose", 40.0),))
    alerts = _feed(tight, [*chatty, other])
    assert alerts[-1].facts["capped"] == {"access.no_purpose": 40.0}
    assert "Capped: access.no_purpose 5" in alerts[-1].explanation
    assert "counted as 40 (cap 40)" in alerts[-1].explanation


def test_the_same_total_from_independent_sources_alerts_with_the_bonus_named() -> None:
    """The same 65 of risk from four families on four systems: no source near its cap, and
    the four agree independently, so the risk gains 30%."""
    spread = [
        _on("athena", "access.no_purpose", MISUSE, "medium", 0, "n0"),
        _on("endpoint", "insider.removable_media", DISCLOSURE, "medium", 1, "u1"),
        _on("teams", "conduct.discriminatory_message", DISCRIMINATION, "medium", 2, "t2"),
        _on("bwv", "field.no_bwv", EVIDENCE, "medium", 3, "b3"),
        _on("endpoint", "insider.removable_media", DISCLOSURE, "low", 4, "u4"),
    ]
    alerts = _feed(RiskAccumulation(inputs=()), spread)
    assert alerts, "independent sources converging must alert"
    last = alerts[-1]
    agreeing = ["access@athena", "conduct@teams", "field@bwv", "insider@endpoint"]
    assert last.facts["agreeing"] == agreeing
    assert last.facts["bonus"] == pytest.approx(0.3 * (last.facts["risk"] - last.facts["bonus"]))
    assert (
        "4 independent sources agree (access on athena, conduct on teams, field on bwv, "
        "insider on endpoint): bonus +"
    ) in last.explanation
    assert last.facts["capped"] == {}


def test_the_bonus_carries_weak_agreement_over_the_line() -> None:
    """Three independent sources at 25 in all stay under the line without the bonus and
    reach it with it (25 x 1.2 = 30)."""
    found = [
        _on("athena", "access.vip_browsing", MISUSE, "medium", 0, "v0"),
        _on("endpoint", "insider.removable_media", DISCLOSURE, "low", 1, "u1"),
        _on("proxy", "insider.exfiltration_channel", DISCLOSURE, "low", 1, "x1", hour=11),
        _on("bwv", "field.no_bwv", EVIDENCE, "low", 2, "b2"),
    ]
    assert _feed(RiskAccumulation(inputs=(), agreement_bonus=0.0), found) == []
    alerts = _feed(RiskAccumulation(inputs=()), found)
    assert len(alerts) == 1
    # insider on two systems is one family: three sources, not four
    assert alerts[0].facts["agreeing"] == ["access@athena", "field@bwv", "insider@endpoint"]


def test_one_system_judged_by_several_families_is_one_source() -> None:
    """A USB copy seen by insider.removable_media and, on the same endpoint event, as an
    export without purpose is one observation; access on two record systems is one family."""
    pairs = {("insider", "endpoint"), ("export", "endpoint"), ("access", "athena")}
    assert independent(pairs) == [("access", "athena"), ("export", "endpoint")]
    assert len(independent({("access", "athena"), ("access", "niche")})) == 1
    assert family("off-duty access") == "access" and family("insider.sequence") == "insider"


def test_signals_kept_before_systems_were_recorded_still_count() -> None:
    """State written by an earlier version has 7-field signals: their system is unknown
    (``?``, all such signals one system)."""
    det, state = RiskAccumulation(inputs=()), _state()
    t0 = ev("x", "auth.login", ts(0), actor="S1").time.timestamp()
    state["signals"] = [[t0, "access.no_purpose", "misuse_of_systems", 15.0, "o0", "old", 1]]
    found = [_finding("field.no_bwv", EVIDENCE, "high", ts(1), "b1")]
    alerts = _absorb(det, state, found, ts(1))
    assert len(alerts) == 1 and alerts[0].facts["agreeing"] == ["access@?", "field@t"]
