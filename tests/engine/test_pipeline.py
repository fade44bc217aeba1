"""The processing core without Kafka: contract examples, redelivery, event-time semantics."""

from __future__ import annotations

import orjson

from detectors.base import EventDetector
from detectors.registry import build
from engine.codec import SEEN_KEY, SEEN_WIDTH, seen_token, seen_tokens
from engine.pipeline import Pipeline
from models.alerts import Category
from models.events import decode_event


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
    from detectors.access.canary import CanaryAccess
    from detectors.base import EventDetector
    from engine.hooks import PipelineHooks

    class Broken(EventDetector):  # not a subclass of a built-in one: those may be compiled
        id, kinds, category = CanaryAccess.id, CanaryAccess.kinds, CanaryAccess.category
        description = "always fails"

        def judge(self, event, view):
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


class _Judged(EventDetector):
    """Notes every event that got past the redelivery check."""

    id = "test.judged"
    kinds = frozenset({"auth.login"})
    category = Category.MISUSE_OF_SYSTEMS
    description = "records what it is given"

    def __init__(self) -> None:
        self.ids: list[str] = []

    def judge(self, event, view):
        self.ids.append(event.id)
        return []


def test_an_officer_remembers_the_last_events_as_compact_tokens(event_factory):
    """The last ``seen_per_officer`` events of an officer are skipped when redelivered, older
    ones are judged again; the state keeps a 12-character token per event, JSON-able."""
    judged = _Judged()
    p = Pipeline([judged], seen_per_officer=16)
    logins = [event_factory("auth.login", id=f"a-long-event-id-{i:04d}", actor="S1")
              for i in range(40)]  # fmt: skip
    for e in logins:
        p.process_activity(e)
    state = p.officers["S1"]
    assert len(state[SEEN_KEY]) == 16 * SEEN_WIDTH
    assert orjson.loads(orjson.dumps(state)) == state
    assert seen_tokens(state) == {seen_token(e.id) for e in logins[-16:]}
    for e in logins[-16:]:  # redelivered: remembered, skipped
        p.process_activity(e)
    assert judged.ids == [e.id for e in logins]
    p.process_activity(logins[0])  # forgotten long ago: judged again
    assert judged.ids[-1] == logins[0].id


def test_a_state_written_with_whole_ids_still_recognises_them(event_factory):
    judged = _Judged()
    p = Pipeline([judged])
    p.officers["S1"] = {SEEN_KEY: ["old-0", "old-1"]}
    p.process_activity(event_factory("auth.login", id="old-1", actor="S1"))
    p.process_activity(event_factory("auth.login", id="new-1", actor="S1"))
    assert judged.ids == ["new-1"]
    assert seen_tokens(p.officers["S1"]) == {seen_token(i) for i in ("old-0", "old-1", "new-1")}


def test_packed_state_is_the_compressed_json_of_the_state():
    import zstandard

    from engine.codec import pack_state, unpack_state

    state = {SEEN_KEY: seen_token("e1"), "access.no_purpose": {"views": {"P-1": [[1.0, "e1", 0]]}}}
    packed = pack_state(state)
    assert type(packed) is bytes
    assert zstandard.ZstdDecompressor().decompress(packed) == orjson.dumps(state)
    assert unpack_state(packed) == state


def test_state_packed_as_plain_json_by_an_older_version_still_unpacks():
    from engine.codec import unpack_state

    state = {SEEN_KEY: seen_token("e1"), "access.off_duty": {"last_on": 1.0}}
    assert unpack_state(orjson.dumps(state)) == state


def test_timed_and_untimed_runs_find_suppress_and_report_alike(contract_examples):
    """The untimed path calls detectors directly; it must treat findings as the timed one."""
    from engine.hooks import PipelineHooks

    def run(timed: bool) -> tuple[list[str], list[str], list[str]]:
        seen: list[str] = []
        times: list[str] = []
        hooks = PipelineHooks(
            on_finding=lambda f: seen.append(f.detector),
            is_suppressed=lambda f: f.detector == "access.canary",
            on_detector_time=(lambda d, s: times.append(d)) if timed else None,
        )
        alerts = Pipeline(build(), hooks=hooks).run(_examples(contract_examples))
        return sorted(a.detector for a in alerts), sorted(seen), times

    timed, untimed = run(True), run(False)
    assert timed[:2] == untimed[:2] and "access.canary" not in timed[0]
    assert "access.covert_unauthorised" in timed[0]
    assert timed[2] and not untimed[2]
