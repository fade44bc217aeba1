"""Risk accumulation: convergence of several categories over time, decaying."""

from __future__ import annotations

from typing import Any

import pytest

from detectors.base import StateView
from detectors.exceptions import ConfigError
from detectors.reference.state import ReferenceState
from detectors.risk.accumulation import RiskAccumulation
from models.alerts import Category, Finding, Severity
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
