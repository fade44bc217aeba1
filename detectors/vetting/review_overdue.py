"""No vetting review within ``review_days`` of a misconduct outcome short of dismissal."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from detectors.base import StateView, TickDetector
from detectors.reference.facts import (
    Fact,
    MisconductInfo,
)
from detectors.registry import register
from detectors.vetting._common import _owned_current_staff
from detectors.vetting.params import ReviewOverdueParams
from models.alerts import Category, Finding
from models.events import (
    Event,
)

NO_REVIEW_OUTCOMES = frozenset({"dismissed", "no_case"})


@register
class ReviewOverdue(TickDetector[ReviewOverdueParams]):
    """No vetting review within ``review_days`` of a misconduct outcome short of dismissal.

    The Vetting Code asks for a review of vetting after misconduct that does not end in
    dismissal. A review counts if it is completed after the outcome and by the deadline, and
    names the same case or no case. The alert is timed at the deadline and keyed by the
    outcome event, so a replay of past data raises what was overdue then, once.
    """

    id = "vetting.review_overdue"
    Params = ReviewOverdueParams
    kinds = frozenset({"misconduct.outcome", "vetting.review.completed"})
    category = Category.VETTING
    needs_feeds = ("vetting",)
    description = "Vetting review not completed in time after a misconduct outcome."
    tick_every_s = 3600.0

    def __init__(self, params: ReviewOverdueParams | None = None, /, **overrides: Any) -> None:
        super().__init__(params, **overrides)
        p = self.params
        self.review_days = p.review_days
        self.score = p.score

    @classmethod
    def test_params(cls) -> list[dict[str, Any]]:
        return [{"review_days": 0}]  # fmt: skip

    def judge(self, event: Event, view: StateView) -> list[Finding]:
        """Nothing to judge on arrival: what matters is what has not happened by the deadline."""
        return []

    def on_tick(self, view: StateView) -> list[Finding]:
        out: list[Finding] = []
        for staff in _owned_current_staff(view):
            sid = staff.value.staff_id
            if staff.value.status == "left":
                continue
            for fact in view.ref.misconduct(sid):
                finding = self._overdue(sid, fact, view)
                if finding is not None:
                    out.append(finding)
        return out

    def _overdue(self, sid: str, fact: Fact[MisconductInfo], view: StateView) -> Finding | None:
        m = fact.value
        if m.outcome is None or m.outcome in NO_REVIEW_OUTCOMES:
            return None
        deadline = fact.time + timedelta(days=self.review_days)
        if view.now < deadline:
            return None
        # a deadline that passed while the vetting feed was missing is judged as of the
        # feed's arrival: its history came then, stamped then, so a review it brought counts
        resumed = view.feeds_from.get("vetting")
        due = resumed if resumed is not None and resumed > deadline else deadline
        for review in view.ref.reviews_completed(sid):
            same_case = not review.value.case or not m.case or review.value.case == m.case
            if fact.time <= review.time <= due and same_case:
                return None
        late = [
            r
            for r in view.ref.reviews_completed(sid)
            if r.time > due and (not r.value.case or not m.case or r.value.case == m.case)
        ]
        outcome = m.outcome.replace("_", " ")
        return self.finding(
            None,
            officer=sid,
            severity="high" if m.outcome == "final_written_warning" else "medium",
            score=self.score + (15 if m.outcome == "final_written_warning" else 0),
            time=due,
            title=f"Vetting review overdue for {sid} after {outcome}",
            explanation=(
                f"{sid} received a {outcome} on {fact.time.date()} (case {m.case or 'not given'}, "
                f"record {fact.event_id}). A vetting review was owed within {self.review_days} "
                f"days, by {deadline.date()}; none was completed by then"
                + (
                    f" (the vetting feed, connected on {due.date()}, brought none)"
                    if due != deadline
                    else ""
                )
                + (f" (one was completed later, on {late[0].time.date()})." if late else ".")
            ),
            evidence=[fact.event_id],
            facts={
                "case": m.case,
                "outcome": m.outcome,
                "deadline": deadline.isoformat(),
                "review_days": self.review_days,
                "completed_late": late[0].event_id if late else None,
            },
            dedup=f"review|{fact.event_id}",
        )
