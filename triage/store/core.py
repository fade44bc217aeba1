"""The store's core: the engine, one transaction per action with its audit row, who may
see which alert (conflict of interest), and the rows as the contract's records.

Every change and every audited read goes through :meth:`StoreCore._tx` and appends its
audit row with :meth:`StoreCore._append` in the same transaction, so an action is never
recorded without its trace or the reverse. Visibility is one SQL clause
(:meth:`StoreCore._visible`) applied to every alert query, so a restricted alert cannot
leak through a count, a page or an "other alerts" list.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
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
    event,
    false,
    not_,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session, sessionmaker

from triage import audit as chain
from triage.base import (
    SUPERVISE,
    AuditEntry,
    Note,
    Outcome,
    RevealRequest,
    Role,
    Status,
    StoredAlert,
    Suppression,
    TokenInfo,
    TokenScope,
    User,
)
from triage.exceptions import Forbidden, InvalidTransition, NotFound, TriageError
from triage.grants import reader_role_sql, runtime_role_sql
from triage.origin import CURRENT
from triage.tables import (
    AlertRow,
    ApiTokenRow,
    AuditHeadRow,
    AuditRow,
    NoteRow,
    RevealRequestRow,
    SuppressionRow,
    UserRow,
)

log = logging.getLogger(__name__)


_WORD = re.compile(r"[^\W\d_]{2,}")


def rationale_problem(text: str, min_chars: int) -> str | None:
    """Why ``text`` is not a meaningful rationale, or ``None``.

    >>> rationale_problem(".", 20)
    'at least 20 characters are needed'
    >>> rationale_problem("a" * 30, 20)
    'at least three words are needed'
    >>> rationale_problem("Officer was tasked to this record by DS Hale", 20) is None
    True
    """
    text = text.strip()
    if len(text) < min_chars:
        return f"at least {min_chars} characters are needed"
    if len(_WORD.findall(text)) < 3:
        return "at least three words are needed"
    return None


def people_token(value: str) -> str:
    """How one person is written in ``alerts.people`` (newline-delimited, so a containment
    test matches whole values only).

    >>> people_token("P-1")
    '\\nP-1\\n'
    """
    return "\n" + value.replace("\n", " ") + "\n"


def people_column(people: set[str]) -> str:
    """``alerts.people``: every person an alert shows pseudonymised, one per line."""
    return "\n" + "".join(people_token(p)[1:] for p in sorted(people))


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Policy:
    """Who is an ACU member (their alerts are seen only by the outside reviewer)."""

    acu_staff_ids: frozenset[str] = frozenset()
    acu_units: frozenset[str] = field(default_factory=lambda: frozenset({"acu"}))
    login_max_failures: int = 10
    login_window_s: int = 900
    rationale_min_chars: int = 20
    suppression_max_days: int = 90
    token_max_days: int = 90
    service_token_max_days: int = 30
    session_idle_s: int = 30 * 60
    reveal_daily_quota: int = 25

    def restricted(self, officer: str, unit: str | None) -> bool:
        return officer in self.acu_staff_ids or (unit is not None and unit in self.acu_units)


class StoreCore:
    """The engine, transactions, visibility and the audit append every part shares."""

    def __init__(
        self,
        url: str,
        *,
        policy: Policy | None = None,
        clock: Callable[[], datetime] = _utcnow,
        engine_kwargs: dict[str, Any] | None = None,
        audit_key: bytes | None = None,
    ) -> None:
        """``audit_key`` keys the audit chain (HMAC); without it rows are plain SHA-256,
        which only suits a local demo (a database administrator could re-hash them)."""
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
        self._audit_key = audit_key

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

    def grant_role(self, role: str, *, reader: bool = False) -> None:
        """Run the runtime role's grants (:func:`triage.grants.runtime_role_sql`), or with
        ``reader`` the workers' (:func:`triage.grants.reader_role_sql`), in the store's
        schema; as the migration owner, on PostgreSQL only (SQLite has no roles)."""
        if self.engine.dialect.name != "postgresql":
            raise TriageError("roles and grants are PostgreSQL's; this store is "
                              f"{self.engine.dialect.name}")  # fmt: skip
        sql = reader_role_sql(role) if reader else runtime_role_sql(role)
        with self.engine.begin() as conn:
            # the driver's own execute: several statements and a DO block, no placeholders
            dbapi = conn.connection.dbapi_connection
            assert dbapi is not None
            try:
                dbapi.execute(sql)
            except Exception as exc:  # psycopg's own errors: say which role and why
                raise TriageError(f"granting to {role}: {exc}") from exc

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

    # ----------------------------------------------------------------- four eyes
    def _check_works(self, row: AlertRow, viewer: User) -> None:
        """Only the assignee or a supervisor (or the head of unit) works an alert, and nobody
        works an alert about themselves, their line manager or their associates (the head of
        unit sees those, but may not judge them)."""
        conflicts = self._conflicts(viewer)
        if row.officer in conflicts or any(
            people_token(c) in (row.people or "") for c in conflicts
        ):
            raise Forbidden("you may not work an alert about yourself or someone you are tied to")
        if viewer.role not in SUPERVISE and row.assignee != viewer.username:
            raise Forbidden("only the assignee or a supervisor works this alert")

    def _check_rationale(self, text: str, what: str = "a rationale") -> str:
        """``text`` stripped, if it says something: ``policy.rationale_min_chars`` characters
        and at least three words (``"."`` or ``"dup"`` are not a rationale)."""
        problem = rationale_problem(text, self.policy.rationale_min_chars)
        if problem is not None:
            raise InvalidTransition(f"{what}: {problem}")
        return text.strip()

    # ----------------------------------------------------------------- visibility
    def _visible(self, viewer: User) -> ColumnElement[bool]:
        """Conflict of interest, one SQL clause for every alert query.

        Alerts about ACU staff (restricted, or an officer on the ACU's staff list or in one
        of its units) are seen by the outside reviewer alone: not by the analysts, not by
        the head of unit. Nobody sees an alert about themselves, and analysts, supervisors
        and reviewers see none about their line manager or associates, as the officer or
        among its people (subjects, path nodes, people in the evidence). The head of unit
        sees those last ones (the escalation path) but may not work them. A service account
        (a machine) sees every alert but the ACU's."""
        acu = self._acu_clause()
        if viewer.role is Role.SERVICE:  # a machine reads what an analyst may, never the ACU's
            return not_(acu)
        if viewer.role is Role.HEAD_OF_UNIT:
            return and_(not_(acu), AlertRow.officer != viewer.staff_id)
        if viewer.role not in (Role.ANALYST, Role.SUPERVISOR, Role.REVIEWER):
            return false()
        conflicts = sorted(self._conflicts(viewer))
        return and_(
            acu if viewer.role is Role.REVIEWER else not_(acu),
            AlertRow.officer.not_in(conflicts),
            *(not_(AlertRow.people.contains(people_token(c), autoescape=True)) for c in conflicts),
        )

    def _acu_clause(self) -> ColumnElement[bool]:
        """The alert is about a member of the ACU (as the settings name them today, or as
        flagged when it arrived)."""
        clauses: list[ColumnElement[bool]] = [AlertRow.restricted.is_(True)]
        if self.policy.acu_staff_ids:
            clauses.append(AlertRow.officer.in_(sorted(self.policy.acu_staff_ids)))
        if self.policy.acu_units:
            clauses.append(
                and_(
                    AlertRow.officer_unit.is_not(None),
                    AlertRow.officer_unit.in_(sorted(self.policy.acu_units)),
                )
            )
        return or_(*clauses)

    def _acu_officer_of(self, column: Any) -> ColumnElement[bool]:
        """A clause on an ``officer`` column: the officer is ACU staff (on the staff list, or
        some alert about them is the ACU's). For suppressions and cases, which name only
        the officer."""
        acu_alerts = select(AlertRow.officer).where(self._acu_clause())
        clause: ColumnElement[bool] = column.in_(acu_alerts)
        if self.policy.acu_staff_ids:
            clause = or_(column.in_(sorted(self.policy.acu_staff_ids)), clause)
        return clause

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

    def _append(
        self, s: Session, who: User, action: str, alert_id: str | None, detail: dict[str, Any]
    ) -> None:
        # Bumping the head row first takes its write lock (row lock on PostgreSQL, the
        # database write lock on SQLite): appenders queue up and the chain stays linear.
        s.execute(update(AuditHeadRow).where(AuditHeadRow.id == 1).values(seq=AuditHeadRow.seq + 1))
        seq, prev, keyed_from = s.execute(
            select(AuditHeadRow.seq, AuditHeadRow.hash, AuditHeadRow.keyed_from).where(
                AuditHeadRow.id == 1
            )
        ).one()
        key = self._audit_key
        if key is None and keyed_from is not None:
            raise TriageError("the audit chain is keyed: this process needs the audit key")
        at = self.clock()
        origin = CURRENT.get()
        client = origin.client[:64] if origin else None
        agent = origin.user_agent[:256] if origin else None
        content = chain.canonical(
            seq, at, who.username, who.staff_id, action, alert_id, detail, client, agent
        )
        digest = chain.chain_hash(prev, content, key)
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
                client=client,
                user_agent=agent,
            )
        )
        head: dict[str, Any] = {"hash": digest}
        if key is not None and keyed_from is None:
            head["keyed_from"] = seq  # the first keyed row: from here on, HMACs
        s.execute(update(AuditHeadRow).where(AuditHeadRow.id == 1).values(**head))


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.close()


