"""Suppressions: analysts' false-positive feedback, as the store keeps it (the worker's
matching is :mod:`triage.suppressions`)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, not_, or_, select
from sqlalchemy.orm import Session

from triage.base import SUPERVISE, Role, Suppression, User
from triage.exceptions import Forbidden, InvalidTransition, NotFound
from triage.store.core import StoreCore, as_suppression
from triage.tables import AlertRow, SuppressionRow


class SuppressionsMixin(StoreCore):
    """Create, list (as a viewer may see them) and remove suppressions."""

    # ----------------------------------------------------------------- suppressions
    def create_suppression(self, sup: Suppression, viewer: User) -> Suppression:
        """A suppression awaiting approval (:meth:`approve_suppression`)."""
        with self._tx() as s:
            return self._add_suppression(s, sup, viewer)

    def _add_suppression(self, s: Session, sup: Suppression, viewer: User) -> Suppression:
        """Supervisors only, at most ``policy.suppression_max_days`` long, with a meaningful
        reason; never about the creator or someone they are tied to. It is not in force
        until a second person approves it."""
        if viewer.role not in SUPERVISE:
            raise Forbidden("only a supervisor can create a suppression")
        if sup.officer is not None and sup.officer in self._conflicts(viewer):
            raise Forbidden("you may not suppress alerts about yourself or someone you are tied to")
        self._check_acu_scope(s, sup.officer, viewer)
        longest = timedelta(days=self.policy.suppression_max_days)
        if sup.expires_at - sup.created_at > longest:
            raise InvalidTransition(
                f"a suppression lasts at most {self.policy.suppression_max_days} days"
            )
        self._check_rationale(sup.reason, "a suppression's reason")
        row = SuppressionRow(
            **sup.model_dump(
                exclude={"id", "removed_at", "removed_by", "approved_by", "approved_at"}
            )
        )
        s.add(row)
        s.flush()
        self._append(
            s, viewer, "suppression.created", sup.source_alert,
            {"suppression": row.id, "detector": sup.detector, "scope":
             "officer" if sup.officer else "subject",
             "expires_at": sup.expires_at.isoformat(), "reason": sup.reason},
        )  # fmt: skip
        return as_suppression(row)

    def approve_suppression(self, sup_id: int, viewer: User) -> Suppression:
        """Second pair of eyes: a supervisor or the head of unit other than its creator puts
        the suppression in force and is named as its approver."""
        if viewer.role not in SUPERVISE:
            raise Forbidden("only a supervisor or the head of unit approves a suppression")
        with self._tx() as s:
            row = s.execute(
                select(SuppressionRow).where(
                    SuppressionRow.id == sup_id, self._suppression_visible(viewer)
                )
            ).scalar_one_or_none()
            if row is None or row.removed_at is not None:
                raise NotFound(f"no active suppression {sup_id}")
            if row.approved_by is not None:
                raise InvalidTransition("the suppression is already approved")
            if row.created_by == viewer.username:
                raise Forbidden("a suppression needs a second person: you created it")
            if row.officer is not None and row.officer in self._conflicts(viewer):
                raise Forbidden("you may not approve a suppression about someone you are tied to")
            self._check_acu_scope(s, row.officer, viewer)
            row.approved_by, row.approved_at = viewer.username, self.clock()
            self._append(
                s, viewer, "suppression.approved", row.source_alert, {"suppression": sup_id}
            )
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

    def _check_acu_scope(self, s: Session, officer: str | None, viewer: User) -> None:
        """Alerts about ACU staff are the outside reviewer's: only a reviewer suppresses them,
        and a reviewer suppresses nothing else (no subject-wide suppression either)."""
        acu = officer is not None and (
            officer in self.policy.acu_staff_ids
            or s.execute(select(AlertRow.id).where(AlertRow.officer == officer,
                                                   self._acu_clause())).first() is not None
        )  # fmt: skip
        if acu and viewer.role is not Role.REVIEWER:
            raise Forbidden("alerts about ACU staff are suppressed by the outside reviewer only")
        if viewer.role is Role.REVIEWER and not acu:
            raise Forbidden("the outside reviewer suppresses alerts about ACU staff only")

    def _suppression_visible(self, viewer: User) -> ColumnElement[bool]:
        """As the alerts' rule: one about an ACU member (or born of an alert about one) is the
        reviewer's alone; one about the viewer or someone tied to them is hidden, except
        from the head of unit (who may not act on it)."""
        officer = SuppressionRow.officer
        acu = and_(officer.is_not(None), self._acu_officer_of(officer))
        visible_alerts = select(AlertRow.id).where(self._visible(viewer))
        from_visible = or_(
            SuppressionRow.source_alert.is_(None), SuppressionRow.source_alert.in_(visible_alerts)
        )
        if viewer.role is Role.REVIEWER:
            return and_(acu, from_visible)
        if viewer.role is Role.HEAD_OF_UNIT:
            return and_(not_(acu), from_visible)
        hidden = sorted(self._conflicts(viewer))
        return and_(
            not_(acu),
            or_(SuppressionRow.officer.is_(None), SuppressionRow.officer.not_in(hidden)),
            from_visible,
        )

    def active_suppressions(self, at: datetime | None = None) -> list[Suppression]:
        """Suppressions in force at ``at`` (default now): what the worker must honour. One
        awaiting approval is not in force."""
        at = at or self.clock()
        with self._tx() as s:
            rows = s.execute(
                select(SuppressionRow).where(
                    SuppressionRow.removed_at.is_(None),
                    SuppressionRow.expires_at > at,
                    SuppressionRow.approved_by.is_not(None),
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
