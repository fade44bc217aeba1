"""A discrimination complaint not referred to the IOPC within ``refer_days``."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from detectors.base import StateView, TickDetector
from detectors.conduct._complaints import Complaint, fold_complaints
from detectors.conduct.params import DiscriminationNotReferredParams
from detectors.registry import register
from models.alerts import Category, Finding
from models.events import Event


@register
class DiscriminationNotReferred(TickDetector[DiscriminationNotReferredParams]):
    """A discrimination complaint not referred to the IOPC within ``refer_days``.

    Complaints alleging discriminatory behaviour meet the IOPC's mandatory referral criteria.
    The clock starts when the complaint is logged as (or recategorised to) discrimination; a
    ``complaint.referred`` naming the IOPC by the deadline satisfies it. Checked on the tick;
    the alert is timed at the deadline and keyed by the complaint, so it is raised once, and a
    replay raises what was overdue then.
    """

    id = "conduct.discrimination_not_referred"
    Params = DiscriminationNotReferredParams
    kinds = frozenset({"complaint.logged", "complaint.updated", "complaint.referred"})
    category = Category.DISCRIMINATION
    description = "Discrimination complaint not referred to the IOPC within the period."
    tick_every_s = 3600.0

    def __init__(
        self, params: DiscriminationNotReferredParams | None = None, /, **overrides: Any
    ) -> None:
        super().__init__(params, **overrides)
        p = self.params
        self.refer_days = p.refer_days
        self.categories = p.categories
        self.body = p.body.casefold()
        self.score = p.score

    @classmethod
    def test_params(cls) -> list[dict[str, Any]]:
        return [{"refer_days": 0}]  # fmt: skip

    def judge(self, event: Event, view: StateView) -> list[Finding]:
        """Nothing on arrival: what matters is the referral that has not come by the deadline."""
        return []

    def on_tick(self, view: StateView) -> list[Finding]:
        out: list[Finding] = []
        for staff in sorted(view.ref.all_staff(), key=lambda f: f.value.staff_id):
            sid = staff.value.staff_id
            if not view.owns(sid):
                continue
            for complaint in fold_complaints(view.ref.complaints(sid)):
                finding = self._overdue(sid, complaint, view.now)
                if finding is not None:
                    out.append(finding)
        return out

    def _overdue(self, sid: str, c: Complaint, now: datetime) -> Finding | None:
        if c.category not in self.categories or c.category_since is None:
            return None
        deadline = c.category_since + timedelta(days=self.refer_days)
        if now < deadline:
            return None
        referred = [r for r in c.referrals if self.body in (r.value.body or "").casefold()]
        if any(r.time <= deadline for r in referred):
            return None
        late = referred[0] if referred else None
        elsewhere = sorted({r.value.body or "" for r in c.referrals} - {""})
        return self.finding(
            None,
            officer=sid,
            severity="medium",
            score=self.score,
            time=deadline,
            title=f"Discrimination complaint {c.key} about {sid} not referred to the IOPC",
            explanation=(
                f"Complaint {c.key} about {sid} was logged as {c.category} on "
                f"{c.category_since.date()} (record {c.logged.event_id}). Discrimination "
                f"complaints must be referred to the IOPC; none was recorded within "
                f"{self.refer_days} days, by {deadline.date()}"
                + (f"; it was referred late, on {late.time.date()}" if late else "")
                + (
                    f"; referrals recorded to: {', '.join(elsewhere)}"
                    if elsewhere and not late
                    else ""
                )
                + "."
            ),
            evidence=[c.logged.event_id],
            subjects=[c.logged.value.complainant] if c.logged.value.complainant else [],
            facts={
                "complaint": c.key,
                "deadline": deadline.isoformat(),
                "refer_days": self.refer_days,
                "referred_late": late.event_id if late else None,
            },
            identifiers=[c.key],
            dedup=f"not_referred|{c.key}",
        )