def as_alert(r: AlertRow) -> StoredAlert:
    return StoredAlert(
        id=r.id, detector=r.detector, category=r.category, officer=r.officer,
        officer_unit=r.officer_unit, time=r.time, raised_at=r.raised_at, severity=r.severity,
        score=r.score, title=r.title, explanation=r.explanation, evidence=list(r.evidence),
        subjects=list(r.subjects), path=r.path, facts=r.facts or {}, restricted=r.restricted,
        status=Status(r.status), assignee=r.assignee,
        outcome=Outcome(r.outcome) if r.outcome else None, rationale=r.rationale,
        duplicate_of=r.duplicate_of, received_at=r.received_at, updated_at=r.updated_at,
        closed_at=r.closed_at, closed_by=r.closed_by, proposed_by=r.proposed_by,
        approved_by=r.approved_by, **_evidence_extra(r.extra or {}),
    )  # fmt: skip


def _evidence_extra(extra: dict[str, Any]) -> dict[str, Any]:
    """The evidence digests an alert carried (kept in ``extra``), when well formed."""
    out: dict[str, Any] = {}
    events = extra.get("evidence_events")
    if isinstance(events, list):
        rows = [e for e in events if isinstance(e, dict)]
        out["evidence_events"] = sorted(rows, key=lambda e: (str(e.get("time")), str(e.get("id"))))
    missing = extra.get("evidence_missing")
    if isinstance(missing, list):
        out["evidence_missing"] = [str(m) for m in missing]
    for key in ("identifiers", "sensitive_subjects"):
        values = extra.get(key)
        if isinstance(values, list):
            out[key] = [v for v in values if isinstance(v, str) and v]
    return out


