"""First use of force systems after vetting was withdrawn, expired or never recorded."""

from __future__ import annotations

from typing import Any

from detectors.base import EventDetector, StateView
from detectors.registry import register
from detectors.vetting._common import _lapse
from detectors.vetting.params import LapsedAccessParams
from models.alerts import Category, Finding, Severity
from models.events import (
    ACTIVITY_KINDS,
    Event,
)


@register
class LapsedAccess(EventDetector[LapsedAccessParams]):
    """First use of force systems after vetting was withdrawn, expired or never recorded.

    One alert per change of vetting (the state remembers which lapse was already raised), on
    the first activity after it. Leavers are not judged here: their use of systems is a
    matter for the access detectors. A failed login is not use of a system.
    """

    id = "vetting.lapsed_access"
    Params = LapsedAccessParams
    feeds_risk = True
    kinds = ACTIVITY_KINDS - {"auth.failed"}
    category = Category.VETTING
    needs_feeds = ("vetting",)
    description = "Force systems used by staff whose vetting is withdrawn, expired or missing."

    def __init__(self, params: LapsedAccessParams | None = None, /, **overrides: Any) -> None:
        super().__init__(params, **overrides)
        p = self.params
        self.withdrawn_score = p.withdrawn_score
        self.expired_score = p.expired_score
        self.missing_score = p.missing_score
        self.alert_on_missing = p.alert_on_missing

    @classmethod
    def test_params(cls) -> list[dict[str, Any]]:
        return [{"alert_on_missing": False}]  # fmt: skip

    def judge(self, event: Event, view: StateView) -> list[Finding]:
        officer = event.actor
        if officer is None:
            return []
        staff = view.ref.staff(officer)
        if staff is None or staff.value.status == "left":
            return []
        vetting = view.ref.vetting(officer)
        lapse = _lapse(vetting, event.time.date())
        if lapse is None or (vetting is None and not self.alert_on_missing):
            return []
        key, why = lapse
        raised: list[str] = view.state.setdefault("raised", [])
        if key in raised:
            return []
        raised.append(key)
        if vetting is None:
            severity: Severity = "medium"
            score = self.missing_score
        elif vetting.value.status == "withdrawn":
            severity, score = "high", self.withdrawn_score
        else:
            severity, score = "medium", self.expired_score
        return [
            self.finding(
                event,
                officer=officer,
                severity=severity,
                score=score,
                title=f"{officer} used {event.source} without vetting held",
                explanation=(
                    f"{officer} ({staff.value.role or 'role not given'}, status "
                    f"{staff.value.status or 'not given'}) used {event.kind} on {event.source} at "
                    f"{event.time.isoformat()} but {why}. Force systems need vetting held "
                    f"(granted, or granted with conditions); this is the first use since."
                ),
                evidence=[event.id] + ([vetting.event_id] if vetting else []),
                facts={
                    "vetting_status": vetting.value.status if vetting else None,
                    "vetting_level": vetting.value.level if vetting else None,
                    "expires": vetting.value.expires.isoformat()
                    if vetting and vetting.value.expires
                    else None,
                    "vetting_event": vetting.event_id if vetting else None,
                },
                dedup=f"lapse|{key}",
            )
        ]
