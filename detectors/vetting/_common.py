"""Helpers the vetting detectors share: vetting held or lapsed, whose staff a worker answers for."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time

from detectors.base import StateView
from detectors.reference.facts import (
    Fact,
    StaffInfo,
    VettingInfo,
)

HELD = frozenset({"granted", "conditions"})


def _lapse(vetting: Fact[VettingInfo] | None, today: date) -> tuple[str, str] | None:
    """(key, description) of why vetting is not held on ``today``, or None if it is."""
    if vetting is None:
        return "none", "has no vetting record"
    v = vetting.value
    if v.status in ("withdrawn", "expired"):
        return (
            f"{vetting.event_id}:{v.status}",
            f"had {v.level or 'their'} vetting {v.status} on {vetting.time.date()} "
            f"(record {vetting.event_id})",
        )
    if v.expires is not None and v.expires < today:
        return (
            f"{vetting.event_id}:lapsed",
            f"had {v.level or 'their'} vetting expire on {v.expires} with no renewal recorded "
            f"(record {vetting.event_id})",
        )
    return None


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=UTC)


def _owned_current_staff(view: StateView) -> Iterator[Fact[StaffInfo]]:
    """Staff this worker answers for, in a stable order (ticks must be deterministic)."""
    for fact in sorted(view.ref.all_staff(), key=lambda f: f.value.staff_id):
        if view.owns(fact.value.staff_id):
            yield fact