def as_note(n: NoteRow) -> Note:
    return Note(id=n.id, author=n.author, text=n.text, created_at=n.created_at)


def as_token(r: ApiTokenRow) -> TokenInfo:
    return TokenInfo(id=r.id, user_id=r.user_id, name=r.name, scope=TokenScope(r.scope),
                     created_at=r.created_at, created_by=r.created_by, expires_at=r.expires_at,
                     revoked_at=r.revoked_at)  # fmt: skip


def as_user(r: UserRow) -> User:
    return User(id=r.id, username=r.username, staff_id=r.staff_id, role=Role(r.role),
                active=r.active, line_manager=r.line_manager,
                associates=frozenset(r.associates or []),
                must_change_password=bool(r.must_change_password),
                awaiting_approval=bool(r.awaiting_approval), created_by=r.created_by,
                approved_by=r.approved_by, mfa_enrolled=r.totp_secret is not None,
                mfa_reset_by=r.mfa_reset_by)  # fmt: skip


def as_reveal_request(r: RevealRequestRow) -> RevealRequest:
    return RevealRequest(id=r.id, alert_id=r.alert_id, subject=r.subject,
                         requested_by=r.requested_by, requested_at=r.requested_at,
                         reason=r.reason, reference=r.reference, status=r.status,
                         decided_by=r.decided_by, decided_at=r.decided_at)  # fmt: skip


def as_suppression(r: SuppressionRow) -> Suppression:
    return Suppression(
        id=r.id, detector=r.detector, officer=r.officer, subject=r.subject,
        expires_at=r.expires_at, reason=r.reason, created_by=r.created_by,
        created_at=r.created_at, source_alert=r.source_alert, removed_at=r.removed_at,
        removed_by=r.removed_by, approved_by=r.approved_by, approved_at=r.approved_at,
    )  # fmt: skip


def as_entry(r: AuditRow) -> AuditEntry:
    return AuditEntry(seq=r.seq, at=r.at, username=r.username, staff_id=r.staff_id,
                      action=r.action, alert_id=r.alert_id, detail=r.detail or {},
                      prev_hash=r.prev_hash, hash=r.hash, client=r.client,
                      user_agent=r.user_agent)  # fmt: skip
