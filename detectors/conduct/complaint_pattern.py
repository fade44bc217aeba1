"""Several complaints about one member of staff within ``window_days``, weighted by category."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from detectors.base import EventDetector, StateView
from detectors.conduct._complaints import fold_complaints
from detectors.conduct.params import ComplaintPatternParams
from detectors.lib.common import plural
from detectors.registry import register
from models.alerts import Category, Finding
from models.events import ComplaintAttrs, Event

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
class ComplaintPattern(EventDetector[ComplaintPatternParams]):
    """Several complaints about one member of staff within ``window_days``, weighted by category.

    Sexual misconduct, abuse of position and discrimination weigh most (``weights``; a category
    not listed weighs ``default_weight``). An alert when at least ``min_count`` complaints in
    the window weigh ``threshold`` or more. One alert per run of complaints: it is keyed by the
    oldest complaint in the window, so further complaints join it instead of raising another.
    """

    id = "conduct.complaint_pattern"
    Params = ComplaintPatternParams
    kinds = frozenset({"complaint.logged"})
    category = Category.CONDUCT_PATTERN
    description = "Several complaints within 12 months, weighted by category."

    def __init__(self, params: ComplaintPatternParams | None = None, /, **overrides: Any) -> None:
        super().__init__(params, **overrides)
        p = self.params
        self.window_days = p.window_days
        self.min_count = p.min_count
        self.threshold = p.threshold
        self.weights = dict(p.weights)
        self.default_weight = p.default_weight

    @classmethod
    def test_params(cls) -> list[dict[str, Any]]:
        return [{"min_count": 1, "threshold": 1.0}, {"weights": {"corruption": 5.0}}]  # fmt: skip

    def weight(self, category: str | None) -> float:
        return self.weights.get(category or "other", self.default_weight)

    def judge(self, event: Event, view: StateView) -> list[Finding]:
        attrs = event.attrs
        if not isinstance(attrs, ComplaintAttrs):
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
                identifiers=[c.key for c in window],
                dedup=f"pattern|{first.logged.event_id}",
            )
        ]
