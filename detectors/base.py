"""The contract every detector keeps, and the view of state it is given.

A detector is a small class: an ``id`` (``family.name``), the event ``kinds`` it reads, the
``category`` it points to, keyword-only parameters with immutable defaults, and a pure
:meth:`Detector.evaluate` from (event, view) to findings. It keeps what it must remember
about one officer in ``view.state`` (a JSON-able dict of its own), never in globals, and
reasons on event time (``view.now``), never the wall clock. Checks that need time to pass
(a review owed after 28 days) implement :meth:`Detector.on_tick`.

Register a detector with :func:`detectors.registry.register`; the conformance suite in
``tests/detectors/test_conformance.py`` then checks it without a line of new test code.
"""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from detectors.exceptions import RegistrationError
from detectors.reference.view import ReferenceView
from models.alerts import Category, Finding, Severity
from models.events import Event


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
    #: for :attr:`Detector.reads_findings` detectors in a pipeline: the officer's whole state
    #: (every detector's slot, as the detectors before it left it on this event); read only
    officer_state: Mapping[str, Any] | None = None


class Detector(ABC):
    """Base class of every detector. Subclasses set the class attributes and ``evaluate``."""

    id: ClassVar[str]
    kinds: ClassVar[frozenset[str]]
    category: ClassVar[Category]
    description: ClassVar[str]
    #: set to a number of seconds of event time to have :meth:`on_tick` called that often
    tick_every_s: ClassVar[float | None] = None
    #: True for detectors that judge other detectors' findings (:meth:`on_findings`) instead
    #: of :meth:`evaluate`
    reads_findings: ClassVar[bool] = False
    #: True when findings carry a category other than :attr:`category` (risk accumulation
    #: takes the dominant category of what converged)
    category_varies: ClassVar[bool] = False

    def __init__(self) -> None:  # noqa: B027 - a concrete default: no parameters
        """Subclasses take keyword-only parameters with immutable defaults."""

    @abstractmethod
    def evaluate(self, event: Event, view: StateView) -> list[Finding]:
        """Judge one event of a kind in :attr:`kinds`; return findings (often none).

        Called by the worker for every event of those kinds, in the officer's order. Must
        not mutate ``event``; may read and write ``view.state``. An exception is caught,
        logged and counted by the worker: it never stops the stream.
        """

    def on_findings(self, findings: list[Finding], event: Event, view: StateView) -> list[Finding]:
        """For :attr:`reads_findings` detectors: called by the pipeline after the others have
        judged ``event`` (a kind in :attr:`kinds`), with their findings about ``view.officer``
        (suppressed ones left out). Default: judge the event alone."""
        return self.evaluate(event, view)

    def bind(self, judges: Sequence[Detector]) -> None:  # noqa: B027 - default: nothing
        """For :attr:`reads_findings` detectors: told, once, the detectors a pipeline runs
        before it on the same events (their slots are in ``view.officer_state``)."""

    def on_tick(self, view: StateView) -> list[Finding]:
        """Called by the worker as event time passes (every :attr:`tick_every_s`).

        ``view.officer`` is ``None``; use ``view.ref`` and ``view.owns``. Default: nothing.
        """
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
        """The keyword-only parameters and their defaults (what settings may override)."""
        sig = _init_signature(cls)
        return {
            name: p.default
            for name, p in sig.parameters.items()
            if p.kind is inspect.Parameter.KEYWORD_ONLY
        }

    @classmethod
    def check_contract(cls) -> None:
        """Raise :class:`RegistrationError` if the class attributes break the contract."""
        for attr in ("id", "kinds", "category", "description"):
            if not hasattr(cls, attr):
                raise RegistrationError(f"{cls.__name__} has no {attr}")
        family, _, name = cls.id.partition(".")
        if not family or not name:
            raise RegistrationError(f"{cls.__name__}.id must be family.name, got {cls.id!r}")
        if not isinstance(cls.kinds, frozenset) or not cls.kinds:
            raise RegistrationError(f"{cls.id}: kinds must be a non-empty frozenset")
        sig = _init_signature(cls)
        for pname, p in sig.parameters.items():
            if pname == "self":
                continue
            if p.kind is not inspect.Parameter.KEYWORD_ONLY:
                raise RegistrationError(f"{cls.id}: parameter {pname} must be keyword-only")
            if p.default is inspect.Parameter.empty:
                raise RegistrationError(f"{cls.id}: parameter {pname} needs a default")
            if isinstance(p.default, list | dict | set):
                raise RegistrationError(f"{cls.id}: parameter {pname} default must be immutable")


def _init_signature(cls: type[Detector]) -> inspect.Signature:
    """The signature of a detector's ``__init__``: introspected, or, for a class compiled by
    mypyc (``make native``: its functions carry no signature), read from the source file
    that ships beside the compiled module, defaults evaluated in the module's namespace."""
    try:
        return inspect.signature(cls.__init__)
    except ValueError:
        return _signature_from_source(cls)


def _signature_from_source(cls: type[Detector]) -> inspect.Signature:
    """``__init__``'s parameters and defaults as the class's source file declares them."""
    import ast
    import sys
    from pathlib import Path

    module = sys.modules[cls.__module__]
    source = Path(module.__file__ or "").with_name(cls.__module__.rpartition(".")[2] + ".py")
    if not source.is_file():
        raise RegistrationError(f"{cls.__name__}: compiled without its source, {source}")
    for node in ast.walk(ast.parse(source.read_text(), str(source))):
        if isinstance(node, ast.ClassDef) and node.name == cls.__name__:
            break
    else:
        raise RegistrationError(f"{cls.__name__}: no class of that name in {source}")
    init = next((f for f in node.body if isinstance(f, ast.FunctionDef)
                 and f.name == "__init__"), None)  # fmt: skip
    params = [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    if init is None:
        return inspect.Signature(params)
    if init.args.args[1:] or init.args.posonlyargs or init.args.vararg or init.args.kwarg:
        # the contract check rejects these; name them without guessing their defaults
        extra = [a.arg for a in init.args.posonlyargs + init.args.args[1:]]
        params += [inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD) for n in extra]
    for arg, default in zip(init.args.kwonlyargs, init.args.kw_defaults, strict=True):
        value = (inspect.Parameter.empty if default is None else
                 eval(compile(ast.Expression(default), str(source), "eval"),  # noqa: S307
                      vars(module)))  # fmt: skip  - our own source's default expressions
        params.append(inspect.Parameter(arg.arg, inspect.Parameter.KEYWORD_ONLY, default=value))
    return inspect.Signature(params)
