"""Complainant targeting: an officer looks up a person who complained about them."""

from __future__ import annotations

from typing import Any

from detectors.access.params import ComplainantLookupParams
from detectors.base import EventDetector, StateView
from detectors.lib.books import mark_alerted, purpose_note, recently_alerted, sweep
from detectors.lib.purpose import (
    LOOKUP_KINDS,
    justify,
    opened_contact,
    targets,
)
from detectors.lib.times import DAY, epoch, when
from detectors.registry import register
from models.alerts import Category, Finding
from models.events import Event


@register
class ComplainantLookup(EventDetector[ComplainantLookupParams]):
    """Complainant targeting: an officer looks up a person who complained about them.

    The complaint must be on record (``complaint.logged`` naming the complainant) before the
    look-up. Only a task linking the officer to that person explains it; a bare purpose does
    not, since the officer has a conflict of interest.
    """

    id = "access.complainant_lookup"
    Params = ComplainantLookupParams
    feeds_risk = True
    kinds = LOOKUP_KINDS | frozenset({"record.update", "record.export"})
    category = Category.MISUSE_OF_SYSTEMS
    description = "An officer looks up the person who complained about them."

    def __init__(self, params: ComplainantLookupParams | None = None, /, **overrides: Any) -> None:
        super().__init__(params, **overrides)
        p = self.params
        self.score = p.score
        self.realert_s = p.realert_days * DAY

    @classmethod
    def test_params(cls) -> list[dict[str, Any]]:
        return [{"realert_days": 1.0}]  # fmt: skip

    def judge(self, event: Event, view: StateView) -> list[Finding]:
        officer = event.actor
        if officer is None:
            return []
        people = targets(event)
        if not people:
            return []
        complaints = view.ref.complaints(officer)
        if not complaints:
            return []
        by_person: dict[str, list[Any]] = {}
        for fact in complaints:
            if fact.value.complainant:
                by_person.setdefault(fact.value.complainant, []).append(fact)
        now = epoch(event.time)
        out = []
        for person in people:
            facts = by_person.get(person)
            if not facts:
                continue
            why = justify(event, officer, person, view.ref)
            if why.kind == "task":
                continue
            if recently_alerted(view.state, person, now, self.realert_s):
                continue
            mark_alerted(view.state, person, now)
            sweep(view.state, now, self.realert_s)
            first = facts[0]
            refs = sorted({f.value.complaint for f in facts if f.value.complaint})
            contact = opened_contact(event)
            out.append(
                self.finding(
                    event,
                    officer=officer,
                    severity="high",
                    score=min(100.0, self.score + (10 if contact else 0)),
                    title=f"{officer} looked up {person}, who complained about them",
                    explanation=(
                        f"{officer} used {event.kind} on {person} at {when(event.time)}"
                        f"{' with contact details opened' if contact else ''}. {person} made "
                        f"complaint {', '.join(refs) or first.event_id} "
                        f"({first.value.category or 'category not given'}) against {officer}, "
                        f"logged {when(first.time)}; no task links {officer} to {person} "
                        f"({purpose_note(event)})."
                    ),
                    evidence=[event.id, first.event_id],
                    subjects=[person],
                    facts={"complaints": refs, "complaint_events": [f.event_id for f in facts],
                           "contact_details": contact},
                    identifiers=refs,
                )
            )
        return out
