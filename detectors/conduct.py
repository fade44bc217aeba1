"""Conduct patterns from complaints: repeated complaints, and discrimination complaints that
were not referred to the IOPC in time."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from detectors.base import Detector, StateView
from detectors.common import plural
from detectors.registry import register
from detectors.state import ComplaintInfo, Fact
from models.alerts import Category, Finding
from models.events import ComplaintAttrs, Event


@dataclass(frozen=True, slots=True)
class Complaint:
    """One complaint folded from its logged, updated and referred events."""

    key: str  # the complaint reference, or the logging event's id when none was given
    logged: Fact[ComplaintInfo]  # the first event seen for it
    category: str | None  # the latest category given
    category_since: datetime | None  # when it first got the category it has now
    referrals: tuple[Fact[ComplaintInfo], ...]  # events naming a body it was referred to


def fold_complaints(facts: Iterable[Fact[ComplaintInfo]]) -> list[Complaint]:
    """Complaint events grouped by complaint reference, in the order they were first seen.

    A ``complaint.referred`` is recognised by its ``body`` (the contract gives no other mark).
    """
    groups: dict[str, list[Fact[ComplaintInfo]]] = {}
    for fact in sorted(facts, key=lambda f: (f.time, f.event_id)):
        groups.setdefault(fact.value.complaint or fact.event_id, []).append(fact)
    out = []
    for key, group in groups.items():
        category, since = None, None
        for f in group:
            cat = (f.value.category or "").strip().casefold() or None
            if cat and cat != category:
                category, since = cat, f.time
        out.append(
            Complaint(
                key=key,
                logged=group[0],
                category=category,
                category_since=since,
                referrals=tuple(f for f in group if f.value.body),
            )
        )
    return out


DEFAULT_WEIGHTS: tuple[tuple[str, float], ...] = (
    ("sexual_misconduct", 3.0),
    ("abuse_of_position", 3.0),
    ("discrimination", 3.0),
    ("use_of_force", 2.0),
    ("corruption", 3.0),
    ("incivility", 1.0),
    ("other", 1.0),
)


@register
class ComplaintPattern(Detector):
    """Several complaints about one member of staff within ``window_days``, weighted by category.

    Sexual misconduct, abuse of position and discrimination weigh most (``weights``; a category
    not listed weighs ``default_weight``). An alert when at least ``min_count`` complaints in
    the window weigh ``threshold`` or more. One alert per run of complaints: it is keyed by the
    oldest complaint in the window, so further complaints join it instead of raising another.
    """

    id = "conduct.complaint_pattern"
    kinds = frozenset({"complaint.logged"})
    category = Category.CONDUCT_PATTERN
    description = "Several complaints within 12 months, weighted by category."

    def __init__(
        self,
        *,
        window_days: int = 365,
        min_count: int = 2,
        threshold: float = 5.0,
        # pairs by default (immutable); settings give a JSON object
        weights: tuple[tuple[str, float], ...] | Mapping[str, float] = DEFAULT_WEIGHTS,
        default_weight: float = 1.0,
    ) -> None:
        self.window_days = window_days
        self.min_count = min_count
        self.threshold = threshold
        self.weights = dict(weights)
        self.default_weight = default_weight

    def weight(self, category: str | None) -> float:
        return self.weights.get(category or "other", self.default_weight)

    def evaluate(self, event: Event, view: StateView) -> list[Finding]:
        attrs = event.attrs
        if event.kind not in self.kinds or not isinstance(attrs, ComplaintAttrs):
            return []
        sid = attrs.staff_id
        if not view.owns(sid):
            return []
        since = event.time - timedelta(days=self.window_days)
        window = [c for c in fold_complaints(view.ref.complaints(sid)) if c.logged.time > since]
        if not any(c.logged.event_id == event.id for c in window):
            return []  # an update of an older complaint logged again: nothing new
        total = sum(self.weight(c.category) for c in window)
        if len(window) < self.min_count or total < self.threshold:
            return []
        by_cat: dict[str, int] = {}
        for c in window:
            by_cat[c.category or "uncategorised"] = by_cat.get(c.category or "uncategorised", 0) + 1
        mix = ", ".join(f"{n} {cat.replace('_', ' ')}" for cat, n in sorted(by_cat.items()))
        first = window[0]
        return [
            self.finding(
                event,
                officer=sid,
                severity="high" if total >= 2 * self.threshold else "medium",
                score=min(95.0, 40.0 + 6.0 * total),
                title=f"{plural(len(window), 'complaint')} about {sid} within "
                f"{self.window_days} days",
                explanation=(
                    f"{plural(len(window), 'complaint')} about {sid} logged between "
                    f"{first.logged.time.date()} and {event.time.date()} ({mix}) weigh {total:g} "
                    f"against a threshold of {self.threshold:g} (sexual misconduct, abuse of "
                    f"position and discrimination weigh "
                    f"{self.weight('sexual_misconduct'):g}, incivility "
                    f"{self.weight('incivility'):g}). Complaints: "
                    + ", ".join(c.key for c in window)
                    + "."
                ),
                evidence=[c.logged.event_id for c in window],
                subjects=[c.logged.value.complainant for c in window if c.logged.value.complainant],
                facts={
                    "count": len(window),
                    "weight": total,
                    "threshold": self.threshold,
                    "window_days": self.window_days,
                    "by_category": by_cat,
                    "complaints": [c.key for c in window],
                },
                dedup=f"pattern|{first.logged.event_id}",
            )
        ]


@register
class DiscriminationNotReferred(Detector):
    """A discrimination complaint not referred to the IOPC within ``refer_days``.

    Complaints alleging discriminatory behaviour meet the IOPC's mandatory referral criteria.
    The clock starts when the complaint is logged as (or recategorised to) discrimination; a
    ``complaint.referred`` naming the IOPC by the deadline satisfies it. Checked on the tick;
    the alert is timed at the deadline and keyed by the complaint, so it is raised once, and a
    replay raises what was overdue then.
    """

    id = "conduct.discrimination_not_referred"
    kinds = frozenset({"complaint.logged", "complaint.updated", "complaint.referred"})
    category = Category.DISCRIMINATION
    description = "Discrimination complaint not referred to the IOPC within the period."
    tick_every_s = 3600.0

    def __init__(
        self,
        *,
        refer_days: int = 10,
        categories: tuple[str, ...] = ("discrimination",),
        body: str = "iopc",
        score: float = 65.0,
    ) -> None:
        self.refer_days = refer_days
        self.categories = categories
        self.body = body.casefold()
        self.score = score

    def evaluate(self, event: Event, view: StateView) -> list[Finding]:
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
            dedup=f"not_referred|{c.key}",
        )
