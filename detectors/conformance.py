"""The conformance suite: checks every detector must pass, callable for any detector class
(pytest-free, as river's ``checks/common.py``; ``tests/detectors/test_conformance.py`` runs
them over every discovered detector, a pack's tests can run them over its own).

Each check raises :class:`ConformanceError` saying what is wrong. The detector is run by
:class:`Harness` as the engine runs it, in its mode: reference events first, then activity in
order with each officer's slot, ticks as event time passes; a graph detector on the edge
records the deriver gives, over a real :class:`~detectors.graph.association.AssociationGraph`;
a findings detector (risk) beside the detectors it reads, fed their findings. Every run is
under a frozen clock: a detector that reads the wall clock fails.

>>> from detectors.registry import registered
>>> check_detector(registered()["access.canary"])
"""

from __future__ import annotations

import contextlib
import copy
import datetime as _dt
import json
import sys
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from detectors.base import VOLUMES, Detector, FindingsDetector, StateView
from detectors.exceptions import DetectorError
from detectors.graph.association import AssociationGraph
from detectors.graph.deriver import EdgeDeriver
from detectors.reference.state import ReferenceState
from models.alerts import Category, Finding
from models.events import ACTIVITY_KINDS, KNOWN_KINDS, Event, attr_or_none, decode_obj

T0 = _dt.datetime(2026, 3, 2, 9, 0, tzinfo=_dt.UTC)
#: the real classes, as modules imported them
_DATETIME: type[_dt.datetime] = _dt.datetime
_DATE: type[_dt.date] = _dt.date
#: the slot the graph deriver keeps in an officer's state (as the engine does)
GRAPH_SLOT = "_graph"
#: events one officer sends through a detector for the bounded-state check
BOUNDED_EVENTS = 10_000


class ConformanceError(DetectorError):
    """A detector breaks the contract the conformance suite checks."""


def _fail(cls: type[Detector], what: str) -> ConformanceError:
    return ConformanceError(f"{cls.id}: {what}")


# -- workloads ------------------------------------------------------------------------------

_KEY_ATTRS: dict[str, dict[str, Any]] = {
    "staff.upsert": {"staff_id": "S1"},
    "vetting.changed": {"staff_id": "S1"},
    "misconduct.outcome": {"staff_id": "S1"},
    "vetting.review.completed": {"staff_id": "S1"},
    "association.declared": {"staff_id": "S1"},
    "watchlist.upsert": {"list": "canary", "person": "P-1"},
    "watchlist.removed": {"list": "canary", "person": "P-1"},
    "person.link": {"person": "P-1"},
    "task.assigned": {"ref": "T-1"},
    "shift.rostered": {"staff_id": "S1"},
    "complaint.logged": {"staff_id": "S1"},
    "complaint.updated": {"staff_id": "S1"},
    "complaint.referred": {"staff_id": "S1"},
    "terminal.assigned": {"terminal": "WS-1"},
}


def sample_events(kinds: Iterable[str]) -> list[Event]:
    """Two events of each kind: one with every optional field missing, one fuller."""
    out = []
    for i, kind in enumerate(sorted(kinds)):
        when = (T0 + _dt.timedelta(minutes=i)).isoformat()
        base: dict[str, Any] = {"id": f"c-{i}", "time": when, "source": "t", "kind": kind,
                                "attrs": _KEY_ATTRS.get(kind, {})}  # fmt: skip
        if kind in ACTIVITY_KINDS:
            base["actor"] = "S1"
        if kind.startswith("record."):
            base["record"] = {"type": "person", "id": "P-1"}
        out.append(decode_obj(base))
        out.append(decode_obj({**base, "id": f"c-{i}-full", "subjects": ["P-1", "P-2"],
                               "purpose": None, "terminal": "WS-1"}))  # fmt: skip
    return out


def sample_reference() -> list[Event]:
    """Reference data the samples meet: P-1 on every list, S1 on the staff list."""
    lists = ["canary", "covert_subject", "vip", "ocg_nominal", "vulnerable_victim"]
    out = [decode_obj({"id": f"w-{i}", "time": "2026-03-01T00:00:00Z", "source": "intel",
                       "kind": "watchlist.upsert",
                       "attrs": {"list": lst, "person": "P-1", "group": "G"}})
           for i, lst in enumerate(lists)]  # fmt: skip
    staff = {"staff_id": "S1", "name": "A B", "status": "active"}
    out.append(decode_obj({"id": "s-1", "time": "2026-03-01T00:00:00Z", "source": "hr",
                           "kind": "staff.upsert", "attrs": staff}))  # fmt: skip
    return out


