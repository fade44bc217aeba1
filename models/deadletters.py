"""Dead letters: invalid input kept whole, with the reason and where it came from.

The one record type of the dead-letter topic, written by ingest, the worker, the graph agent
and the alerts sink, and read back by replay and the tests. Nothing is dropped: the original
bytes travel base64-encoded (they may not even be UTF-8), with the reason naming the field at
fault and the origin (topic/partition/offset, or file/line for ingest). On the wire it is the
JSON of :meth:`DeadLetter.dumps`, fields left out when empty. A record too big for a dead
letter to stay under Kafka's 1 MB message limit carries its first :data:`MAX_ORIGINAL` bytes
and its full ``original_size``; the whole record stays at its origin.

>>> dl = DeadLetter.of(b"{", "not valid JSON", Origin(file="events.jsonl", line=3))
>>> list(orjson.loads(dl.dumps()))
['reason', 'original', 'origin', 'dead_lettered_at']
>>> orjson.loads(dl.dumps())["origin"], dl.original
({'file': 'events.jsonl', 'line': 3}, 'ew==')
>>> load_dead_letter(dl.dumps()) == dl and dl.original_bytes
b'{'
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

import orjson
from pydantic import AwareDatetime, BaseModel, ConfigDict

MAX_REASON = 500
#: the most of a record a dead letter carries: base64 makes it 4/3 larger, and the dead letter
#: must stay under the producer's and broker's default 1 MB limit or it could not be sent
MAX_ORIGINAL = 512 * 1024
#: an event id longer than the contract allows (128) is no id: kept only as its prefix
MAX_EVENT_ID = 128


class Origin(BaseModel):
    """Where a dead letter came from: a Kafka position or a file line."""

    model_config = ConfigDict(frozen=True)

    topic: str | None = None
    partition: int | None = None
    offset: int | None = None
    file: str | None = None
    line: int | None = None


class DeadLetter(BaseModel):
    """One invalid input. ``original`` is base64 of the exact bytes received."""

    model_config = ConfigDict(frozen=True)

    reason: str
    original: str
    origin: Origin
    event_id: str | None = None
    dead_lettered_at: AwareDatetime
    #: set when ``original`` is only the record's first MAX_ORIGINAL bytes: its full size
    original_size: int | None = None

    @classmethod
    def of(cls, raw: bytes, reason: str, origin: Origin, event_id: str | None = None) -> DeadLetter:
        """The dead letter of ``raw``, stamped now; reason, bytes and id cut to their limits."""
        size = len(raw) if len(raw) > MAX_ORIGINAL else None
        return cls(
            reason=reason[:MAX_REASON],
            original=base64.b64encode(raw[:MAX_ORIGINAL]).decode("ascii"),
            origin=origin,
            event_id=event_id[:MAX_EVENT_ID] if event_id is not None else None,
            dead_lettered_at=datetime.now(UTC),
            original_size=size,
        )

    @property
    def original_bytes(self) -> bytes:
        return base64.b64decode(self.original)

    def dumps(self) -> bytes:
        return orjson.dumps(self.model_dump(mode="json", exclude_none=True))

    def key(self) -> bytes | None:
        """The Kafka key: the event id when the record had one."""
        return self.event_id.encode() if self.event_id else None


def load_dead_letter(raw: bytes) -> DeadLetter:
    """A dead letter from the bytes :meth:`DeadLetter.dumps` gave (the topic's values)."""
    data: Any = orjson.loads(raw)
    return DeadLetter.model_validate(data)
