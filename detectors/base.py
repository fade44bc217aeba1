"""The contract every detector keeps: its parameters as data, the mode it is fed in, and the
view of state it is given.

A detector is one module (``detectors/<family>/<name>.py`` for the id ``family.name``) holding
one class: the ``id``, the event ``kinds`` it reads, the ``category`` it points to, a frozen
pydantic :class:`DetectorParams` model (``Params``: each field typed, with a default, a
description and a unit where it has one) it is built from, and a pure
:meth:`Detector.judge` from (event, view) to findings. It keeps what it must remember about
one officer in ``view.state`` (a JSON-able dict of its own), never in globals, and reasons on
event time (``view.now``), never the wall clock.

How it is fed is its base class (:attr:`Detector.mode`):

- :class:`EventDetector`: each event of its kinds, with the state of the officer concerned;
- :class:`TickDetector`: events, and ticks as event time passes (a review owed after 28 days);
- :class:`GraphDetector`: judged where the association graph is (``view.graph``);
- :class:`FindingsDetector`: the findings the others made on the same event (risk).

A detector is found by discovery (:mod:`detectors.registry`) and checked by the conformance
suite (:mod:`detectors.conformance`) without a line of new test code.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Generic, Literal, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import PydanticUndefined
from typing_extensions import TypeVar

from detectors.exceptions import ConfigError, RegistrationError
from detectors.reference.view import ReferenceView
from models.alerts import Category, Finding, Severity
from models.events import Event

Mode = Literal["event", "tick", "graph", "findings"]

#: reference feeds a detector may declare in :attr:`Detector.needs_feeds`, each with the
#: reference event kinds that give a member of staff a record in it
FEEDS: dict[str, frozenset[str]] = {
    "vetting": frozenset({"vetting.changed", "vetting.review.completed"}),
}


#: the volume settings an operator picks per detector (``PROBITY_DETECTOR_VOLUME``): fewer
#: alerts than its defaults give, its defaults, more (:meth:`DetectorParams.preset`)
VOLUMES: tuple[str, ...] = ("fewer", "default", "more")
#: how far a derived preset moves a field: its default times this (or divided by it)
VOLUME_STEP = 1.5


@dataclass(slots=True)
class StateView:
    """What a detector may look at while judging one event (or one tick).

    ``now``: the event's time (or the tick's); ``officer``: whose state ``state`` is (the
    actor; the staff id of a staff-keyed reference event; ``None`` otherwise, when ``state``
    is a throwaway dict); ``ref``: reference data as of ``now``; ``owns``: whether this worker
    answers for alerts about a member of staff (used by ticks and list-wide re-checks, so two
    workers never raise the same tick twice); ``graph``: the association graph, already
    updated with this event's edges (``None`` when no graph is kept).
    """

    now: datetime
    officer: str | None
    ref: ReferenceView
    state: MutableMapping[str, Any] = field(default_factory=dict)
    owns: Callable[[str], bool] = field(default=lambda _staff_id: True)
    graph: Any = None  # the association graph (``detectors.graph``), when the worker keeps one
    #: for :class:`FindingsDetector` s in a pipeline: the officer's whole state (every
    #: detector's slot, as the detectors before it left it on this event); read only
    officer_state: Mapping[str, Any] | None = None
    #: on ticks of a detector declaring ``needs_feeds``: since when each of those feeds has
    #: covered enough staff. Judging resumed then: what fell due before (a review owed while
    #: the vetting feed was missing) is judged as of then, with the feed's history as it came
    feeds_from: Mapping[str, datetime] = field(default_factory=dict)


class DetectorParams(BaseModel):
    """Base of every detector's parameters: frozen, unknown names refused.

    Operators override fields with settings (``PROBITY_DETECTORS__ACCESS_CANARY__SCORE=95``);
    a value given as text is parsed as the field's type (a tuple from JSON or from
    comma-separated text).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    @classmethod
    def preset(cls, volume: str) -> dict[str, Any]:
        """The field values a volume setting (``fewer``, ``default``, ``more``: see
        :data:`VOLUMES`) sets, from what each field declares (:func:`param`); empty for
        ``default`` and for a model whose fields declare nothing. Raises ``ValueError`` for
        another name.

        >>> class P(DetectorParams):
        ...     line: int = param(3, "stops that raise", quieter="up")
        ...     days: float = param(60.0, "window", quieter="down", more=90.0)
        >>> P.preset("fewer"), P.preset("more"), P.preset("default")
        ({'line': 4, 'days': 40.0}, {'line': 2, 'days': 90.0}, {})
        """
        if volume not in VOLUMES:
            raise ValueError(f"unknown volume {volume!r}: one of {', '.join(VOLUMES)}")
        out: dict[str, Any] = {}
        if volume == "default":
            return out
        for name, f in cls.model_fields.items():
            extra = f.json_schema_extra if isinstance(f.json_schema_extra, dict) else {}
            if volume in extra:
                out[name] = extra[volume]
            elif extra.get("quieter") in ("up", "down") and isinstance(f.default, int | float):
                up = (extra["quieter"] == "up") == (volume == "fewer")
                integer = isinstance(f.default, int) and not isinstance(f.default, bool)
                out[name] = _stepped(f.default, up, f.metadata, integer)
        return out

    @field_validator("*", mode="before")
    @classmethod
    def _from_text(cls, value: Any, info: Any) -> Any:
        """Settings give text: ``'["a", "b"]'`` or ``a,b`` for a tuple, JSON for a mapping."""
        if not isinstance(value, str) or info.field_name is None:
            return value
        annotation = cls.model_fields[info.field_name].annotation
        kinds = {get_origin(a) or a for a in (get_args(annotation) or (annotation,))}
        kinds.add(get_origin(annotation) or annotation)
        if not kinds & {tuple, dict}:
            return value
        text = value.strip()
        if text.startswith(("[", "{")):
            try:
                return json.loads(text)
            except ValueError:
                return value  # let the field's own validation say what is wrong
        if tuple in kinds:
            return tuple(part.strip() for part in text.split(",") if part.strip())
        return value