def long_run(kinds: Iterable[str], n: int = BOUNDED_EVENTS) -> list[Event]:
    """``n`` activity events of ``kinds`` by one officer (S1), three minutes apart, about
    a thousand different people: what a busy desk gives over three weeks."""
    samples = [e for e in sample_events(k for k in kinds if k in ACTIVITY_KINDS)]
    out = []
    for i in range(n if samples else 0):
        e = samples[i % len(samples)]
        person = f"P-{i % 997}"
        subjects = [person, "P-1"] if i % 5 == 0 else [person]
        update: dict[str, Any] = {"id": f"b-{i}", "subjects": subjects,
                                  "time": T0 + _dt.timedelta(minutes=3 * i)}  # fmt: skip
        if e.record is not None:
            update["record"] = e.record.model_copy(update={"id": person})
        out.append(e.model_copy(update=update))
    return out


# -- the frozen clock -----------------------------------------------------------------------


def _refuse(*_args: Any, **_kwargs: Any) -> Any:
    raise ConformanceError("a detector read the wall clock: reason on event time (view.now)")


class _FrozenDatetime(_dt.datetime):
    now = classmethod(_refuse)
    utcnow = classmethod(_refuse)
    today = classmethod(_refuse)


class _FrozenDate(_dt.date):
    today = classmethod(_refuse)


@contextlib.contextmanager
def frozen_clock(extra_modules: Iterable[str] = ()) -> Iterator[None]:
    """Within: ``time.time`` and friends raise, and so do ``datetime.now``/``date.today`` as
    the detector modules (``detectors.*`` and ``extra_modules``) name them."""
    patched: list[tuple[Any, str, Any]] = [(_dt, "datetime", _DATETIME), (_dt, "date", _DATE)]
    _dt.datetime, _dt.date = _FrozenDatetime, _FrozenDate  # type: ignore[misc]
    for name in ("time", "time_ns", "monotonic", "monotonic_ns", "perf_counter", "localtime"):
        patched.append((time, name, getattr(time, name)))
        setattr(time, name, _refuse)
    wanted = set(extra_modules)
    for mod_name, module in list(sys.modules.items()):
        if module is None or not (mod_name.startswith("detectors.") or mod_name in wanted):
            continue
        if mod_name == __name__:
            continue
        for attr, value in list(vars(module).items()):
            if value is _DATETIME:
                patched.append((module, attr, value))
                setattr(module, attr, _FrozenDatetime)
            elif value is _DATE:
                patched.append((module, attr, value))
                setattr(module, attr, _FrozenDate)
            elif callable(value) and getattr(value, "__module__", None) == "time":
                patched.append((module, attr, value))
                setattr(module, attr, _refuse)
    try:
        yield
    finally:
        for target, attr, value in reversed(patched):
            setattr(target, attr, value)


# -- running a detector in its mode ---------------------------------------------------------


