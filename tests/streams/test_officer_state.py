"""The worker's view of its officer-state table: bytes in the table, a bounded decoded cache."""

from __future__ import annotations

import orjson

from streams.worker import _TableDict


class _Table:
    """Just the two things the worker uses of a faust table: its store and its changelog."""

    def __init__(self) -> None:
        self.data: dict[str, bytes] = {}
        self.sent: list[tuple[int, str, bytes]] = []

    def send_changelog(self, partition: int, key: str, value: bytes) -> None:
        self.sent.append((partition, key, value))


def test_state_round_trips_through_bytes_and_the_cache_stays_bounded() -> None:
    table = _Table()
    view = _TableDict(table, cache_size=16)
    for i in range(40):
        officer = f"S{i}"
        view[officer] = {"_seen": [f"e{i}"]}
        view.flush(officer, partition=i % 4)
        view.trim()
    assert len(view.cache) == 16 and len(table.data) == 40
    assert next(iter(view.cache)) == "S24"  # least recently active dropped first
    # an evicted officer's state comes back from the table's bytes, unchanged
    assert view.get("S3") == {"_seen": ["e3"]}
    assert table.sent[3] == (3, "S3", orjson.dumps({"_seen": ["e3"]}))
    assert len(view) == 40 and "S0" in view and "S99" not in view
