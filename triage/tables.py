"""SQLAlchemy 2 tables of the queue store. The schema itself is created by the Alembic
migrations in ``triage/migrations``; these classes must match them (a test checks)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    false,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on both backends (SQLite would hand back naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON()}


class AlertRow(Base):
    """A contract-v1 alert plus its triage state."""

    __tablename__ = "alerts"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    detector: Mapped[str] = mapped_column(String(128), index=True)
    category: Mapped[str] = mapped_column(String(64), index=True)
    officer: Mapped[str] = mapped_column(String(128), index=True)
    officer_unit: Mapped[str | None] = mapped_column(String(128), index=True)
    time: Mapped[datetime] = mapped_column(index=True)
    raised_at: Mapped[datetime]
    severity: Mapped[str] = mapped_column(String(16), index=True)
    score: Mapped[float] = mapped_column(Float, index=True)
    title: Mapped[str] = mapped_column(Text)
    explanation: Mapped[str] = mapped_column(Text)
    evidence: Mapped[list[str]] = mapped_column(JSON)
    subjects: Mapped[list[str]] = mapped_column(JSON)
    path: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, nullable=True)
    facts: Mapped[dict[str, Any]] = mapped_column(JSON)
    extra: Mapped[dict[str, Any]] = mapped_column(JSON)
    restricted: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    #: every person the alert shows pseudonymised, one per line (conflict-of-interest
    #: filtering on subjects and path nodes, in SQL)
    people: Mapped[str] = mapped_column(Text, default="\n")
    status: Mapped[str] = mapped_column(String(16), default="new", index=True)
    assignee: Mapped[str | None] = mapped_column(String(128), nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(32), nullable=True)
    rationale: Mapped[str | None] = mapped_column(Text, nullable=True)
    duplicate_of: Mapped[str | None] = mapped_column(String(64), nullable=True)
    received_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    closed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    closed_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    proposed_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    approved_by: Mapped[str | None] = mapped_column(String(128), nullable=True)

    __table_args__ = (Index("ix_alerts_queue", "status", "score", "time"),)


class NoteRow(Base):
    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alert_id: Mapped[str] = mapped_column(ForeignKey("alerts.id"), index=True)
    author: Mapped[str] = mapped_column(String(128))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class UserRow(Base):
    """A local account; ``associates`` is a JSON list of staff/person ids (conflicts)."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    staff_id: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(32))
    password_hash: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    line_manager: Mapped[str | None] = mapped_column(String(128), nullable=True)
    associates: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime]
    must_change_password: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    awaiting_approval: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    approved_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    #: the TOTP secret, Fernet-encrypted with the MFA key (never in clear in the store);
    #: ``totp_pending`` is one being enrolled, until its first code confirms it
    totp_secret: Mapped[str | None] = mapped_column(Text, nullable=True)
    totp_pending: Mapped[str | None] = mapped_column(Text, nullable=True)
    #: the last 30-second step whose code was accepted: a code is good once (replay)
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    #: an admin asked for the second factor to be reset; a second admin approves it
    mfa_reset_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    #: the identity provider's ``sub`` of the account's first OIDC login: a later login
    #: under the same name but another subject is refused (a name reused at the provider)
    oidc_subject: Mapped[str | None] = mapped_column(String(255), nullable=True)