@dataclass
class Harness:
    """One detector run as the engine runs it (Kafka-free and engine-free).

    ``judges`` run before it on each event (for a findings detector: the detectors it reads,
    and those it depends on), each with its own slot of the officer's state."""

    detector: Detector
    judges: list[Detector] = field(default_factory=list)
    graph: AssociationGraph | None = None
    reference: ReferenceState = field(default_factory=ReferenceState)
    officers: dict[str, dict[str, Any]] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    clock: _dt.datetime | None = None

    @classmethod
    def for_detector(cls, detector: Detector, available: Mapping[str, type[Detector]]) -> Harness:
        """A harness with what the detector's mode needs: a graph for a graph detector, its
        inputs and dependencies (built with their defaults) for a findings detector."""
        judges: list[Detector] = []
        if isinstance(detector, FindingsDetector):
            ids = sorted(set(detector.inputs(available)) | set(detector.depends_on))
            judges = [available[i]() for i in ids if available[i].mode in ("event", "tick")]
        graph = AssociationGraph() if detector.mode == "graph" else None
        return cls(detector, judges, graph)

    def run(self, events: Iterable[Event]) -> list[Finding]:
        """Reference events first, a tick, activity in order, a tick: the detector's
        findings (the judges' are not kept)."""
        events = list(events)
        for e in events:
            if e.is_reference:
                self.reference.apply(e)
                self._advance(e.time)
        for e in events:
            if e.is_reference:
                self._event(e, getattr(e.attrs, "staff_id", None), None)
        self._tick()
        for e in events:
            if not e.is_reference and e.actor is not None:
                self._advance(e.time)
                self._event(e, e.actor, self.officers.setdefault(e.actor, {}))
        self._tick()
        return self.findings

    def _advance(self, t: _dt.datetime) -> None:
        if self.clock is None or t > self.clock:
            self.clock = t

    def _event(self, event: Event, officer: str | None, held: dict[str, Any] | None) -> None:
        det = self.detector
        ref = self.reference.at(event.time)
        state = held if held is not None else {}
        found: list[Finding] = []
        for judge in self.judges:
            if event.kind in judge.kinds:
                view = StateView(now=event.time, officer=officer, ref=ref,
                                 state=state.setdefault(judge.id, {}))  # fmt: skip
                found += judge.judge(event, view)
        if det.mode == "graph":
            self._graph(event, ref, state)
            return
        if event.kind not in det.kinds:
            return
        view = StateView(now=event.time, officer=officer, ref=ref,
                         state=state.setdefault(det.id, {}), graph=self.graph)  # fmt: skip
        if isinstance(det, FindingsDetector):
            view.officer_state = state
            reads = det.inputs({j.id: type(j) for j in self.judges})
            own = [f for f in found if f.officer == officer and f.detector in reads]
            self.findings += det.on_findings(own, event, view)
        else:
            needs = det.needs_attrs.get(event.kind)
            if needs is None or any(attr_or_none(event.attrs, n) for n in needs):
                self.findings += det.evaluate(event, view)
            else:  # the engine skips it: judging it must change nothing
                before = copy.deepcopy(dict(view.state))
                if det.evaluate(event, view) or dict(view.state) != before:
                    raise _fail(type(det), f"reacted to a {event.kind} without any of "
                                f"{', '.join(needs)} (needs_attrs: skipped by the engine)")
        for slot in [k for k, v in state.items() if v == {}]:
            del state[slot]  # as the engine: a slot is kept once it holds something

    def _graph(self, event: Event, ref: Any, state: dict[str, Any]) -> None:
        assert self.graph is not None
        deriver = self.graph.deriver or EdgeDeriver()
        if event.is_reference:
            record = deriver.reference(event)
        elif event.kind in deriver.kinds:
            record = deriver.activity(event, ref, state.setdefault(GRAPH_SLOT, {}))
        else:
            record = None
        if record is None or not self.graph.apply(record):
            return
        officer = record.event.actor or getattr(record.event.attrs, "staff_id", None)
        view = StateView(now=record.event.time, officer=officer,
                         ref=self.reference.at(record.event.time), graph=self.graph)  # fmt: skip
        self.findings += self.detector.evaluate(record.event, view)

    def _tick(self) -> None:
        if self.clock is not None and self.detector.tick_every_s:
            view = StateView(now=self.clock, officer=None, ref=self.reference.at(self.clock))
            self.findings += self.detector.on_tick(view)


# -- the checks -----------------------------------------------------------------------------


def parameter_sets(cls: type[Detector]) -> list[Detector]:
    """The detector built with its defaults and with each set it offers for testing."""
    return [cls()] + [cls(**overrides) for overrides in cls.test_params()]


def check_contract(cls: type[Detector]) -> None:
    """A docstring, a description, a category, kinds of the contract, a valid ``Params``."""
    if not (cls.__doc__ or "").strip():
        raise _fail(cls, "has no docstring")
    if not cls.description.strip():
        raise _fail(cls, "has no description")
    if not isinstance(cls.category, Category):
        raise _fail(cls, f"category {cls.category!r} is not a Category")
    unknown = cls.kinds - KNOWN_KINDS
    if unknown:
        raise _fail(cls, f"reads kinds outside the contract: {sorted(unknown)}")
    cls.check_contract()
    for name, value in cls.parameters().items():
        try:
            hash(value)
        except TypeError as exc:
            raise _fail(cls, f"parameter {name}'s default is mutable") from exc


def _dump(findings: list[Finding]) -> list[dict[str, Any]]:
    return [f.model_dump(mode="json") for f in findings]


