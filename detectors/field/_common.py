"""Helpers the field detectors share: encounters, operations, purposes."""

from __future__ import annotations

from models.events import Event

ENCOUNTER_KINDS = frozenset({"stop_search.recorded", "use_of_force.recorded"})


NO_OPERATION = frozenset({"", "none", "null", "n/a", "na", "-"})


def _operation(value: str | None) -> str | None:
    """An operation name, or None for the ways systems write 'none'."""
    return None if value is None or value.strip().casefold() in NO_OPERATION else value


def _purpose(event: Event) -> str:
    return f"purpose given: {event.purpose}" if event.purpose else "no purpose given"
