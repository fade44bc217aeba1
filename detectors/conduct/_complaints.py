"""Complaints folded from their reference facts, for the conduct detectors."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from detectors.reference.facts import ComplaintInfo, Fact


@dataclass(frozen=True, slots=True)
class Complaint:
    """One complaint folded from its logged, updated and referred events."""

    key: str  # the complaint reference, or the logging event's id when none was given
    logged: Fact[ComplaintInfo]  # the first event seen for it
    category: str | None  # the latest category given
    category_since: datetime | None  # when it first got the category it has now
    referrals: tuple[Fact[ComplaintInfo], ...]  # events naming a body it was referred to


def fold_complaints(facts: Iterable[Fact[ComplaintInfo]]) -> list[Complaint]:
    """Complaint events grouped by complaint reference, in the order they were first seen.

    A ``complaint.referred`` is recognised by its ``body`` (the contract gives no other mark).
    """
    groups: dict[str, list[Fact[ComplaintInfo]]] = {}
    for fact in sorted(facts, key=lambda f: (f.time, f.event_id)):
        groups.setdefault(fact.value.complaint or fact.event_id, []).append(fact)
    out = []
    for key, group in groups.items():
        category, since = None, None
        for f in group:
            cat = (f.value.category or "").strip().casefold() or None
            if cat and cat != category:
                category, since = cat, f.time
        out.append(
            Complaint(
                key=key,
                logged=group[0],
                category=category,
                category_since=since,
                referrals=tuple(f for f in group if f.value.body),
            )
        )
    return out
