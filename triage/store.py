"""The queue store: alerts, decisions, accounts, suppressions and the audit log.

Every change and every audited read goes through one transaction that also appends its
audit row, so an action is never recorded without its trace or the reverse. Visibility
(conflict of interest) is a SQL clause applied to every alert query, so a restricted alert
cannot leak through a count, a page or an "other alerts" list.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib.resources import files
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import (
    ColumnElement,
    Engine,
    and_,
    create_engine,
    delete,
    event,
    false,
    func,
    or_,
    select,
    text,
    true,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from models.alerts import Alert
from triage import audit as chain
from triage.base import (
    AuditEntry,
    Note,
    Outcome,
    QueueFilter,
    QueuePage,
    Role,
    Status,
    StoredAlert,
    Suppression,
    TokenScope,
    User,
)
from triage.exceptions import AuthError, InvalidAlert, InvalidTransition, NotFound, TriageError
from triage.security import (
    hash_password,
    new_api_token,
    password_problem,
    token_hash,
    verify_password,
)
from triage.tables import (
    AlertRow,
    ApiTokenRow,
    AuditHeadRow,
    AuditRow,
    NoteRow,
    SessionRow,
    SuppressionRow,
    UserRow,
)

log = logging.getLogger(__name__)

_CONTRACT_FIELDS = {
    "id", "version", "detector", "category", "officer", "time", "raised_at", "severity",
    "score", "title", "explanation", "evidence", "subjects", "path", "facts",
}  # fmt: skip


#: audit actions that count towards a name's lock-out: guessing through the login form and
#: guessing the current password on the change form are the same attack
_FAILED_LOGINS = ("login_failed", "password.change_failed")

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


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Policy:
    """Who is an ACU member (their alerts are restricted to the head of unit)."""

    acu_staff_ids: frozenset[str] = frozenset()
    acu_units: frozenset[str] = field(default_factory=lambda: frozenset({"acu"}))
    login_max_failures: int = 10
    login_window_s: int = 900

    def restricted(self, officer: str, unit: str | None) -> bool:
        return officer in self.acu_staff_ids or (unit is not None and unit in self.acu_units)


def officer_unit(facts: dict[str, Any]) -> str | None:
    """The officer's unit if the detector put it in ``facts`` (``officer_unit`` or ``unit``)."""
    for key in ("officer_unit", "unit"):
        value = facts.get(key)
        if isinstance(value, str) and value:
            return value[:128]
    return None


