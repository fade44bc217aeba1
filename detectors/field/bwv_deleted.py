"""An officer deleting body-worn footage of their own encounter."""

from __future__ import annotations

from typing import Any

from detectors.base import EventDetector, StateView
from detectors.field._common import ENCOUNTER_KINDS, _purpose
from detectors.field.params import BwvDeletedParams
from detectors.lib.purpose import role_exempt
from detectors.lib.times import DAY, at, epoch, when
from detectors.registry import register
from models.alerts import Category, Finding
from models.events import Event


@register
class BwvDeleted(EventDetector[BwvDeletedParams]):
    """An officer deleting body-worn footage of their own encounter.

    Own encounter: the footage's ``recorded_by`` (or ``officer``, ``owner``) attribute names
    the officer, or its id is one the officer's own ``bwv.activated`` named, or contains the
    officer's id, or its subjects are people the officer stopped or used force
    on within ``lookback_days``, or the deletion comes within ``recent_h`` hours of the
    officer's own recorded encounter. Deletions by accounts that are not staff (retention
    jobs, system accounts) or by roles whose job it is (``exempt_roles``) are normal.
    """

    id = "field.bwv_deleted"
    Params = BwvDeletedParams
    feeds_risk = True
    kinds = ENCOUNTER_KINDS | frozenset({"bwv.activated", "bwv.footage.deleted"})
    category = Category.INTEGRITY_OF_EVIDENCE
    description = "Body-worn video footage of the officer's own encounter deleted by them."

    def __init__(self, params: BwvDeletedParams | None = None, /, **overrides: Any) -> None:
        super().__init__(params, **overrides)
        p = self.params
        self.lookback_s = p.lookback_days * DAY
        self.recent_s = p.recent_h * 3600
        self.recent_h = p.recent_h
        self.score = p.score
        self.exempt_roles = p.exempt_roles

    @classmethod
    def test_params(cls) -> list[dict[str, Any]]:
        return [{"recent_h": 1.0, "exempt_roles": ()}]  # fmt: skip

    def judge(self, event: Event, view: StateView) -> list[Finding]:
        officer, state = event.actor, view.state
        if officer is None:
            return []
        now = epoch(event.time)
        if event.kind != "bwv.footage.deleted":
            enc: list[list[Any]] = state.setdefault("encounters", [])
            footage = event.record.id if event.record is not None else None
            enc.append([now, event.id, list(event.subjects or ()), footage, event.kind])
            enc[:] = [e for e in enc if now - e[0] <= self.lookback_s][-200:]
            return []
        if view.ref.staff(officer) is None or role_exempt(officer, view.ref, self.exempt_roles):
            return []
        footage = event.record.id if event.record is not None else ""
        subjects = set(event.subjects or ())
        why, link = self._own(officer, footage, subjects, now, state.get("encounters", []))
        owner = next((getattr(event.attrs, k, None) for k in ("recorded_by", "officer", "owner")
                      if getattr(event.attrs, k, None)), None)  # fmt: skip
        if owner == officer and why is None:
            why = f"the footage record says it was recorded by {officer}"
        if why is None:
            return []
        return [
            self.finding(
                event,
                officer=officer,
                severity="critical" if link else "high",
                score=self.score + (10 if link else 0),
                title=f"{officer} deleted body-worn footage {footage} of their own encounter",
                explanation=(
                    f"{officer} deleted body-worn footage {footage or '(id not given)'} at "
                    f"{when(event.time)}: {why}. Deletion is for retention jobs and system "
                    f"accounts; {officer} is a member of staff ("
                    f"{_purpose(event)})."
                ),
                evidence=[event.id, *([link] if link else [])],
                subjects=sorted(subjects),
                facts={"footage": footage, "encounter_event": link},
            )
        ]

    def _own(
        self, officer: str, footage: str, subjects: set[str], now: float, enc: list[list[Any]]
    ) -> tuple[str | None, str | None]:
        """Why the footage is of the officer's own encounter, and the event showing it."""
        for e in reversed(enc):
            if footage and e[3] == footage:
                return f"the footage was recorded by {officer} ({e[1]} at {at(e[0])})", e[1]
        for e in reversed(enc):
            shared = subjects.intersection(e[2])
            if shared and e[4] != "bwv.activated":
                return (
                    f"it shows {', '.join(sorted(shared))}, whom {officer} recorded in {e[4]} "
                    f"{e[1]} at {at(e[0])}",
                    e[1],
                )
        if footage and officer.casefold() in footage.casefold():
            return f"the footage id names {officer}", None
        for e in reversed(enc):
            if not subjects and e[4] != "bwv.activated" and now - e[0] <= self.recent_s:
                return (
                    f"it came {(now - e[0]) / 3600:.1f} hours after {officer}'s own recorded "
                    f"encounter {e[1]} (within {self.recent_h:g} h)",
                    e[1],
                )
        return None, None
