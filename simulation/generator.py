"""The simulated force: ``Force(staff, days, seed).events()`` and ``.labels()``.

Deterministic for a seed (one :class:`random.Random`, no wall clock, no hash randomisation).
A live demo (``probity simulate --live``, or ``probity run``'s feed) uses :func:`live_events`,
which plays such a force on a compressed clock with timestamps at the wall clock.

>>> f = Force(staff=40, days=7, seed=3)
>>> evs = f.events()
>>> evs[0]["time"] <= evs[-1]["time"], len(f.labels()["scenarios"]) > 20
(True, True)
"""

from __future__ import annotations

import random
import time as _time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from simulation import benign, it_life, noise, scenarios
from simulation.exceptions import SimulationError
from simulation.noise import PROFILES, NoiseProfile
from simulation.world import Ev, World, midnight, stamp

DEFAULT_START = date(2026, 3, 2)  # a Monday
MIN_STAFF, MIN_DAYS = 20, 7


@dataclass
class Force:
    """A force of ``staff`` people over ``days`` days from ``start``, with injected scenarios."""

    staff: int = 300
    days: int = 21
    seed: int = 1
    start: date = DEFAULT_START
    progress: Callable[[int], None] | None = None  # called with each simulated day done
    repeats: int = 1  # each scenario injected this many times (other officers, other figures)
    noise: NoiseProfile = "clean"  # "realistic": a real force's mess (simulation.noise)
    it: bool = False  # benign IT life and the insider scenarios (simulation.it_life)
    _events: list[Ev] | None = field(default=None, init=False, repr=False)
    _labels: dict[str, Any] | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.staff < MIN_STAFF:
            raise SimulationError(f"staff must be at least {MIN_STAFF} (got {self.staff})")
        if not 1 <= self.repeats <= 10:
            raise SimulationError(f"repeats must be 1 to 10 (got {self.repeats})")
        if self.days < MIN_DAYS:
            raise SimulationError(f"days must be at least {MIN_DAYS} (got {self.days})")
        if self.noise not in PROFILES:
            raise SimulationError(f"noise must be one of {', '.join(PROFILES)} (got {self.noise})")

    def events(self) -> list[Ev]:
        """Contract-v1 event dicts (reference and activity) in event-time order; with
        ``noise="realistic"``, in the order they arrive (late, duplicated, backfilled)."""
        if self._events is None:
            self._generate()
        assert self._events is not None
        return self._events

    def labels(self) -> dict[str, Any]:
        """``{"metadata": ..., "scenarios": [...], "lookalikes": [...]}`` for the evaluator."""
        if self._labels is None:
            self._generate()
        assert self._labels is not None
        return self._labels

    def _generate(self) -> None:
        rng = random.Random(f"probity-sim:{self.seed}")  # noqa: S311  (a simulation, not secrets)
        w = World(seed=self.seed, start=midnight(self.start), days=self.days, rng=rng)
        if self.it:
            w.it = random.Random(f"probity-it:{self.seed}")  # noqa: S311
        mess = noise.REALISTIC if self.noise == "realistic" else None
        messy = random.Random(f"probity-noise:{self.seed}")  # noqa: S311
        made: dict[str, Any] = {}
        benign.populate(w, self.staff)
        if mess is not None:
            made["chance_matches"] = noise.chance_matches(w, mess, messy)
        benign.background(w)
        injected = [
            lab
            for _ in range(self.repeats)
            for inject in scenarios.all_scenarios()
            for lab in inject(w)
        ]
        alike = [lab for inject in scenarios.all_lookalikes() for lab in inject(w)]
        benign.rosters(w)
        benign.activity(w, self.progress)
        it_life.activity(w)
        if mess is not None:
            made["without_purpose"] = noise.systems_without_purpose(w, mess, messy)
            # the scenarios' officers, and the look-alikes' whose legitimacy is their roster
            # (an overtime night): a roster a label cites as evidence is never dropped
            keep = {o for lab in injected for o in lab.officers} | {
                o for lab in alike for o in lab.officers
                if any(e["kind"] == "shift.rostered" for e in lab.evidence)
            }  # fmt: skip
            made["units_without_rosters"] = noise.units_without_rosters(w, mess, messy, keep)
        windows = {id(lab): lab.window(w) for lab in (*injected, *alike)}
        firsts = {id(lab): lab.first_event(w) for lab in injected}
        events = w.finish()
        if mess is not None:
            vetting_from = noise.vetting_feed_start(w, mess, messy)
            events, delivered = noise.deliver(events, mess, messy, vetting_from)
            made.update(delivered, vetting_feed_from=vetting_from and stamp(vetting_from))
        incidental = [lab for lab in (*injected, *alike) if lab.incidental]
        injected = [lab for lab in injected if not lab.incidental]
        alike = [lab for lab in alike if not lab.incidental]
        for n, lab in enumerate(injected, 1):
            lab.id = f"SC-{n:03d}"
        for n, lab in enumerate(alike, 1):
            lab.id = f"LA-{n:03d}"
        for n, lab in enumerate(incidental, 1):
            lab.id = f"IN-{n:03d}"
        self._events = events
        metadata: dict[str, Any] = {
            "generator": "probity.simulation", "version": 1, "seed": self.seed,
            "staff": len(w.staff), "days": self.days, "repeats": self.repeats,
            "start": stamp(w.start),
            "end": stamp(w.end), "events": len(events),
        }  # fmt: skip
        if self.it:
            metadata["it"] = True
        if mess is not None:
            metadata["noise"] = {"profile": self.noise, "rates": mess.to_json(), "made": made}
        self._labels = {
            "metadata": metadata,
            "scenarios": [lab.to_json(windows[id(lab)], firsts[id(lab)]) for lab in injected],
            "lookalikes": [lab.to_json(windows[id(lab)]) for lab in alike],
        }
        if incidental:  # only when there are some: a force without any writes what it did
            self._labels["incidental"] = [lab.to_json(windows[id(lab)]) for lab in incidental]