class Store:
    """The ACU queue store over one SQLAlchemy engine (SQLite file or PostgreSQL)."""

    def __init__(
        self,
        url: str,
        *,
        policy: Policy | None = None,
        clock: Callable[[], datetime] = _utcnow,
        engine_kwargs: dict[str, Any] | None = None,
    ) -> None:
        kwargs = dict(engine_kwargs or {})
        if url.startswith("sqlite"):
            path = url.split("///", 1)[-1]
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            kwargs.setdefault("connect_args", {"check_same_thread": False, "timeout": 30})
        self.engine: Engine = create_engine(url, pool_pre_ping=True, **kwargs)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.policy = policy or Policy()
        self.clock = clock

    # ----------------------------------------------------------------- lifecycle
    def migrate(self) -> None:
        """Bring the schema to the latest Alembic revision (idempotent)."""
        cfg = Config()
        cfg.set_main_option("script_location", str(files("triage") / "migrations"))
        with self.engine.begin() as conn:
            if self.engine.dialect.name == "postgresql":
                # the service and the alerts sink may start together: one migrates at a time
                conn.execute(text("SELECT pg_advisory_xact_lock(74657201)"))
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")

    def ready(self) -> bool:
        """The database answers and the schema exists (for ``/readyz``)."""
        try:
            with self._sessions() as s:
                s.execute(select(AuditHeadRow.seq).limit(1)).all()
            return True
        except Exception:  # any driver error means not ready; the probe says no more
            log.warning("queue store not ready", exc_info=True)
            return False

    def dispose(self) -> None:
        self.engine.dispose()

    @contextmanager
    def _tx(self) -> Iterator[Session]:
        with self._sessions.begin() as s:
            yield s

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
        unit = officer_unit(data.get("facts", {}))
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
            "status": Status.NEW.value,
            "received_at": now,
            "updated_at": now,
        }
        return values

    # ----------------------------------------------------------------- visibility
    def _visible(self, viewer: User) -> ColumnElement[bool]:
        """Conflict of interest: only the head of unit sees restricted alerts, alerts about
        ACU members, and alerts about their own line manager, associates or themselves."""
        if viewer.role is Role.HEAD_OF_UNIT:
            return true()
        if viewer.role not in (Role.ANALYST, Role.SUPERVISOR):
            return false()
        conflicts = self._conflicts(viewer)
        clauses: list[ColumnElement[bool]] = [
            AlertRow.restricted.is_(False),
            AlertRow.officer.not_in(sorted(conflicts | self.policy.acu_staff_ids)),
        ]
        if self.policy.acu_units:
            clauses.append(
                or_(
                    AlertRow.officer_unit.is_(None),
                    AlertRow.officer_unit.not_in(sorted(self.policy.acu_units)),
                )
            )
        return and_(*clauses)

    @staticmethod
    def _conflicts(viewer: User) -> set[str]:
        """Staff a viewer may not judge: themselves, their line manager, their associates."""
        out = {viewer.staff_id, *viewer.associates}
        if viewer.line_manager:
            out.add(viewer.line_manager)
        return out

    def _get_visible(self, s: Session, alert_id: str, viewer: User) -> AlertRow:
        row = s.execute(
            select(AlertRow).where(AlertRow.id == alert_id, self._visible(viewer))
        ).scalar_one_or_none()
        if row is None:
            raise NotFound(f"no alert {alert_id!r}")
        return row

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
            items = [_stored(r) for r in rows]
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
            out = _stored(row), [_note(n) for n in notes]
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
            return sorted((_stored(r) for r in rows), key=lambda a: a.time)

    def reveal(self, alert_id: str, value: str, reason: str, viewer: User) -> None:
        """Record that ``viewer`` unmasked ``value`` (a subject or path node of the alert)."""
        with self._tx() as s:
            row = self._get_visible(s, alert_id, viewer)
            if value not in officer_people(row):
                raise NotFound("no such subject on this alert")
            self._append(
                s, viewer, "subject.revealed", alert_id, {"subject": value, "reason": reason}
            )

    # ----------------------------------------------------------------- workflow
    def assign(self, alert_id: str, assignee: str, viewer: User) -> StoredAlert:
        with self._tx() as s:
            row = self._get_visible(s, alert_id, viewer)
            if row.status == Status.CLOSED:
                raise InvalidTransition("a closed alert must be reopened before assignment")
            if (
                s.execute(
                    select(UserRow.id).where(UserRow.username == assignee, UserRow.active.is_(True))
                ).first()
                is None
            ):
                raise NotFound(f"no active user {assignee!r}")
            row.assignee, row.updated_at = assignee, self.clock()
            if row.status == Status.NEW:
                row.status = Status.ASSIGNED
            self._append(s, viewer, "alert.assigned", alert_id, {"assignee": assignee})
            return _stored(row)

    def start_review(self, alert_id: str, viewer: User) -> StoredAlert:
        with self._tx() as s:
            row = self._get_visible(s, alert_id, viewer)
            if row.status not in (Status.NEW, Status.ASSIGNED):
                raise InvalidTransition(f"cannot start a review of a {row.status} alert")
            row.status, row.updated_at = Status.IN_REVIEW, self.clock()
            row.assignee = row.assignee or viewer.username
            self._append(s, viewer, "alert.review_started", alert_id, {})
            return _stored(row)

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
        """Close with an outcome and rationale; a false positive may carry a suppression,
        created in the same transaction."""
        rationale = rationale.strip()
        if not rationale:
            raise InvalidTransition("a rationale is required to close an alert")
        if suppression is not None and outcome is not Outcome.FALSE_POSITIVE:
            raise InvalidTransition("only a false positive can create a suppression")
        with self._tx() as s:
            row = self._get_visible(s, alert_id, viewer)
            if duplicate_of is not None:
                if duplicate_of == alert_id:
                    raise InvalidTransition("an alert cannot duplicate itself")
                self._get_visible(s, duplicate_of, viewer)
            self._close_row(s, row, outcome, rationale, viewer, duplicate_of)
            if suppression is not None:
                self._add_suppression(s, suppression, viewer)
            return _stored(row)

    def _close_row(
        self, s: Session, row: AlertRow, outcome: Outcome, rationale: str, viewer: User,
        duplicate_of: str | None,
    ) -> None:  # fmt: skip
        if row.status == Status.CLOSED:
            raise InvalidTransition("the alert is already closed")
        now = self.clock()
        row.status, row.outcome, row.rationale = Status.CLOSED, outcome.value, rationale
        row.duplicate_of, row.closed_at, row.closed_by, row.updated_at = (
            duplicate_of, now, viewer.username, now
        )  # fmt: skip
        detail: dict[str, Any] = {"outcome": outcome.value, "rationale": rationale}
        if duplicate_of:
            detail["duplicate_of"] = duplicate_of
        self._append(s, viewer, "alert.closed", row.id, detail)

    def bulk_close_duplicates(
        self, alert_ids: Iterable[str], duplicate_of: str, rationale: str, viewer: User
    ) -> list[str]:
        """Close each open visible alert as a duplicate of ``duplicate_of``; all or nothing."""
        rationale = rationale.strip()
        if not rationale:
            raise InvalidTransition("a rationale is required to close an alert")
        ids = sorted(set(alert_ids) - {duplicate_of})
        closed: list[str] = []
        with self._tx() as s:
            self._get_visible(s, duplicate_of, viewer)
            for alert_id in ids:
                row = self._get_visible(s, alert_id, viewer)
                if row.status != Status.CLOSED:
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
            row.closed_at, row.updated_at = None, self.clock()
            self._append(
                s, viewer, "alert.reopened", alert_id, {"reason": reason, "previous": previous}
            )
            return _stored(row)

    def add_note(self, alert_id: str, text: str, viewer: User) -> Note:
        if not text.strip():
            raise InvalidTransition("a note needs text")
        with self._tx() as s:
            self._get_visible(s, alert_id, viewer)
            note = NoteRow(
                alert_id=alert_id, author=viewer.username, text=text, created_at=self.clock()
            )
            s.add(note)
            s.flush()
            self._append(s, viewer, "alert.noted", alert_id, {"note": note.id})
            return _note(note)

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
        return _suppression(row)

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
            return [_suppression(r) for r in s.execute(q).scalars()]

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
            return [_suppression(r) for r in rows]

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
            return _suppression(row)

    # ----------------------------------------------------------------- users and tokens
    def create_user(
        self,
        username: str,
        password: str,
        role: Role,
        staff_id: str,
        *,
        line_manager: str | None = None,
        associates: Iterable[str] = (),
        actor: User | None = None,
        must_change_password: bool = False,
    ) -> User:
        """A local account (argon2 hash). ``actor`` is None only for ``create-admin``; an
        admin creating an account passes ``must_change_password`` (they chose the password)."""
        row = UserRow(
            username=username,
            staff_id=staff_id,
            role=role.value,
            password_hash=hash_password(password, username),
            active=True,
            line_manager=line_manager or None,
            associates=sorted(set(associates)),
            created_at=self.clock(),
            must_change_password=must_change_password,
        )
        try:
            with self._tx() as s:
                s.add(row)
                s.flush()
                by = actor or User(id=0, username="cli", staff_id="cli", role=Role.ADMIN)
                self._append(
                    s,
                    by,
                    "user.created",
                    None,
                    {
                        "user": username,
                        "role": role.value,
                        "staff_id": staff_id,
                        "must_change_password": must_change_password,
                    },
                )
        except IntegrityError as exc:
            raise TriageError(f"user {username!r} exists") from exc
        return _user(row)

    def has_admin(self) -> bool:
        with self._tx() as s:
            return (
                s.execute(
                    select(UserRow.id).where(UserRow.role == Role.ADMIN.value).limit(1)
                ).first()
                is not None
            )

    def users(self) -> list[User]:
        with self._tx() as s:
            return [_user(r) for r in s.execute(select(UserRow).order_by(UserRow.id)).scalars()]

    def get_user(self, user_id: int) -> User | None:
        with self._tx() as s:
            row = s.get(UserRow, user_id)
            return _user(row) if row is not None and row.active else None

    def _recent_failures(self, s: Session, username: str) -> int:
        since = self.clock() - timedelta(seconds=self.policy.login_window_s)
        return s.execute(
            select(func.count())
            .select_from(AuditRow)
            .where(
                AuditRow.action.in_(_FAILED_LOGINS),
                AuditRow.username == username[:64],
                AuditRow.at > since,
            )
        ).scalar_one()

    def authenticate(self, username: str, password: str) -> User | None:
        """The active user with these credentials; a failure is audited (with the name
        tried, never the password). After ``policy.login_max_failures`` failures for a name
        within ``policy.login_window_s`` (wrong current passwords on the change form count
        too) the name is locked out for the rest of the window, right password or not (the
        lock-out is audited too)."""
        with self._tx() as s:
            failures = self._recent_failures(s, username)
            row = s.execute(
                select(UserRow).where(UserRow.username == username)
            ).scalar_one_or_none()
            ok = verify_password(row.password_hash if row else None, password)
            anon = User(
                id=0,
                username=username[:64],
                staff_id=row.staff_id if row else "unknown",
                role=Role.ANALYST,
            )
            if failures >= self.policy.login_max_failures:
                self._append(s, anon, "login_locked", None, {"failures": failures})
                return None
            if row is not None and ok and row.active:
                user = _user(row)
                self._append(s, user, "login", None, {})
                return user
            self._append(s, anon, "login_failed", None, {"known_user": row is not None})
            return None

    def set_active(self, user_id: int, active: bool, actor: User) -> User:
        with self._tx() as s:
            row = s.get(UserRow, user_id)
            if row is None:
                raise NotFound(f"no user {user_id}")
            row.active = active
            detail: dict[str, Any] = {"user": row.username, "active": active}
            if not active:
                s.execute(
                    update(ApiTokenRow)
                    .where(ApiTokenRow.user_id == user_id, ApiTokenRow.revoked_at.is_(None))
                    .values(revoked_at=self.clock())
                )
                detail["sessions_revoked"] = self._revoke_sessions(s, user_id)
            self._append(s, actor, "user.updated", None, detail)
            return _user(row)

    def change_password(
        self, user: User, current: str, new: str, *, keep_sid: str | None = None
    ) -> int:
        """Set ``user``'s own password, given the current one; every other session of the
        user is revoked (``keep_sid``, the caller's own, survives). Returns how many were.

        A wrong current password is audited as ``password.change_failed`` and counts towards
        the login lock-out, so a stolen session cannot guess its way to the password. The
        audit rows never hold a password."""
        problem = password_problem(new, user.username)
        if problem is None and new == current:
            problem = "the new password must differ from the current one"
        if problem is not None:
            raise AuthError(problem)
        new_hash = hash_password(new, user.username)
        with self._tx() as s:
            row = s.get(UserRow, user.id)
            if row is None or not row.active:
                raise NotFound(f"no active user {user.id}")
            who = _user(row)
            if self._recent_failures(s, row.username) >= self.policy.login_max_failures:
                self._append(s, who, "password.change_locked", None, {})
                outcome = "too many failed attempts: try again later"
            elif not verify_password(row.password_hash, current):
                self._append(s, who, "password.change_failed", None, {})
                outcome = "the current password is not right"
            else:
                row.password_hash, row.must_change_password = new_hash, False
                revoked = self._revoke_sessions(s, user.id, keep=keep_sid)
                self._append(s, who, "password.changed", None, {"sessions_revoked": revoked})
                return revoked
        raise AuthError(outcome)  # after the commit: the failure stays in the audit log

    def reset_password(self, user_id: int, temporary: str, actor: User) -> User:
        """An admin sets a temporary password: the user must change it at their next login,
        and all their sessions end now. Their API tokens are separate credentials and stay
        (disable the account to end those too)."""
        with self._tx() as s:
            row = s.get(UserRow, user_id)
            if row is None or not row.active:
                raise NotFound(f"no active user {user_id}")
            row.password_hash = hash_password(temporary, row.username)
            row.must_change_password = True
            revoked = self._revoke_sessions(s, user_id)
            self._append(
                s, actor, "user.password_reset", None,
                {"user": row.username, "sessions_revoked": revoked},
            )  # fmt: skip
            return _user(row)

    def create_token(
        self, user_id: int, name: str, actor: User, scope: TokenScope = TokenScope.FULL
    ) -> str:
        """A new API token for ``user_id``; the plaintext is returned once, never stored.
        A ``metrics`` token reads ``/metrics`` and nothing else, whatever the owner's role."""
        token, digest = new_api_token()
        with self._tx() as s:
            row = s.get(UserRow, user_id)
            if row is None or not row.active:
                raise NotFound(f"no active user {user_id}")
            s.add(
                ApiTokenRow(user_id=user_id, name=name, token_hash=digest,
                            created_at=self.clock(), scope=scope.value)
            )  # fmt: skip
            self._append(s, actor, "token.created", None,
                         {"user": row.username, "name": name, "scope": scope.value})  # fmt: skip
        return token

    def resolve_token(self, token: str) -> tuple[User, TokenScope] | None:
        """The active owner of a live token, and the token's scope."""
        with self._tx() as s:
            found = s.execute(
                select(UserRow, ApiTokenRow.scope)
                .join(ApiTokenRow, ApiTokenRow.user_id == UserRow.id)
                .where(
                    ApiTokenRow.token_hash == token_hash(token),
                    ApiTokenRow.revoked_at.is_(None),
                    UserRow.active.is_(True),
                )
            ).one_or_none()
            return (_user(found[0]), TokenScope(found[1])) if found is not None else None

    def user_for_token(self, token: str) -> User | None:
        resolved = self.resolve_token(token)
        return resolved[0] if resolved is not None else None

    # ----------------------------------------------------------------- sessions
    def open_session(self, user_id: int, sid: str, max_age_s: int) -> None:
        """Record a new browser session (its id's hash) after a successful login; expired
        rows of anyone are deleted on the way, so the table holds live sessions only."""
        now = self.clock()
        with self._tx() as s:
            s.execute(delete(SessionRow).where(SessionRow.expires_at <= now))
            s.add(SessionRow(id_hash=token_hash(sid), user_id=user_id, created_at=now,
                             expires_at=now + timedelta(seconds=max_age_s)))  # fmt: skip

    def session_user(self, sid: str) -> User | None:
        """The active user of a live session, or None (logged out, revoked, expired or the
        account disabled)."""
        with self._tx() as s:
            row = s.execute(
                select(UserRow)
                .join(SessionRow, SessionRow.user_id == UserRow.id)
                .where(
                    SessionRow.id_hash == token_hash(sid),
                    SessionRow.expires_at > self.clock(),
                    UserRow.active.is_(True),
                )
            ).scalar_one_or_none()
            return _user(row) if row is not None else None

    def close_session(self, sid: str, user: User) -> None:
        """Logout: the session ends server-side (a copied cookie is refused from now on)."""
        with self._tx() as s:
            s.execute(
                delete(SessionRow).where(
                    SessionRow.id_hash == token_hash(sid), SessionRow.user_id == user.id
                )
            )
            self._append(s, user, "logout", None, {})

    def live_sessions(self, user_id: int) -> int:
        with self._tx() as s:
            return s.execute(
                select(func.count())
                .select_from(SessionRow)
                .where(SessionRow.user_id == user_id, SessionRow.expires_at > self.clock())
            ).scalar_one()

    def purge_expired_sessions(self) -> int:
        """Delete expired session rows (``open_session`` does it too); returns how many."""
        with self._tx() as s:
            result = s.execute(delete(SessionRow).where(SessionRow.expires_at <= self.clock()))
            return int(getattr(result, "rowcount", 0) or 0)

    def _revoke_sessions(self, s: Session, user_id: int, keep: str | None = None) -> int:
        """End all of a user's sessions but ``keep`` (a session id); returns how many ended.
        Whatever changes who a user is or how they prove it (disabling, a password change or
        reset, a role change should one be added) must call this."""
        q = delete(SessionRow).where(SessionRow.user_id == user_id)
        if keep is not None:
            q = q.where(SessionRow.id_hash != token_hash(keep))
        result = s.execute(q)
        return int(getattr(result, "rowcount", 0) or 0)

    # ----------------------------------------------------------------- audit
    def record(self, viewer: User, action: str, detail: dict[str, Any] | None = None) -> None:
        """Append an audit row for an action that changes nothing else (e.g. audit viewed)."""
        with self._tx() as s:
            self._append(s, viewer, action, None, detail or {})

    def _append(
        self, s: Session, who: User, action: str, alert_id: str | None, detail: dict[str, Any]
    ) -> None:
        # Bumping the head row first takes its write lock (row lock on PostgreSQL, the
        # database write lock on SQLite): appenders queue up and the chain stays linear.
        s.execute(update(AuditHeadRow).where(AuditHeadRow.id == 1).values(seq=AuditHeadRow.seq + 1))
        seq, prev = s.execute(
            select(AuditHeadRow.seq, AuditHeadRow.hash).where(AuditHeadRow.id == 1)
        ).one()
        at = self.clock()
        digest = chain.chain_hash(
            prev, chain.canonical(seq, at, who.username, who.staff_id, action, alert_id, detail)
        )
        s.add(
            AuditRow(
                seq=seq,
                at=at,
                username=who.username,
                staff_id=who.staff_id,
                action=action,
                alert_id=alert_id,
                detail=detail,
                prev_hash=prev,
                hash=digest,
            )
        )
        s.execute(update(AuditHeadRow).where(AuditHeadRow.id == 1).values(hash=digest))

    def audit_entries(self, after_seq: int = 0, limit: int | None = None) -> list[AuditEntry]:
        """Audit rows after ``after_seq`` in order (the publisher resumes from its last seq)."""
        with self._tx() as s:
            q = select(AuditRow).where(AuditRow.seq > after_seq).order_by(AuditRow.seq)
            if limit is not None:
                q = q.limit(limit)
            return [_entry(r) for r in s.execute(q).scalars()]

    def verify_audit(self) -> int:
        """Verify the whole chain against the head row; raises ``AuditChainBroken``."""
        with self._tx() as s:
            head = s.execute(select(AuditHeadRow.seq, AuditHeadRow.hash)).one()
            rows = s.execute(select(AuditRow).order_by(AuditRow.seq)).scalars()
            return chain.verify((_entry(r) for r in rows), head=(head[0], head[1]))

    # ----------------------------------------------------------------- metrics
    def status_counts(self) -> dict[str, int]:
        with self._tx() as s:
            counts = {st.value: 0 for st in Status}
            for status, n in s.execute(
                select(AlertRow.status, func.count()).group_by(AlertRow.status)
            ):
                counts[status] = n
            return counts

    def oldest_unassigned(self) -> datetime | None:
        with self._tx() as s:
            return s.execute(
                select(func.min(AlertRow.received_at)).where(AlertRow.status == Status.NEW.value)
            ).scalar_one_or_none()


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.close()


