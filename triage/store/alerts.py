"""Alerts: in from the alerts topic (idempotent), out to the queue and the alert page,
and the triage workflow (assign, review, close, bulk close, reopen, notes, reveals)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from models.alerts import Alert
from triage.base import (
    DECIDE,
    DISMISSALS,
    FOUR_EYES_SEVERITIES,
    SUPERVISE,
    Note,
    Outcome,
    QueueFilter,
    QueuePage,
    RevealRequest,
    Status,
    StoredAlert,
    Suppression,
    User,
)
from triage.exceptions import (
    ApprovalPending,
    Forbidden,
    InvalidAlert,
    InvalidTransition,
    NotFound,
    QuotaExceeded,
    TriageError,
)
from triage.store.core import (
    as_alert,
    as_note,
    as_reveal_request,
    as_user,
    people_column,
    people_token,
)
from triage.store.detectors import OPERATIONAL_DETECTORS, not_operational
from triage.store.suppressions import SuppressionsMixin
from triage.tables import AlertRow, AuditRow, NoteRow, RevealRequestRow, UserRow

#: the one answer to a reveal that is refused, whatever the reason (no membership oracle)
REVEAL_REFUSED = "not found: reveal only people of an alert assigned to you"

_CONTRACT_FIELDS = {
    "id", "version", "detector", "category", "officer", "time", "raised_at", "severity",
    "score", "title", "explanation", "evidence", "subjects", "path", "facts",
}  # fmt: skip

#: column limits of the schema; an alert beyond them is refused (the sink dead-letters it)
_LIMITS = {"id": 64, "detector": 128, "officer": 128, "category": 64, "severity": 16}


def _clean(value: Any) -> Any:
    """NUL characters are legal in JSON but not in PostgreSQL text: replace them."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, dict):
        return {_clean(k): _clean(v) for k, v in value.items()}
    return value


def officer_unit(facts: dict[str, Any], given: Any = None) -> str | None:
    """The officer's unit: the alert's ``officer_unit`` (the engine takes it from staff
    reference data), else what the detector put in ``facts`` (``officer_unit`` or ``unit``)."""
    for value in (given, facts.get("officer_unit"), facts.get("unit")):
        if isinstance(value, str) and value:
            return value[:128]
    return None


