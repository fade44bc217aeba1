"""The simulated force: ``Force(staff, days, seed).events()`` and ``.labels()``.

Deterministic for a seed (one :class:`random.Random`, no wall clock, no hash randomisation).
The lead's live feed calls :func:`live_events`, which keeps producing the same kind of force
with timestamps at the wall clock.

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

from simulation import benign, scenarios
from simulation.exceptions import SimulationError
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
    _events: list[Ev] | None = field(default=None, init=False, repr=False)
    _labels: dict[str, Any] | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.staff < MIN_STAFF:
            raise SimulationError(f"staff must be at least {MIN_STAFF} (got {self.staff})")
        if self.days < MIN_DAYS:
            raise SimulationError(f"days must be at least {MIN_DAYS} (got {self.days})")

    def events(self) -> list[Ev]:
        """Contract-v1 event dicts (reference and activity) in event-time order."""
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
        benign.populate(w, self.staff)
        benign.background(w)
        injected = [lab for inject in scenarios.SCENARIOS for lab in inject(w)]
        alike = [lab for inject in scenarios.LOOKALIKES for lab in inject(w)]
        benign.rosters(w)
        benign.activity(w, self.progress)
        windows = {id(lab): lab.window(w) for lab in (*injected, *alike)}
        events = w.finish()
        for n, lab in enumerate(injected, 1):
            lab.id = f"SC-{n:03d}"
        for n, lab in enumerate(alike, 1):
            lab.id = f"LA-{n:03d}"
        self._events = events
        self._labels = {
            "metadata": {
                "generator": "probity.simulation", "version": 1, "seed": self.seed,
                "staff": len(w.staff), "days": self.days, "start": stamp(w.start),
                "end": stamp(w.end), "events": len(events),
            },
            "scenarios": [lab.to_json(windows[id(lab)]) for lab in injected],
            "lookalikes": [lab.to_json(windows[id(lab)]) for lab in alike],
        }  # fmt: skip


def live_events(
    *,
    staff: int = 300,
    seed: int = 1,
    rate: float = 20.0,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    sleep: Callable[[float], None] = _time.sleep,
    chunk_days: int = 7,
) -> Iterator[Ev]:
    """Events for a live demo, forever: a simulated force replayed at ``rate`` events a second
    with each event's time set to ``clock()`` when it is yielded (order kept).

    The force is generated ``chunk_days`` at a time (a fresh seed per chunk, so scenarios
    keep coming); every chunk repeats its reference data first with new ids, then its
    activity. Shifts and windows are compressed, so the live feed shows alerts arriving; it
    is not scored (use ``Force`` and ``probity evaluate`` for that). ``clock`` and ``sleep``
    are injectable so tests run instantly.
    """
    if rate <= 0:
        raise SimulationError(f"rate must be positive (got {rate})")
    chunk = 0
    interval = 1.0 / rate
    while True:
        force = Force(staff=staff, days=max(chunk_days, MIN_DAYS), seed=seed * 1000 + chunk)
        base = clock()
        events = force.events()
        offset = base - datetime.fromisoformat(events[0]["time"])
        for ev in events:
            live = dict(ev)
            live["id"] = f"live{chunk}-{ev['id']}"
            now = clock()
            live["time"] = stamp(max(now, base))
            attrs = live.get("attrs")
            if live["kind"] == "shift.rostered" and isinstance(attrs, dict):
                # compressed time: a shift is as long, relative to the feed, as it can be
                attrs = dict(attrs)
                attrs["start"] = stamp(now - timedelta(hours=1))
                attrs["end"] = stamp(now + timedelta(hours=12))
                live["attrs"] = attrs
            del offset  # times are re-stamped, not shifted: the feed is "now"
            offset = timedelta(0)
            yield live
            sleep(interval)
        chunk += 1