def officer_people(row: AlertRow | StoredAlert) -> set[str]:
    """Values shown pseudonymised: subjects and every path node other than the officer."""
    out = set(row.subjects or [])
    for hop in row.path or []:
        for key in ("from", "to"):
            value = hop.get(key)
            if isinstance(value, str) and value != row.officer:
                out.add(value)
    return out


def _stored(r: AlertRow) -> StoredAlert:
    return StoredAlert(
        id=r.id, detector=r.detector, category=r.category, officer=r.officer,
        officer_unit=r.officer_unit, time=r.time, raised_at=r.raised_at, severity=r.severity,
        score=r.score, title=r.title, explanation=r.explanation, evidence=list(r.evidence),
        subjects=list(r.subjects), path=r.path, facts=r.facts or {}, restricted=r.restricted,
        status=Status(r.status), assignee=r.assignee,
        outcome=Outcome(r.outcome) if r.outcome else None, rationale=r.rationale,
        duplicate_of=r.duplicate_of, received_at=r.received_at, updated_at=r.updated_at,
        closed_at=r.closed_at, closed_by=r.closed_by,
    )  # fmt: skip


def _note(n: NoteRow) -> Note:
    return Note(id=n.id, author=n.author, text=n.text, created_at=n.created_at)


def _user(r: UserRow) -> User:
    return User(id=r.id, username=r.username, staff_id=r.staff_id, role=Role(r.role),
                active=r.active, line_manager=r.line_manager,
                associates=frozenset(r.associates or []),
                must_change_password=bool(r.must_change_password))  # fmt: skip


def _suppression(r: SuppressionRow) -> Suppression:
    return Suppression(
        id=r.id, detector=r.detector, officer=r.officer, subject=r.subject,
        expires_at=r.expires_at, reason=r.reason, created_by=r.created_by,
        created_at=r.created_at, source_alert=r.source_alert, removed_at=r.removed_at,
        removed_by=r.removed_by,
    )  # fmt: skip


def _entry(r: AuditRow) -> AuditEntry:
    return AuditEntry(seq=r.seq, at=r.at, username=r.username, staff_id=r.staff_id,
                      action=r.action, alert_id=r.alert_id, detail=r.detail or {},
                      prev_hash=r.prev_hash, hash=r.hash)  # fmt: skip


def store_from_settings(settings: Any) -> Store:
    """The store the service, the CLI and the alerts sink share (``settings.store_url``)."""
    t = settings.triage
    policy = Policy(t.acu_staff_ids, t.acu_units, t.login_max_failures, t.login_window_s)
    return Store(settings.store_url, policy=policy)
