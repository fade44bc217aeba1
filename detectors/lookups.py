"""Person look-ups without a policing purpose: the commonest integrity breach, and the hardest
to raise well, because most look-ups without a recorded purpose are legitimate.

Each detector here answers one question analysts ask, and stays quiet on the rest:

- ``access.no_purpose``: repeated or contact-detail look-ups of the same person, or of an
  organised-crime nominal, that nothing links the officer to;
- ``access.self_family_colleague``: the officer's own record, their household, declared
  associates, colleagues;
- ``access.vip_browsing``: high-profile people with no link;
- ``access.vulnerable_victim``: repeated views of a vulnerable victim, then contact;
- ``access.complainant_lookup``: the person who complained about the officer.

Subjects with a detector of their own (VIPs, vulnerable victims, covert subjects, canaries,
staff) are left to it, so one behaviour gives one alert. Per-officer state holds recent
unjustified look-ups per subject (pruned by event time) and when each was last raised.
"""

from __future__ import annotations

from typing import Any

from detectors.base import Detector, StateView
from detectors.common import plural
from detectors.purpose import (
    LOOKUP_KINDS,
    SENSITIVE_LISTS,
    Justification,
    at,
    direct,
    epoch,
    forms,
    justify,
    opened_contact,
    persons_reached,
    role_exempt,
    staff_values,
    targets,
    trusted_purpose,
    when,
)
from detectors.registry import register
from detectors.state import ReferenceView
from models.alerts import Category, Finding
from models.events import CallAttrs, Event, MessageAttrs

DAY = 86400.0
MAX_SUBJECTS = 1000  # per officer and book: a busy desk keeps its most recent subjects

#: what a book's times are (a tuple: ``int | float`` is built anew each time it is read)
_NUMBER = (int, float)
# an entry in a per-subject book: [epoch seconds, event id, opened contact details (0/1)]
Entry = list[Any]


def _book(
    state: dict[str, Any] | Any, name: str, person: str, entry: Entry, window_s: float, cap: int
) -> list[Entry]:
    """Append ``entry`` to ``person``'s recent entries; drop what fell out of the window.

    Once per day of event time the whole book is swept, so state stays bounded by the
    subjects seen within the window (and by ``MAX_SUBJECTS``, most recent kept).
    """
    book: dict[str, list[Entry]] = state.setdefault(name, {})
    entries = book.setdefault(person, [])
    if not any(e[1] == entry[1] for e in entries):
        entries.append(entry)
    cutoff = entry[0] - window_s
    entries[:] = [e for e in entries if e[0] >= cutoff][-cap:]
    _sweep(state, entry[0], window_s)
    return entries