class AlertsMixin(SuppressionsMixin):
    """Alerts in and out, and the workflow. Closing a false positive may create a
    suppression in the same transaction, hence the suppressions part underneath."""

    # ----------------------------------------------------------------- alerts in
    def upsert_alert(self, alert: Alert) -> bool:
        """Insert the alert unless its id is known; ``True`` if it was new."""
        return self.upsert_alerts([alert]) == 1

    def upsert_alerts(self, batch: Sequence[Alert]) -> int:
        """Insert a batch in one transaction, idempotent by alert id: a redelivered alert
        changes nothing (never the triage status). Returns how many were new.
        The alerts-topic sink commits its offsets only after this returns."""
        if not batch:
            return 0
        now = self.clock()
        rows = [self._alert_values(a, now) for a in batch]
        dialect = self.engine.dialect.name
        insert_fn = postgresql.insert if dialect == "postgresql" else sqlite.insert
        inserted = 0
        with self._tx() as s:
            for start in range(0, len(rows), 500):  # keeps under every driver's parameter cap
                stmt = (
                    insert_fn(AlertRow)
                    .values(rows[start : start + 500])
                    .on_conflict_do_nothing(index_elements=["id"])
                    .returning(AlertRow.id)
                )
                inserted += len(s.execute(stmt).all())
        return inserted

    def _alert_values(self, alert: Alert, now: datetime) -> dict[str, Any]:
        for name, limit in _LIMITS.items():
            if len(str(getattr(alert, name))) > limit:
                raise InvalidAlert(f"alert {alert.id[:64]!r}: {name} longer than {limit}")
        data = _clean(alert.to_json())
        unit = officer_unit(data.get("facts", {}), data.get("officer_unit"))
        values = {
            "id": alert.id,
            "version": alert.version,
            "detector": alert.detector,
            "category": str(alert.category),
            "officer": alert.officer,
            "officer_unit": unit,
            "time": alert.time,
            "raised_at": alert.raised_at,
            "severity": alert.severity,
            "score": float(alert.score),
            "title": data["title"],
            "explanation": data["explanation"],
            "evidence": data["evidence"],
            "subjects": data["subjects"],
            "path": data.get("path"),
            "facts": data.get("facts", {}),
            "extra": {k: v for k, v in data.items() if k not in _CONTRACT_FIELDS},
            "restricted": self.policy.restricted(alert.officer, unit),
            "people": people_column(_people(alert.officer, data)),
            "status": Status.NEW.value,
            "received_at": now,
            "updated_at": now,
        }
        return values

    # ----------------------------------------------------------------- alerts out
    def queue(self, filters: QueueFilter, viewer: User, *, audit: bool = True) -> QueuePage:
        """One page of the visible queue plus counts per status; the search is audited."""
        base = [self._visible(viewer), *self._filter_clauses(filters)]
        where = and_(*base, *([AlertRow.status == filters.status.value] if filters.status else []))
        order: list[ColumnElement[Any]] = (
            [AlertRow.score.desc(), AlertRow.time.asc(), AlertRow.id.asc()]
            if filters.sort == "score"
            else [AlertRow.time.asc(), AlertRow.score.desc(), AlertRow.id.asc()]
        )
        with self._tx() as s:
            total = s.execute(select(func.count()).select_from(AlertRow).where(where)).scalar_one()
            rows = s.execute(
                select(AlertRow)
                .where(where)
                .order_by(*order)
                .offset((filters.page - 1) * filters.per_page)
                .limit(filters.per_page)
            ).scalars()
            items = [as_alert(r) for r in rows]
            counts = {st.value: 0 for st in Status}
            for status, n in s.execute(
                select(AlertRow.status, func.count()).where(and_(*base)).group_by(AlertRow.status)
            ):
                counts[status] = n
            if audit:
                self._append(
                    s, viewer, "queue.searched", None,
                    {"filters": filters.active(), "results": total, "page": filters.page},
                )  # fmt: skip
        return QueuePage(
            items=items, total=total, page=filters.page, per_page=filters.per_page, counts=counts
        )

    @staticmethod
    def _filter_clauses(f: QueueFilter) -> list[ColumnElement[bool]]:
        out: list[ColumnElement[bool]] = []
        for column, value in (
            (AlertRow.severity, f.severity),
            (AlertRow.category, f.category),
            (AlertRow.detector, f.detector),
            (AlertRow.officer, f.officer),
            (AlertRow.officer_unit, f.unit),
            (AlertRow.assignee, f.assignee),
        ):
            if value:
                out.append(column == value)
        if f.date_from:
            out.append(AlertRow.time >= f.date_from)
        if f.date_to:
            out.append(AlertRow.time <= f.date_to)
        if f.detector not in OPERATIONAL_DETECTORS:  # listed on /detectors/inactive instead
            out.append(not_operational())
        return out

    def view_alert(
        self, alert_id: str, viewer: User, *, audit: bool = True
    ) -> tuple[StoredAlert, list[Note]]:
        """The alert and its notes, if visible to ``viewer``; the view is audited (callers
        pass ``audit=False`` only for a look-up inside an action that is audited itself)."""
        with self._tx() as s:
            row = self._get_visible(s, alert_id, viewer)
            notes = s.execute(
                select(NoteRow).where(NoteRow.alert_id == alert_id).order_by(NoteRow.id)
            ).scalars()
            out = as_alert(row), [as_note(n) for n in notes]
            if audit:
                self._append(s, viewer, "alert.viewed", alert_id, {"officer": row.officer})
        return out

    def officer_alerts(self, officer: str, viewer: User, limit: int = 50) -> list[StoredAlert]:
        """The officer's visible alerts, oldest first (the alert page's history and risk)."""
        with self._tx() as s:
            rows = s.execute(
                select(AlertRow)
                .where(AlertRow.officer == officer, self._visible(viewer))
                .order_by(AlertRow.time.desc())
                .limit(limit)
            ).scalars()
            return sorted((as_alert(r) for r in rows), key=lambda a: a.time)

    def reveal(
        self, alert_id: str, value: str | None, reason: str, viewer: User, *, reference: str,
        asked: str | None = None,
    ) -> None:  # fmt: skip
        """Record that ``viewer`` unmasked ``value`` (a subject or path node of the alert),
        giving ``reason`` and ``reference`` (the case or tasking it is for).

        Only on an alert assigned to the viewer, at most ``policy.reveal_daily_quota`` tries
        a UTC day. A person on a covert, VIP, canary or vulnerable-victim list (the alert's
        ``sensitive_subjects``) takes two people: the first try makes a request (audited as
        ``subject.reveal_requested``, :class:`ApprovalPending` raised) that someone else
        approves (:meth:`decide_reveal`); the requester's next try reveals, once.

        Every refusal (an alert unknown, hidden or not the viewer's, a person not on it:
        ``value`` None, or the quota) is audited as ``subject.reveal_refused`` with what was
        ``asked`` and raises the same :class:`NotFound` (or :class:`QuotaExceeded`), so
        guessing ids learns nothing about which exist."""
        refusal: TriageError | None = None
        pending: int | None = None
        with self._tx() as s:
            row = s.execute(
                select(AlertRow).where(AlertRow.id == alert_id, self._visible(viewer))
            ).scalar_one_or_none()
            why = None
            if self._reveals_today(s, viewer) >= self.policy.reveal_daily_quota:
                why, refusal = (
                    "quota",
                    QuotaExceeded(
                        f"the daily limit of {self.policy.reveal_daily_quota} reveals is reached"
                    ),
                )
            elif row is None or value is None or value not in officer_people(row):
                why = "unknown"
            elif row.assignee != viewer.username:
                why = "not_assigned"
            if why is None and row is not None and value is not None:
                detail: dict[str, Any] = {"subject": value, "reason": reason,
                                          "reference": reference}  # fmt: skip
                if value in _sensitive(row):  # two people: a second one approves first
                    approval = self._approved_request(s, alert_id, value, viewer)
                    if approval is None:
                        pending = self._request_reveal(s, row, value, reason, reference, viewer)
                    else:
                        approval.status = "used"
                        detail |= {"request": approval.id, "approved_by": approval.decided_by}
                if pending is None:
                    self._append(s, viewer, "subject.revealed", alert_id, detail)
                    return
            else:
                self._append(
                    s, viewer, "subject.reveal_refused", alert_id[:64],
                    {"asked": (asked or value or "")[:128], "reason": reason,
                     "reference": reference, "why": why},
                )  # fmt: skip
        if pending is not None:
            raise ApprovalPending(pending)
        # after the commit: the refusal stays in the audit log
        raise refusal or NotFound(REVEAL_REFUSED)

    # ----------------------------------------------------------------- two-person reveals
    def _approved_request(
        self, s: Session, alert_id: str, value: str, viewer: User
    ) -> RevealRequestRow | None:
        return s.execute(
            select(RevealRequestRow).where(
                RevealRequestRow.alert_id == alert_id, RevealRequestRow.subject == value,
                RevealRequestRow.requested_by == viewer.username,
                RevealRequestRow.status == "approved",
            ).order_by(RevealRequestRow.id).limit(1)
        ).scalar_one_or_none()  # fmt: skip

    def _request_reveal(
        self, s: Session, row: AlertRow, value: str, reason: str, reference: str, viewer: User
    ) -> int:
        """The pending request for this person (one at a time), audited when new."""
        existing = s.execute(
            select(RevealRequestRow.id).where(
                RevealRequestRow.alert_id == row.id, RevealRequestRow.subject == value,
                RevealRequestRow.requested_by == viewer.username,
                RevealRequestRow.status == "pending",
            )
        ).scalar_one_or_none()  # fmt: skip
        if existing is not None:
            return int(existing)
        req = RevealRequestRow(
            alert_id=row.id, subject=value, requested_by=viewer.username,
            requested_at=self.clock(), reason=reason, reference=reference, status="pending",
        )  # fmt: skip
        s.add(req)
        s.flush()
        self._append(
            s, viewer, "subject.reveal_requested", row.id,
            {"subject": value, "reason": reason, "reference": reference, "request": req.id},
        )  # fmt: skip
        return req.id

    def reveal_requests(self, viewer: User) -> list[RevealRequest]:
        """Pending requests ``viewer`` may decide: a supervisor (the head of unit, or the
        outside reviewer for the ACU's alerts) who sees the alert, not their own requests."""
        if viewer.role not in SUPERVISE:
            return []
        with self._tx() as s:
            rows = s.execute(
                select(RevealRequestRow)
                .join(AlertRow, AlertRow.id == RevealRequestRow.alert_id)
                .where(RevealRequestRow.status == "pending", self._visible(viewer),
                       RevealRequestRow.requested_by != viewer.username)
                .order_by(RevealRequestRow.id)
            ).scalars()  # fmt: skip
            return [as_reveal_request(r) for r in rows]

    def own_reveal_requests(self, viewer: User, limit: int = 100) -> list[RevealRequest]:
        """``viewer``'s own requests, newest first, in every state (on alerts they still
        see): what they asked for and what became of it."""
        with self._tx() as s:
            rows = s.execute(
                select(RevealRequestRow)
                .join(AlertRow, AlertRow.id == RevealRequestRow.alert_id)
                .where(RevealRequestRow.requested_by == viewer.username, self._visible(viewer))
                .order_by(RevealRequestRow.id.desc())
                .limit(limit)
            ).scalars()
            return [as_reveal_request(r) for r in rows]

    def decide_reveal(
        self, request_id: int, approve: bool, viewer: User, reason: str = ""
    ) -> RevealRequest:
        """Approve (the requester may then reveal, once) or decline a pending request. Only
        a supervisor, the head of unit or (for the ACU's alerts) the reviewer who sees the
        alert and is not tied to it; never the requester. Audited both ways."""
        if viewer.role not in SUPERVISE:
            raise Forbidden("only a supervisor or the head of unit approves a reveal")
        if not approve:
            reason = self._check_rationale(reason, "a reason")
        with self._tx() as s:
            req = s.execute(
                select(RevealRequestRow).where(RevealRequestRow.id == request_id)
            ).scalar_one_or_none()
            if req is None:
                raise NotFound(f"no reveal request {request_id}")
            row = self._get_visible(s, req.alert_id, viewer)
            if req.status != "pending":
                raise InvalidTransition(f"the request is already {req.status}")
            if req.requested_by == viewer.username:
                raise Forbidden("a sensitive reveal needs a second person: you asked for it")
            self._check_works(row, viewer)
            req.status = "approved" if approve else "declined"
            req.decided_by, req.decided_at = viewer.username, self.clock()
            detail: dict[str, Any] = {"request": req.id, "subject": req.subject,
                                      "requested_by": req.requested_by}  # fmt: skip
            if not approve:
                detail["reason"] = reason
            action = "subject.reveal_approved" if approve else "subject.reveal_declined"
            self._append(s, viewer, action, req.alert_id, detail)
            return as_reveal_request(req)

    def _reveals_today(self, s: Session, viewer: User) -> int:
        midnight = self.clock().astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        return s.execute(
            select(func.count())
            .select_from(AuditRow)
            .where(
                AuditRow.action.in_(
                    ("subject.revealed", "subject.reveal_refused", "subject.reveal_requested")
                ),
                AuditRow.username == viewer.username,
                AuditRow.at >= midnight,
            )
        ).scalar_one()

    # ----------------------------------------------------------------- workflow
    def assign(self, alert_id: str, assignee: str, viewer: User) -> StoredAlert:
        """Assign (the API lets an analyst take an alert only for themselves). An analyst
        cannot take an alert someone else holds: only a supervisor re-assigns."""
        with self._tx() as s:
            row = self._get_visible(s, alert_id, viewer)
            if row.status == Status.CLOSED:
                raise InvalidTransition("a closed alert must be reopened before assignment")
            if viewer.role not in SUPERVISE and row.assignee not in (None, viewer.username):
                raise Forbidden("the alert is assigned to someone else: ask a supervisor")
            target = s.execute(
                select(UserRow).where(UserRow.username == assignee, UserRow.active.is_(True))
            ).scalar_one_or_none()
            if target is None:
                raise NotFound(f"no active user {assignee!r}")
            self._check_may_hold(s, row, as_user(target))
            row.assignee, row.updated_at = assignee, self.clock()
            if row.status == Status.NEW:
                row.status = Status.ASSIGNED
            self._append(s, viewer, "alert.assigned", alert_id, {"assignee": assignee})
            return as_alert(row)

    def _check_may_hold(self, s: Session, row: AlertRow, who: User) -> None:
        """An alert goes only to someone who may see it and work it: a deciding role, the
        alert visible to them (the ACU's to the reviewer, others' to the ACU), not about
        them or anyone tied to them."""
        visible = s.execute(
            select(AlertRow.id).where(AlertRow.id == row.id, self._visible(who))
        ).first()
        if who.role not in DECIDE or visible is None:
            raise Forbidden(f"{who.username!r} may not see this alert: assign it to someone else")
        conflicts = self._conflicts(who)
        if row.officer in conflicts or any(people_token(c) in row.people for c in conflicts):
            raise Forbidden(f"{who.username!r} is tied to this alert: assign it to someone else")

    def start_review(self, alert_id: str, viewer: User) -> StoredAlert:
        """Start reviewing: an unassigned alert becomes the reviewer's."""
        with self._tx() as s:
            row = self._get_visible(s, alert_id, viewer)
            if row.status not in (Status.NEW, Status.ASSIGNED):
                raise InvalidTransition(f"cannot start a review of a {row.status} alert")
            row.assignee = row.assignee or viewer.username
            self._check_works(row, viewer)
            row.status, row.updated_at = Status.IN_REVIEW, self.clock()
            self._append(s, viewer, "alert.review_started", alert_id, {})
            return as_alert(row)

    @staticmethod
    def needs_second_approver(severity: str, outcome: Outcome) -> bool:
        """Four eyes: dismissing a high or critical alert needs a second person."""
        return severity in FOUR_EYES_SEVERITIES and outcome in DISMISSALS

    def close(
        self,
        alert_id: str,
        outcome: Outcome,
        rationale: str,
        viewer: User,
        *,
        duplicate_of: str | None = None,
        suppression: Suppression | None = None,
    ) -> StoredAlert:
        """Close with an outcome and a meaningful rationale; a false positive may carry a
        suppression, created (awaiting its own approval) in the same transaction.

        Only the assignee or a supervisor closes. Dismissing a high or critical alert (false
        positive, no further action) does not close it: it waits in ``pending_closure``
        until someone else approves (:meth:`approve_closure`)."""
        rationale = self._check_rationale(rationale)
        if suppression is not None and outcome is not Outcome.FALSE_POSITIVE:
            raise InvalidTransition("only a false positive can create a suppression")
        with self._tx() as s:
            row = self._get_visible(s, alert_id, viewer)
            self._check_works(row, viewer)
            if duplicate_of is not None:
                if duplicate_of == alert_id:
                    raise InvalidTransition("an alert cannot duplicate itself")
                self._get_visible(s, duplicate_of, viewer)
            if self.needs_second_approver(row.severity, outcome):
                self._propose_closure(s, row, outcome, rationale, viewer, duplicate_of)
            else:
                self._close_row(s, row, outcome, rationale, viewer, duplicate_of)
            if suppression is not None:
                self._add_suppression(s, suppression, viewer)
            return as_alert(row)

    def _propose_closure(
        self, s: Session, row: AlertRow, outcome: Outcome, rationale: str, viewer: User,
        duplicate_of: str | None,
    ) -> None:  # fmt: skip
        if row.status in (Status.CLOSED, Status.PENDING_CLOSURE):
            raise InvalidTransition(f"the alert is already {row.status}")
        row.status, row.outcome, row.rationale = Status.PENDING_CLOSURE, outcome.value, rationale
        row.duplicate_of, row.proposed_by, row.updated_at = (
            duplicate_of, viewer.username, self.clock()
        )  # fmt: skip
        self._append(
            s, viewer, "alert.closure_proposed", row.id,
            {"outcome": outcome.value, "rationale": rationale},
        )  # fmt: skip

    def _close_row(
        self, s: Session, row: AlertRow, outcome: Outcome, rationale: str, viewer: User,
        duplicate_of: str | None,
    ) -> None:  # fmt: skip
        if row.status in (Status.CLOSED, Status.PENDING_CLOSURE):
            raise InvalidTransition(f"the alert is already {row.status}")
        now = self.clock()
        row.status, row.outcome, row.rationale = Status.CLOSED, outcome.value, rationale
        row.duplicate_of, row.closed_at, row.closed_by, row.updated_at = (
            duplicate_of, now, viewer.username, now
        )  # fmt: skip
        row.proposed_by, row.approved_by = viewer.username, None
        detail: dict[str, Any] = {"outcome": outcome.value, "rationale": rationale}
        if duplicate_of:
            detail["duplicate_of"] = duplicate_of
        self._append(s, viewer, "alert.closed", row.id, detail)

    def _pending(self, s: Session, alert_id: str, viewer: User) -> AlertRow:
        """A closure awaiting approval that ``viewer`` may decide: a supervisor or the head
        of unit, not the proposer, not tied to the officer."""
        row = self._get_visible(s, alert_id, viewer)
        if row.status != Status.PENDING_CLOSURE:
            raise InvalidTransition("the alert has no closure awaiting approval")
        if viewer.role not in SUPERVISE:
            raise Forbidden("only a supervisor or the head of unit approves a closure")
        if row.proposed_by == viewer.username:
            raise Forbidden("a closure needs a second person: you proposed it")
        self._check_works(row, viewer)
        return row

    def approve_closure(self, alert_id: str, viewer: User) -> StoredAlert:
        """Second pair of eyes: the proposed closure takes effect, naming both people."""
        with self._tx() as s:
            row = self._pending(s, alert_id, viewer)
            now = self.clock()
            row.status, row.approved_by = Status.CLOSED, viewer.username
            row.closed_at, row.closed_by, row.updated_at = now, row.proposed_by, now
            detail: dict[str, Any] = {
                "outcome": row.outcome, "rationale": row.rationale,
                "proposed_by": row.proposed_by, "approved_by": viewer.username,
            }  # fmt: skip
            if row.duplicate_of:
                detail["duplicate_of"] = row.duplicate_of
            self._append(s, viewer, "alert.closed", alert_id, detail)
            return as_alert(row)

    def reject_closure(self, alert_id: str, reason: str, viewer: User) -> StoredAlert:
        """The proposed closure is refused: back to ``in_review`` with its assignee."""
        reason = self._check_rationale(reason, "a reason")
        with self._tx() as s:
            row = self._pending(s, alert_id, viewer)
            proposed = {"outcome": row.outcome, "proposed_by": row.proposed_by}
            row.status = Status.IN_REVIEW
            row.outcome = row.rationale = row.duplicate_of = row.proposed_by = None
            row.updated_at = self.clock()
            self._append(
                s, viewer, "alert.closure_rejected", alert_id, {**proposed, "reason": reason}
            )
            return as_alert(row)

    def bulk_close_duplicates(
        self, alert_ids: Iterable[str], duplicate_of: str, rationale: str, viewer: User
    ) -> list[str]:
        """Close each open visible alert as a duplicate of ``duplicate_of``; all or nothing.
        Every alert must be about the same officer from the same detector as ``duplicate_of``
        and be one the caller works (assignee or supervisor)."""
        rationale = self._check_rationale(rationale)
        ids = sorted(set(alert_ids) - {duplicate_of})
        closed: list[str] = []
        with self._tx() as s:
            original = self._get_visible(s, duplicate_of, viewer)
            for alert_id in ids:
                row = self._get_visible(s, alert_id, viewer)
                if (row.officer, row.detector) != (original.officer, original.detector):
                    raise InvalidTransition(
                        "a bulk close stays within one officer and one detector"
                    )
                if row.status in (Status.CLOSED, Status.PENDING_CLOSURE):
                    continue
                self._check_works(row, viewer)
                self._close_row(s, row, Outcome.DUPLICATE, rationale, viewer, duplicate_of)
                closed.append(alert_id)
        return closed

    def reopen(self, alert_id: str, reason: str, viewer: User) -> StoredAlert:
        with self._tx() as s:
            row = self._get_visible(s, alert_id, viewer)
            if row.status != Status.CLOSED:
                raise InvalidTransition("only a closed alert can be reopened")
            previous = row.outcome
            row.status = Status.ASSIGNED if row.assignee else Status.NEW
            row.outcome = row.rationale = row.duplicate_of = row.closed_by = None
            row.proposed_by = row.approved_by = None
            row.closed_at, row.updated_at = None, self.clock()
            self._append(
                s, viewer, "alert.reopened", alert_id, {"reason": reason, "previous": previous}
            )
            return as_alert(row)

    def add_note(self, alert_id: str, text: str, viewer: User) -> Note:
        """A note, by the assignee or a supervisor (working the alert)."""
        if not text.strip():
            raise InvalidTransition("a note needs text")
        with self._tx() as s:
            self._check_works(self._get_visible(s, alert_id, viewer), viewer)
            note = NoteRow(
                alert_id=alert_id, author=viewer.username, text=text, created_at=self.clock()
            )
            s.add(note)
            s.flush()
            self._append(s, viewer, "alert.noted", alert_id, {"note": note.id})
            return as_note(note)

    # ----------------------------------------------------------------- metrics
    def status_counts(self) -> dict[str, int]:
        """Integrity alerts by triage status (operational ones are not the analysts' work)."""
        with self._tx() as s:
            counts = {st.value: 0 for st in Status}
            for status, n in s.execute(
                select(AlertRow.status, func.count())
                .where(not_operational())
                .group_by(AlertRow.status)
            ):
                counts[status] = n
            return counts

    def oldest_unassigned(self, *, operational: bool = False) -> datetime | None:
        """When the oldest alert nobody has picked up arrived: of the integrity alerts, or
        with ``operational`` of the engine's operational ones (a feed is missing: not an
        analyst's to pick up, so kept out of the integrity figure)."""
        kind = (AlertRow.detector.in_(sorted(OPERATIONAL_DETECTORS)) if operational
                else not_operational())  # fmt: skip
        with self._tx() as s:
            return s.execute(
                select(func.min(AlertRow.received_at)).where(
                    AlertRow.status == Status.NEW.value, kind
                )
            ).scalar_one_or_none()


