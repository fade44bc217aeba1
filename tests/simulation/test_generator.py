"""The simulated force: deterministic, valid per the contract, realistic where it matters."""

from __future__ import annotations

import itertools
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from models.events import KNOWN_KINDS, decode_event
from simulation.exceptions import SimulationError
from simulation.generator import MIN_DAYS, MIN_STAFF, Force, history, live_events
from simulation.noise import PROFILES, NoiseProfile
from simulation.scenarios import expected_detectors


def _t(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_same_seed_same_force_other_seed_other_force() -> None:
    a = Force(staff=40, days=7, seed=5)
    b = Force(staff=40, days=7, seed=5)
    c = Force(staff=40, days=7, seed=6)
    assert orjson.dumps(a.events()) == orjson.dumps(b.events())
    assert a.labels() == b.labels()
    assert orjson.dumps(a.events()) != orjson.dumps(c.events())


def test_every_event_decodes_and_is_a_known_kind(forces: Force) -> None:
    for ev in forces.events():
        event = decode_event(orjson.dumps(ev))
        assert event.kind in KNOWN_KINDS, event.kind


def test_events_in_time_order_with_unique_ids(forces: Force) -> None:
    events = forces.events()
    times = [_t(e["time"]) for e in events]
    assert times == sorted(times)
    ids = [e["id"] for e in events]
    assert len(ids) == len(set(ids))


def test_every_declared_scenario_and_lookalike_is_injected(it_force: Force) -> None:
    labels = it_force.labels()
    covered = {d for s in labels["scenarios"] for d in s["detectors"]}
    assert covered == expected_detectors(), sorted(expected_detectors() ^ covered)
    kinds = {s["kind"].split(":")[0] for s in labels["lookalikes"]}
    assert {
        "vip_with_task", "da_job_with_calls", "night_worker", "barred_dob_only",
        "review_on_day_20", "quoted_slur_in_statement", "declared_reviewed_partner",
        "cid_tasked_to_ocg", "exhibit_imaging", "press_office", "night_overtime", "it_admin",
        "bulletin",
    } <= kinds  # fmt: skip
    assert all(s["legitimate"] for s in labels["lookalikes"])
    assert not any(s["legitimate"] for s in labels["scenarios"])


def test_labels_point_at_real_events_and_staff(forces: Force) -> None:
    events = forces.events()
    by_id = {e["id"]: e for e in events}
    staff = {e["attrs"]["staff_id"] for e in events if e["kind"] == "staff.upsert"}
    labels = forces.labels()
    assert labels["metadata"]["staff"] == len(staff)
    assert labels["metadata"]["events"] == len(events)
    for lab in labels["scenarios"] + labels["lookalikes"]:
        assert lab["evidence"], lab["id"]
        assert all(e in by_id for e in lab["evidence"]), lab["id"]
        assert _t(lab["window"]["start"]) <= _t(lab["window"]["end"])
        if lab["kind"] != "retention_job":
            assert set(lab["officers"]) <= staff, lab["id"]
        for eid in lab["evidence"]:  # activity evidence is by one of the scenario's officers
            actor = by_id[eid].get("actor")
            assert actor is None or actor in lab["officers"], (lab["id"], eid)


def test_scenario_parameters_change_with_the_seed() -> None:
    def shape(seed: int) -> list[tuple[str, int, str]]:
        labels = Force(staff=60, days=10, seed=seed).labels()
        return [(s["kind"], len(s["evidence"]), s["window"]["start"]) for s in labels["scenarios"]]

    a, b = shape(1), shape(2)
    differing = sum(x != y for x, y in zip(a, b, strict=False))
    assert differing > len(a) // 2


def test_sensitive_records_outside_scenarios_are_opened_only_with_a_task(
    forces: Force,
) -> None:
    """Benign life reaches VIPs, vulnerable victims and nominals only through tasks."""
    events = forces.events()
    labels = forces.labels()
    injected = {e for s in labels["scenarios"] for e in s["evidence"]}
    sensitive = {
        e["attrs"]["person"] for e in events
        if e["kind"] == "watchlist.upsert"
        and e["attrs"]["list"] in ("vip", "vulnerable_victim", "ocg_nominal", "canary")
    }  # fmt: skip
    tasked: dict[tuple[str, str], datetime] = {}
    for e in events:
        if e["kind"] == "task.assigned":
            for s in e["attrs"]["staff_ids"]:
                for p in e["attrs"]["subjects"]:
                    tasked.setdefault((s, p), _t(e["time"]))
    opened = 0
    for e in events:
        if e["kind"] not in ("record.view", "record.search") or e["id"] in injected:
            continue
        for p in set(e.get("subjects") or ()) & sensitive:
            opened += 1
            since = tasked.get((e["actor"], p))
            assert since is not None and since <= _t(e["time"]), e
    assert opened > 10  # tasks do reach sensitive subjects


def test_benign_activity_falls_in_or_next_to_rostered_shifts(forces: Force) -> None:
    events = forces.events()
    labels = forces.labels()
    injected = {e for s in labels["scenarios"] for e in s["evidence"]}
    shifts: dict[str, list[tuple[datetime, datetime]]] = defaultdict(list)
    for e in events:
        if e["kind"] == "shift.rostered":
            a = e["attrs"]
            assert _t(e["time"]) < _t(a["start"])  # published before it starts
            shifts[a["staff_id"]].append((_t(a["start"]), _t(a["end"])))
    slack = timedelta(minutes=90)
    checked = 0
    for e in events:
        actor = e.get("actor")
        if actor is None or actor not in shifts or e["id"] in injected:
            continue
        t = _t(e["time"])
        assert any(s - slack <= t <= end + slack for s, end in shifts[actor]), e
        checked += 1
    assert checked > 1000


def test_control_room_looks_up_far_more_than_response() -> None:
    force = Force(staff=120, days=10, seed=3)
    events = force.events()
    role = {e["attrs"]["staff_id"]: e["attrs"]["role"] for e in events
            if e["kind"] == "staff.upsert"}  # fmt: skip
    per: dict[str, int] = defaultdict(int)
    for e in events:
        if e["kind"] in ("record.view", "record.search"):
            per[e["actor"]] += 1

    def median(r: str) -> float:
        counts = sorted(per[s] for s, x in role.items() if x == r)
        return counts[len(counts) // 2]

    assert median("control_room") > 3 * median("response")


def test_leavers_stop_using_systems(forces: Force) -> None:
    events = forces.events()
    left = {e["attrs"]["staff_id"]: _t(e["time"]) for e in events
            if e["kind"] == "staff.upsert" and e["attrs"]["status"] == "left"}  # fmt: skip
    assert left
    for e in events:
        if e.get("actor") in left:
            assert _t(e["time"]) < left[e["actor"]], e


def test_too_small_a_force_is_refused() -> None:
    with pytest.raises(SimulationError):
        Force(staff=5, days=21)
    with pytest.raises(SimulationError):
        Force(staff=100, days=2)


def test_300_staff_21_days_in_seconds() -> None:
    start = time.perf_counter()
    events = Force(staff=300, days=21, seed=2).events()
    elapsed = time.perf_counter() - start
    assert len(events) > 80_000
    assert elapsed < 20, f"{elapsed:.1f}s"


def test_live_events_are_stamped_now_and_paced() -> None:
    now = [datetime(2026, 11, 23, 15, 0, tzinfo=UTC)]
    slept: list[float] = []

    def clock() -> datetime:
        return now[0]

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += timedelta(seconds=seconds)

    feed = live_events(staff=30, seed=4, rate=50, clock=clock, sleep=sleep)
    events = list(itertools.islice(feed, 2500))
    assert len({e["id"] for e in events}) == len(events)
    for e in events:
        decode_event(orjson.dumps(e))
        assert _t(e["time"]) <= now[0] + timedelta(seconds=1)
    times = [_t(e["time"]) for e in events]
    assert times == sorted(times)
    paced = sum(slept)
    activity = sum(1 for e in events if e.get("actor"))
    assert paced > 0 and activity / paced == pytest.approx(50, rel=0.5)


def test_the_history_is_a_force_of_the_recent_past_at_calendar_time() -> None:
    """``probity run``'s history: the same scenarios as any force, on a Monday start, up to
    now and no later; doctests of the module run too."""
    import doctest

    import simulation.generator

    now = datetime(2026, 11, 26, 15, 30, tzinfo=UTC)  # a Thursday
    events, labels = history(staff=40, seed=3, days=7, now=now)
    start = _t(labels["metadata"]["start"])
    assert start.weekday() == 0 and now - timedelta(days=14) < start <= now - timedelta(days=7)
    assert events and all(_t(e["time"]) <= now for e in events)
    assert len(labels["scenarios"]) == len(Force(staff=40, days=7, seed=3).labels()["scenarios"])
    assert doctest.testmod(simulation.generator).failed == 0


def test_live_events_refuse_a_silly_rate() -> None:
    with pytest.raises(SimulationError):
        next(live_events(rate=0))


def test_variants_of_a_behaviour_come_with_the_seed() -> None:
    """Across seeds the same behaviour shows in its different forms (name variants, how
    vetting lapsed, self or family, which path to the OCG)."""
    seen: set[str] = set()
    for seed in range(12):
        for s in Force(staff=40, days=7, seed=seed).labels()["scenarios"]:
            if s["kind"].startswith("barred_match"):
                seen.add(s["note"].split("(")[-1].rstrip(")"))
            seen.add(s["kind"])
    assert {"nickname", "spelling", "order", "hyphen", "initial"} <= seen
    assert {"lapsed_access:withdrawn", "lapsed_access:expired"} <= seen
    assert {"self_family_colleague:self", "self_family_colleague:family"} <= seen
    assert {"ocg_path:address", "ocg_path:relative"} <= seen


def test_repeats_inject_each_scenario_again_with_other_officers() -> None:
    once = Force(staff=120, days=10, seed=8).labels()["scenarios"]
    twice = Force(staff=120, days=10, seed=8, repeats=2).labels()["scenarios"]
    assert len(twice) == 2 * len(once)
    first, second = twice[: len(once)], twice[len(once) :]
    assert [s["kind"].split(":")[0] for s in first] == [s["kind"].split(":")[0] for s in second]
    assert all(
        set(a["officers"]).isdisjoint(b["officers"]) for a, b in zip(first, second, strict=True)
    )
    with pytest.raises(SimulationError):
        Force(staff=120, days=10, repeats=0)


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(staff=st.integers(MIN_STAFF, 70), days=st.integers(MIN_DAYS, 16),
       seed=st.integers(1, 1000), it=st.booleans(), noise=st.sampled_from(PROFILES))  # fmt: skip
# sizes where a scenario once picked a day its officer did not work, or a look-alike cited a
# roster that the noise then dropped (KeyError: its evidence had no id)
@example(staff=20, days=7, seed=3, it=True, noise="realistic")
@example(staff=30, days=8, seed=3, it=True, noise="realistic")
@example(staff=40, days=7, seed=1, it=True, noise="realistic")
@example(staff=60, days=7, seed=3, it=True, noise="realistic")
def test_a_force_of_any_size_from_the_minimum_builds(
    staff: int, days: int, seed: int, it: bool, noise: NoiseProfile
) -> None:
    """From ``MIN_STAFF`` x ``MIN_DAYS`` up, every force builds, with labels citing its
    events; scenarios in a short force fall on days their officers work."""
    force = Force(staff=staff, days=days, seed=seed, it=it, noise=noise)
    events = force.events()
    ids = {e["id"] for e in events}
    labels = force.labels()
    cases = labels["scenarios"] + labels["lookalikes"] + labels.get("incidental", [])
    for lab in cases:
        assert set(lab["evidence"]) <= ids, lab["id"]
    assert len(labels["scenarios"]) >= 20


@settings(max_examples=10, deadline=None)
@given(staff=st.integers(-5, 200), days=st.integers(-5, 60))
def test_below_the_minimum_size_a_force_is_refused_with_a_reason(staff: int, days: int) -> None:
    assume(staff < MIN_STAFF or days < MIN_DAYS)
    with pytest.raises(SimulationError, match="must be at least"):
        Force(staff=staff, days=days)
