"""Small pure helpers detectors share (who an event concerns, how to phrase figures)."""

from __future__ import annotations

from models.alerts import Severity
from models.events import Event, attr_or_none

PERSON_RECORD_KINDS = frozenset(
    {"record.search", "record.view", "record.update", "record.delete", "record.export"}
)


def persons_of(event: Event) -> list[str]:
    """The people an event concerns: its ``subjects`` plus a person record's own id."""
    people = list(event.subjects or ())
    if event.record is not None and event.record.type == "person" and event.record.id not in people:
        people.append(event.record.id)
    return people


def fields_of(event: Event) -> list[str]:
    """The record fields an event opened (``attrs.fields``), or none."""
    return list(attr_or_none(event.attrs, "fields") or ())


def plural(n: int, word: str, many: str | None = None) -> str:
    """``3 views`` / ``1 view``.

    >>> plural(1, "view"), plural(3, "view"), plural(2, "entry", "entries")
    ('1 view', '3 views', '2 entries')
    """
    return f"{n} {word if n == 1 else (many or word + 's')}"


def purpose_phrase(event: Event) -> str:
    """``; purpose given: INC-1`` or ``; no purpose was given``, for explanations."""
    return f"; purpose given: {event.purpose}" if event.purpose else "; no purpose was given"


def severity_band(score: float, high: float, medium: float) -> Severity:
    """``high`` from ``high`` points, ``medium`` from ``medium``, else ``low``.

    >>> severity_band(60, 60, 45), severity_band(50, 60, 45), severity_band(44, 60, 45)
    ('high', 'medium', 'low')
    """
    return "high" if score >= high else "medium" if score >= medium else "low"
