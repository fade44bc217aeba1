"""The contract of a scenario: what an injector returns, what it declares, how it is found.

An injector is a function of the :class:`~simulation.world.World` that writes behaviour into
it as events and returns :class:`Label` s (who, when, which events). It is declared with
:func:`scenario` (misconduct, naming the detector expected to find it) or :func:`lookalike`
(legitimate behaviour, naming the detectors that must not raise on it), in the module of the
detector family it exercises; :func:`all_scenarios` and :func:`all_lookalikes` find every
module of this package, so adding a scenario touches no list. The labels' ``detectors`` are
filled from the declaration, so what the evaluator scores against and what the tests check
against the detector registry is one declaration; an *incidental* label (``Label.incidental``)
keeps its own: what the behaviour rightly raises about someone the injector did not pick.

``order`` is the place of the injector in the sequence the generator runs. Every injector
draws from the world's single random generator, so the sequence is part of what a seed
writes: orders are unique, and a new injector takes the next free one.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from simulation.exceptions import SimulationError
from simulation.world import Ev, World, stamp

# categories of the contract's alerts, as scenarios name them
MISUSE = "misuse_of_systems"
DISCLOSURE = "unauthorised_disclosure"
ASSOCIATION = "inappropriate_association"
SEXUAL = "abuse_of_position_sexual"
VETTING = "vetting"
DISCRIMINATION = "discrimination"
EVIDENCE = "integrity_of_evidence"
AUDIT = "audit_tampering"
CONDUCT = "conduct_pattern"


@dataclass
class Label:
    """One injected scenario (or look-alike): who, when, which events. ``detectors`` and
    ``legitimate`` come from the injector's declaration (:class:`Scenario`)."""

    kind: str
    category: str
    officers: list[str]
    evidence: list[Ev]
    start: datetime | None = None
    end: datetime | None = None
    also: list[str] = field(default_factory=list)  # other detectors that would rightly fire
    note: str = ""
    detectors: list[str] = field(default_factory=list)  # scenario: must find; look-alike: must not
    legitimate: bool = False
    id: str = ""
    first: datetime | None = None  # the first malicious event, when not the officers' first
    #: an alert the injected behaviour rightly causes about someone it did not pick (a
    #: housemate of the officer): ``detectors`` are the injector's own choice, it counts as a
    #: true alert, and it is not scored for recall (``labels["incidental"]``)
    incidental: bool = False

    def window(self, w: World, grace: timedelta = timedelta(days=2)) -> tuple[datetime, datetime]:
        """From the first evidence event (or ``start``) to the last plus ``grace`` (or ``end``).
        Call before :meth:`World.finish`, while event times are still datetimes."""
        times = [e["time"] for e in self.evidence]
        start = self.start or (min(times) if times else w.start)
        end = self.end or ((max(times) + grace) if times else w.end)
        return start, end

    def first_event(self, w: World) -> datetime:
        """Where time to detection counts from: ``first`` if the injector set it, else
        ``start``, else the first evidence event one of the officers did (evidence may cite
        context such as an old intelligence link), else the window's start. Call before
        :meth:`World.finish`, as :meth:`window`."""
        if self.first is not None:
            return self.first
        if self.start is not None:
            return self.start
        theirs = [e["time"] for e in self.evidence if e.get("actor") in self.officers]
        return min(theirs) if theirs else self.window(w)[0]

    def to_json(
        self, window: tuple[datetime, datetime], first: datetime | None = None
    ) -> dict[str, Any]:
        return {
            "id": self.id, "kind": self.kind, "legitimate": self.legitimate,
            "detectors": self.detectors, "also": self.also, "category": self.category,
            "officers": self.officers,
            "window": {"start": stamp(window[0]), "end": stamp(window[1])},
            "first_event": stamp(first or window[0]),
            "evidence": [e["id"] for e in self.evidence], "note": self.note,
        }  # fmt: skip


Injector = Callable[[World], list[Label]]


@dataclass(frozen=True)
class Scenario:
    """A declared injector: its detectors, whether it is legitimate, its place in the run."""

    name: str
    family: str  # the module it lives in, named as its detectors' family
    inject: Injector
    detectors: tuple[str, ...]  # scenario: the one expected to find it; look-alike: must not
    legitimate: bool
    order: int

    def __call__(self, w: World) -> list[Label]:
        labels = self.inject(w)
        for lab in labels:
            if lab.incidental:
                continue
            lab.detectors = list(self.detectors)
            lab.legitimate = self.legitimate
        return labels


_DECLARED: dict[tuple[bool, int], Scenario] = {}


def _declare(
    detectors: tuple[str, ...], legitimate: bool, order: int
) -> Callable[[Injector], Injector]:
    if not detectors:
        raise SimulationError("a scenario declares at least one detector id")

    def add(inject: Injector) -> Injector:
        found = Scenario(
            name=inject.__name__, family=inject.__module__.rpartition(".")[2], inject=inject,
            detectors=detectors, legitimate=legitimate, order=order,
        )  # fmt: skip
        taken = _DECLARED.get((legitimate, order))
        if taken is not None and taken.inject is not inject:
            what = "look-alike" if legitimate else "scenario"
            raise SimulationError(
                f"{what} order {order} taken twice: {taken.family}.{taken.name} "
                f"and {found.family}.{found.name}"
            )
        _DECLARED[(legitimate, order)] = found
        return inject

    return add


def scenario(detector: str, *, order: int) -> Callable[[Injector], Injector]:
    """Declare misconduct that ``detector`` is expected to find (recall)."""
    return _declare((detector,), False, order)


def lookalike(*must_not: str, order: int) -> Callable[[Injector], Injector]:
    """Declare legitimate behaviour on which none of ``must_not`` may raise (precision)."""
    return _declare(must_not, True, order)


def _discover() -> None:
    """Import every module of this package but ``base`` and private (``_``) helpers."""
    package = __name__.rpartition(".")[0]
    path = importlib.import_module(package).__path__
    for info in pkgutil.iter_modules(path):
        if info.name != "base" and not info.name.startswith("_"):
            importlib.import_module(f"{package}.{info.name}")


def all_scenarios() -> tuple[Scenario, ...]:
    """Every declared scenario, in injection order."""
    _discover()
    return tuple(s for _k, s in sorted(_DECLARED.items()) if not s.legitimate)


def all_lookalikes() -> tuple[Scenario, ...]:
    """Every declared look-alike, in injection order."""
    _discover()
    return tuple(s for _k, s in sorted(_DECLARED.items()) if s.legitimate)


def expected_detectors() -> frozenset[str]:
    """The detector ids that some scenario expects to find it."""
    return frozenset(d for s in all_scenarios() for d in s.detectors)
