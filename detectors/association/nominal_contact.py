"""A call from a force phone to a number linked to an OCG nominal (``person.link``)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from detectors.association._common import _task_explains
from detectors.association.params import NominalContactParams
from detectors.base import EventDetector, StateView
from detectors.graph.model import OCG_LIST, node
from detectors.registry import register
from models.alerts import Category, Finding
from models.events import CallAttrs, Event


@register
class NominalContact(EventDetector[NominalContactParams]):
    """A call from a force phone to a number linked to an OCG nominal (``person.link``).

    Explained when a task assigned to the caller names the nominal or the group. A number on
    record (``person.link``) for more than ``max_persons`` people is a switchboard or a shared
    landline (a hostel, a hospital ward), not the nominal's own phone: calling it is not
    contact with the nominal, so it is skipped. Later calls to the same nominal within
    ``window_h`` hours are counted in state, not re-raised. Needs only reference data, so it
    works with or without the graph.
    """

    id = "association.nominal_contact"
    Params = NominalContactParams
    feeds_risk = True
    kinds = frozenset({"call.made"})
    category = Category.INAPPROPRIATE_ASSOCIATION
    description = "Call to a phone number linked to an OCG nominal, with no task for it."

    def __init__(self, params: NominalContactParams | None = None, /, **overrides: Any) -> None:
        super().__init__(params, **overrides)
        p = self.params
        self.score = p.score
        self.window_h = p.window_h
        self.max_persons = p.max_persons

    @classmethod
    def test_params(cls) -> list[dict[str, Any]]:
        return [{"max_persons": 1, "window_h": 0.0}]  # fmt: skip

    def judge(self, event: Event, view: StateView) -> list[Finding]:
        officer, attrs = event.actor, event.attrs
        if officer is None or not isinstance(attrs, CallAttrs):
            return []
        if not attrs.number:
            return []
        linked = view.ref.persons_linked_to(attrs.number)
        if len(linked) > self.max_persons:
            return []  # a shared number (switchboard), not anyone's own phone
        last: dict[str, str] = view.state.setdefault("last_alert", {})
        out = []
        for person in sorted(linked):
            entry = view.ref.on_list(person, OCG_LIST)
            if entry is None:
                continue
            group = entry.group or person
            if _task_explains(view.ref, officer, {person, group}):
                continue
            previous = last.get(person)
            if previous and event.time - datetime.fromisoformat(previous) < timedelta(
                hours=self.window_h
            ):
                continue
            last[person] = event.time.isoformat()
            link_ids = [
                f.event_id for f in view.ref.links_of(person)
                if f.value.value and node("phone", f.value.value) == node("phone", attrs.number)
            ]
            declared = [f for f in view.ref.associations(officer) if f.value.person == person]
            out.append(
                self.finding(
                    event,
                    officer=officer,
                    severity="medium" if declared else "high",
                    score=self.score - (20 if declared else 0),
                    title=f"{officer} called a number linked to OCG nominal {person} ({group})",
                    explanation=(
                        f"{officer} called {attrs.number} from a force phone ({event.id}). "
                        f"That number is linked to {person} ({', '.join(link_ids)}), an OCG "
                        f"nominal of {group} (list entry {entry.event_id}). No task assigned "
                        f"to {officer} names {person} or {group}"
                        + (
                            f"; {officer} declared {person} ({declared[0].event_id})."
                            if declared
                            else f", and {officer} has declared no association with {person}."
                        )
                    ),
                    evidence=[event.id, *link_ids, entry.event_id],
                    subjects=[person],
                    facts={"number": attrs.number, "group": group, "declared": bool(declared)},
                    identifiers=[attrs.number],
                )
            )
        return out
