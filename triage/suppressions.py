"""Suppressions: analysts' false-positive feedback that the worker honours.

Pure: the worker loads the active suppressions (``Store.active_suppressions``) and calls
:func:`is_suppressed` for each finding before it raises an alert.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Protocol

from triage.base import Suppression


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
    ...                 reason="test account", created_by="S9", created_at=t)
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
