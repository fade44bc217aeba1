"""Edge records derived from events: what each officer's worker publishes for the graph."""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any

from detectors.graph.model import DERIVED_KINDS, GRAPH_REFERENCE_KINDS, OCG_LIST, _utc
from detectors.lib.common import PERSON_RECORD_KINDS, persons_of
from detectors.reference.facts import normalise_value
from detectors.reference.view import ReferenceView
from models.edges import Crossing, EdgeRecord, Watched
from models.events import (
    Attrs,
    CallAttrs,
    Event,
    StaffAttrs,
    WatchlistAttrs,
    WatchlistRemovedAttrs,
)


@dataclass
class EdgeDeriver:
    """What an event means for the graph, decided where the event is judged.

    A reference event is its own record (:meth:`reference`). Activity is judged on the
    officer's worker with the officer's state (a JSON-able dict of this deriver's own, kept
    with the rest of the officer's state on the officer's partition), so only derived
    records leave it (:meth:`activity`): a call while the officer's (officer, number) edge
    has fewer than ``max_evidence`` events (the last ``max_numbers`` numbers remembered); the
    look-up that brings an officer's no-purpose, untasked look-ups of a person within
    ``lookup_retention_h`` to ``lookup_threshold`` (then each further one while the edge's
    evidence grows; counts kept for the ``max_pending`` persons most recently looked up);
    every untasked look-up of an OCG nominal (rare), for convergence.
    """

    lookup_threshold: int = 3
    max_evidence: int = 20
    max_numbers: int = 64
    max_pending: int = 256
    lookup_retention_h: float = 30 * 24.0

    @property
    def kinds(self) -> frozenset[str]:
        """The activity kinds that may give a record (a property, not a class attribute: a
        dataclass compiled by mypyc takes those for fields)."""
        return DERIVED_KINDS

    def reference(self, event: Event) -> EdgeRecord | None:
        """The record of a reference event that can change the graph (None otherwise)."""
        a = event.attrs
        if event.kind not in GRAPH_REFERENCE_KINDS:
            return None
        if isinstance(a, StaffAttrs) and a.addresses is None and a.phones is None:
            return None
        if isinstance(a, WatchlistAttrs | WatchlistRemovedAttrs) and (
            a.list != OCG_LIST or not a.person
        ):
            return None
        return EdgeRecord(event=event)

    def activity(
        self, event: Event, ref: ReferenceView, state: MutableMapping[str, Any]
    ) -> EdgeRecord | None:
        """The record an activity event gives (None for nearly all), updating ``state``.

        Called once per event (the pipeline skips redeliveries by event id), in the
        officer's own order."""
        officer = event.actor
        if officer is None:
            return None
        a = event.attrs
        if isinstance(a, CallAttrs):
            return self._call(event, a, state) if a.number else None
        if event.kind not in PERSON_RECORD_KINDS:
            return None
        watched, crossings = self._lookup(event, officer, ref, state)
        if not (watched or crossings):
            return None
        # the graph needs who looked up whom and when, not what was read
        slim = event.model_copy(update={"attrs": Attrs(), "terminal": None, "ip": None})
        return EdgeRecord(event=slim, lookups=watched, looked_up=crossings)

    def _call(
        self, event: Event, a: CallAttrs, state: MutableMapping[str, Any]
    ) -> EdgeRecord | None:
        calls: dict[str, int] = state.setdefault("calls", {})
        number = normalise_value(a.number or "")
        n = calls.pop(number, 0)
        calls[number] = min(n + 1, self.max_evidence)  # re-inserted: most recent last
        while len(calls) > self.max_numbers:
            del calls[next(iter(calls))]
        return EdgeRecord(event=event) if n < self.max_evidence else None

    def _lookup(
        self, event: Event, officer: str, ref: ReferenceView, state: MutableMapping[str, Any]
    ) -> tuple[list[Watched], list[Crossing]]:
        watched: list[Watched] = []
        crossings: list[Crossing] = []
        tasked = ref.subjects_tasked(officer)
        now = event.time.timestamp()
        horizon = now - self.lookup_retention_h * 3600  # by the officer's own clock
        # person -> [[event time (Unix s), event id], ...]: compact, it is changelogged
        pending: dict[str, list[list[Any]]] = state.setdefault("pending", {})
        edged: dict[str, list[float]] = state.setdefault("edged", {})  # -> [evidence, last]
        self.sweep(now, horizon, state, pending, edged)
        for person in persons_of(event):
            if person in tasked:
                continue
            entry = ref.on_list(person, OCG_LIST)
            if entry is not None and (entry.group is None or entry.group not in tasked):
                watched.append(Watched(person=person, key=entry.group or person))
            if event.purpose:
                continue
            done = edged.get(person)
            if done is not None:  # already an edge: add evidence while it grows
                done[1] = now
                if done[0] < self.max_evidence:
                    done[0] += 1
                    crossings.append(Crossing(person=person, evidence=[(event.time, event.id)],
                                              opened=event.time))  # fmt: skip
                continue
            seen = [x for x in pending.pop(person, ()) if x[0] >= horizon]
            if event.id not in {i for _, i in seen}:
                seen.append([now, event.id])
            if len(seen) < self.lookup_threshold:
                pending[person] = seen  # re-inserted: the most recent last
                while len(pending) > self.max_pending:
                    del pending[next(iter(pending))]
                continue
            edged[person] = [len(seen), now]
            crossings.append(Crossing(
                person=person,
                evidence=[(event.time if i == event.id else _utc(t), i) for t, i in seen],
                opened=event.time,
            ))  # fmt: skip
        return watched, crossings

    @staticmethod
    def sweep(
        now: float,
        horizon: float,
        state: MutableMapping[str, Any],
        pending: dict[str, list[list[Any]]],
        edged: dict[str, list[float]],
    ) -> None:
        """Once a day of the officer's clock, forget look-ups older than the retention (a
        forgotten edge is re-made by three more look-ups: its evidence is added, nothing new)."""
        swept = state.get("swept")
        if swept is not None and now - swept < 86400:
            return
        state["swept"] = now
        for person in [p for p, seen in pending.items() if seen[-1][0] < horizon]:
            del pending[person]
        for person in [p for p, done in edged.items() if done[1] < horizon]:
            del edged[person]
