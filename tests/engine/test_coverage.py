"""Reference coverage gating: a missing feed gives one operational alert, not one per officer,
and judging resumes from the event time the feed arrives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from prometheus_client import CollectorRegistry

from detectors.registry import build
from engine.coverage import FeedCoverage
from engine.hooks import PipelineHooks
from engine.pipeline import COVERAGE_DETECTOR, Pipeline
from models.events import Event, decode_event
from streams.metrics import WorkerMetrics

T0 = datetime(2026, 3, 1, tzinfo=UTC)
STAFF = [f"S{i}" for i in range(1, 11)]


def _ev(eid: str, kind: str, t: datetime, **kw: Any) -> Event:
    raw = {"id": eid, "time": t.isoformat(), "source": "x", "kind": kind, **kw}
    return decode_event(orjson.dumps(raw))


def _force(vetting_day: int | None, vetted: list[str]) -> list[Event]:
    """Ten staff known for a year, one misconduct outcome owing a review, logins on 10 days;
    the vetting feed connected on ``vetting_day`` (None: never), with records for ``vetted``."""
    year_ago = T0 - timedelta(days=365)
    events = [_ev(f"hr-{s}", "staff.upsert", year_ago, attrs={"staff_id": s, "status": "active"})
              for s in STAFF]  # fmt: skip
    events.append(_ev("mis-1", "misconduct.outcome", T0 - timedelta(days=60),
                      attrs={"staff_id": "S1", "case": "C1", "outcome": "written_warning"}))
    if vetting_day is not None:
        arrived = T0 + timedelta(days=vetting_day, hours=9)
        events += [_ev(f"vet-{s}", "vetting.changed", arrived,
                       attrs={"staff_id": s, "level": "MV", "status": "granted"})
                   for s in vetted]  # fmt: skip
    for day in range(10):
        for s in STAFF:
            for hour in (8, 10):
                t = T0 + timedelta(days=day, hours=hour)
                events.append(_ev(f"in-{s}-{day}-{hour}", "auth.login", t, actor=s))
    return events


def test_no_vetting_feed_raises_one_operational_alert_and_nothing_about_officers() -> None:
    alerts = Pipeline(build()).run(_force(None, []))
    assert [a for a in alerts if a.detector.startswith("vetting.")] == []
    ops = [a for a in alerts if a.detector == COVERAGE_DETECTOR]
    assert len(ops) == 1
    assert "vetting records exist for 0% of staff" in ops[0].explanation
    assert "vetting.lapsed_access" in ops[0].explanation
    assert "vetting.review_overdue" in ops[0].explanation
    assert ops[0].facts["inactive"] == [
        "association.declared_linked", "vetting.expiring", "vetting.lapsed_access",
        "vetting.review_overdue",
    ]  # fmt: skip


def test_the_feed_arriving_on_day_5_resumes_judging_from_day_5() -> None:
    vetted = [s for s in STAFF if s != "S10"]  # S10 has no vetting record: a real lapse
    alerts = Pipeline(build()).run(_force(5, vetted))
    lapsed = [a for a in alerts if a.detector == "vetting.lapsed_access"]
    assert [(a.officer, a.time) for a in lapsed] == [("S10", T0 + timedelta(days=5, hours=10))]
    overdue = [a for a in alerts if a.detector == "vetting.review_overdue"]
    # owed since day -32, judged as of the feed's arrival: it brought no review
    assert [(a.officer, a.time) for a in overdue] == [("S1", T0 + timedelta(days=5, hours=9))]
    assert "connected on 2026-03-06" in overdue[0].explanation
    ops = [a for a in alerts if a.detector == COVERAGE_DETECTOR]
    assert [a.time for a in ops] == [T0 + timedelta(hours=8), T0 + timedelta(days=5, hours=9)]
    gated, resumed = ops
    assert "resumed_at" not in gated.facts
    assert resumed.facts["since"] == gated.facts["since"]
    assert resumed.facts["resumed_at"] == (T0 + timedelta(days=5, hours=9)).isoformat()
    assert resumed.facts["resumed"] == gated.facts["inactive"]
    assert resumed.severity == "low" and "again" in resumed.title


def test_a_never_connected_feed_raises_no_resumption() -> None:
    ops = [a for a in Pipeline(build()).run(_force(None, [])) if a.detector == COVERAGE_DETECTOR]
    assert [("resumed_at" in a.facts) for a in ops] == [False]


def test_a_review_the_late_feed_brings_counts() -> None:
    events = _force(5, STAFF)
    events.append(_ev("rev-1", "vetting.review.completed", T0 + timedelta(days=5, hours=9),
                      attrs={"staff_id": "S1", "case": "C1"}))  # its history, stamped then
    alerts = Pipeline(build()).run(events)
    assert [a for a in alerts if a.detector.startswith("vetting.")] == []


def test_the_same_alerts_whatever_the_order_of_reference_events() -> None:
    events = _force(5, STAFF[:-1])
    want = {a.id for a in Pipeline(build()).run(events)}
    assert {a.id for a in Pipeline(build()).run(list(reversed(events)))} == want


def test_coverage_is_reported_to_the_metrics() -> None:
    registry = CollectorRegistry()
    metrics = WorkerMetrics(registry)
    p = Pipeline(build(), hooks=PipelineHooks(on_coverage=metrics.coverage))
    for e in _force(None, []):
        p.process(e)
    p.tick()
    labels = {"feed": "vetting"}
    assert registry.get_sample_value("probity_reference_feed_coverage_ratio", labels) == 0.0
    assert registry.get_sample_value("probity_detectors_inactive", labels) == 4.0


def test_coverage_counts_staff_after_a_grace_and_follows_event_time() -> None:
    cov = FeedCoverage({"vetting"}, min_share=0.5)
    for i in range(4):
        cov.record("staff.upsert", f"S{i}", T0)
    assert cov.gated_since("vetting", T0 + timedelta(hours=12)) is None  # grace: a day
    assert cov.gated_since("vetting", T0 + timedelta(days=2)) == T0 + timedelta(days=1)
    cov.record("vetting.changed", "S0", T0 + timedelta(days=3))
    cov.record("vetting.changed", "S1", T0 + timedelta(days=4))
    assert cov.at("vetting", T0 + timedelta(days=3)).share == 0.25
    assert cov.gated_since("vetting", T0 + timedelta(days=3, hours=1)) is not None
    assert cov.gated_since("vetting", T0 + timedelta(days=4)) is None
    assert cov.covering_since("vetting", T0 + timedelta(days=9)) == T0 + timedelta(days=4)
    cov.record("vetting.changed", "S2", T0 + timedelta(days=1))  # a late fact, earlier
    assert cov.covering_since("vetting", T0 + timedelta(days=9)) == T0 + timedelta(days=3)


def test_a_restarted_pipeline_remembers_the_stretch_it_raised() -> None:
    """Stopped while the vetting feed is missing (days 0-5, until 09:30), started again after
    it arrived (day 5, 09:00): given what the first raised, the second says once that judging
    resumed; without it, it would say nothing (its first event is after the stretch)."""
    events = _force(5, STAFF)
    reference = [e for e in events if e.is_reference]
    cut = T0 + timedelta(days=5, hours=9, minutes=30)
    first = Pipeline(build())
    before = first.run(reference + [e for e in events if not e.is_reference and e.time < cut])
    assert [a.facts.get("resumed_at") for a in before if a.detector == COVERAGE_DETECTOR] == [
        None
    ]
    memory = orjson.loads(orjson.dumps(first.coverage_memory()))  # as the changelog keeps it
    since = (T0 - timedelta(days=364)).isoformat()  # staff known a year, a day's grace
    assert memory == {"raised": [["vetting", since]], "resumed": []}

    after = [e for e in events if not e.is_reference and e.time >= cut]
    forgetful = Pipeline(build())
    assert [a for a in forgetful.run(reference + after) if a.detector == COVERAGE_DETECTOR] == []

    second = Pipeline(build())
    second.remember_coverage(memory)
    ops = [a for a in second.run(reference + after) if a.detector == COVERAGE_DETECTOR]
    assert [(a.facts["since"], a.facts["resumed_at"]) for a in ops] == [
        (since, (T0 + timedelta(days=5, hours=9)).isoformat())
    ]
    kept = second.coverage_memory()
    assert kept["resumed"] == kept["raised"]
    third = Pipeline(build())
    third.remember_coverage(kept)
    assert [a for a in third.run(reference + after) if a.detector == COVERAGE_DETECTOR] == []


def test_the_clear_span_is_the_stretch_in_which_no_feed_is_short() -> None:
    cov = FeedCoverage(frozenset({"vetting"}), min_share=0.5)
    for s in ("S1", "S2"):
        cov.record("staff.upsert", s, T0)  # counted from T0 + 1 day (the grace)
    cov.record("vetting.changed", "S1", T0 + timedelta(days=5))
    first, last = datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC)
    assert cov.clear_span(T0) == (first, T0 + timedelta(days=1))
    assert cov.clear_span(T0 + timedelta(days=3)) is None
    assert cov.clear_span(T0 + timedelta(days=6)) == (T0 + timedelta(days=5), last)
    version = cov.version
    cov.record("staff.upsert", "S3", T0)
    assert cov.version > version and cov.clear_span(T0 + timedelta(days=6)) is None


def test_judging_freely_in_a_clear_span_raises_what_asking_every_time_does(
    monkeypatch: Any,
) -> None:
    """The pipeline skips asking per feed while event time stays in a span free of gaps; a
    late event from a gap still opens its stretch, and the next event says it resumed."""
    events = _force(5, [s for s in STAFF if s != "S10"])
    reference = [e for e in events if e.is_reference]
    activity = [e for e in events if not e.is_reference]
    late = [e for e in activity if e.time < T0 + timedelta(days=5)]
    stream = reference + [e for e in activity if e not in late] + late
    stream.append(_ev("in-last", "auth.login", T0 + timedelta(days=9, hours=12), actor="S2"))
    asked: list[datetime] = []
    inactive = Pipeline.inactive

    def counted(self: Pipeline, det: Any, t: datetime, event: Event | None) -> bool:
        asked.append(t)
        return inactive(self, det, t, event)

    monkeypatch.setattr(Pipeline, "inactive", counted)
    freely = Pipeline(build()).run(stream)
    freely_asked = len(asked)
    monkeypatch.setattr(FeedCoverage, "clear_span", lambda self, t: None)
    asking = Pipeline(build()).run(stream)
    assert freely_asked < len(asked) - freely_asked  # the days after the gap, judged freely
    assert [a.id for a in freely] == [a.id for a in asking]
    ops = [a for a in freely if a.detector == COVERAGE_DETECTOR]
    assert ["resumed_at" in a.facts for a in ops] == [False, True]
    assert ops[1].facts["resumed_at"] == (T0 + timedelta(days=5, hours=9)).isoformat()
