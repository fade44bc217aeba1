"""Repeated views of a vulnerable victim's record with no task, then contact: a sequence."""

from __future__ import annotations

from typing import Any

from detectors.access.params import VulnerableVictimParams
from detectors.base import EventDetector, StateView
from detectors.lib.books import Entry, book
from detectors.lib.common import plural
from detectors.lib.purpose import (
    LOOKUP_KINDS,
    direct,
    justify,
    opened_contact,
    persons_reached,
    targets,
)
from detectors.lib.times import DAY, at, epoch, spread_score, when
from detectors.registry import register
from models.alerts import Category, Finding
from models.events import CallAttrs, Event, MessageAttrs


@register
class VulnerableVictim(EventDetector[VulnerableVictimParams]):
    """Repeated views of a vulnerable victim's record with no task, then contact: a sequence.

    Stage one (high): ``views_min`` unlinked views of a person on the ``vulnerable_victim``
    list within ``window_days``, or ``views_min - 1`` when contact details were opened; an
    incident or case record that merely names the victim counts half a view.
    Stage two (critical): a call or message from the officer to a number or address linked to
    that victim (or to the victim's person id) after unlinked views, with no task. Each stage
    of an episode raises once; an episode ends after ``window_days`` without views. An
    assigned job (a task naming the officer and the victim) makes views and calls ordinary.
    The window is four weeks (a victim looked up every week or so is still seen); views
    spread over more than ``full_days`` give stage one ``fall_per_day`` less per day beyond
    (docs/pacing.md).
    """

    id = "access.vulnerable_victim"
    Params = VulnerableVictimParams
    feeds_risk = True
    kinds = LOOKUP_KINDS | frozenset({"call.made", "message.sent"})
    category = Category.ABUSE_OF_POSITION_SEXUAL
    description = "Repeated no-task views of a vulnerable victim's record, then contact."

    def __init__(self, params: VulnerableVictimParams | None = None, /, **overrides: Any) -> None:
        super().__init__(params, **overrides)
        p = self.params
        self.window_s = p.window_days * DAY
        self.window_days = p.window_days
        self.views_min = p.views_min
        self.views_score = p.views_score
        self.full_s, self.fall_per_day = p.full_days * DAY, p.fall_per_day
        self.contact_score = p.contact_score
        self.trust = p.trust_unverified_purpose

    @classmethod
    def test_params(cls) -> list[dict[str, Any]]:
        return [{"views_min": 1}]  # fmt: skip

    def judge(self, event: Event, view: StateView) -> list[Finding]:
        officer = event.actor
        if officer is None:
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
            entries = book(
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
                    score=spread_score(
                        min(85.0, self.views_score + 5 * (len(entries) - needed) + 5 * contacts),
                        entries[-1][0] - entries[0][0], self.full_s, self.fall_per_day,
                    ),
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
                        identifiers=[value],
                        dedup=f"{person}:{episode['start']}:contact",
                    )
                )
        return out
