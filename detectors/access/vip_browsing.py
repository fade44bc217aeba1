"""High-profile browsing: a person on the ``vip`` list looked up with no link."""

from __future__ import annotations

from typing import Any

from detectors.access.params import VipBrowsingParams
from detectors.base import EventDetector, StateView
from detectors.lib.books import book, mark_alerted, recently_alerted, what_opened
from detectors.lib.common import plural
from detectors.lib.purpose import (
    LOOKUP_KINDS,
    direct,
    justify,
    opened_contact,
    targets,
)
from detectors.lib.times import DAY, epoch, when
from detectors.registry import register
from models.alerts import Category, Finding
from models.events import Event


@register
class VipBrowsing(EventDetector[VipBrowsingParams]):
    """High-profile browsing: a person on the ``vip`` list looked up with no link.

    One alert per VIP per officer within ``realert_days``; the score rises with the number of
    distinct VIPs the officer reached without a link in ``spread_days`` and with contact
    details. A VIP look-up with a task is ordinary work. Opening an incident or case record
    that merely names the VIP counts once it happens ``mentions_min`` times within
    ``realert_days`` (browsing the record of the night a celebrity was assaulted is still
    browsing; one glance at a busy incident log is not).
    """

    id = "access.vip_browsing"
    Params = VipBrowsingParams
    feeds_risk = True
    kinds = LOOKUP_KINDS
    category = Category.MISUSE_OF_SYSTEMS
    description = "Look-ups of VIP (high-profile) records that no task links the officer to."

    def __init__(self, params: VipBrowsingParams | None = None, /, **overrides: Any) -> None:
        super().__init__(params, **overrides)
        p = self.params
        self.mentions_min = p.mentions_min
        self.realert_s = p.realert_days * DAY
        self.spread_s = p.spread_days * DAY
        self.spread_days = p.spread_days
        self.trust = p.trust_unverified_purpose

    @classmethod
    def test_params(cls) -> list[dict[str, Any]]:
        return [{"mentions_min": 1, "realert_days": 0.0}]  # fmt: skip

    def judge(self, event: Event, view: StateView) -> list[Finding]:
        officer = event.actor
        if officer is None:
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
            entries = book(
                state, "views", person, [now, event.id, int(contact), int(own)],
                self.spread_s, 20,
            )
            if recently_alerted(state, person, now, self.realert_s):
                continue
            mentions = [e for e in entries if now - e[0] <= self.realert_s]
            if not own and len(mentions) < self.mentions_min:
                continue  # named on an incident or case record: news only when repeated
            mark_alerted(state, person, now)
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
                        f"{officer} used {event.kind} on {what_opened(event, person, own)}, on the "
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
                    identifiers=[v for v in vips if v != person],
                )
            )
        return out
