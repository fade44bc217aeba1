"""What a replay and its judges (:mod:`streams.replay_judge`) say to each other; light, so
the replay's own process does not load the engine."""

from __future__ import annotations

from typing import Any

import orjson
from confluent_kafka import Message

#: per partition, the next offset after the last record to judge
Ends = dict[int, int]


def where(msg: Message) -> tuple[str, int, int]:
    """A consumed record's topic, partition and offset (librdkafka types them optional)."""
    return msg.topic() or "", msg.partition() or 0, msg.offset() or 0


def encode_ends(family: str, ends: dict[tuple[str, int], int], topic: str) -> bytes:
    """The stdin line telling a judge where ``topic`` ends: ``{family: {partition: end}}``."""
    body: dict[str, Any] = {family: {str(p): o for (tp, p), o in ends.items() if tp == topic}}
    return orjson.dumps(body) + b"\n"


def decode_ends(line: bytes) -> dict[str, Ends]:
    """:func:`encode_ends`'s line back."""
    obj = orjson.loads(line)
    return {fam: {int(p): int(o) for p, o in ends.items()} for fam, ends in obj.items()}
