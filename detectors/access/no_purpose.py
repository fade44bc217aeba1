"""Policing-purpose reconciliation: look-ups that no task, incident or case explains, raised only
where it matters."""

from __future__ import annotations

from typing import Any

from detectors.access.params import NoPurposeParams
from detectors.base import EventDetector, StateView
from detectors.lib.books import Entry, book, mark_alerted, recently_alerted
from detectors.lib.common import plural
from detectors.lib.purpose import (
    LOOKUP_KINDS,
    SENSITIVE_LISTS,
    Justification,
    justify,
    opened_contact,
    targets,
    trusted_purpose,
)
from detectors.lib.times import DAY, at, epoch
from detectors.registry import register
from models.alerts import Category, Finding
from models.events import Event


@register
class NoPurpose(EventDetector[NoPurposeParams]):
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
    Where detection stops as the same look-ups are spread over more days: docs/pacing.md.
    """

    id = "access.no_purpose"
    Params = NoPurposeParams
    state_cap_bytes = 262_144  # bounded by MAX_SUBJECTS subjects per book (lib.books)
    feeds_risk = True
    kinds = LOOKUP_KINDS
    category = Category.MISUSE_OF_SYSTEMS
    description = "Repeated or sensitive person look-ups that no task, incident or case explains."

    def __init__(self, params: NoPurposeParams | None = None, /, **overrides: Any) -> None:
        super().__init__(params, **overrides)
        p = self.params
        self.window_s = p.window_days * DAY
        self.window_days = p.window_days
        self.min_days = p.min_days
        self.repeat_days = p.repeat_days
        self.repeat_weight = p.repeat_weight
        self.contact_weight = p.contact_weight
        self.busy_views = p.busy_views
        self.revisit_step = p.revisit_step
        self.warmup_s = p.warmup_days * DAY
        self.ocg_views = p.ocg_views
        self.realert_s = p.realert_days * DAY
        self.trust = p.trust_unverified_purpose
        self.max_entries = p.max_entries

    @classmethod
    def test_params(cls) -> list[dict[str, Any]]:
        return [{"repeat_days": 1, "warmup_days": 0.0, "ocg_views": 1},
                {"trust_unverified_purpose": False}]  # fmt: skip

    def judge(self, event: Event, view: StateView) -> list[Finding]:
        officer = event.actor
        if officer is None:
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
            entries = book(
                state, "views", person, [now, event.id, int(contact)], self.window_s,
                self.max_entries,
            )
            self._count(state, now)
            since = state.setdefault("since", now)
            if recently_alerted(state, person, now, self.realert_s):
                continue
            if "ocg_nominal" in lists:
                finding = self._ocg(event, officer, person, entries, why, view)
            elif now - since >= self.warmup_s:
                finding = self._repeat(event, officer, person, entries, why, state)
            else:
                finding = None
            if finding is not None:
                mark_alerted(state, person, now)
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