def _people(officer: str, data: dict[str, Any]) -> set[str]:
    """:func:`officer_people` of an alert's contract JSON (at upsert)."""
    return alert_people(
        officer, data.get("subjects"), data.get("path"), data.get("evidence_events"),
        data.get("identifiers"),
    )  # fmt: skip


def officer_people(row: AlertRow | StoredAlert) -> set[str]:
    """Values shown pseudonymised: subjects, every path node other than the officer, the
    people an evidence digest names (its subjects, a person record it touched) and the
    identifiers the alert's text quotes (phones, e-mail addresses, names...)."""
    if isinstance(row, AlertRow):
        extra = row.extra or {}
        events, identifiers = extra.get("evidence_events"), extra.get("identifiers")
    else:
        events, identifiers = row.evidence_events, row.identifiers
    return alert_people(row.officer, row.subjects, row.path, events, identifiers)


def alert_people(officer: str, subjects: Any, path: Any, events: Any, identifiers: Any) -> set[str]:
    """See :func:`officer_people`; the officer is named in clear unless a subject."""
    out = _strings(subjects)
    named = _strings(identifiers)
    for ev in events if isinstance(events, list) else []:
        if not isinstance(ev, dict):
            continue
        named |= _strings(ev.get("subjects"))
        record = ev.get("record_id")
        if ev.get("record_type") == "person" and isinstance(record, str):
            named.add(record)
    for hop in path if isinstance(path, list) else []:
        for key in ("from", "to"):
            value = hop.get(key) if isinstance(hop, dict) else None
            if isinstance(value, str):
                named.add(value)
    return out | (named - {officer})


def _strings(value: Any) -> set[str]:
    return {v for v in value if isinstance(v, str) and v} if isinstance(value, list) else set()


def _sensitive(row: AlertRow) -> set[str]:
    """People of the alert on a covert, VIP, canary or vulnerable-victim list."""
    return _strings((row.extra or {}).get("sensitive_subjects"))
