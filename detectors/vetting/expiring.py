"""A low-severity reminder, once per person and expiry date, that vetting expires soon."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from detectors.base import StateView, TickDetector
from detectors.reference.facts import (
    Fact,
    StaffInfo,
    VettingInfo,
)
from detectors.registry import register
from detectors.vetting._common import HELD, _owned_current_staff, _start_of
from detectors.vetting.params import VettingExpiringParams
from models.alerts import Category, Finding
from models.events import (
    Event,
    VettingAttrs,
)


@register
class VettingExpiring(TickDetector[VettingExpiringParams]):
    """A low-severity reminder, once per person and expiry date, that vetting expires soon.

    Raised on the tick (or on the ``vetting.changed`` itself) once the expiry date is within
    ``within_days``. The alert is timed at the moment the expiry entered that window, so a
    replay gives the same alert whenever the tick happens to run. Leavers are left out.
    """

    id = "vetting.expiring"
    Params = VettingExpiringParams
    kinds = frozenset({"vetting.changed"})
    category = Category.VETTING
    needs_feeds = ("vetting",)
    description = "Vetting expiring within the reminder period (low severity, once per person)."
    tick_every_s = 86400.0

    def __init__(self, params: VettingExpiringParams | None = None, /, **overrides: Any) -> None:
        super().__init__(params, **overrides)
        p = self.params
        self.within_days = p.within_days
        self.score = p.score

    @classmethod
    def test_params(cls) -> list[dict[str, Any]]:
        return [{"within_days": 400}]  # fmt: skip

    def judge(self, event: Event, view: StateView) -> list[Finding]:
        attrs = event.attrs
        if not isinstance(attrs, VettingAttrs) or not view.owns(attrs.staff_id):
            return []
        staff = view.ref.staff(attrs.staff_id)
        vetting = view.ref.vetting(attrs.staff_id)
        if staff is None or vetting is None or vetting.event_id != event.id:
            return []
        return self._remind(staff, vetting, view.now)

    def on_tick(self, view: StateView) -> list[Finding]:
        out: list[Finding] = []
        for staff in _owned_current_staff(view):
            vetting = view.ref.vetting(staff.value.staff_id)
            if vetting is not None:
                out.extend(self._remind(staff, vetting, view.now))
        return out

    def _remind(
        self, staff: Fact[StaffInfo], vetting: Fact[VettingInfo], now: datetime
    ) -> list[Finding]:
        v = vetting.value
        if staff.value.status == "left" or v.status not in HELD or v.expires is None:
            return []
        today = now.date()
        window_opens = v.expires - timedelta(days=self.within_days)
        if not (window_opens <= today <= v.expires):
            return []
        when = max(_start_of(window_opens), vetting.time)
        days = (v.expires - when.date()).days
        sid = staff.value.staff_id
        return [
            self.finding(
                None,
                officer=sid,
                severity="low",
                score=self.score,
                time=when,
                title=f"{sid}'s {v.level or ''} vetting expires on {v.expires}".replace("  ", " "),
                explanation=(
                    f"{sid}'s {v.level or 'current'} vetting ({v.status}, record "
                    f"{vetting.event_id}) expires on {v.expires}, {days} days after this reminder "
                    f"(reminders start {self.within_days} days ahead). No renewal is recorded; "
                    f"a renewal would arrive as a new vetting record."
                ),
                evidence=[vetting.event_id],
                facts={
                    "expires": v.expires.isoformat(),
                    "level": v.level,
                    "within_days": self.within_days,
                    "vetting_event": vetting.event_id,
                },
                dedup=f"expiring|{sid}|{v.expires}",
            )
        ]
