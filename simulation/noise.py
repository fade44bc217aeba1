"""The mess of a real force's data (``probity simulate --noise realistic``).

The clean world is tidy in ways real data is not: the public never lives where staff live,
every system sends a purpose, every unit is rostered, events arrive once and in order, and
every reference feed is there from the first day. A simulator that tidy flatters the
detectors. :class:`Noise` holds the rates of a real town's mess, each with where it comes
from; :func:`chance_matches`, :func:`systems_without_purpose`, :func:`units_without_rosters`
and :func:`deliver` apply them at the points of the generation where they arise.

Chance matches between staff and the public
    Published figures: England and Wales have about 60 million residents and about 240,000
    police officers, police staff and PCSOs, so one member of staff per 250 residents;
    households average 2.4 people (2021 census); about a fifth of English dwellings are flats,
    and private renters stay about 4 years in a home, owners far longer (English Housing
    Survey). Estimates (no published figure; change them here): the share of people on a
    force's records over ten years (victim, witness, driver, suspect), the former occupants
    still on record, how often a flat number is lost, shared houses, recycled numbers.
    On the force's records, a member of staff's address is then also the address of:

    - other members of their household on record: 1.4 others, about 45% of them on record
      (estimate), so 0.63 per address;
    - former occupants still on record: 1.0 per address (estimate: one or two households
      moved out in ten years, not all of them on record);
    - neighbours, where a flat is recorded without its flat number: 30% of records of flats
      (estimate) lose it, so 6% of staff addresses match 2 to 10 other residents of the
      building (below the detectors' hub threshold of 10 at the top);
    - housemates in a shared house (mostly new joiners): 5% of staff (estimate), 2 to 4;
    - and a member of staff's phone was someone else's before (UK operators reissue numbers
      some months after they fall out of use): 8% of staff numbers (estimate).

    These records are written as ``person.link`` events. The people the simulated force
    looks up (the world's ``ordinary`` pool, 12 per member of staff) stand for the 250
    residents per member of staff; each matching record joins that pool with the same
    chance (12/250), so the share of looked-up people who live at a colleague's address is
    the town's (a little under 1%). People looked up are not a uniform draw of residents
    (offenders and victims come up more), so this errs high if staff households are looked
    up less than their neighbours.

Systems without purpose fields
    30% of look-ups of person records (estimate) are made on a system that has no purpose field
    (a legacy records system, a mobile app): they come from ``niche`` with no ``purpose`` at
    all. A search and the view that follows it (same officer, same person, same day) are on the
    same system.

Missing rosters
    10% of units (estimate; rounded, at least one) send no ``shift.rostered`` at all (a unit
    rostered on paper or on a system that is not connected). The units of injected scenarios'
    officers keep their rosters, so every scenario stays findable in principle; look-alikes and
    benign staff get no such protection.

Late and duplicated events
    2% of activity events (estimate) arrive 1 to 8 hours after their event time (devices that
    sync when back in coverage, log shippers retrying, exports in batches), and 0.5% of all
    events are delivered twice, the copy within 30 minutes (at-least-once delivery: same id,
    same content). The file is then in arrival order, not event-time order.

A reference feed that starts days late
    The vetting system is connected 3 to 5 days into the period: nothing from it arrives
    before then, and at connection it sends its whole history at once, each event stamped
    with the connection time (what the feed says, as of when it says it), so until then the
    force knows nobody's vetting. Reference takes effect from its event time: a backfill
    with the original times would hide the gap from any replay.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from simulation.world import ACU_FROM, ACU_UNIT, Ev, Staff, World, stamp

NoiseProfile = Literal["clean", "realistic"]
PROFILES: tuple[NoiseProfile, ...] = ("clean", "realistic")

LOOKUP_KINDS = ("record.view", "record.search")
NO_PURPOSE_SOURCE = "niche"


@dataclass(frozen=True)
class Noise:
    """The rates of a realistic world's mess (see the module's docstring for the sources)."""

    residents_per_staff: float = 250.0
    household_on_record: float = 0.63  # other household members on record, per staff address
    former_occupants: float = 1.0  # per staff address
    flat_no_number: float = 0.06  # share of staff addresses matching a whole building
    flat_neighbours: tuple[int, int] = (2, 10)
    shared_house: float = 0.05  # share of staff in a shared house
    housemates: tuple[int, int] = (2, 4)
    recycled_phone: float = 0.08  # share of staff numbers with a previous holder on record
    no_purpose_system: float = 0.30  # share of person look-ups on a system without purpose
    units_without_rosters: float = 0.10  # share of units
    late: float = 0.02  # share of activity events arriving late
    late_hours: tuple[float, float] = (1.0, 8.0)
    duplicate: float = 0.005  # share of all events delivered twice
    duplicate_minutes: float = 30.0
    vetting_late_days: tuple[int, int] = (3, 5)  # the vetting feed's first day; (0, 0): none

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


REALISTIC = Noise()


def _poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw (Knuth's method; the means here are small)."""
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def chance_matches(w: World, noise: Noise, rng: random.Random) -> dict[str, int]:
    """Members of the public on record at staff addresses and with staff phones' previous
    numbers; each joins the look-up pool with the pool's share of the town. Call after
    :func:`simulation.benign.populate`. Returns how many of each kind were written."""
    pool_share = len(w.ordinary) / (noise.residents_per_staff * max(1, len(w.staff)))
    made = {"household": 0, "former_occupant": 0, "flat_neighbour": 0, "housemate": 0,
            "recycled_phone": 0, "in_lookup_pool": 0}  # fmt: skip

    def person(kind: str, s: Staff, *, phone: bool = False, days: tuple[int, int]) -> None:
        when = w.start - timedelta(days=rng.randint(*days))
        p = (
            w.new_person(phone=s.phone, when=when)
            if phone
            else w.new_person(address=s.address, when=when)
        )
        made[kind] += 1
        if rng.random() < pool_share:
            w.ordinary.append(p)
            made["in_lookup_pool"] += 1

    for s in list(w.staff):
        for _ in range(_poisson(rng, noise.household_on_record)):
            person("household", s, days=(30, 3000))
        for _ in range(_poisson(rng, noise.former_occupants)):
            person("former_occupant", s, days=(200, 3650))
        if rng.random() < noise.flat_no_number:
            for _ in range(rng.randint(*noise.flat_neighbours)):
                person("flat_neighbour", s, days=(30, 3650))
        if rng.random() < noise.shared_house:
            for _ in range(rng.randint(*noise.housemates)):
                person("housemate", s, days=(30, 700))
        if rng.random() < noise.recycled_phone:
            person("recycled_phone", s, phone=True, days=(200, 1500))
    return made


