"""The ids of the events a source had accepted lately: a repeated one is answered
``duplicate`` and not published again.

Bounded: the last ``capacity`` ids per source, oldest forgotten first, in the intake's memory
(lost when it restarts). Beyond this window an event sent again is published again, with the
same key, so on the same partition, where the worker's per-officer seen ids
(``seen_ids_per_officer``) drop it; docs/intake.md says so.

>>> r = RecentIds(2)
>>> r.add("a"); r.add("b"); r.add("c")
>>> ("a" in r, "b" in r, "c" in r)
(False, True, True)
"""

from __future__ import annotations


class RecentIds:
    """An insertion-ordered set that forgets its oldest members beyond ``capacity``."""

    __slots__ = ("_ids", "capacity")

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._ids: dict[str, None] = {}

    def __contains__(self, event_id: object) -> bool:
        return event_id in self._ids

    def __len__(self) -> int:
        return len(self._ids)

    def add(self, event_id: str) -> None:
        ids = self._ids
        if event_id in ids:
            return
        ids[event_id] = None
        if len(ids) > self.capacity:
            del ids[next(iter(ids))]
