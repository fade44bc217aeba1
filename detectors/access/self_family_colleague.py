"""Look-ups of the officer's own record, their household, declared associates or colleagues."""

from __future__ import annotations

from typing import Any

from detectors.access.params import SelfFamilyColleagueParams
from detectors.base import EventDetector, StateView
from detectors.lib.books import mark_alerted, recently_alerted, sweep
from detectors.lib.purpose import (
    LOOKUP_KINDS,
    forms,
    justify,
    opened_contact,
    role_exempt,
    staff_values,
    targets,
)
from detectors.lib.times import DAY, epoch, when
from detectors.reference.view import ReferenceView
from detectors.registry import register
from models.alerts import Category, Finding
from models.events import Event


@register
class SelfFamilyColleague(EventDetector[SelfFamilyColleagueParams]):
    """Look-ups of the officer's own record, their household, declared associates or colleagues.

    Matching, since person records carry no names in the contract: the subject is the officer
    or another member of staff (staff ids as subjects, or a ``person`` link to a staff id);
    the subject's address or phone (``person.link``) is one of the officer's own (household)
    or another staff member's (a colleague's household); the subject is a declared associate.
    A task linking the officer to the subject explains it; a bare purpose excuses colleagues,
    not self, household or associates (no purpose makes looking up one's own family ordinary
    work). Staff whose role is to look at colleagues (``exempt_roles``: professional
    standards, vetting, HR) are exempt for colleagues. An address or phone shared by more than
    ``hub_max`` people (a hostel, a switchboard) says nothing about a household and is ignored.
    Staff ids among the subjects of an incident or case record are the officers who worked it:
    only a person (or staff) record of a member of staff counts as looking them up.
    """

    id = "access.self_family_colleague"
    Params = SelfFamilyColleagueParams
    feeds_risk = True
    kinds = LOOKUP_KINDS | frozenset({"record.update", "record.export"})
    category = Category.MISUSE_OF_SYSTEMS
    description = "Look-ups of oneself, one's household, declared associates or colleagues."

    _SCORES: dict[str, float] = {
        "self": 60.0, "household": 75.0, "associate": 72.0, "colleague": 55.0,
        "colleague_household": 60.0,
    }  # fmt: skip

    def __init__(
        self, params: SelfFamilyColleagueParams | None = None, /, **overrides: Any
    ) -> None:
        super().__init__(params, **overrides)
        p = self.params
        self.realert_s = p.realert_days * DAY
        self.trust = p.trust_unverified_purpose
        self.hub_max = p.hub_max
        self.exempt_roles = p.exempt_roles

    @classmethod
    def test_params(cls) -> list[dict[str, Any]]:
        return [{"trust_unverified_purpose": False, "hub_max": 1}]  # fmt: skip

    def judge(self, event: Event, view: StateView) -> list[Finding]:
        officer = event.actor
        if officer is None:
            return []
        ref, now = view.ref, epoch(event.time)
        out = []
        about_person = event.record is not None and event.record.type in ("person", "staff")
        for person in targets(event):
            relation, detail, link_events = self._relation(officer, person, ref)
            if relation is None:
                continue
            if relation in ("self", "colleague") and not (
                about_person or (event.record is not None and event.record.id == person)
            ):
                continue  # staff named on an incident or case they worked: not a look-up of them
            why = justify(event, officer, person, ref)
            if why.kind == "task":
                continue
            if relation.startswith("colleague") and (
                why.accepted(self.trust) or role_exempt(officer, ref, self.exempt_roles)
            ):
                continue
            if recently_alerted(view.state, person, now, self.realert_s):
                continue
            mark_alerted(view.state, person, now)
            sweep(view.state, now, self.realert_s)
            contact = opened_contact(event)
            score = self._SCORES[relation] + (10 if contact else 0)
            out.append(
                self.finding(
                    event,
                    officer=officer,
                    severity="high" if score >= 70 else "medium",
                    score=score,
                    title=f"{officer} looked up {detail}",
                    explanation=(
                        f"{officer} used {event.kind} on {detail}"
                        f"{' with contact details opened' if contact else ''}, at "
                        f"{when(event.time)}; "
                        f"{why.absent(officer, person)}. Looking up oneself, one's household, "
                        f"associates or colleagues needs a task."
                    ),
                    evidence=[event.id],
                    subjects=[person],
                    facts={"relation": relation, "link_events": link_events,
                           "contact_details": contact, "purpose": event.purpose},
                )
            )
        return out

    def _relation(
        self, officer: str, person: str, ref: ReferenceView
    ) -> tuple[str | None, str, list[str]]:
        """How ``person`` relates to ``officer``: relation, phrase, supporting event ids."""
        if person == officer:
            return "self", f"their own record ({person})", []
        for declared in ref.associations(officer):
            if declared.value.person == person:
                rel = declared.value.relationship or "associate"
                return "associate", f"{person}, their declared {rel}", [declared.event_id]
        # address and phone links; the hub test (how many people share the value) is the
        # costly part, so it is asked last, of links that would otherwise count
        person_links = ref.links_of(person)
        links = [
            f for f in person_links
            if f.value.link in ("address", "phone", None) and f.value.value
        ]  # fmt: skip
        own = staff_values(officer, ref) if links else set()
        for fact in links:
            value = fact.value.value
            if value and forms(value) & own and self._not_hub(value, ref):
                return (
                    "household",
                    f"{person}, who shares their {fact.value.link or 'address or phone'}",
                    [fact.event_id],
                )
        staff = ref.staff(person)
        if staff is not None:
            return "colleague", f"colleague {person} ({staff.value.role or 'staff'})", []
        for fact in person_links:
            value = fact.value.value
            if fact.value.link == "person" and value and ref.staff(value) is not None:
                if value == officer:
                    return "self", f"{person}, their own person record", [fact.event_id]
                return "colleague", f"{person}, the person record of colleague {value}", [
                    fact.event_id
                ]
        for fact in links:
            value = fact.value.value
            sharing = sorted(ref.staff_sharing(value) - {officer}) if value else []
            if sharing and value and self._not_hub(value, ref):
                return (
                    "colleague_household",
                    f"{person}, who shares the {fact.value.link or 'address or phone'} of "
                    f"colleague {sharing[0]}",
                    [fact.event_id],
                )
        return None, "", []

    def _not_hub(self, value: str, ref: ReferenceView) -> bool:
        """Whether few enough people share ``value`` for it to tie the officer to ``person``."""
        return len(ref.persons_linked_to(value)) <= self.hub_max
