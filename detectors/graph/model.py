"""The association graph's vocabulary: typed nodes, links, new edges, paths and look-ups."""

from __future__ import annotations

import itertools
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from detectors.lib.common import PERSON_RECORD_KINDS
from detectors.reference.facts import normalise_value

#: ``person.link`` link types and the node kind and relation they make
LINK_TYPES: dict[str, tuple[str, str]] = {
    "address": ("address", "lives_at"),
    "phone": ("phone", "uses_phone"),
    "vehicle": ("vehicle", "uses_vehicle"),
    "person": ("person", "associate_of"),
}


#: how a relation reads in an explanation: ``<src> <verb> <dst>`` (or ``{dst}`` placed)
VERBS: dict[str, str] = {
    "lives_at": "lives at",
    "uses_phone": "uses",
    "uses_vehicle": "uses",
    "associate_of": "is linked to",
    "declared": "declared an association with",
    "member_of": "is an OCG nominal of",
    "called": "called",
    "looked_up": "looked up {dst} with no purpose given and no task",
    "linked_to": "is linked to",
}


OCG_LIST = "ocg_nominal"


#: the reference kinds whose events can change the graph (published by the worker judging them)
GRAPH_REFERENCE_KINDS = frozenset(
    {"staff.upsert", "person.link", "association.declared", "watchlist.upsert",
     "watchlist.removed"}
)  # fmt: skip


#: open ends of a validity span
EPOCH = datetime.min.replace(tzinfo=UTC)


FOREVER = datetime.max.replace(tzinfo=UTC)


Span = tuple[datetime, datetime]  # [from, until): when something stood


def node(kind: str, value: str) -> str:
    """The node id of an entity: ids kept as given, identifiers (phones...) normalised;
    one string per node (interned), however many links, records and changes name it.

    >>> node("phone", "+44 7700 900-999"), node("staff", "S1")
    ('phone:07700900999', 'staff:S1')
    """
    if kind in ("staff", "person", "ocg"):
        return sys.intern(f"{kind}:{value}")
    return sys.intern(f"{kind}:{normalise_value(value)}")


def kind_of(n: str) -> str:
    return n.partition(":")[0]


def is_staff(n: str) -> bool:
    return n.startswith("staff:")


@dataclass(slots=True)
class Link:
    """One relation between two nodes: ``src`` is its subject (``S1`` *lives at* ...)."""

    relation: str
    src: str
    first: datetime
    last: datetime
    evidence: list[str]
    count: int = 1
    detail: str | None = None  # e.g. the declared relationship
    opened: datetime | None = None  # set when the relation exists later than its first event
    until: datetime | None = None  # set when it ended (replaced, or taken off a list)

    @property
    def since(self) -> datetime:
        """When the relation came to exist: its first event, or (``looked_up``) the look-up
        that reached the threshold."""
        return self.opened or self.first


@dataclass(frozen=True, slots=True)
class NewEdge:
    """A relation between ``u`` and ``v`` first seen with one event."""

    u: str
    v: str
    relation: str


@dataclass(frozen=True, slots=True)
class GraphPath:
    """A simple path from a source (e.g. a member of staff) to a target (e.g. an OCG)."""

    nodes: tuple[str, ...]

    @property
    def source(self) -> str:
        return self.nodes[0]

    @property
    def target(self) -> str:
        return self.nodes[-1]

    @property
    def hops(self) -> int:
        return len(self.nodes) - 1

    def pairs(self) -> Iterator[tuple[str, str]]:
        return itertools.pairwise(self.nodes)


@dataclass(frozen=True, slots=True, order=True)
class Lookup:
    """One look-up of an OCG nominal by an officer with no task for that person or group
    (ordered by event time, then event id: the log's order whatever the arrival order)."""

    time: datetime
    event_id: str
    officer: str
    person: str


#: the activity kinds that may give an edge record
DERIVED_KINDS: frozenset[str] = PERSON_RECORD_KINDS | {"call.made"}


def _utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def ident(n: str) -> str:
    """The id part of a node: ``staff:S1`` -> ``S1``."""
    return n.partition(":")[2]
