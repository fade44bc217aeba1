"""The processing core without Kafka: contract examples, redelivery, event-time semantics."""

from __future__ import annotations

from detectors.registry import build
from models.events import decode_event
from streams.pipeline import Pipeline


def _examples(contract_examples):
    lines = (contract_examples / "valid.jsonl").read_bytes().splitlines()
    return [decode_event(line) for line in lines]


def test_contract_examples_give_the_three_first_alerts(contract_examples):
    alerts = Pipeline(build()).run(_examples(contract_examples))
    got = sorted((a.detector, a.officer, tuple(a.evidence)) for a in alerts)
    assert ("access.canary", "S1001", ("ath-4",)) in got
    assert ("access.covert_unauthorised", "S1001", ("int-6",)) in got
    assert ("audit.monitoring_disabled", "S1002", ("aud-1",)) in got


def test_redelivered_event_makes_no_second_alert(contract_examples):
    events = _examples(contract_examples)
    p = Pipeline(build())
    for e in events:
        if e.is_reference:
            p.process(e)
    canary_view = next(e for e in events if e.id == "ath-4")
    first = p.process(canary_view)
    again = p.process(canary_view)
    assert [a.detector for a in first].count("access.canary") == 1
    assert again == []


def test_reference_takes_effect_from_its_event_time(event_factory):
    # the canary is planted after the view: no alert, whatever order they are read in
    view = event_factory(
        "record.view",
        id="v",
        time="2026-03-01T05:00:00Z",
        actor="S1",
        record={"type": "person", "id": "P-1"},
    )
    plant = event_factory(
        "watchlist.upsert",
        id="w",
        time="2026-03-01T06:00:00Z",
        attrs={"list": "canary", "person": "P-1"},
    )
    for order in ([view, plant], [plant, view]):
        assert Pipeline(build()).run(order) == []


def test_alert_ids_do_not_depend_on_the_run(contract_examples):
    a = {x.id for x in Pipeline(build()).run(_examples(contract_examples))}
    b = {x.id for x in Pipeline(build()).run(_examples(contract_examples))}
    assert a == b and len(a) >= 3


def test_a_failing_detector_is_counted_not_fatal(event_factory):
    from detectors.access import CanaryAccess
    from streams.pipeline import PipelineHooks

    class Broken(CanaryAccess):
        def evaluate(self, event, view):
            raise ZeroDivisionError

    errors: list[str] = []
    p = Pipeline([Broken()], hooks=PipelineHooks(on_detector_error=lambda d, e: errors.append(d)))
    out = p.process(event_factory("record.view", actor="S1", record={"type": "person", "id": "P"}))
    assert out == [] and errors == ["access.canary"]


def test_whoever_judges_a_reference_event_answers_for_every_officer(event_factory):
    """A barred-list entry published on another worker's partition re-checks all staff: the
    judging worker raises for officers whose activity it does not own."""
    staff = event_factory(
        "staff.upsert",
        id="s",
        time="2026-03-01T06:00:00Z",
        attrs={"staff_id": "S9", "name": "Jon Smyth", "dob": "1983-07-02", "status": "active"},
    )
    barred = event_factory(
        "watchlist.upsert",
        id="b",
        time="2026-03-02T06:00:00Z",
        attrs={"list": "barred", "person": None, "name": "Jonathan Smith", "dob": "1983-07-02"},
    )
    only_barred = [d for d in build() if d.id == "vetting.barred_match"]
    p = Pipeline(only_barred, owns=lambda _s: False)
    p.process_reference(staff)
    alerts = p.process_reference(barred)
    assert [(a.detector, a.officer) for a in alerts] == [("vetting.barred_match", "S9")]
