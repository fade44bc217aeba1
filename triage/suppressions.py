"""Suppressions: analysts' false-positive feedback that the worker honours.

Pure: the worker loads the active suppressions (``Store.active_suppressions``) and calls
:func:`is_suppressed` for each finding before it raises an alert.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Protocol

from triage.base import Suppression

log = logging.getLogger(__name__)


class _Judged(Protocol):
    @property
    def detector(self) -> str: ...
    @property
    def officer(self) -> str: ...
    @property
    def subjects(self) -> list[str]: ...


def is_suppressed(
    suppressions: Iterable[Suppression], item: _Judged, at: datetime
) -> Suppression | None:
    """The first suppression active at ``at`` that covers ``item`` (a Finding or Alert).

    A suppression covers an item of the same detector about the same officer, or one whose
    subjects include the suppressed subject.

    >>> from datetime import UTC, datetime, timedelta
    >>> from types import SimpleNamespace as NS
    >>> t = datetime(2026, 3, 1, tzinfo=UTC)
    >>> s = Suppression(detector="access.canary", officer="S1", expires_at=t + timedelta(days=1),
    ...                 reason="test account", created_by="S9", created_at=t, approved_by="S8")
    >>> bool(is_suppressed([s], NS(detector="access.canary", officer="S1", subjects=[]), t))
    True
    >>> bool(is_suppressed([s], NS(detector="access.canary", officer="S2", subjects=[]), t))
    False
    >>> bool(is_suppressed([s], NS(detector="access.canary", officer="S1", subjects=[]),
    ...                    t + timedelta(days=2)))
    False
    """
    for sup in suppressions:
        if sup.detector != item.detector or not sup.active_at(at):
            continue
        if sup.officer is not None and sup.officer == item.officer:
            return sup
        if sup.subject is not None and sup.subject in item.subjects:
            return sup
    return None


class SuppressionCache:
    """The active suppressions, reloaded at most every ``refresh_s`` seconds.

    For the worker: ``SuppressionCache(store.active_suppressions)`` then
    ``cache.check(finding)`` before raising an alert. A failing reload (store down) keeps
    the last list and is retried at the next refresh: suppressions are advisory, alerts
    must keep flowing.
    """

    def __init__(
        self,
        load: Callable[[], list[Suppression]],
        *,
        refresh_s: float = 5.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._load, self._refresh_s, self._monotonic = load, refresh_s, monotonic
        self._items: list[Suppression] = []
        self._loaded_at: float | None = None

    def current(self) -> list[Suppression]:
        now = self._monotonic()
        if self._loaded_at is None or now - self._loaded_at >= self._refresh_s:
            self._loaded_at = now
            try:
                self._items = self._load()
            except Exception:  # any store error: keep the last list, say so, go on
                log.warning("could not reload suppressions; keeping %d", len(self._items),
                            exc_info=True)  # fmt: skip
        return self._items

    def check(self, item: _Judged, at: datetime | None = None) -> Suppression | None:
        """``is_suppressed`` against the current list, at ``at`` (default: the item's time)."""
        when = at if at is not None else getattr(item, "time", None)
        if when is None:
            raise ValueError("give `at` for an item without a time")
        return is_suppressed(self.current(), item, when)
