"""The realistic world (``noise="realistic"``): each kind of mess at about its declared rate,
measured on the generated events; deterministic per seed; the clean world unchanged."""

from __future__ import annotations

import hashlib
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

from models.events import decode_event
from probity.cli import main
from simulation.generator import Force
from simulation.noise import NO_PURPOSE_SOURCE, REALISTIC

STAFF, DAYS, SEED = 300, 10, 4


def _t(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _norm(address: str) -> str:
    """How the detectors compare addresses: case and commas do not matter."""
    return " ".join(address.replace(",", " ").upper().split())


@pytest.fixture(scope="module")
def noisy() -> Force:
    force = Force(staff=STAFF, days=DAYS, seed=SEED, noise="realistic")
    force.events()
    return force


@pytest.fixture(scope="module")
def clean() -> Force:
    force = Force(staff=STAFF, days=DAYS, seed=SEED)
    force.events()
    return force


def _staff(events: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {e["attrs"]["staff_id"]: e["attrs"] for e in events if e["kind"] == "staff.upsert"}


def _people_matching_staff(events: list[dict[str, Any]]) -> tuple[set[str], set[str]]:
    """Public person records at a staff address, and with a staff phone."""
    staff = _staff(events).values()
    addresses = {_norm(a) for s in staff for a in s["addresses"]}
    phones = {"0" + p[3:] for s in staff for p in s["phones"]}
    at_address, on_phone = set(), set()
    for e in events:
        if e["kind"] != "person.link":
            continue
        a = e["attrs"]
        if a["link"] == "address" and _norm(a["value"]) in addresses:
            at_address.add(a["person"])
        elif a["link"] == "phone":
            number = a["value"].replace(" ", "")
            number = "0" + number[3:] if number.startswith("+44") else number
            if number in phones:
                on_phone.add(a["person"])
    return at_address, on_phone


def test_chance_address_and_phone_matches_at_the_declared_rates(noisy: Force, clean: Force) -> None:
    n_staff = len(_staff(noisy.events()))
    noisy_addr, noisy_phone = _people_matching_staff(noisy.events())
    clean_addr, clean_phone = _people_matching_staff(clean.events())
    per_address = (
        REALISTIC.household_on_record
        + REALISTIC.former_occupants
        + REALISTIC.flat_no_number * sum(REALISTIC.flat_neighbours) / 2
        + REALISTIC.shared_house * sum(REALISTIC.housemates) / 2
    )
    extra_addr = (len(noisy_addr) - len(clean_addr)) / n_staff
    assert extra_addr == pytest.approx(per_address, rel=0.2)
    extra_phone = (len(noisy_phone) - len(clean_phone)) / n_staff
    assert extra_phone == pytest.approx(REALISTIC.recycled_phone, rel=0.5)


def test_looked_up_people_live_at_staff_addresses_as_often_as_in_a_town(
    noisy: Force, clean: Force
) -> None:
    """The share of people looked up who live at a staff address: none in the clean world
    outside scenarios, a little under 1% (the pool's share of the town) in the noisy one."""

    def share(force: Force) -> float:
        events = force.events()
        injected = {e for s in force.labels()["scenarios"] for e in s["evidence"]}
        at_address, on_phone = _people_matching_staff(events)
        looked = {
            e["record"]["id"] for e in events
            if e["kind"] in ("record.view", "record.search") and e["id"] not in injected
            and e["record"]["type"] == "person"
        }  # fmt: skip
        return len(looked & (at_address | on_phone)) / len(looked)

    assert share(clean) < 0.002
    assert 0.004 < share(noisy) < 0.02


def test_a_share_of_person_lookups_come_from_a_system_without_purpose(noisy: Force) -> None:
    lookups = [
        e for e in noisy.events()
        if e["kind"] in ("record.view", "record.search") and e["record"]["type"] == "person"
    ]  # fmt: skip
    without = [e for e in lookups if e["source"] == NO_PURPOSE_SOURCE]
    assert all("purpose" not in e for e in without)
    assert all("purpose" in e for e in lookups if e["source"] != NO_PURPOSE_SOURCE)
    assert len(without) / len(lookups) == pytest.approx(REALISTIC.no_purpose_system, abs=0.03)
    for e in without:
        decode_event(orjson.dumps(e))


def test_some_units_send_no_rosters_but_scenario_officers_keep_theirs(noisy: Force) -> None:
    events = noisy.events()
    staff = _staff(events)
    units = {s["unit"] for s in staff.values()}
    rostered = {staff[e["attrs"]["staff_id"]]["unit"] for e in events
                if e["kind"] == "shift.rostered"}  # fmt: skip
    missing = units - rostered
    assert len(missing) == max(1, round(REALISTIC.units_without_rosters * len(units)))
    assert sorted(missing) == noisy.labels()["metadata"]["noise"]["made"]["units_without_rosters"]
    officers = {o for s in noisy.labels()["scenarios"] for o in s["officers"]}
    assert not {staff[o]["unit"] for o in officers if o in staff} & missing
    active = {e["actor"] for e in events if e.get("actor") in staff}
    assert any(staff[a]["unit"] in missing for a in active)  # they still work


def test_late_and_duplicated_events_at_the_declared_rates(noisy: Force, clean: Force) -> None:
    def lateness(events: list[dict[str, Any]]) -> list[timedelta]:
        """For each first delivery of an activity event: how far behind the newest event
        already delivered it arrives."""
        newest, seen, out = None, set(), []
        for e in events:
            t = _t(e["time"])
            if e["id"] not in seen and "actor" in e and newest is not None:
                out.append(newest - t)
            seen.add(e["id"])
            newest = t if newest is None or t > newest else newest
        return out

    assert max(lateness(clean.events())) <= timedelta(0)
    late = lateness(noisy.events())
    behind = [d for d in late if d > timedelta(minutes=50)]
    assert len(behind) / len(late) == pytest.approx(REALISTIC.late, rel=0.25)
    assert max(behind) <= timedelta(hours=REALISTIC.late_hours[1], minutes=1)

    events = noisy.events()
    ids = Counter(e["id"] for e in events)
    twice = [i for i, n in ids.items() if n > 1]
    assert max(ids.values()) == 2
    assert len(twice) / len(ids) == pytest.approx(REALISTIC.duplicate, rel=0.3)
    copies: dict[str, list[bytes]] = {}
    for e in events:
        copies.setdefault(e["id"], []).append(orjson.dumps(e))
    assert all(a == b for i in twice for a, b in [copies[i]])  # same id, same content


def test_the_vetting_feed_starts_days_late_with_its_history(noisy: Force) -> None:
    """Nothing from the vetting system before its connection, a few days in; then its whole
    history at once, stamped with the connection time."""
    events = noisy.events()
    start = _t(noisy.labels()["metadata"]["start"])
    connected = _t(noisy.labels()["metadata"]["noise"]["made"]["vetting_feed_from"])
    lo, hi = REALISTIC.vetting_late_days
    assert start + timedelta(days=lo) <= connected < start + timedelta(days=hi + 1)
    first = next(i for i, e in enumerate(events) if e["source"] == "vetting")
    assert all(_t(e["time"]) < connected for e in events[:first])
    vetting = [e for e in events if e["source"] == "vetting"]
    assert min(_t(e["time"]) for e in vetting) == connected
    history = {e["id"]: e for e in vetting if _t(e["time"]) == connected}
    vetted = {e["attrs"]["staff_id"] for e in history.values() if e["kind"] == "vetting.changed"}
    assert len(vetted) > 0.9 * len(_staff(events))  # everyone vetted before the connection
    burst = events[first : first + len(history)]  # at once: nothing else in between
    assert [e["id"] for e in burst] == list(history)


def test_the_noisy_world_is_deterministic_per_seed() -> None:
    a = Force(staff=60, days=8, seed=3, noise="realistic")
    b = Force(staff=60, days=8, seed=3, noise="realistic")
    c = Force(staff=60, days=8, seed=5, noise="realistic")
    assert orjson.dumps(a.events()) == orjson.dumps(b.events())
    assert a.labels() == b.labels()
    assert orjson.dumps(a.events()) != orjson.dumps(c.events())


def test_noisy_labels_still_point_at_real_events(noisy: Force) -> None:
    ids = {e["id"] for e in noisy.events()}
    labels = noisy.labels()
    assert labels["metadata"]["events"] == len(noisy.events())
    assert labels["metadata"]["noise"]["profile"] == "realistic"
    for lab in labels["scenarios"] + labels["lookalikes"]:
        assert set(lab["evidence"]) <= ids, lab["id"]


def test_the_clean_world_is_unchanged() -> None:
    """The clean world's bytes as the simulator wrote them before noise existed."""
    force = Force(staff=60, days=10, seed=11)
    events = b"".join(orjson.dumps(e) + b"\n" for e in force.events())
    # the labels gained incidental cases (right alerts nobody injected): here S1024, who lives
    # with the ocg_path scenario's officer S1006; otherwise they are as they were
    labelled = dict(force.labels())
    incidental = labelled.pop("incidental")
    assert [(c["kind"], c["officers"]) for c in incidental] == [
        ("housemate_on_ocg_path", ["S1024"])
    ]
    labels = orjson.dumps(labelled, option=orjson.OPT_SORT_KEYS)
    assert hashlib.md5(events).hexdigest() == "a0376455e022f4e373440a543351f4e7"
    # the force's ACU is what was its intel-4 unit: renamed, nothing else changed
    before = events.replace(b'"unit":"acu"', b'"unit":"intel-4"')
    assert hashlib.md5(before).hexdigest() == "63c1525c4f2034856f6b64c986ef15b4"
    assert hashlib.md5(labels).hexdigest() == "e41258b8f0edca5be98b08140e3bfff5"
    # the labels gained each case's first malicious event (for time to detection), no more
    bare = orjson.loads(labels)
    for case in bare["scenarios"] + bare["lookalikes"]:
        del case["first_event"]
    assert hashlib.md5(orjson.dumps(bare, option=orjson.OPT_SORT_KEYS)).hexdigest() == (
        "5a6906c309829f5132dfa9f54ca58211")  # fmt: skip
    assert "noise" not in force.labels()["metadata"]
    assert orjson.dumps(Force(staff=60, days=10, seed=11, noise="clean").events()) == (
        orjson.dumps(force.events())
    )


def test_simulate_noise_option(tmp_path: Any) -> None:
    runner = CliRunner()
    args = ["simulate", "--staff", "40", "--days", "7", "--seed", "2", "--quiet"]
    result = runner.invoke(main, [*args, "--noise", "realistic", "--out", str(tmp_path / "n")])
    assert result.exit_code == 0, result.output
    labels = orjson.loads((tmp_path / "n" / "labels.json").read_bytes())
    assert labels["metadata"]["noise"]["profile"] == "realistic"
    lines = (tmp_path / "n" / "events.jsonl").read_bytes().splitlines()
    assert len(lines) == labels["metadata"]["events"]
    bad = runner.invoke(main, [*args, "--noise", "filthy", "--out", str(tmp_path / "x")])
    assert bad.exit_code != 0