def history(
    *, staff: int = 300, seed: int = 1, days: int = MIN_DAYS, now: datetime
) -> tuple[list[Ev], dict[str, Any]]:
    """A recent past for a live demo: a force of ``days`` days starting on a Monday (as the
    default force does) and ending at most a week before ``now``, at calendar time, with
    its labels; events after ``now`` are left out. Published at once before the live feed
    (``probity run``), it puts the scenarios' alerts in the queue while the live ones come.

    >>> evs, labels = history(staff=40, now=datetime(2026, 3, 12, 9, tzinfo=UTC))
    >>> labels["metadata"]["start"], evs[-1]["time"] <= "2026-03-12T09:00:00Z"
    ('2026-03-02T00:00:00Z', True)
    """
    first = now.date() - timedelta(days=days)
    first -= timedelta(days=first.weekday())
    force = Force(staff=staff, days=days, seed=seed, start=first)
    cut = stamp(now)
    return [e for e in force.events() if e["time"] <= cut], force.labels()


def live_events(
    *,
    staff: int = 300,
    seed: int = 1,
    rate: float = 20.0,
    days: int = MIN_DAYS,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    sleep: Callable[[float], None] = _time.sleep,
) -> Iterator[Ev]:
    """Events for a live demo, forever, at about ``rate`` events a second, each stamped with
    the wall-clock time at which it is yielded.

    A force of ``staff`` over ``days`` is played on a compressed clock: simulated time ``t``
    becomes ``base + (t - start) / speed``, with ``speed`` chosen so the force's events arrive
    at ``rate``; the generator sleeps until each event's moment, so event time and wall
    clock agree. Shift start and end go through the same mapping (a night shift stays a night
    shift, relative to the feed), so off-duty and window-based detectors behave as they do on
    the batch force, only faster. Reference history from before the period arrives at once.
    When the force is played out it starts again (same people, new event ids ``L<n>-...``),
    so scenarios keep coming. Calendar dates (vetting expiry, dates of birth) are not
    compressed. ``clock`` and ``sleep`` are injectable so tests run instantly.

    Not scored: use :class:`Force` and ``probity evaluate`` for that.
    """
    if rate <= 0:
        raise SimulationError(f"rate must be positive (got {rate})")
    force = Force(staff=staff, days=days, seed=seed)
    events = force.events()
    sim_start = midnight(force.start)
    span_s = days * 86400.0
    n_period = sum(1 for e in events if e["time"] >= stamp(sim_start))
    speed = span_s * rate / max(1, n_period)
    base = clock()
    lap = 0
    while True:

        def live_time(text: str, base: datetime = base) -> datetime:
            t = datetime.fromisoformat(text)
            return base + (t - sim_start) / speed

        for ev in events:
            at = live_time(ev["time"])
            wait = (at - clock()).total_seconds()
            if wait > 0:
                sleep(wait)
            live = dict(ev)
            live["id"] = f"L{lap}-{ev['id']}"
            live["time"] = stamp(at)
            if ev["kind"] == "shift.rostered":
                attrs = dict(ev["attrs"])
                attrs["start"] = stamp(live_time(attrs["start"]))
                attrs["end"] = stamp(live_time(attrs["end"]))
                live["attrs"] = attrs
            yield live
        lap += 1
        base = base + timedelta(seconds=span_s / speed)
