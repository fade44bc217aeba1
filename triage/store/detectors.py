"""How the detectors do, read from the queue: the outcomes analysts gave their alerts
(effectiveness) and the engine's operational alerts (which detectors are inactive).

Operational alerts (``engine.coverage``, officer ``force``) say a reference feed is missing,
not that anyone did wrong: they are kept off the triage queue and its counts, and listed on
the inactive-detectors page instead (:meth:`DetectorsMixin.operational_alerts`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, select

from triage.base import Role, StoredAlert, User
from triage.store.core import StoreCore, as_alert
from triage.tables import AlertRow

#: detectors whose alerts are about the system, not a member of staff (the engine's)
OPERATIONAL_DETECTORS = frozenset({"engine.coverage"})
#: most operational alerts one page lists (one per feed and stretch: a handful a year)
OPERATIONAL_LIMIT = 500


def not_operational() -> ColumnElement[bool]:
    """The clause keeping operational alerts out of per-officer triage."""
    return AlertRow.detector.not_in(sorted(OPERATIONAL_DETECTORS))


@dataclass(frozen=True, slots=True)
class OutcomeRow:
    """One alert as effectiveness needs it: who, when, and how it ended (if it did)."""

    detector: str
    officer: str
    time: datetime
    status: str
    outcome: str | None


class DetectorsMixin(StoreCore):
    """Effectiveness figures and operational alerts."""

    def outcome_rows(
        self, viewer: User | None, since: datetime, *, audit: bool = True
    ) -> list[OutcomeRow]:
        """Every integrity alert timed from ``since`` (not the operational ones): those
        ``viewer`` may see, or all of them for ``viewer`` None (the metrics, which carry no
        officer). A viewer's look is audited."""
        where: list[ColumnElement[bool]] = [AlertRow.time >= since, not_operational()]
        if viewer is not None:
            where.append(self._visible(viewer))
        with self._tx() as s:
            rows = s.execute(
                select(
                    AlertRow.detector, AlertRow.officer, AlertRow.time, AlertRow.status,
                    AlertRow.outcome,
                ).where(*where)
            ).all()  # fmt: skip
            if viewer is not None and audit:
                detail: dict[str, Any] = {"since": since.isoformat(), "alerts": len(rows)}
                self._append(s, viewer, "detectors.effectiveness_viewed", None, detail)
        return [OutcomeRow(*r) for r in rows]

    def operational_alerts(self, viewer: User, *, audit: bool = True) -> list[StoredAlert]:
        """The engine's operational alerts ``viewer`` may see, oldest first; audited."""
        with self._tx() as s:
            rows = s.execute(
                select(AlertRow)
                .where(AlertRow.detector.in_(sorted(OPERATIONAL_DETECTORS)), self._visible(viewer))
                .order_by(AlertRow.time.desc(), AlertRow.id)
                .limit(OPERATIONAL_LIMIT)
            ).scalars()
            alerts = sorted((as_alert(r) for r in rows), key=lambda a: (a.time, a.id))
            if audit:
                self._append(s, viewer, "detectors.inactive_viewed", None, {"alerts": len(alerts)})
        return alerts

    def staff_visible(self, viewer: User, staff_ids: Iterable[str]) -> tuple[list[str], int]:
        """The staff ``viewer`` may see named outside an alert (the coverage page's staff
        nobody saw at work), by the alerts' rule: only the head of unit sees ACU members and
        the people the viewer is tied to. Returns those ids (sorted) and how many were held
        back. (The ACU units cannot apply: a coverage report gives no units.)"""
        ids = sorted(set(staff_ids))
        if viewer.role is Role.HEAD_OF_UNIT:
            return ids, 0
        hidden = self._conflicts(viewer) | self.policy.acu_staff_ids
        shown = [i for i in ids if i not in hidden]
        return shown, len(ids) - len(shown)