def param(
    default: Any,
    description: str,
    *,
    unit: str | None = None,
    quieter: Literal["up", "down"] | None = None,
    fewer: Any = PydanticUndefined,
    more: Any = PydanticUndefined,
    **constraints: Any,
) -> Any:
    """A parameter field: its default, a one-line description, its unit (``h``, ``days``,
    ``min``, ``points``...) and any pydantic constraints (``ge=0``...).

    The volume presets (:meth:`DetectorParams.preset`) read two more: ``fewer``/``more``, the
    value the field takes under that preset, or ``quieter``, the way the field moves to give
    fewer alerts (``"up"`` for a line or a count, ``"down"`` for a window), from which both
    are derived (:data:`VOLUME_STEP`)."""
    extra: dict[str, Any] = {"unit": unit} if unit else {}
    if quieter is not None:
        extra["quieter"] = quieter
    for name, value in (("fewer", fewer), ("more", more)):
        if value is not PydanticUndefined:
            extra[name] = value
    return Field(default, description=description, json_schema_extra=extra or None,
                 **constraints)  # fmt: skip


def _stepped(default: float, up: bool, constraints: Iterable[Any], integer: bool) -> float:
    """``default`` moved one :data:`VOLUME_STEP` up or down, kept within the field's
    constraints (``ge``/``gt``/``le``/``lt``); an integer moves by one at least."""
    value = default * VOLUME_STEP if up else default / VOLUME_STEP
    if integer:
        value = round(value)
        if value == default:
            value = default + (1 if up else -1)
    else:
        value = float(f"{value:.3g}")
    for c in constraints:
        if getattr(c, "ge", None) is not None:
            value = max(value, c.ge)
        if getattr(c, "le", None) is not None:
            value = min(value, c.le)
        if getattr(c, "gt", None) is not None and value <= c.gt:
            value = c.gt + 1 if integer else default
        if getattr(c, "lt", None) is not None and value >= c.lt:
            value = c.lt - 1 if integer else default
    return value


P = TypeVar("P", bound=DetectorParams, default=DetectorParams, covariant=True)