class ApiTokenRow(Base):
    """An integration token; only its SHA-256 is kept (tokens are 32 random bytes).
    ``scope`` is ``full`` (acts with the owner's role), ``metrics`` (``/metrics`` only) or
    ``service`` (a service account's: reads alerts pseudonymised); a plain string column, so
    a new scope needs no migration."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None] = mapped_column(nullable=True)
    scope: Mapped[str] = mapped_column(String(16), default="full", server_default="full")
    created_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    expires_at: Mapped[datetime | None] = mapped_column(nullable=True)

    __table_args__ = (Index("ix_api_tokens_expires_at", "expires_at"),)


class SessionRow(Base):
    """A live browser session: the SHA-256 of the id its signed cookie carries. Logout,
    disabling the account and a password change delete rows; a cookie whose row is gone
    is refused even though its signature is still good."""

    __tablename__ = "sessions"
    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
    #: the last request seen; a session idle for ``policy.session_idle_s`` has ended
    last_seen_at: Mapped[datetime | None] = mapped_column(nullable=True)
    #: when the session last proved a second factor (a TOTP code or the provider's MFA
    #: claim); None: a password alone
    mfa_at: Mapped[datetime | None] = mapped_column(nullable=True)
    #: the session's public name on its owner's sessions page and API (random; never the
    #: id or its hash, so a listing gives nothing to present as a cookie)
    handle: Mapped[str] = mapped_column(String(24), unique=True, index=True)
    #: where the login came from (client address, user agent); None before migration 0010
    client: Mapped[str | None] = mapped_column(String(64), nullable=True)
    user_agent: Mapped[str | None] = mapped_column(String(256), nullable=True)


class SuppressionRow(Base):
    __tablename__ = "suppressions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    detector: Mapped[str] = mapped_column(String(128), index=True)
    officer: Mapped[str | None] = mapped_column(String(128), nullable=True)
    subject: Mapped[str | None] = mapped_column(String(128), nullable=True)
    expires_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime]
    source_alert: Mapped[str | None] = mapped_column(String(64), nullable=True)
    removed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    removed_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    approved_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    approved_at: Mapped[datetime | None] = mapped_column(nullable=True)

    __table_args__ = (
        CheckConstraint("(officer IS NULL) <> (subject IS NULL)", name="ck_suppression_scope"),
    )


class AuditRow(Base):
    """Append-only: ``hash = HMAC(key, prev_hash + canonical(row))``; see ``triage.audit``."""

    __tablename__ = "audit_log"
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime]
    username: Mapped[str] = mapped_column(String(64))
    staff_id: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64), index=True)
    alert_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    client: Mapped[str | None] = mapped_column(String(64), nullable=True)
    user_agent: Mapped[str | None] = mapped_column(String(256), nullable=True)


class AuditHeadRow(Base):
    """One row: the last sequence number and hash. Updating it first serialises appenders."""

    __tablename__ = "audit_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))
    #: the first row hashed with the audit key (HMAC); earlier rows are plain SHA-256
    keyed_from: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class CaseRow(Base):
    """An investigation about one officer: alerts, tasks and notes, then an outcome with
    its rationale (required to close). ``restricted``: opened on an officer whose alerts
    only the head of unit sees (set at opening; the rule is applied again at query time)."""

    __tablename__ = "cases"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    officer: Mapped[str] = mapped_column(String(128), index=True)
    title: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    restricted: Mapped[bool] = mapped_column(Boolean, default=False)
    opened_by: Mapped[str] = mapped_column(String(64))
    opened_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    outcome: Mapped[str | None] = mapped_column(String(32), nullable=True)
    rationale: Mapped[str | None] = mapped_column(Text, nullable=True)
    referral_reference: Mapped[str | None] = mapped_column(String(64), nullable=True)
    closed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(nullable=True)


class CaseAlertRow(Base):
    """An alert attached to a case (an alert may be in several cases)."""

    __tablename__ = "case_alerts"
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    alert_id: Mapped[str] = mapped_column(ForeignKey("alerts.id"), primary_key=True, index=True)
    added_by: Mapped[str] = mapped_column(String(64))
    added_at: Mapped[datetime]


class CaseTaskRow(Base):
    __tablename__ = "case_tasks"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    done_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    done_at: Mapped[datetime | None] = mapped_column(nullable=True)


class CaseNoteRow(Base):
    __tablename__ = "case_notes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    author: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class RevealRequestRow(Base):
    """A reveal of a sensitive subject (covert, VIP, canary, vulnerable victim) waiting for
    a second person: ``pending`` -> ``approved`` (by someone other than the requester) ->
    ``used`` by the requester's reveal, or ``declined``."""

    __tablename__ = "reveal_requests"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alert_id: Mapped[str] = mapped_column(ForeignKey("alerts.id"), index=True)
    subject: Mapped[str] = mapped_column(String(128))
    requested_by: Mapped[str] = mapped_column(String(128), index=True)
    requested_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(Text)
    reference: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    decided_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(nullable=True)
