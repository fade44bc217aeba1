"""Investigations: an officer's timeline (every visible alert with its evidence digests)
and cases (alerts, tasks, notes, an outcome with its rationale), each step audited.

Conflict of interest is the alerts' rule: a case about an officer an account may not see
alerts about is invisible to it (:meth:`CasesMixin._case_visible`, one SQL clause), and
nobody works a case about themselves, their line manager or their associates.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, false, not_, or_, select
from sqlalchemy.orm import Session

from triage.base import (
    REFERENCE,
    AuditEntry,
    Case,
    CaseDetail,
    CaseOutcome,
    CaseStatus,
    CaseTask,
    Note,
    Role,
    StoredAlert,
    User,
)
from triage.exceptions import Forbidden, InvalidTransition, NotFound
from triage.store.core import StoreCore, as_alert, as_entry
from triage.tables import AlertRow, AuditRow, CaseAlertRow, CaseNoteRow, CaseRow, CaseTaskRow

#: at most this many alerts on one officer's timeline (the latest)
TIMELINE_LIMIT = 1000
#: a search looks through the latest this many visible alerts
SEARCH_SCAN = 5000


def as_case(r: CaseRow) -> Case:
    return Case(
        id=r.id, officer=r.officer, title=r.title, status=CaseStatus(r.status),
        restricted=r.restricted, opened_by=r.opened_by, opened_at=r.opened_at,
        updated_at=r.updated_at, outcome=CaseOutcome(r.outcome) if r.outcome else None,
        rationale=r.rationale, referral_reference=r.referral_reference, closed_by=r.closed_by,
        closed_at=r.closed_at,
    )  # fmt: skip


class CasesMixin(StoreCore):
    """The officer timeline and cases."""

    # ----------------------------------------------------------------- timeline
    def officer_timeline(
        self, officer: str, viewer: User, *, category: str | None = None,
        date_from: datetime | None = None, date_to: datetime | None = None,
    ) -> list[StoredAlert]:  # fmt: skip
        """The officer's visible alerts (oldest first) for the timeline, filtered by
        category and by alert time; audited. An officer with no alert the viewer may see
        is not found (hidden and unknown answer alike)."""
        with self._tx() as s:
            seen = s.execute(
                select(AlertRow.id).where(AlertRow.officer == officer, self._visible(viewer))
            ).first()
            if seen is None:
                raise NotFound(f"no officer {officer!r}")
            where = [AlertRow.officer == officer, self._visible(viewer)]
            if category:
                where.append(AlertRow.category == category)
            rows = s.execute(
                select(AlertRow).where(*where).order_by(AlertRow.time.desc()).limit(TIMELINE_LIMIT)
            ).scalars()
            alerts = sorted((as_alert(r) for r in rows), key=lambda a: (a.time, a.id))
            detail: dict[str, Any] = {"officer": officer, "alerts": len(alerts)}
            if category:
                detail["category"] = category
            for key, value in (("from", date_from), ("to", date_to)):
                if value is not None:
                    detail[key] = value.isoformat()
            self._append(s, viewer, "officer.timeline_viewed", None, detail)
        return alerts

    # ----------------------------------------------------------------- search
    def search_candidates(
        self, query: str, viewer: User, limit: int = SEARCH_SCAN
    ) -> tuple[list[StoredAlert], list[Case]]:
        """The latest visible alerts and cases to search in, the search audited. The match
        itself is made on what the viewer would see (masked titles, pseudonyms), by the
        caller, so searching for a person's real id finds nothing a reveal would not."""
        with self._tx() as s:
            rows = s.execute(
                select(AlertRow)
                .where(self._visible(viewer))
                .order_by(AlertRow.time.desc())
                .limit(limit)
            ).scalars()
            alerts = [as_alert(r) for r in rows]
            cases = [
                as_case(r)
                for r in s.execute(
                    select(CaseRow).where(self._case_visible(viewer)).order_by(CaseRow.id.desc())
                ).scalars()
            ]
            self._append(s, viewer, "search.performed", None, {"query": query[:200]})
        return alerts, cases

    # ----------------------------------------------------------------- visibility
    def _case_visible(self, viewer: User) -> ColumnElement[bool]:
        """The alerts' rule for cases: a case about an ACU member is the outside reviewer's
        alone; the head of unit sees every other case but one about themselves; analysts and
        supervisors none about themselves, their line manager or their associates; other
        roles none."""
        acu = or_(CaseRow.restricted.is_(True), self._acu_officer_of(CaseRow.officer))
        if viewer.role is Role.HEAD_OF_UNIT:
            return and_(not_(acu), CaseRow.officer != viewer.staff_id)
        if viewer.role not in (Role.ANALYST, Role.SUPERVISOR, Role.REVIEWER):
            return false()
        hidden = sorted(self._conflicts(viewer))
        return and_(acu if viewer.role is Role.REVIEWER else not_(acu),
                    CaseRow.officer.not_in(hidden))  # fmt: skip

    def _get_case(self, s: Session, case_id: int, viewer: User) -> CaseRow:
        row = s.execute(
            select(CaseRow).where(CaseRow.id == case_id, self._case_visible(viewer))
        ).scalar_one_or_none()
        if row is None:
            raise NotFound(f"no case {case_id}")
        return row

    def _work_case(self, s: Session, case_id: int, viewer: User) -> CaseRow:
        """The open case ``viewer`` may work on: nobody works a case about someone they are
        tied to (the head of unit sees those, but may not judge them)."""
        row = self._get_case(s, case_id, viewer)
        if row.officer in self._conflicts(viewer):
            raise Forbidden("you may not work a case about yourself or someone you are tied to")
        if row.status != CaseStatus.OPEN.value:
            raise InvalidTransition("the case is closed")
        return row

    # ----------------------------------------------------------------- cases
    def open_case(self, officer: str, title: str, viewer: User) -> Case:
        """Open a case on an officer the viewer sees at least one alert about."""
        title = title.strip()
        if not title:
            raise InvalidTransition("a case needs a title")
        if officer in self._conflicts(viewer):
            raise Forbidden("you may not open a case about yourself or someone you are tied to")
        with self._tx() as s:
            visible = s.execute(
                select(AlertRow.id).where(AlertRow.officer == officer, self._visible(viewer))
            ).first()
            if visible is None:
                raise NotFound(f"no officer {officer!r}")
            restricted = self.policy.restricted(officer, None) or bool(
                s.execute(
                    select(AlertRow.id).where(AlertRow.officer == officer, AlertRow.restricted)
                ).first()
            )
            now = self.clock()
            row = CaseRow(
                officer=officer, title=title[:500], status=CaseStatus.OPEN.value,
                restricted=restricted, opened_by=viewer.username, opened_at=now, updated_at=now,
            )  # fmt: skip
            s.add(row)
            s.flush()
            self._append(s, viewer, "case.opened", None, {"case": row.id, "officer": officer})
            return as_case(row)

    def cases(self, viewer: User, *, officer: str | None = None) -> list[Case]:
        """The visible cases, open first, newest first (not audited: titles only)."""
        where = [self._case_visible(viewer)]
        if officer:
            where.append(CaseRow.officer == officer)
        with self._tx() as s:
            rows = s.execute(
                select(CaseRow).where(*where).order_by(CaseRow.status.desc(), CaseRow.id.desc())
            ).scalars()
            return [as_case(r) for r in rows]

    def view_case(self, case_id: int, viewer: User, *, audit: bool = True) -> CaseDetail:
        """A case with its visible alerts, suggestions, tasks and notes; audited."""
        with self._tx() as s:
            row = self._get_case(s, case_id, viewer)
            attached = s.execute(
                select(AlertRow)
                .join(CaseAlertRow, CaseAlertRow.alert_id == AlertRow.id)
                .where(CaseAlertRow.case_id == case_id, self._visible(viewer))
                .order_by(AlertRow.time, AlertRow.id)
            ).scalars()
            alerts = [as_alert(r) for r in attached]
            ids = {a.id for a in alerts}
            others = s.execute(
                select(AlertRow)
                .where(AlertRow.officer == row.officer, self._visible(viewer))
                .order_by(AlertRow.time.desc())
                .limit(50)
            ).scalars()
            suggested = [as_alert(r) for r in others if r.id not in ids]
            tasks = [
                CaseTask(
                    id=t.id,
                    text=t.text,
                    created_by=t.created_by,
                    created_at=t.created_at,
                    done_by=t.done_by,
                    done_at=t.done_at,
                )
                for t in s.execute(
                    select(CaseTaskRow)
                    .where(CaseTaskRow.case_id == case_id)
                    .order_by(CaseTaskRow.id)
                ).scalars()
            ]
            notes = [
                Note(id=n.id, author=n.author, text=n.text, created_at=n.created_at)
                for n in s.execute(
                    select(CaseNoteRow)
                    .where(CaseNoteRow.case_id == case_id)
                    .order_by(CaseNoteRow.id)
                ).scalars()
            ]
            if audit:
                self._append(s, viewer, "case.viewed", None,
                             {"case": case_id, "officer": row.officer})  # fmt: skip
            return CaseDetail(case=as_case(row), alerts=alerts, suggested=suggested,
                              tasks=tasks, notes=notes)  # fmt: skip

    def attach_alert(self, case_id: int, alert_id: str, viewer: User) -> None:
        """Attach a visible alert about the case's officer (idempotent)."""
        with self._tx() as s:
            row = self._work_case(s, case_id, viewer)
            alert = self._get_visible(s, alert_id, viewer)
            if alert.officer != row.officer:
                raise InvalidTransition("the alert is about another officer")
            known = s.get(CaseAlertRow, (case_id, alert_id))
            if known is not None:
                return
            now = self.clock()
            s.add(CaseAlertRow(case_id=case_id, alert_id=alert_id, added_by=viewer.username,
                               added_at=now))  # fmt: skip
            row.updated_at = now
            self._append(s, viewer, "case.alert_attached", alert_id, {"case": case_id})

    def add_case_task(self, case_id: int, text: str, viewer: User) -> CaseTask:
        text = text.strip()
        if not text:
            raise InvalidTransition("a task needs text")
        with self._tx() as s:
            row = self._work_case(s, case_id, viewer)
            now = self.clock()
            task = CaseTaskRow(case_id=case_id, text=text, created_by=viewer.username,
                               created_at=now)  # fmt: skip
            s.add(task)
            s.flush()
            row.updated_at = now
            self._append(s, viewer, "case.task_added", None, {"case": case_id, "task": task.id})
            return CaseTask(id=task.id, text=task.text, created_by=task.created_by,
                            created_at=task.created_at)  # fmt: skip

    def complete_case_task(self, case_id: int, task_id: int, viewer: User) -> None:
        with self._tx() as s:
            row = self._work_case(s, case_id, viewer)
            task = s.get(CaseTaskRow, task_id)
            if task is None or task.case_id != case_id:
                raise NotFound(f"no task {task_id}")
            if task.done_at is not None:
                return
            now = self.clock()
            task.done_by, task.done_at, row.updated_at = viewer.username, now, now
            self._append(s, viewer, "case.task_done", None, {"case": case_id, "task": task_id})

    def add_case_note(self, case_id: int, text: str, viewer: User) -> Note:
        if not text.strip():
            raise InvalidTransition("a note needs text")
        with self._tx() as s:
            row = self._work_case(s, case_id, viewer)
            now = self.clock()
            note = CaseNoteRow(case_id=case_id, author=viewer.username, text=text, created_at=now)
            s.add(note)
            s.flush()
            row.updated_at = now
            self._append(s, viewer, "case.noted", None, {"case": case_id, "note": note.id})
            return Note(id=note.id, author=note.author, text=note.text, created_at=now)

    def close_case(
        self, case_id: int, outcome: CaseOutcome, rationale: str, viewer: User,
        referral_reference: str | None = None,
    ) -> Case:  # fmt: skip
        """Record the outcome with its rationale (required, meaningful) and close the case.
        A referral to the IOPC needs the IOPC's referral reference."""
        text = self._check_rationale(rationale, "the outcome's rationale")
        reference = (referral_reference or "").strip() or None
        if outcome is CaseOutcome.REFERRAL_IOPC and reference is None:
            raise InvalidTransition("a referral to the IOPC needs its referral reference")
        if reference is not None and not re.match(REFERENCE, reference):
            raise InvalidTransition("a referral reference is letters, digits and /_.:-")
        with self._tx() as s:
            row = self._work_case(s, case_id, viewer)
            now = self.clock()
            row.status, row.outcome, row.rationale = CaseStatus.CLOSED.value, outcome.value, text
            row.referral_reference = reference
            row.closed_by, row.closed_at, row.updated_at = viewer.username, now, now
            detail: dict[str, Any] = {"case": case_id, "officer": row.officer,
                                      "outcome": outcome.value}  # fmt: skip
            if reference:
                detail["referral_reference"] = reference
            self._append(s, viewer, "case.closed", None, detail)
            return as_case(row)

    # ----------------------------------------------------------------- referral pack
    def case_trail(self, case_id: int, viewer: User, form: str = "html") -> list[AuditEntry]:
        """The referral pack's audit trail: the rows about a case and its attached alerts,
        in order, after recording the export itself (``case.exported``), so the pack shows
        its own making: who opened, saw, revealed and decided what."""
        with self._tx() as s:
            row = self._get_case(s, case_id, viewer)
            ids = list(
                s.execute(
                    select(CaseAlertRow.alert_id).where(CaseAlertRow.case_id == case_id)
                ).scalars()
            )
            self._append(s, viewer, "case.exported", None,
                         {"case": case_id, "officer": row.officer, "form": form})  # fmt: skip
            rows = s.execute(
                select(AuditRow)
                .where(or_(AuditRow.action.like("case.%"), AuditRow.alert_id.in_(ids)))
                .order_by(AuditRow.seq)
            ).scalars()
            return [
                as_entry(r)
                for r in rows
                if r.alert_id in ids or (r.detail or {}).get("case") == case_id
            ]