def systems_without_purpose(w: World, noise: Noise, rng: random.Random) -> int:
    """Move a share of person look-ups to a system that sends no purpose (the key is left
    out, as such a system would). A search and the view after it stay on one system. Call
    before :meth:`World.finish`. Returns how many events were moved."""
    on_system: dict[tuple[str, str, int], bool] = {}
    moved = 0
    for ev in w.events:
        if ev["kind"] not in LOOKUP_KINDS or ev["source"] != "athena":
            continue
        if (ev.get("record") or {}).get("type") != "person":
            continue
        key = (ev["actor"], ev["record"]["id"], (ev["time"] - w.start).days)
        if key not in on_system:
            on_system[key] = rng.random() < noise.no_purpose_system
        if on_system[key]:
            ev["source"] = NO_PURPOSE_SOURCE
            ev.pop("purpose", None)
            moved += 1
    return moved


def units_without_rosters(
    w: World, noise: Noise, rng: random.Random, keep: Iterable[str]
) -> list[str]:
    """Drop every ``shift.rostered`` of a share of units, never those of staff in ``keep``
    (the injected scenarios' officers). Call before :meth:`World.finish`. Returns the units."""
    kept = set(keep)
    protected = {s.unit for s in w.staff if s.id in kept}
    # in the order of the units' numbered names (the ACU is intel-4 renamed): naming the
    # ACU changed no other unit's chance of losing its rosters
    units = sorted({s.unit for s in w.staff} - protected,
                   key=lambda u: ACU_FROM if u == ACU_UNIT else u)  # fmt: skip
    share = noise.units_without_rosters
    n = max(1, round(share * len({s.unit for s in w.staff}))) if share > 0 else 0
    dropped = sorted(rng.sample(units, k=min(n, len(units))))
    unit_of = {s.id: s.unit for s in w.staff}
    w.events = [
        e for e in w.events
        if not (e["kind"] == "shift.rostered" and unit_of.get(e["attrs"]["staff_id"]) in dropped)
    ]  # fmt: skip
    return dropped


def vetting_feed_start(w: World, noise: Noise, rng: random.Random) -> datetime | None:
    """When the vetting feed is connected: a working morning a few days into the period
    (None if ``vetting_late_days`` is ``(0, 0)``: there from the start)."""
    lo, hi = noise.vetting_late_days
    if hi <= 0:
        return None
    day = min(rng.randint(lo, hi), max(1, w.days // 3))
    return w.at(day, rng.uniform(9, 12))


def deliver(
    events: list[Ev], noise: Noise, rng: random.Random, vetting_from: datetime | None
) -> tuple[list[Ev], dict[str, int]]:
    """The events in the order they arrive: the vetting feed's history at its connection
    (stamped then), a share of activity late, a share twice. ``events`` are
    :meth:`World.finish`'s output (times as text). Returns the arrivals and how many of each
    kind of mess were made."""
    rows: list[tuple[datetime, int, int, Ev]] = []
    made = {"late": 0, "duplicate": 0, "backfilled": 0}
    for i, ev in enumerate(events):
        t = datetime.fromisoformat(ev["time"])
        arrival = t
        if vetting_from is not None and ev["source"] == "vetting" and t < vetting_from:
            arrival = vetting_from
            ev = {**ev, "time": stamp(vetting_from)}
            made["backfilled"] += 1
        elif "actor" in ev and rng.random() < noise.late:
            arrival = t + timedelta(hours=rng.uniform(*noise.late_hours))
            made["late"] += 1
        rows.append((arrival, i, 0, ev))
        if rng.random() < noise.duplicate:
            again = arrival + timedelta(minutes=rng.uniform(0, noise.duplicate_minutes))
            rows.append((again, i, 1, dict(ev)))
            made["duplicate"] += 1
    rows.sort(key=lambda r: r[:3])
    return [r[3] for r in rows], made