class Detector(ABC, Generic[P]):
    """Base class of every detector; subclass one of the mode bases below, not this."""

    id: ClassVar[str]
    kinds: ClassVar[frozenset[str]]
    category: ClassVar[Category]
    description: ClassVar[str]
    #: the parameter model this detector is built from
    Params: ClassVar[type[DetectorParams]] = DetectorParams
    #: how the detector is fed: set by the mode bases
    mode: ClassVar[Mode]
    #: seconds of event time between two calls of :meth:`on_tick` (tick detectors)
    tick_every_s: ClassVar[float | None] = None
    #: True when findings carry a category other than :attr:`category` (risk accumulation
    #: takes the dominant category of what converged)
    category_varies: ClassVar[bool] = False
    #: True when ``risk.accumulation`` reads this detector's findings by default
    feeds_risk: ClassVar[bool] = False
    #: ids of detectors whose per-officer slot this one reads (``view.officer_state``); the
    #: pipeline must run them (with the operator's parameters) before this one
    depends_on: ClassVar[tuple[str, ...]] = ()
    #: the most bytes (as JSON) one officer's slot may reach, however long the stream
    state_cap_bytes: ClassVar[int] = 16_384
    #: reference feeds (:data:`FEEDS`) this detector relies on: while one covers too few
    #: staff (a vetting system not yet connected), the engine does not run it and raises one
    #: operational alert instead of one alert per member of staff
    needs_feeds: ClassVar[tuple[str, ...]] = ()
    #: per kind it reads, attributes of which an event of that kind must carry one (set: not
    #: None, empty or 0) to matter to this detector: the pipeline does not judge the others
    #: with it (a message without attachments, for a detector of attachments). An event
    #: without any of them must give no finding and leave state alone (the conformance suite
    #: checks), so that skipping it changes nothing
    needs_attrs: ClassVar[Mapping[str, tuple[str, ...]]] = {}

    def __init__(self, params: P | None = None, /, **overrides: Any) -> None:
        """Build from ``params`` (the defaults if ``None``), with ``overrides`` applied and
        validated (:class:`~detectors.exceptions.ConfigError` names the detector and field).
        Subclasses copy what they read per event to plain attributes here."""
        self.params: P = self.make_params(params, **overrides)

    @classmethod
    def make_params(cls, params: DetectorParams | None = None, /, **overrides: Any) -> Any:
        """``params`` with ``overrides`` applied, validated against :attr:`Params`."""
        if params is not None and not isinstance(params, cls.Params):
            raise ConfigError(
                f"{cls.id}: parameters must be {cls.Params.__name__}, "
                f"not {type(params).__name__}"
            )
        if params is not None and not overrides:
            return params
        given = {**params.model_dump(), **overrides} if params is not None else overrides
        try:
            return cls.Params.model_validate(given)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or '?'}: {err['msg']}"
                f" (got {err['input']!r})"
                for err in exc.errors()
            )
            raise ConfigError(f"{cls.id}: bad parameters: {problems}") from exc

    def evaluate(self, event: Event, view: StateView) -> list[Finding]:
        """Judge one event: events of kinds this detector does not read give nothing.

        The pipeline routes events by kind and calls :meth:`judge` directly."""
        if event.kind not in self.kinds:
            return []
        return self.judge(event, view)

    @abstractmethod
    def judge(self, event: Event, view: StateView) -> list[Finding]:
        """Judge one event of a kind in :attr:`kinds`; return findings (often none).

        Called by the worker for every event of those kinds, in the officer's order. Must
        not mutate ``event``; may read and write ``view.state``. An exception is caught,
        logged and counted by the worker: it never stops the stream.
        """

    def on_tick(self, view: StateView) -> list[Finding]:
        """Called by the worker as event time passes (every :attr:`tick_every_s`).

        ``view.officer`` is ``None``; use ``view.ref`` and ``view.owns``. Default: nothing.
        """
        return []

    @classmethod
    def test_params(cls) -> list[dict[str, Any]]:
        """Parameter sets the conformance suite builds this detector with (overrides of the
        defaults; the defaults are always tried). Override to offer a few that change what
        fires: lower lines, shorter windows."""
        return []

    # helpers shared by detectors ---------------------------------------------------------

    def finding(
        self,
        event: Event | None,
        *,
        officer: str,
        severity: Severity,
        score: float,
        title: str,
        explanation: str,
        evidence: Iterable[str],
        subjects: Iterable[str] = (),
        time: datetime | None = None,
        **extra: Any,
    ) -> Finding:
        """A :class:`Finding` stamped with this detector's id and category."""
        when = time if time is not None else (event.time if event is not None else None)
        if when is None:
            raise ValueError("a finding needs a time: give the event or time=")
        return Finding(
            detector=self.id,
            category=self.category,
            officer=officer,
            time=when,
            severity=severity,
            score=max(0.0, min(100.0, float(score))),
            title=title,
            explanation=explanation,
            evidence=list(dict.fromkeys(evidence)),
            subjects=list(dict.fromkeys(subjects)),
            **extra,
        )

    @classmethod
    def parameters(cls) -> dict[str, Any]:
        """Each parameter's default (what settings may override), from :attr:`Params`."""
        return {
            name: None if f.default is PydanticUndefined else f.default
            for name, f in cls.Params.model_fields.items()
        }

    @classmethod
    def check_contract(cls) -> None:
        """Raise :class:`RegistrationError` if the class attributes break the contract."""
        for attr in ("id", "kinds", "category", "description", "mode"):
            if not hasattr(cls, attr):
                raise RegistrationError(f"{cls.__name__} has no {attr}")
        family, _, name = cls.id.partition(".")
        if not family or not name or "." in name:
            raise RegistrationError(f"{cls.__name__}.id must be family.name, got {cls.id!r}")
        if not isinstance(cls.kinds, frozenset) or not cls.kinds:
            raise RegistrationError(f"{cls.id}: kinds must be a non-empty frozenset")
        params = cls.Params
        if not (isinstance(params, type) and issubclass(params, DetectorParams)):
            raise RegistrationError(f"{cls.id}: Params must subclass DetectorParams")
        if params.model_config.get("extra") != "forbid" or not params.model_config.get("frozen"):
            raise RegistrationError(f"{cls.id}: Params must be frozen and forbid extra fields")
        for pname, f in params.model_fields.items():
            if f.default is PydanticUndefined:
                raise RegistrationError(f"{cls.id}: parameter {pname} needs a default")
            if not (f.description or "").strip():
                raise RegistrationError(f"{cls.id}: parameter {pname} needs a description")
            if isinstance(f.default, list | dict | set):
                raise RegistrationError(f"{cls.id}: parameter {pname} default must be immutable")
        if cls.mode == "tick" and not cls.tick_every_s:
            raise RegistrationError(f"{cls.id}: a tick detector sets tick_every_s")
        if cls.id in cls.depends_on:
            raise RegistrationError(f"{cls.id}: depends on itself")
        if not set(cls.needs_attrs) <= cls.kinds:
            raise RegistrationError(f"{cls.id}: needs_attrs names kinds it does not read")
        unknown = sorted(set(cls.needs_feeds) - set(FEEDS))
        if unknown:
            raise RegistrationError(f"{cls.id}: needs_feeds names unknown feeds {unknown}")