def check_run(
    det: Detector, events: list[Event], available: Mapping[str, type[Detector]]
) -> list[Finding]:
    """Run twice under a frozen clock: the same findings and states (determinism under
    replay), input events unchanged, states JSON-serialisable, findings well formed.
    Returns the findings."""
    cls = type(det)
    before = [copy.deepcopy(e.model_dump()) for e in events]
    runs = []
    for _ in range(2):
        fresh = cls(det.params)
        harness = Harness.for_detector(fresh, available)
        with frozen_clock([cls.__module__]):
            found = harness.run(events)
        runs.append((found, harness.officers))
    (first, states1), (second, states2) = runs
    if [e.model_dump() for e in events] != before:
        raise _fail(cls, "mutated the events it was given")
    if _dump(first) != _dump(second):
        raise _fail(cls, "gave different findings on a replay of the same events")
    try:
        text = json.dumps(states1, sort_keys=True)
    except (TypeError, ValueError) as exc:
        raise _fail(cls, f"state does not serialise to JSON: {exc}") from exc
    if json.loads(text) != states1 or states1 != states2:
        raise _fail(cls, "state does not survive a JSON round trip or differs on a replay")
    for f in first:
        if f.detector != cls.id:
            raise _fail(cls, f"a finding names {f.detector}")
        if not cls.category_varies and f.category != cls.category:
            raise _fail(cls, f"a finding's category {f.category} is not {cls.category}")
        if not (f.explanation and f.title and f.evidence) or f.time.tzinfo is None:
            raise _fail(cls, "a finding lacks a title, explanation, evidence or an aware time")
    return first


def volume_sets(cls: type[Detector]) -> dict[str, Detector]:
    """The detector built with each volume preset (``fewer``, ``default``, ``more``); a
    preset that does not validate against its ``Params`` fails."""
    out: dict[str, Detector] = {}
    for level in VOLUMES:
        try:
            out[level] = cls(**cls.Params.preset(level))
        except (DetectorError, ValueError) as exc:
            raise _fail(cls, f"its {level} volume preset does not validate: {exc}") from exc
    return out


def check_volume(
    cls: type[Detector], scenarios: Iterable[list[Event]], available: Mapping[str, type[Detector]]
) -> dict[str, int]:
    """On each scenario, the ``fewer`` preset gives no more findings than the defaults, and
    ``more`` no fewer; returns the findings of each preset over all of them."""
    built = volume_sets(cls)
    totals = dict.fromkeys(VOLUMES, 0)
    for events in scenarios:
        found = {level: len(check_run(det, events, available)) for level, det in built.items()}
        if not found["fewer"] <= found["default"] <= found["more"]:
            raise _fail(cls, f"volume presets are not ordered on a scenario: {found} findings")
        for level, n in found.items():
            totals[level] += n
    return totals


def check_ignores_other_kinds(det: Detector) -> None:
    """Events of kinds it does not read give no findings and leave its state alone."""
    cls = type(det)
    ref = ReferenceState().at(T0)
    for e in sample_events(KNOWN_KINDS - cls.kinds):
        view = StateView(now=e.time, officer=e.actor, ref=ref)
        if det.evaluate(e, view) or view.state:
            raise _fail(cls, f"reacted to {e.kind}, a kind it does not read")


def check_tick_copes(det: Detector) -> None:
    """A tick over empty reference data gives nothing and does not fail."""
    if det.on_tick(StateView(now=T0, officer=None, ref=ReferenceState().at(T0))):
        raise _fail(type(det), "raised findings on a tick with no reference data")


def check_bounded_state(cls: type[Detector], available: Mapping[str, type[Detector]]) -> int:
    """One officer's slot after :data:`BOUNDED_EVENTS` events stays under the detector's
    :attr:`~detectors.base.Detector.state_cap_bytes`; returns its size in bytes."""
    events = sample_reference() + long_run(cls.kinds | (ACTIVITY_KINDS if cls.mode == "findings"
                                                         else frozenset()))  # fmt: skip
    harness = Harness.for_detector(cls(), available)
    with frozen_clock([cls.__module__]):
        harness.run(events)
    size = max((len(json.dumps(s.get(cls.id, {}))) for s in harness.officers.values()),
               default=0)  # fmt: skip
    if size > cls.state_cap_bytes:
        raise _fail(cls, f"one officer's state grew to {size} bytes after {BOUNDED_EVENTS} "
                         f"events, over its cap of {cls.state_cap_bytes}")  # fmt: skip
    return size


def check_detector(
    cls: type[Detector],
    events: list[Event] | None = None,
    available: Mapping[str, type[Detector]] | None = None,
) -> None:
    """Every check but the bounded state (slow) and the volume order (it needs scenarios),
    over ``events`` (default: the samples over :func:`sample_reference`), with each parameter
    set and each volume preset."""
    if available is None:
        from detectors.registry import registered

        available = registered()
    check_contract(cls)
    workload = events if events is not None else sample_reference() + sample_events(cls.kinds)
    for det in parameter_sets(cls) + list(volume_sets(cls).values()):
        check_run(det, workload, available)
        check_ignores_other_kinds(det)
        check_tick_copes(det)
