"""Policing purpose: what links an officer to a person they looked up, and who that person is.

Shared by the misuse detectors (``detectors.access.*``). Pure helpers
over one event and a :class:`~detectors.reference.view.ReferenceView`; no state of their own.

A look-up is *justified* when a task, incident or case links the officer to the subject
(``task.assigned`` naming both, or naming the officer and a person the subject is linked to,
or the subject's organised crime group or another nominal of it),
or when the ``purpose`` the officer gave names such a task. A purpose that names nothing the
tasking feed knows (an incident number from another system) is *unverified*: detectors decide
whether to accept it (``trust_unverified_purpose``), because most forces' tasking feeds are
incomplete and refusing such purposes floods analysts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from detectors.lib.common import persons_of
from detectors.reference.facts import normalise_value
from detectors.reference.view import ReferenceView
from models.events import Event, attr_or_none

LOOKUP_KINDS = frozenset({"record.search", "record.view"})


SENSITIVE_LISTS = ("vip", "ocg_nominal", "vulnerable_victim", "covert_subject", "canary")


CONTACT_WORDS = ("contact", "phone", "address", "email", "mobile")


@dataclass(frozen=True, slots=True)
class Justification:
    """Why a look-up may be legitimate: a task (verified), a purpose only (unverified), or none."""

    kind: Literal["task", "purpose", "none"]
    ref: str | None = None

    def accepted(self, trust_unverified: bool) -> bool:
        return self.kind == "task" or (self.kind == "purpose" and trust_unverified)

    def absent(self, officer: str, person: str) -> str:
        """The sentence that says what was absent, for explanations."""
        if self.kind == "purpose":
            return (
                f"the purpose given ({self.ref}) matches no task, incident or case linking "
                f"{officer} to {person}"
            )
        return f"no task, incident or case links {officer} to {person} and no purpose was given"


def justify(event: Event, officer: str, person: str, ref: ReferenceView) -> Justification:
    """The strongest reason on record for ``officer`` to reach ``person`` with ``event``."""
    for fact in ref.tasks_linking(officer, person):
        return Justification("task", fact.value.ref)
    purpose = event.purpose
    if purpose:
        parties = ref.task_parties(purpose)
        if parties is not None:
            if officer in parties[0] or person in parties[1]:
                return Justification("task", purpose)
            return Justification("none")  # names a real task that has nothing to do with this
    linked = _linked_persons(person, ref) | _groups(person, ref)
    if linked:
        for fact in ref.tasks_of(officer):
            subjects = fact.value.subjects or ()
            if linked.intersection(subjects) or any(_groups(s, ref) & linked for s in subjects):
                return Justification("task", fact.value.ref)
    if purpose:
        return Justification("purpose", purpose)
    return Justification("none")


def trusted_purpose(event: Event, ref: ReferenceView) -> bool:
    """Whether :func:`justify` accepts ``event`` for any officer and subject, when unverified
    purposes are trusted: a purpose naming no known task gives "purpose" at worst; only one
    naming a real task can give "none". Asked first, it spares the search for a link."""
    return bool(event.purpose) and ref.task_parties(event.purpose or "") is None


def _groups(person: str, ref: ReferenceView) -> set[str]:
    """The organised crime groups ``person`` is a nominal of (a task on the group reaches
    its members)."""
    return {
        w.group for w in ref.watch_entries(person) if w.list == "ocg_nominal" and w.group
    }  # fmt: skip


def _linked_persons(person: str, ref: ReferenceView) -> set[str]:
    """People ``person`` is linked to by a ``person.link`` of kind ``person``."""
    return {
        f.value.value for f in ref.links_of(person) if f.value.link == "person" and f.value.value
    }


def targets(event: Event, *, search_max: int = 2) -> list[str]:
    """The people a look-up was aimed at.

    A view, update or export touches everyone it concerns; a search only *targets* its
    subjects when it narrowed down to a few (``search_max``): a search for "Smith" that lists
    forty people is not forty look-ups.
    """
    people = persons_of(event)
    if event.kind == "record.search" and len(event.subjects or ()) > search_max:
        if event.record is not None and event.record.type == "person":
            return [event.record.id]
        return []
    return people


def direct(event: Event, person: str, *, search_max: int = 2) -> bool:
    """Whether the event opened ``person``'s own record (their person record, or a search
    narrowed to them), rather than mentioning them on an incident, crime or case record."""
    if event.record is not None and event.record.type in ("person", "staff"):
        return event.record.id == person
    if event.kind == "record.search":
        return person in (event.subjects or ()) and len(event.subjects or ()) <= search_max
    return False


def opened_contact(event: Event) -> bool:
    """Whether the event opened contact details (phone, address, email)."""
    fields = attr_or_none(event.attrs, "fields") or ()
    return any(word in f.casefold() for f in fields for word in CONTACT_WORDS)


def forms(value: str, country_code: str = "44") -> set[str]:
    """A phone or address normalised, with a phone's national and international forms.

    >>> sorted(forms("07700 900444")), sorted(forms("+44 7700 900444"))
    (['07700900444', '447700900444'], ['07700900444', '447700900444'])
    """
    norm = normalise_value(value)
    out = {norm}
    if norm.isdigit():
        if norm.startswith("0") and not norm.startswith("00"):
            out.add(country_code + norm[1:])
        elif norm.startswith(country_code):
            out.add("0" + norm[len(country_code) :])
    return out


def persons_reached(value: str, ref: ReferenceView) -> set[str]:
    """People linked to a phone number or address in any of its written forms."""
    out: set[str] = set()
    for form in forms(value):
        out |= ref.persons_linked_to(form)
    return out


def staff_values(officer: str, ref: ReferenceView) -> set[str]:
    """The officer's own addresses and phones, normalised (phones in both forms)."""
    fact = ref.staff(officer)
    if fact is None:
        return set()
    a = fact.value
    out: set[str] = set()
    for v in (*(a.addresses or ()), *(a.phones or ())):
        if v:
            out |= forms(v)
    return out


def role_of(officer: str, ref: ReferenceView) -> str:
    fact = ref.staff(officer)
    return (fact.value.role or "") if fact else ""


def role_exempt(officer: str, ref: ReferenceView, exempt: tuple[str, ...]) -> bool:
    """Whether the officer's role is one whose job is to look at such records (e.g. PSD)."""
    role = role_of(officer, ref).casefold()
    return bool(role) and any(word in role for word in exempt)