class EventDetector(Detector[P]):
    """Fed each event of its kinds with the state of the officer it concerns."""

    mode: ClassVar[Mode] = "event"


class TickDetector(EventDetector[P]):
    """Fed its events, and :meth:`on_tick` every :attr:`tick_every_s` of event time."""

    mode: ClassVar[Mode] = "tick"

    @abstractmethod
    def on_tick(self, view: StateView) -> list[Finding]:
        """Checks that need time to pass; ``view.officer`` is ``None``."""


class GraphDetector(EventDetector[P]):
    """Judged where the association graph is (the graph agent, or offline the pipeline's
    graph judge), on the events whose edge records changed it; ``view.graph`` is the graph.
    Without a graph it finds nothing."""

    mode: ClassVar[Mode] = "graph"


class FindingsDetector(Detector[P]):
    """Fed the findings the other detectors made on the same event (its :meth:`inputs`),
    after they judged it; reads their slots only for the ids in :attr:`depends_on`."""

    mode: ClassVar[Mode] = "findings"

    def inputs(self, available: Mapping[str, type[Detector[Any]]]) -> frozenset[str]:
        """Ids of the detectors whose findings this one reads, out of ``available``
        (default: those declaring :attr:`Detector.feeds_risk`). Raises
        :class:`ConfigError` for an id given that is not available."""
        return frozenset(i for i, c in available.items() if c.feeds_risk and i != self.id)

    @abstractmethod
    def on_findings(
        self, findings: list[Finding], event: Event, view: StateView
    ) -> list[Finding]:
        """Called by the pipeline after the others judged ``event`` (a kind in :attr:`kinds`),
        with their findings about ``view.officer`` from :meth:`inputs` (suppressed ones left
        out); ``view.officer_state`` holds the slots of :attr:`depends_on`."""

    def bind(self, judges: Sequence[Detector[Any]]) -> None:
        """Told, once, the detectors a pipeline runs before this one on the same events.
        Raises :class:`RegistrationError` if one in :attr:`depends_on` is missing."""
        present = {d.id for d in judges}
        missing = [d for d in self.depends_on if d not in present]
        if missing:
            raise RegistrationError(
                f"{self.id} reads the state of {', '.join(missing)}, which this pipeline "
                f"does not run: enable it (or disable {self.id})"
            )