def _sweep(state: Any, now: float, window_s: float) -> None:
    day = int(now // DAY)
    if state.get("_day") == day:
        return
    state["_day"] = day
    cutoff = now - window_s
    for name in ("views", "alerted"):
        book = state.get(name)
        if not book:
            continue
        for key in list(book):
            value = book[key]
            last = value[-1][0] if isinstance(value, list) and value else value
            if isinstance(last, _NUMBER) and last < cutoff:
                del book[key]
        if len(book) > MAX_SUBJECTS:
            by_recency = sorted((_recency(v), k) for k, v in book.items())
            for _, key in by_recency[:-MAX_SUBJECTS]:
                del book[key]


def _recency(value: Any) -> float:
    """When a book entry was last touched: a list of entries, or a bare time."""
    return float(value[-1][0] if isinstance(value, list) else value)


def _recently_alerted(state: Any, key: str, now: float, realert_s: float) -> bool:
    alerted: dict[str, float] = state.setdefault("alerted", {})
    last = alerted.get(key)
    return last is not None and now - last < realert_s


def _mark_alerted(state: Any, key: str, now: float) -> None:
    state.setdefault("alerted", {})[key] = now


def _on_dedicated_list(person: str, ref: ReferenceView) -> list[str]:
    return [w.list for w in ref.watch_entries(person) if w.list in SENSITIVE_LISTS]


def _what(event: Event, person: str, own: bool) -> str:
    """``P-1`` for their own record, ``incident I-9 naming P-1`` for a mention."""
    if own or event.record is None:
        return person
    return f"{event.record.type} {event.record.id} naming {person}"


def _purpose_note(event: Event) -> str:
    return f"purpose given: {event.purpose}" if event.purpose else "no purpose given"


@register
class NoPurpose(Detector):
    """Policing-purpose reconciliation: look-ups that no task, incident or case explains, raised
    only where it matters.

    Every person look-up is joined to the tasks linking the officer to that subject. Plain
    no-purpose views of ordinary records are normal and stay silent. Raised:

    - an organised-crime nominal looked up without a link ``ocg_views`` times within the
      window, or once with contact details opened;
    - an ordinary person looked up without a link on ``repeat_days`` distinct days within
      ``window_days`` (or on ``min_days`` with one more), weighing each view 1 and each
      contact-detail view ``contact_weight``, reaching ``repeat_weight`` plus one per
      ``busy_views`` unlinked look-ups the officer made in the window (on a busy desk, chance
      repeats are ordinary) and one per ``revisit_step`` other people the officer went back to
      on two days or more (out of pattern for this officer, not merely repeated); judged once
      the officer's unlinked look-ups have been seen for ``warmup_days`` (a pattern needs a
      history to stand out from).

    Watch-listed subjects with a detector of their own, and staff, are left to those detectors.
    """

    id = "access.no_purpose"
    kinds = LOOKUP_KINDS
    category = Category.MISUSE_OF_SYSTEMS
    description = "Repeated or sensitive person look-ups that no task, incident or case explains."

    def __init__(
        self,
        *,
        window_days: float = 14.0,
        min_days: int = 2,
        repeat_days: int = 3,
        repeat_weight: int = 5,
        contact_weight: int = 2,
        busy_views: int = 100,
        revisit_step: int = 1,
        warmup_days: float = 3.0,
        ocg_views: int = 2,
        realert_days: float = 14.0,
        trust_unverified_purpose: bool = True,
        max_entries: int = 50,
    ) -> None:
        self.window_s = window_days * DAY
        self.window_days = window_days
        self.min_days = min_days
        self.repeat_days = repeat_days
        self.repeat_weight = repeat_weight
        self.contact_weight = contact_weight
        self.busy_views = busy_views
        self.revisit_step = revisit_step
        self.warmup_s = warmup_days * DAY
        self.ocg_views = ocg_views
        self.realert_s = realert_days * DAY
        self.trust = trust_unverified_purpose
        self.max_entries = max_entries

    def evaluate(self, event: Event, view: StateView) -> list[Finding]:
        officer = event.actor
        if officer is None or event.kind not in self.kinds:
            return []
        ref, state, now = view.ref, view.state, epoch(event.time)
        if self.trust and trusted_purpose(event, ref):
            return []  # every subject's look-up is accepted below: nothing to record
        out: list[Finding] = []
        for person in targets(event):
            if person == officer or ref.staff(person) is not None:
                continue
            lists = [w.list for w in ref.watch_entries(person)]
            if any(name in SENSITIVE_LISTS and name != "ocg_nominal" for name in lists):
                continue
            why = justify(event, officer, person, ref)
            if why.accepted(self.trust):
                continue
            contact = opened_contact(event)
            entries = _book(
                state, "views", person, [now, event.id, int(contact)], self.window_s,
                self.max_entries,
            )
            self._count(state, now)
            since = state.setdefault("since", now)
            if _recently_alerted(state, person, now, self.realert_s):
                continue
            if "ocg_nominal" in lists:
                finding = self._ocg(event, officer, person, entries, why, view)
            elif now - since >= self.warmup_s:
                finding = self._repeat(event, officer, person, entries, why, state)
            else:
                finding = None
            if finding is not None:
                _mark_alerted(state, person, now)
                out.append(finding)
        return out

    def _count(self, state: Any, now: float) -> None:
        """Unlinked look-ups per day over the window: how busy this desk is."""
        days: dict[str, int] = state.setdefault("per_day", {})
        key = str(int(now // DAY))
        days[key] = days.get(key, 0) + 1
        oldest = int((now - self.window_s) // DAY)
        for k in [k for k in days if int(k) < oldest]:
            del days[k]

    def _ocg(
        self, event: Event, officer: str, person: str, entries: list[Entry],
        why: Justification, view: StateView,
    ) -> Finding | None:
        contacts = sum(e[2] for e in entries)
        if len(entries) < self.ocg_views and not contacts:
            return None
        entry = view.ref.on_list(person, "ocg_nominal")
        group = (entry.group if entry else None) or "an organised crime group"
        return self.finding(
            event,
            officer=officer,
            severity="high",
            score=min(90.0, 65.0 + 5 * len(entries) + 10 * min(contacts, 1)),
            title=f"OCG nominal {person} looked up by {officer} with no policing purpose",
            explanation=(
                f"{officer} looked up {person}, a nominal of {group}, "
                f"{plural(len(entries), 'time')} since {at(entries[0][0])}"
                f"{f', {contacts} with contact details opened' if contacts else ''}; "
                f"{why.absent(officer, person)}. Rule: {self.ocg_views} unlinked look-ups of a "
                f"nominal within {self.window_days:g} days, or one opening contact details."
            ),
            evidence=[e[1] for e in entries],
            subjects=[person],
            facts={"views": len(entries), "contact_views": contacts, "group": group,
                   "list_event": entry.event_id if entry else None},
        )

    def _repeat(
        self, event: Event, officer: str, person: str, entries: list[Entry],
        why: Justification, state: Any,
    ) -> Finding | None:
        days = {int(e[0] // DAY) for e in entries}
        contacts = sum(e[2] for e in entries)
        weight = len(entries) + (self.contact_weight - 1) * contacts
        volume = sum(state.get("per_day", {}).values())
        needed = self.repeat_weight + volume // self.busy_views
        if len(days) < self.repeat_days:
            needed += 1  # fewer days: a denser pattern is needed
        if len(days) < self.min_days or weight < needed:
            return None
        revisited = self._revisited(state, person, entries[-1][0])
        needed += revisited // self.revisit_step
        if weight < needed:
            return None
        return self.finding(
            event,
            officer=officer,
            severity="medium",
            score=min(75.0, 45.0 + 4 * (weight - needed) + 5 * min(contacts, 2)),
            title=f"{person} looked up {len(entries)} times by {officer} with no policing purpose",
            explanation=(
                f"{officer} looked up {person} {plural(len(entries), 'time')} on "
                f"{plural(len(days), 'day')} between {at(entries[0][0])} and {at(entries[-1][0])}"
                f"{f', {contacts} with contact details opened' if contacts else ''}; "
                f"{why.absent(officer, person)}. Baseline: {officer} made {volume} unlinked "
                f"look-ups in the last {self.window_days:g} days and went back to "
                f"{plural(revisited, 'other person', 'other people')} on more than one day, so "
                f"repeats up to weight {needed - 1} are ordinary for them; this reached "
                f"{weight} over {len(days)} days "
                f"(line {needed}; {self.repeat_weight} on {self.repeat_days} days or more, one "
                f"more on {self.min_days})."
            ),
            evidence=[e[1] for e in entries],
            subjects=[person],
            facts={"views": len(entries), "days": len(days), "contact_views": contacts,
                   "weight": weight, "needed": needed, "unlinked_lookups_window": volume,
                   "other_people_revisited": revisited},
        )

    def _revisited(self, state: Any, person: str, now: float) -> int:
        """Other people this officer looked up without a link on two days or more, lately.

        An officer who habitually goes back to the same people (their beat's regulars) makes
        one more repeated subject ordinary; counted only for candidates, so it stays cheap.
        """
        cutoff = now - self.window_s
        count = 0
        for other, entries in state.get("views", {}).items():
            if other == person:
                continue
            days = {int(e[0] // DAY) for e in entries if e[0] >= cutoff}
            count += len(days) >= 2
        return count


@register
class SelfFamilyColleague(Detector):
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
    kinds = LOOKUP_KINDS | frozenset({"record.update", "record.export"})
    category = Category.MISUSE_OF_SYSTEMS
    description = "Look-ups of oneself, one's household, declared associates or colleagues."

    _SCORES: dict[str, float] = {
        "self": 60.0, "household": 75.0, "associate": 72.0, "colleague": 55.0,
        "colleague_household": 60.0,
    }  # fmt: skip

    def __init__(
        self,
        *,
        realert_days: float = 30.0,
        trust_unverified_purpose: bool = True,
        hub_max: int = 10,
        exempt_roles: tuple[str, ...] = (
            "professional_standards", "psd", "acu", "anti_corruption", "counter_corruption",
            "vetting", "hr", "human_resources",
        ),
    ) -> None:  # fmt: skip
        self.realert_s = realert_days * DAY
        self.trust = trust_unverified_purpose
        self.hub_max = hub_max
        self.exempt_roles = exempt_roles

    def evaluate(self, event: Event, view: StateView) -> list[Finding]:
        officer = event.actor
        if officer is None or event.kind not in self.kinds:
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
            if _recently_alerted(view.state, person, now, self.realert_s):
                continue
            _mark_alerted(view.state, person, now)
            _sweep(view.state, now, self.realert_s)
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


@register
class VipBrowsing(Detector):
    """High-profile browsing: a person on the ``vip`` list looked up with no link.

    One alert per VIP per officer within ``realert_days``; the score rises with the number of
    distinct VIPs the officer reached without a link in ``spread_days`` and with contact
    details. A VIP look-up with a task is ordinary work. Opening an incident or case record
    that merely names the VIP counts once it happens ``mentions_min`` times within
    ``realert_days`` (browsing the record of the night a celebrity was assaulted is still
    browsing; one glance at a busy incident log is not).
    """

    id = "access.vip_browsing"
    kinds = LOOKUP_KINDS
    category = Category.MISUSE_OF_SYSTEMS
    description = "Look-ups of VIP (high-profile) records that no task links the officer to."

    def __init__(
        self,
        *,
        realert_days: float = 7.0,
        spread_days: float = 30.0,
        mentions_min: int = 2,
        trust_unverified_purpose: bool = True,
    ) -> None:
        self.mentions_min = mentions_min
        self.realert_s = realert_days * DAY
        self.spread_s = spread_days * DAY
        self.spread_days = spread_days
        self.trust = trust_unverified_purpose

    def evaluate(self, event: Event, view: StateView) -> list[Finding]:
        officer = event.actor
        if officer is None or event.kind not in self.kinds:
            return []
        ref, state, now = view.ref, view.state, epoch(event.time)
        out = []
        for person in targets(event):
            entry = ref.on_list(person, "vip")
            if entry is None:
                continue
            why = justify(event, officer, person, ref)
            if why.accepted(self.trust):
                continue
            contact = opened_contact(event)
            own = direct(event, person) or contact
            entries = _book(
                state, "views", person, [now, event.id, int(contact), int(own)],
                self.spread_s, 20,
            )
            if _recently_alerted(state, person, now, self.realert_s):
                continue
            mentions = [e for e in entries if now - e[0] <= self.realert_s]
            if not own and len(mentions) < self.mentions_min:
                continue  # named on an incident or case record: news only when repeated
            _mark_alerted(state, person, now)
            vips = sorted(
                p for p, e in state["views"].items() if e and now - e[-1][0] <= self.spread_s
            )
            score = min(90.0, 50.0 + 10 * (len(vips) - 1) + (10 if contact else 0))
            out.append(
                self.finding(
                    event,
                    officer=officer,
                    severity="high" if score >= 70 else "medium",
                    score=score,
                    title=f"VIP {person} looked up by {officer} with no link",
                    explanation=(
                        f"{officer} used {event.kind} on {_what(event, person, own)}, on the "
                        f"VIP list"
                        f"{' (' + entry.group + ')' if entry.group else ''}, at {when(event.time)}"
                        f"{' with contact details opened' if contact else ''}; "
                        f"{why.absent(officer, person)}. {officer} reached "
                        f"{plural(len(vips), 'VIP')} without a link in the last "
                        f"{self.spread_days:g} days."
                    ),
                    evidence=[e[1] for e in entries],
                    subjects=[person],
                    facts={"vips_in_period": vips, "views": len(entries),
                           "list_event": entry.event_id},
                )
            )
        return out


@register
class ComplainantLookup(Detector):
    """Complainant targeting: an officer looks up a person who complained about them.

    The complaint must be on record (``complaint.logged`` naming the complainant) before the
    look-up. Only a task linking the officer to that person explains it; a bare purpose does
    not, since the officer has a conflict of interest.
    """

    id = "access.complainant_lookup"
    kinds = LOOKUP_KINDS | frozenset({"record.update", "record.export"})
    category = Category.MISUSE_OF_SYSTEMS
    description = "An officer looks up the person who complained about them."

    def __init__(self, *, score: float = 80.0, realert_days: float = 30.0) -> None:
        self.score = score
        self.realert_s = realert_days * DAY

    def evaluate(self, event: Event, view: StateView) -> list[Finding]:
        officer = event.actor
        if officer is None or event.kind not in self.kinds:
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
            if _recently_alerted(view.state, person, now, self.realert_s):
                continue
            _mark_alerted(view.state, person, now)
            _sweep(view.state, now, self.realert_s)
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
                        f"({_purpose_note(event)})."
                    ),
                    evidence=[event.id, first.event_id],
                    subjects=[person],
                    facts={"complaints": refs, "complaint_events": [f.event_id for f in facts],
                           "contact_details": contact},
                )
            )
        return out


@register
class VulnerableVictim(Detector):
    """Repeated views of a vulnerable victim's record with no task, then contact: a sequence.

    Stage one (high): ``views_min`` unlinked views of a person on the ``vulnerable_victim``
    list within ``window_days``, or ``views_min - 1`` when contact details were opened; an
    incident or case record that merely names the victim counts half a view.
    Stage two (critical): a call or message from the officer to a number or address linked to
    that victim (or to the victim's person id) after unlinked views, with no task. Each stage
    of an episode raises once; an episode ends after ``window_days`` without views. An
    assigned job (a task naming the officer and the victim) makes views and calls ordinary.
    """

    id = "access.vulnerable_victim"
    kinds = LOOKUP_KINDS | frozenset({"call.made", "message.sent"})
    category = Category.ABUSE_OF_POSITION_SEXUAL
    description = "Repeated no-task views of a vulnerable victim's record, then contact."

    def __init__(
        self,
        *,
        window_days: float = 14.0,
        views_min: int = 3,
        views_score: float = 65.0,
        contact_score: float = 92.0,
        trust_unverified_purpose: bool = True,
    ) -> None:
        self.window_s = window_days * DAY
        self.window_days = window_days
        self.views_min = views_min
        self.views_score = views_score
        self.contact_score = contact_score
        self.trust = trust_unverified_purpose

    def evaluate(self, event: Event, view: StateView) -> list[Finding]:
        officer = event.actor
        if officer is None or event.kind not in self.kinds:
            return []
        if event.kind in ("call.made", "message.sent"):
            return self._contact(event, officer, view)
        ref, state, now = view.ref, view.state, epoch(event.time)
        out = []
        for person in targets(event):
            entry = ref.on_list(person, "vulnerable_victim")
            if entry is None:
                continue
            why = justify(event, officer, person, ref)
            if why.accepted(self.trust):
                continue
            contact = opened_contact(event)
            entries = _book(
                state, "views", person,
                [now, event.id, int(contact), int(contact or direct(event, person))],
                self.window_s, 30,
            )  # fmt: skip
            episode = self._episode(state, person, entries)
            contacts = sum(e[2] for e in entries)
            mentions = sum(1 for e in entries if not e[3])
            weight = len(entries) - mentions / 2
            needed = self.views_min - (1 if contacts else 0)
            if episode.get("views") or weight < needed:
                continue
            episode["views"] = 1
            out.append(
                self.finding(
                    event,
                    officer=officer,
                    severity="high",
                    score=min(85.0, self.views_score + 5 * (len(entries) - needed) + 5 * contacts),
                    title=f"Repeated no-task views of vulnerable victim {person} by {officer}",
                    explanation=(
                        f"{officer} viewed {person} (on the vulnerable-victim list"
                        f"{', ' + entry.group if entry.group else ''}) "
                        f"{plural(len(entries), 'time')} between {at(entries[0][0])} and "
                        f"{at(entries[-1][0])}, {contacts} including contact details"
                        f"{self._mentions(mentions, person)}; "
                        f"{why.absent(officer, person)}. Rule: {self.views_min} unlinked views "
                        f"within {self.window_days:g} days (a record naming the victim counts "
                        f"half), one fewer if contact details were opened. No contact from "
                        f"{officer} to {person} seen yet."
                    ),
                    evidence=[e[1] for e in entries],
                    subjects=[person],
                    facts={"views": len(entries), "contact_views": contacts, "stage": "views",
                           "list_event": entry.event_id},
                    dedup=f"{person}:{episode['start']}:views",
                )
            )
        return out

    @staticmethod
    def _mentions(mentions: int, person: str) -> str:
        return f", {mentions} of them records merely naming {person}" if mentions else ""

    def _episode(self, state: Any, person: str, entries: list[Entry]) -> dict[str, Any]:
        episodes: dict[str, dict[str, Any]] = state.setdefault("episodes", {})
        ep = episodes.get(person)
        first = entries[0]
        if ep is None or first[0] - ep["last"] > self.window_s or len(entries) == 1:
            ep = episodes[person] = {"start": first[1], "last": first[0]}
        ep["last"] = entries[-1][0]
        for p in [p for p, e in episodes.items() if entries[-1][0] - e["last"] > self.window_s]:
            del episodes[p]
        return ep

    def _contact(self, event: Event, officer: str, view: StateView) -> list[Finding]:
        attrs = event.attrs
        if isinstance(attrs, CallAttrs):
            values = [attrs.number] if attrs.number else []
        elif isinstance(attrs, MessageAttrs):
            values = list(attrs.to or ())
        else:
            return []
        book: dict[str, list[Entry]] = view.state.get("views", {})
        if not values or not book:
            return []
        now = epoch(event.time)
        out = []
        for value in values:
            reached = persons_reached(value, view.ref) | ({value} & set(book))
            for person in sorted(reached):
                entries = [e for e in book.get(person, ()) if now - e[0] <= self.window_s]
                if not any(len(e) > 3 and e[3] for e in entries):
                    continue  # never opened the victim's own record: no sequence to complete
                if view.ref.tasks_linking(officer, person):
                    continue
                episode = view.state.get("episodes", {}).get(person)
                if episode is None or episode.get("contact"):
                    continue
                episode["contact"] = 1
                contacts = sum(e[2] for e in entries)
                hours = (now - entries[-1][0]) / 3600
                how = "called" if event.kind == "call.made" else "messaged"
                out.append(
                    self.finding(
                        event,
                        officer=officer,
                        severity="critical",
                        score=min(100.0, self.contact_score + len(entries)),
                        title=f"{officer} contacted vulnerable victim {person} after no-task views",
                        explanation=(
                            f"{officer} viewed {person} (on the vulnerable-victim list) "
                            f"{plural(len(entries), 'time')} from {at(entries[0][0])}, "
                            f"{contacts} including contact details, with no task, incident or "
                            f"case linking them; then {how} {value}, linked to {person}, at "
                            f"{when(event.time)}, {hours:.1f} hours after the last view. "
                            f"No task links {officer} to {person}."
                        ),
                        evidence=[*(e[1] for e in entries), event.id],
                        subjects=[person],
                        facts={"views": len(entries), "contact_views": contacts,
                               "stage": "contact", "channel": event.kind, "hours_after": hours},
                        dedup=f"{person}:{episode['start']}:contact",
                    )
                )
        return out
