"""Edge records: what the graph agent is told, derived from events by the workers.

The association graph changes far more slowly than activity, so the workers do not forward
activity to it: they publish a record only when an event changes the graph (a graph-relevant
reference event, once, from the reference agent that judges it; a call to a number the
officer's state has not yet given all its evidence for; a look-up that brings an officer's
no-purpose, untasked look-ups of a person to the threshold; an untasked look-up of an OCG
nominal, for convergence). One record per event at most, identified by the event's id, so a
redelivery is recognised.

>>> from models.events import decode_obj
>>> e = decode_obj({"id": "c1", "time": "2026-03-02T09:00:00Z", "source": "switch",
...                 "kind": "call.made", "actor": "S1", "attrs": {"number": "0700"}})
>>> decode_edge(EdgeRecord(event=e).dumps()).event.attrs.number
'0700'
"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from models.events import Event, NonEmpty, _reason, decode_obj
from models.exceptions import DecodeError


class Watched(BaseModel):
    """An untasked look-up of an OCG nominal: ``person``, logged under ``key`` (the group,
    or the nominal's own id when listed without one)."""

    model_config = ConfigDict(frozen=True)

    person: NonEmpty
    key: NonEmpty


class Crossing(BaseModel):
    """The officer's no-purpose, untasked look-ups of ``person`` that make (or, once made,
    add to) a ``looked_up`` edge: ``evidence`` as (event time, event id); the edge exists
    from ``opened`` (the look-up that reached the threshold)."""

    model_config = ConfigDict(frozen=True)

    person: NonEmpty
    evidence: Annotated[list[tuple[AwareDatetime, NonEmpty]], Field(min_length=1, max_length=100)]
    opened: AwareDatetime


class EdgeRecord(BaseModel):
    """One record of the edges topic: the event behind it and what it means for the graph.

    ``event``: a graph-relevant reference event as published, or the activity event (a call,
    or a look-up without its attributes); ``lookups`` and ``looked_up``: what the officer's
    worker derived from a look-up with that officer's state.
    """

    model_config = ConfigDict(frozen=True)

    event: Event
    lookups: list[Watched] = Field(default_factory=list)
    looked_up: list[Crossing] = Field(default_factory=list)

    @property
    def id(self) -> str:
        return self.event.id

    @property
    def key(self) -> bytes:
        """The Kafka key: the officer for activity, the reference entity otherwise."""
        return self.event.key.encode()

    def dumps(self) -> bytes:
        out: dict[str, Any] = {"event": orjson.loads(self.event.dumps())}
        if self.lookups:
            out["lookups"] = [w.model_dump() for w in self.lookups]
        if self.looked_up:
            out["looked_up"] = [c.model_dump(mode="json") for c in self.looked_up]
        return orjson.dumps(out)


def decode_edge(raw: bytes | str) -> EdgeRecord:
    """Bytes of the edges topic into an :class:`EdgeRecord`, or :class:`DecodeError`."""
    try:
        obj = orjson.loads(raw)
    except (orjson.JSONDecodeError, UnicodeDecodeError, TypeError, ValueError) as exc:
        raise DecodeError(f"not valid JSON: {exc}") from exc
    if not isinstance(obj, dict):
        raise DecodeError(f"not a JSON object (got {type(obj).__name__})")
    event = obj.get("event")
    event_id = event.get("id") if isinstance(event, dict) else None
    try:
        # the event through the one decoder, so its attrs are typed for its kind
        typed = decode_obj(event)
    except DecodeError as exc:
        raise DecodeError(f"event: {exc.reason}", event_id=exc.event_id) from exc
    try:
        return EdgeRecord.model_validate({**obj, "event": typed})
    except ValidationError as exc:
        raise DecodeError(
            _reason(exc), event_id=event_id if isinstance(event_id, str) else None
        ) from exc
    except (RecursionError, ValueError, TypeError) as exc:
        raise DecodeError(f"invalid edge record: {type(exc).__name__}") from exc
