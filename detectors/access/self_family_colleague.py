"""Look-ups of the officer's own record, their household, declared associates or colleagues."""

from __future__ import annotations

import re
from collections.abc import MutableMapping
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
from detectors.lib.times import DAY, at, epoch, when
from detectors.reference.view import ReferenceView
from detectors.registry import register
from models.alerts import Category, Finding
from models.events import Event, attr_or_none

_WORD = re.compile(r"[\w'-]+")


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

    Evidence strength: staff live among the public (former occupants, flats recorded without
    a flat number, recycled phone numbers), so a colleague's household reached once with no
    purpose is a weak finding (``weak``): no alert alone, it adds to the officer's risk
    (``risk.accumulation`` names it when it adds up). It alerts when it repeats (the same
    colleague's household reached on another day within ``repeat_days``), is found by
    searching for the colleague's surname, or happens off duty (more than ``off_duty_min``
    outside any rostered shift of an officer who has a roster). Contact details opened are
    named and scored, but do not make a single on-duty look-up strong: ordinary look-ups
    open them too. Self, household, associates and colleagues' own records stay strong.
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
        self.repeat_s = p.repeat_days * DAY
        self.off_duty_s = p.off_duty_min * 60.0

    @classmethod
    def test_params(cls) -> list[dict[str, Any]]:
        return [{"trust_unverified_purpose": False, "hub_max": 1},
                {"repeat_days": 1.0, "off_duty_min": 0.0}]  # fmt: skip

    def judge(self, event: Event, view: StateView) -> list[Finding]:
        officer = event.actor
        if officer is None:
            return []
        ref, now = view.ref, epoch(event.time)
        out = []
        about_person = event.record is not None and event.record.type in ("person", "staff")
        for person in targets(event):
            relation, detail, link_events, via = self._relation(officer, person, ref)
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
            contact = opened_contact(event)
            earlier: list[list[Any]] = []
            because: list[str] = []
            if relation == "colleague_household":
                earlier = self._earlier(view.state, via, person, event.id, now)
                because = [
                    *(["off duty"] if self._off_duty(officer, event, ref) else []),
                    *([f"searched by colleague {via}'s surname"]
                      if self._names(event, via, ref) else []),
                    *([f"colleague {via}'s household reached again: "
                       + "; ".join(f"{e[3]} on {at(e[0])}" for e in earlier)]
                      if earlier else []),
                ]  # fmt: skip
                if not because:  # once, no purpose: weak, remembered for a repeat
                    if not self._same_lookup(view.state, person, now):
                        out.append(self._weak(event, officer, person, via, detail, why, now,
                                              view.state, link_events, contact))  # fmt: skip
                    continue
                if contact:
                    because.append("contact details opened")
            mark_alerted(view.state, person, now)
            sweep(view.state, now, self.realert_s)
            score = self._SCORES[relation] + (10 if contact else 0) + (5 if earlier else 0)
            reasons = f" Alerted because: {', '.join(because)}." if because else ""
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
                        f"associates or colleagues needs a task.{reasons}"
                    ),
                    evidence=[*(e[3] for e in earlier), event.id],
                    subjects=[person],
                    facts={"relation": relation, "link_events": link_events,
                           "contact_details": contact, "purpose": event.purpose,
                           **({"because": because} if because else {})},
                ),
            )
        return out

    def _weak(
        self, event: Event, officer: str, person: str, via: str, detail: str, why: Any,
        now: float, state: MutableMapping[str, Any], link_events: list[str], contact: bool,
    ) -> Finding:
        """A colleague's household reached once with no purpose: risk only, remembered."""
        book: list[list[Any]] = state.setdefault("weak", [])
        book.append([now, via, person, event.id])
        book[:] = [e for e in book if now - e[0] <= self.repeat_s][-20:]
        return self.finding(
            event,
            officer=officer,
            severity="low",
            score=self._SCORES["colleague_household"] - 20 + (10 if contact else 0),
            title=f"{officer} reached a colleague's household once: {detail}",
            explanation=(
                f"{officer} used {event.kind} on {detail}"
                f"{' with contact details opened' if contact else ''}, at {when(event.time)}; "
                f"{why.absent(officer, person)}. Staff live among the public, so a colleague's "
                f"household reached once is weak evidence: it adds to {officer}'s risk and "
                f"alerts if it repeats within {self.repeat_s / DAY:g} days, is searched for "
                f"by the colleague's name or happens off duty."
            ),
            evidence=[event.id],
            subjects=[person],
            facts={"relation": "colleague_household", "colleague": via,
                   "link_events": link_events, "purpose": event.purpose,
                   "contact_details": contact, "strength": "weak"},
            weak=True,
        )  # fmt: skip

    def _earlier(
        self, state: MutableMapping[str, Any], via: str, person: str, event_id: str, now: float
    ) -> list[list[Any]]:
        """Earlier weak look-ups of ``via``'s household (or of ``person``) on other days
        within ``repeat_days``: a search and the view after it are one look-up."""
        today = int(now // DAY)
        return [
            e for e in state.get("weak", ())
            if (e[1] == via or e[2] == person) and e[3] != event_id
            and now - e[0] <= self.repeat_s and int(e[0] // DAY) != today
        ]  # fmt: skip

    @staticmethod
    def _same_lookup(state: MutableMapping[str, Any], person: str, now: float) -> bool:
        """Whether ``person`` was already reached weakly today: a search and the view after
        it are one look-up, added to the risk once."""
        today = int(now // DAY)
        return any(e[2] == person and int(e[0] // DAY) == today for e in state.get("weak", ()))

    @staticmethod
    def _names(event: Event, colleague: str, ref: ReferenceView) -> bool:
        """Whether a search's query holds the colleague's surname: looking for them, not
        for whoever else is on record at their address."""
        query = attr_or_none(event.attrs, "query")
        staff = ref.staff(colleague)
        name = staff.value.name if staff is not None else None
        if not isinstance(query, str) or not name:
            return False
        words = {w.casefold() for w in _WORD.findall(query)}
        return name.split()[-1].casefold() in words

    def _off_duty(self, officer: str, event: Event, ref: ReferenceView) -> bool:
        """Outside any rostered shift (by ``off_duty_min``), for an officer with a roster."""
        return ref.has_shifts(officer) and (
            ref.shift_at(officer, event.time, self.off_duty_s) is None
        )

    def _relation(
        self, officer: str, person: str, ref: ReferenceView
    ) -> tuple[str | None, str, list[str], str]:
        """How ``person`` relates to ``officer``: relation, phrase, supporting event ids, and
        the colleague whose household it is (``colleague_household``; else empty)."""
        if person == officer:
            return "self", f"their own record ({person})", [], ""
        for declared in ref.associations(officer):
            if declared.value.person == person:
                rel = declared.value.relationship or "associate"
                return "associate", f"{person}, their declared {rel}", [declared.event_id], ""
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
                    "",
                )
        staff = ref.staff(person)
        if staff is not None:
            return "colleague", f"colleague {person} ({staff.value.role or 'staff'})", [], ""
        for fact in person_links:
            value = fact.value.value
            if fact.value.link == "person" and value and ref.staff(value) is not None:
                if value == officer:
                    return "self", f"{person}, their own person record", [fact.event_id], ""
                return (
                    "colleague", f"{person}, the person record of colleague {value}",
                    [fact.event_id], "",
                )  # fmt: skip
        for fact in links:
            value = fact.value.value
            sharing = sorted(ref.staff_sharing(value) - {officer}) if value else []
            if sharing and value and self._not_hub(value, ref):
                return (
                    "colleague_household",
                    f"{person}, who shares the {fact.value.link or 'address or phone'} of "
                    f"colleague {sharing[0]}",
                    [fact.event_id],
                    sharing[0],
                )
        return None, "", [], ""

    def _not_hub(self, value: str, ref: ReferenceView) -> bool:
        """Whether few enough people share ``value`` for it to tie the officer to ``person``."""
        return len(ref.persons_linked_to(value)) <= self.hub_max
