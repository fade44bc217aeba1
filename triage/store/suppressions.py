"""Suppressions: analysts' false-positive feedback, as the store keeps it (the worker's
matching is :mod:`triage.suppressions`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, and_, or_, select, true
from sqlalchemy.orm import Session

from triage.base import Role, Suppression, User
from triage.exceptions import NotFound
from triage.store.core import StoreCore, as_suppression
from triage.tables import AlertRow, SuppressionRow


class SuppressionsMixin(StoreCore):
    """Create, list (as a viewer may see them) and remove suppressions."""

    # ----------------------------------------------------------------- suppressions
    def create_suppression(self, sup: Suppression, viewer: User) -> Suppression:
        with self._tx() as s:
            return self._add_suppression(s, sup, viewer)

    def _add_suppression(self, s: Session, sup: Suppression, viewer: User) -> Suppression:
        row = SuppressionRow(**sup.model_dump(exclude={"id", "removed_at", "removed_by"}))
        s.add(row)
        s.flush()
        self._append(
            s, viewer, "suppression.created", sup.source_alert,
            {"suppression": row.id, "detector": sup.detector, "scope":
             "officer" if sup.officer else "subject",
             "expires_at": sup.expires_at.isoformat(), "reason": sup.reason},
        )  # fmt: skip
        return as_suppression(row)

    def suppressions(
        self, viewer: User | None = None, *, include_removed: bool = False
    ) -> list[Suppression]:
        """Suppressions, as ``viewer`` may see them: one born of an alert the viewer may not
        see (conflict of interest) is left out, since it names the officer."""
        with self._tx() as s:
            q = select(SuppressionRow).order_by(SuppressionRow.id)
            if not include_removed:
                q = q.where(SuppressionRow.removed_at.is_(None))
            if viewer is not None:
                q = q.where(self._suppression_visible(viewer))
            return [as_suppression(r) for r in s.execute(q).scalars()]

    def _suppression_visible(self, viewer: User) -> ColumnElement[bool]:
        if viewer.role is Role.HEAD_OF_UNIT:
            return true()
        hidden = self._conflicts(viewer) | self.policy.acu_staff_ids
        visible_alerts = select(AlertRow.id).where(self._visible(viewer))
        return and_(
            or_(SuppressionRow.officer.is_(None), SuppressionRow.officer.not_in(sorted(hidden))),
            or_(
                SuppressionRow.source_alert.is_(None),
                SuppressionRow.source_alert.in_(visible_alerts),
            ),
        )

    def active_suppressions(self, at: datetime | None = None) -> list[Suppression]:
        """Suppressions in force at ``at`` (default now): what the worker must honour."""
        at = at or self.clock()
        with self._tx() as s:
            rows = s.execute(
                select(SuppressionRow).where(
                    SuppressionRow.removed_at.is_(None), SuppressionRow.expires_at > at
                )
            ).scalars()
            return [as_suppression(r) for r in rows]

    def remove_suppression(self, sup_id: int, viewer: User) -> Suppression:
        with self._tx() as s:
            row = s.execute(
                select(SuppressionRow).where(
                    SuppressionRow.id == sup_id, self._suppression_visible(viewer)
                )
            ).scalar_one_or_none()
            if row is None or row.removed_at is not None:
                raise NotFound(f"no active suppression {sup_id}")
            row.removed_at, row.removed_by = self.clock(), viewer.username
            self._append(
                s, viewer, "suppression.removed", row.source_alert, {"suppression": sup_id}
            )
            return as_suppression(row)
