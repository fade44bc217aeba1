"""The JSON API (``/api``): the same actions as the pages, for integrations and scripts.

People are pseudonymised in every response; ``POST /api/alerts/{id}/reveal`` with a reason
returns one identity and is audited. A service account's token (a machine client: case
management, a SIEM) reads ``GET /api/alerts`` and ``GET /api/alerts/{id}`` and nothing else.
"""

from __future__ import annotations

import pathlib
import re
from datetime import timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from triage.audit import to_event
from triage.auth import (
    Principal,
    context,
    require,
    require_fresh_mfa_for_reveal,
    require_fresh_mfa_to_approve,
)
from triage.base import (
    ADMINISTER,
    ANY_ROLE,
    AUDIT,
    DECIDE,
    NO_NUL,
    READ_ALERTS,
    REFERENCE,
    SUPERVISE,
    AuditEntry,
    Outcome,
    QueueFilter,
    RevealRequest,
    Role,
    Sort,
    Status,
    StoredAlert,
    Suppression,
    TokenScope,
    User,
)
from triage.context import Context
from triage.exceptions import (
    ApprovalPending,
    AuditChainBroken,
    Forbidden,
    InvalidTransition,
    NotFound,
    QuotaExceeded,
)
from triage.present import Masker, masker_for, note_view, present
from triage.security import MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS

router = APIRouter(prefix="/api", tags=["api"])

Id = Annotated[str, Field(min_length=1, max_length=64)]
Text = Annotated[str, Field(min_length=1, max_length=5000)]
AlertId = Annotated[str, Path(pattern=NO_NUL, min_length=1, max_length=64)]
RowId = Annotated[int, Path(ge=1, le=2**31 - 1)]


def _no_nul(value: Any) -> Any:
    if isinstance(value, str) and "\x00" in value:
        raise ValueError("text may not contain NUL characters")
    if isinstance(value, list):
        for v in value:
            _no_nul(v)
    if isinstance(value, dict):
        for k, v in value.items():
            _no_nul(k)
            _no_nul(v)
    return value


class _In(BaseModel):
    """Request bodies: unknown fields refused, no NUL characters anywhere."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _text_only(cls, data: Any) -> Any:
        return _no_nul(data)


class SubjectOut(BaseModel):
    pseudonym: str
    revealed: str | None = None


class EvidenceOut(BaseModel):
    """One evidence event as the alert's digest gives it (no free text); people masked."""

    id: str
    time: str
    source: str
    kind: str
    actor: str | None
    record_type: str | None
    record_id: str | None
    purpose: str | None
    terminal: str | None
    subjects: list[str]
    attrs: dict[str, Any]


class AlertOut(BaseModel):
    """An alert with its triage state; people pseudonymised."""

    id: str
    detector: str
    category: str
    officer: str
    officer_unit: str | None
    time: AwareDatetime
    raised_at: AwareDatetime
    severity: str
    score: float
    title: str
    explanation: str
    evidence: list[str]
    subjects: list[SubjectOut]
    path: list[dict[str, Any]] | None
    facts: dict[str, Any]
    restricted: bool
    status: Status
    assignee: str | None
    outcome: Outcome | None
    rationale: str | None
    duplicate_of: str | None
    received_at: AwareDatetime
    updated_at: AwareDatetime
    closed_at: AwareDatetime | None
    closed_by: str | None
    proposed_by: str | None = Field(description="who proposed (or made) the closure")
    approved_by: str | None = Field(description="the second person who approved it")
    evidence_events: list[EvidenceOut] | None = Field(
        default=None, description="a digest of each evidence event, time order, people masked"
    )
    evidence_missing: list[str] | None = Field(
        default=None, description="evidence ids the engine no longer held (no digest)"
    )


class NoteOut(BaseModel):
    id: int
    author: str
    text: str
    created_at: AwareDatetime


class RiskPoint(BaseModel):
    id: str
    time: AwareDatetime
    score: float


class AlertDetailOut(AlertOut):
    notes: list[NoteOut]
    other_alerts: list[AlertOut]
    risk: list[RiskPoint]


class QueueOut(BaseModel):
    items: list[AlertOut]
    total: int
    page: int
    per_page: int
    counts: dict[str, int]


class AssignIn(_In):
    assignee: Annotated[str, Field(min_length=1, max_length=64)]


class CloseIn(_In):
    outcome: Outcome
    rationale: Text
    duplicate_of: Id | None = None
    suppress: Literal["officer", "subject"] | None = Field(
        default=None, description="false positives only, supervisors only"
    )
    suppress_subject: Annotated[str, Field(max_length=128)] | None = Field(
        default=None, description="the subject's pseudonym, when suppress = subject"
    )
    suppress_days: int = Field(
        default=30, ge=1, le=3650, description="at most settings.triage.suppression_max_days"
    )
    suppress_reason: Annotated[str, Field(max_length=2000)] | None = None


class NoteIn(_In):
    text: Text


class ReasonIn(_In):
    reason: Text


class RevealIn(_In):
    subject: Annotated[str, Field(min_length=1, max_length=128)] = Field(
        description="the pseudonym shown for the person"
    )
    reason: Text
    reference: Annotated[str, Field(pattern=REFERENCE)] = Field(
        description="the case or tasking the reveal is for"
    )


class RevealOut(BaseModel):
    pseudonym: str
    subject: str


class BulkCloseIn(_In):
    alert_ids: list[Id] = Field(min_length=1, max_length=500)
    duplicate_of: Id
    rationale: Text


class BulkCloseOut(BaseModel):
    closed: list[str]


class SuppressionOut(BaseModel):
    id: int
    detector: str
    officer: str | None
    subject: str | None = Field(description="pseudonym")
    expires_at: AwareDatetime
    reason: str
    created_by: str
    created_at: AwareDatetime
    source_alert: str | None
    removed_at: AwareDatetime | None
    removed_by: str | None
    approved_by: str | None = Field(description="None: awaiting a second person, not in force")
    approved_at: AwareDatetime | None


Password = Annotated[str, Field(min_length=MIN_PASSWORD_CHARS, max_length=MAX_PASSWORD_CHARS)]


class UserIn(_In):
    """A new account. The admin chooses the first password, so the user must change it at
    their first login (API tokens of the account are not held up by that). A ``service``
    account (a machine's) has no password: give none."""

    username: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]
    password: Password | None = None
    role: Role
    staff_id: Annotated[str, Field(min_length=1, max_length=128)]
    line_manager: Annotated[str, Field(max_length=128)] | None = None
    associates: list[Annotated[str, Field(min_length=1, max_length=128)]] = Field(
        default_factory=list, max_length=500
    )


    @model_validator(mode="after")
    def _password_unless_service(self) -> UserIn:
        if (self.password is None) != (self.role is Role.SERVICE):
            raise ValueError("a person's account needs a first password; a service account none")
        return self


class UserOut(BaseModel):
    id: int
    username: str
    staff_id: str
    role: Role
    active: bool
    line_manager: str | None
    associates: list[str]
    must_change_password: bool
    awaiting_approval: bool = Field(description="a privileged account awaiting a second admin")
    created_by: str | None
    approved_by: str | None
    mfa_enrolled: bool = Field(default=False, description="a confirmed TOTP second factor")
    mfa_reset_by: str | None = Field(
        default=None, description="the admin who asked to reset it; a second admin approves"
    )


TokenDays = Annotated[int, Field(ge=1, le=3650)]


class TokenIn(_In):
    """A token for the caller themselves."""

    name: Annotated[str, Field(min_length=1, max_length=128)]
    scope: Literal[TokenScope.FULL, TokenScope.METRICS] = Field(
        default=TokenScope.FULL,
        description="full: acts with your role; metrics: reads /metrics, nothing else "
        "(service tokens are an admin's to issue, for service accounts)",
    )
    days: TokenDays | None = Field(default=None, description="default and most: the setting")


class IssuedTokenIn(_In):
    """A token an admin issues for an account: ``metrics`` (e.g. Prometheus's), or
    ``service`` for a service account (reads alerts pseudonymised). Never ``full``."""

    name: Annotated[str, Field(min_length=1, max_length=128)]
    scope: Literal[TokenScope.METRICS, TokenScope.SERVICE] = TokenScope.METRICS
    days: TokenDays | None = Field(
        default=None, description="default and most: the setting for the scope"
    )


class TokenInfoOut(BaseModel):
    id: int
    user_id: int
    name: str
    scope: TokenScope
    created_at: AwareDatetime
    created_by: str | None
    expires_at: AwareDatetime | None
    revoked_at: AwareDatetime | None


class PasswordChangeIn(_In):
    current_password: Annotated[str, Field(min_length=1, max_length=MAX_PASSWORD_CHARS)]
    new_password: Password


class PasswordChangeOut(BaseModel):
    sessions_revoked: int = Field(description="the user's other sessions, now ended")


class SessionOut(BaseModel):
    """One of the caller's live browser sessions (never its id, hash or CSRF token)."""

    handle: str = Field(description="the session's public name: what ends it")
    created_at: AwareDatetime
    last_seen_at: AwareDatetime | None = Field(description="the last request (to a minute)")
    expires_at: AwareDatetime = Field(description="when it ends at the latest")
    client: str | None = Field(description="the login's client address (None: unknown)")
    user_agent: str | None = Field(description="the login's browser (None: unknown)")
    mfa: bool = Field(description="the session proved a second factor")
    current: bool = Field(description="the session making this request")


class SessionsEndedOut(BaseModel):
    sessions_ended: int


#: a session's handle in a URL: random URL-safe text (anything else is no session's)
SessionHandle = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,32}$")]


class PasswordResetIn(_In):
    password: Password = Field(description="temporary: the user must change it at next login")


class TokenOut(BaseModel):
    token: str = Field(description="shown once; only its hash is kept")


class VerifyOut(BaseModel):
    ok: bool
    rows: int
    first_bad_row: int | None = None
    reason: str | None = None


class AuditPage(BaseModel):
    entries: list[AuditEntry]
    events: list[dict[str, Any]] = Field(description="the same entries as contract events")


def _out(alert: StoredAlert, m: Masker) -> AlertOut:
    return AlertOut.model_validate(present(alert, m))


def _user_out(u: User) -> UserOut:
    return UserOut(
        id=u.id, username=u.username, staff_id=u.staff_id, role=u.role, active=u.active,
        line_manager=u.line_manager, associates=sorted(u.associates),
        must_change_password=u.must_change_password, awaiting_approval=u.awaiting_approval,
        created_by=u.created_by, approved_by=u.approved_by, mfa_enrolled=u.mfa_enrolled,
        mfa_reset_by=u.mfa_reset_by,
    )  # fmt: skip


def suppression_out(s: Suppression, ctx: Context) -> SuppressionOut:
    data = s.model_dump()
    data["subject"] = ctx.pseudonym(s.subject) if s.subject else None
    return SuppressionOut.model_validate(data)


def _ctx(request: Request) -> Context:
    return context(request)


Ctx = Annotated[Context, Depends(_ctx)]
Reader = Annotated[Principal, Depends(require(READ_ALERTS))]
#: the alert reads a service account's token may make too (nothing that reveals or changes)
ServiceReader = Annotated[Principal, Depends(require(READ_ALERTS, service=True))]
Decider = Annotated[Principal, Depends(require(DECIDE))]
Supervisor = Annotated[Principal, Depends(require(SUPERVISE))]
Auditor = Annotated[Principal, Depends(require(AUDIT))]
Admin = Annotated[Principal, Depends(require(ADMINISTER))]
Anyone = Annotated[Principal, Depends(require(ANY_ROLE, password_change=True))]
Member = Annotated[Principal, Depends(require(ANY_ROLE))]


@router.get("/alerts", response_model=QueueOut)
def list_alerts(
    ctx: Ctx,
    p: ServiceReader,
    status: Status | None = None,
    severity: Literal["low", "medium", "high", "critical"] | None = None,
    category: Annotated[str | None, Query(pattern=NO_NUL, max_length=64)] = None,
    detector: Annotated[str | None, Query(pattern=NO_NUL, max_length=128)] = None,
    officer: Annotated[str | None, Query(pattern=NO_NUL, max_length=128)] = None,
    unit: Annotated[str | None, Query(pattern=NO_NUL, max_length=128)] = None,
    assignee: Annotated[str | None, Query(pattern=NO_NUL, max_length=128)] = None,
    date_from: AwareDatetime | None = None,
    date_to: AwareDatetime | None = None,
    sort: Sort = "score",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=500)] = 50,
) -> QueueOut:
    """The queue visible to the caller, sorted by score (or age), with counts per status."""
    f = QueueFilter(
        status=status, severity=severity, category=category, detector=detector, officer=officer,
        unit=unit, assignee=assignee, date_from=date_from, date_to=date_to, sort=sort,
        page=page, per_page=per_page,
    )  # fmt: skip
    result = ctx.store.queue(f, p.user)
    return QueueOut(
        items=[_out(a, masker_for(a, ctx.pseudonym)) for a in result.items],
        total=result.total, page=result.page, per_page=result.per_page, counts=result.counts,
    )  # fmt: skip


def alert_detail(
    ctx: Context, alert_id: str, user: User, revealed: set[str] | None = None
) -> AlertDetailOut:
    alert, notes = ctx.store.view_alert(alert_id, user)
    history = ctx.store.officer_alerts(alert.officer, user)
    m = masker_for(alert, ctx.pseudonym, revealed)
    return AlertDetailOut.model_validate(
        {
            **present(alert, m),
            "notes": [note_view(n, m) for n in notes],
            "other_alerts": [
                present(a, masker_for(a, ctx.pseudonym)) for a in history if a.id != alert.id
            ],
            "risk": [{"id": a.id, "time": a.time, "score": a.score} for a in history],
        }
    )


@router.get("/alerts/{alert_id}", response_model=AlertDetailOut)
def get_alert(alert_id: AlertId, ctx: Ctx, p: ServiceReader) -> AlertDetailOut:
    """One alert with notes, the officer's other alerts and risk over time (audited view)."""
    return alert_detail(ctx, alert_id, p.user)


def reveal_subject(
    ctx: Context, alert_id: str, given: str, reason: str, reference: str, user: User
) -> str:
    """The identity behind ``given`` (a pseudonym of this alert), for the alert's assignee,
    with a reason and a case or tasking reference, within the daily quota; audited. Any
    refusal (unknown or hidden alert, not assigned, unknown pseudonym) is audited and
    answered alike (404); the quota answers 429."""
    reason = reason.strip()
    if len(reason) < ctx.settings.reveal_reason_min_chars:
        raise InvalidTransition(
            f"a reason of at least {ctx.settings.reveal_reason_min_chars} characters is needed"
        )
    if not re.match(REFERENCE, reference):
        raise InvalidTransition("give the case or tasking reference (letters, digits, /_.:-)")
    try:
        alert, _ = ctx.store.view_alert(alert_id, user, audit=False)
        value = masker_for(alert, ctx.pseudonym).lookup(given)
    except NotFound:
        value = None
    try:
        ctx.store.reveal(alert_id, value, reason, user, reference=reference, asked=given)
    except QuotaExceeded:
        ctx.metrics.reveal("over_quota")
        raise
    except ApprovalPending:
        ctx.metrics.reveal("awaiting_approval")
        raise
    except NotFound:
        ctx.metrics.reveal("refused")
        raise
    ctx.metrics.reveal("revealed")
    if value is None:  # the store refuses this; kept for the type checker
        raise NotFound("not found")
    return value


@router.post(
    "/alerts/{alert_id}/reveal", response_model=RevealOut,
    responses={202: {"description": "a covert, VIP, canary or vulnerable-victim subject: a "
                     "request now awaits a second supervisor's approval (GET /api/reveal-"
                     "requests); ask again once it is approved"}},
)  # fmt: skip
def reveal(
    alert_id: AlertId, body: RevealIn, request: Request, ctx: Ctx, p: Reader
) -> RevealOut:
    """Reveal one pseudonymised person of this alert; needs a reason, always audited. A
    sensitive alert's (covert, VIP, canary, vulnerable, restricted) needs a browser
    session with a recent second factor: a token is refused (403)."""
    require_fresh_mfa_for_reveal(request, p, alert_id)
    value = reveal_subject(ctx, alert_id, body.subject, body.reason, body.reference, p.user)
    return RevealOut(pseudonym=ctx.pseudonym(value), subject=value)


def assign_alert(ctx: Context, alert_id: str, assignee: str, user: User) -> StoredAlert:
    if user.role not in SUPERVISE and assignee != user.username:
        raise Forbidden("an analyst can only take an alert for themselves")
    return ctx.store.assign(alert_id, assignee, user)


@router.post("/alerts/{alert_id}/assign", response_model=AlertOut)
def assign(alert_id: AlertId, body: AssignIn, ctx: Ctx, p: Decider) -> AlertOut:
    """Assign (supervisors: anyone; analysts: themselves)."""
    a = assign_alert(ctx, alert_id, body.assignee, p.user)
    return _out(a, masker_for(a, ctx.pseudonym))


@router.post("/alerts/{alert_id}/review", response_model=AlertOut)
def start_review(alert_id: AlertId, ctx: Ctx, p: Decider) -> AlertOut:
    a = ctx.store.start_review(alert_id, p.user)
    return _out(a, masker_for(a, ctx.pseudonym))


def close_alert(ctx: Context, alert_id: str, body: CloseIn, user: User) -> StoredAlert:
    """Close; a false positive may carry a suppression (supervisors only)."""
    suppression = None
    if body.suppress is not None:
        if user.role not in SUPERVISE:
            raise Forbidden("only a supervisor can create a suppression")
        if body.outcome is not Outcome.FALSE_POSITIVE:
            raise InvalidTransition("only a false positive can create a suppression")
        days = body.suppress_days  # the store refuses more than the maximum
        alert, _ = ctx.store.view_alert(alert_id, user, audit=False)
        scope: dict[str, str] = {"officer": alert.officer}
        if body.suppress == "subject":
            m = masker_for(alert, ctx.pseudonym)
            subject = m.lookup(body.suppress_subject or "")
            if subject is None or subject not in alert.subjects:
                raise NotFound("no such subject on this alert")
            scope = {"subject": subject}
        now = ctx.store.clock()
        suppression = Suppression(
            detector=alert.detector, expires_at=now + timedelta(days=days),
            reason=(body.suppress_reason or body.rationale).strip()[:2000],
            created_by=user.username, created_at=now, source_alert=alert.id, **scope,
        )  # fmt: skip
    return ctx.store.close(
        alert_id, body.outcome, body.rationale, user,
        duplicate_of=body.duplicate_of, suppression=suppression,
    )  # fmt: skip


@router.post("/alerts/{alert_id}/close", response_model=AlertOut)
def close(alert_id: AlertId, body: CloseIn, ctx: Ctx, p: Decider) -> AlertOut:
    """Close with an outcome and a required rationale."""
    a = close_alert(ctx, alert_id, body, p.user)
    return _out(a, masker_for(a, ctx.pseudonym))


@router.post("/alerts/{alert_id}/approve-closure", response_model=AlertOut)
def approve_closure(alert_id: AlertId, ctx: Ctx, p: Supervisor) -> AlertOut:
    """Four eyes: approve a closure someone else proposed (it takes effect now)."""
    a = ctx.store.approve_closure(alert_id, p.user)
    return _out(a, masker_for(a, ctx.pseudonym))


@router.post("/alerts/{alert_id}/reject-closure", response_model=AlertOut)
def reject_closure(alert_id: AlertId, body: ReasonIn, ctx: Ctx, p: Supervisor) -> AlertOut:
    """Four eyes: refuse a proposed closure; the alert goes back to review."""
    a = ctx.store.reject_closure(alert_id, body.reason, p.user)
    return _out(a, masker_for(a, ctx.pseudonym))


@router.post("/alerts/{alert_id}/reopen", response_model=AlertOut)
def reopen(alert_id: AlertId, body: ReasonIn, ctx: Ctx, p: Supervisor) -> AlertOut:
    a = ctx.store.reopen(alert_id, body.reason, p.user)
    return _out(a, masker_for(a, ctx.pseudonym))


@router.post("/alerts/{alert_id}/notes", response_model=NoteOut)
def add_note(alert_id: AlertId, body: NoteIn, ctx: Ctx, p: Decider) -> NoteOut:
    return NoteOut.model_validate(ctx.store.add_note(alert_id, body.text, p.user).model_dump())


@router.post("/alerts/bulk-close", response_model=BulkCloseOut)
def bulk_close(body: BulkCloseIn, ctx: Ctx, p: Decider) -> BulkCloseOut:
    """Close several alerts as duplicates of one (all or nothing): the same officer and
    detector only, each one the caller works."""
    closed = ctx.store.bulk_close_duplicates(
        body.alert_ids, body.duplicate_of, body.rationale, p.user
    )
    return BulkCloseOut(closed=closed)


@router.get("/suppressions", response_model=list[SuppressionOut])
def list_suppressions(ctx: Ctx, p: Reader, include_removed: bool = False) -> list[SuppressionOut]:
    return [
        suppression_out(s, ctx)
        for s in ctx.store.suppressions(p.user, include_removed=include_removed)
    ]


@router.post("/suppressions/{sup_id}/approve", response_model=SuppressionOut)
def approve_suppression(sup_id: RowId, ctx: Ctx, p: Supervisor) -> SuppressionOut:
    """Four eyes: a second supervisor puts a suppression in force."""
    return suppression_out(ctx.store.approve_suppression(sup_id, p.user), ctx)


@router.delete("/suppressions/{sup_id}", response_model=SuppressionOut)
def remove_suppression(sup_id: RowId, ctx: Ctx, p: Supervisor) -> SuppressionOut:
    return suppression_out(ctx.store.remove_suppression(sup_id, p.user), ctx)


class RevealRequestOut(BaseModel):
    """A sensitive reveal awaiting a second person; the person as their pseudonym only."""

    id: int
    alert_id: str
    pseudonym: str
    requested_by: str
    requested_at: AwareDatetime
    reason: str
    reference: str
    status: str
    decided_by: str | None


class DeclineIn(_In):
    reason: Text


def reveal_request_view(
    r: RevealRequest, ctx: Context, viewer: User
) -> tuple[RevealRequestOut, StoredAlert] | None:
    """A request as ``viewer`` may see it, with its alert: the person as their pseudonym and
    the requester's reason masked like a note (it may quote the identity); ``None`` when the
    alert is no longer visible to ``viewer``."""
    try:
        alert, _ = ctx.store.view_alert(r.alert_id, viewer, audit=False)
    except NotFound:
        return None
    out = RevealRequestOut(
        id=r.id, alert_id=r.alert_id, pseudonym=ctx.pseudonym(r.subject),
        requested_by=r.requested_by, requested_at=r.requested_at,
        reason=masker_for(alert, ctx.pseudonym).text(r.reason),
        reference=r.reference, status=r.status, decided_by=r.decided_by,
    )  # fmt: skip
    return out, alert


def _reveal_requests_out(
    requests: list[RevealRequest], ctx: Context, viewer: User
) -> list[RevealRequestOut]:
    return [v[0] for r in requests if (v := reveal_request_view(r, ctx, viewer))]


@router.get("/reveal-requests", response_model=list[RevealRequestOut])
def list_reveal_requests(ctx: Ctx, p: Supervisor) -> list[RevealRequestOut]:
    """Reveals of covert, VIP, canary or vulnerable-victim subjects awaiting a second person
    (not the caller's own, only on alerts the caller sees)."""
    return _reveal_requests_out(ctx.store.reveal_requests(p.user), ctx, p.user)


@router.post("/reveal-requests/{request_id}/approve", response_model=RevealRequestOut)
def approve_reveal(
    request_id: RowId, request: Request, ctx: Ctx, p: Supervisor
) -> RevealRequestOut:
    """Two people: the requester may then reveal the person once. Never one's own request.
    Like the reveal itself, it needs a browser session with a recent second factor (403)."""
    require_fresh_mfa_to_approve(request, p, request_id)
    decided = ctx.store.decide_reveal(request_id, True, p.user)
    return _reveal_requests_out([decided], ctx, p.user)[0]


@router.post("/reveal-requests/{request_id}/decline", response_model=RevealRequestOut)
def decline_reveal(
    request_id: RowId, body: DeclineIn, ctx: Ctx, p: Supervisor
) -> RevealRequestOut:
    decided = ctx.store.decide_reveal(request_id, False, p.user, body.reason)
    return _reveal_requests_out([decided], ctx, p.user)[0]


@router.get("/audit", response_model=AuditPage)
def audit_log(
    ctx: Ctx,
    p: Auditor,
    after: Annotated[int, Query(ge=0, le=2**62)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> AuditPage:
    """Audit entries after ``after`` (auditors only; reading it is itself audited)."""
    ctx.store.record(p.user, "audit.viewed", {"after": after, "limit": limit})
    entries = ctx.store.audit_entries(after, limit)
    return AuditPage(entries=entries, events=[to_event(e) for e in entries])


def checkpoint_dir(ctx: Context) -> pathlib.Path | None:
    """Where the signed checkpoints are, when the chain is keyed (they need the key)."""
    return pathlib.Path(ctx.settings.audit_checkpoint_dir) if ctx.store.has_audit_key else None


@router.get("/audit/verify", response_model=VerifyOut)
def audit_verify(ctx: Ctx, p: Auditor) -> VerifyOut:
    """The chain, and the latest signed checkpoint: rewritten, truncated or rolled back?"""
    try:
        return VerifyOut(ok=True, rows=ctx.store.verify_audit(checkpoint_dir(ctx)))
    except AuditChainBroken as exc:
        return VerifyOut(ok=False, rows=0, first_bad_row=exc.seq, reason=exc.reason)


@router.get("/users", response_model=list[UserOut])
def list_users(ctx: Ctx, p: Admin) -> list[UserOut]:
    return [_user_out(u) for u in ctx.store.users()]


@router.post("/users", response_model=UserOut, status_code=201)
def create_user(body: UserIn, ctx: Ctx, p: Admin) -> UserOut:
    u = ctx.store.create_user(
        body.username, body.password or "", body.role, body.staff_id,
        line_manager=body.line_manager, associates=body.associates, actor=p.user,
        must_change_password=True,
    )  # fmt: skip
    return _user_out(u)


@router.post("/users/{user_id}/approve", response_model=UserOut)
def approve_user(user_id: RowId, ctx: Ctx, p: Admin) -> UserOut:
    """Four eyes: a second admin activates a new admin or head-of-unit account."""
    return _user_out(ctx.store.approve_user(user_id, p.user))


@router.post("/users/{user_id}/tokens", response_model=TokenOut, status_code=201)
def create_token(user_id: RowId, body: IssuedTokenIn, ctx: Ctx, p: Admin) -> TokenOut:
    """A ``metrics`` token for the account (Prometheus: reads /metrics only), or a
    ``service`` token for a service account. A full token acts as its owner, so only the
    owner issues one (``POST /api/account/tokens``)."""
    token = ctx.store.create_token(user_id, body.name, p.user, body.scope, days=body.days)
    return TokenOut(token=token)


@router.get("/users/{user_id}/tokens", response_model=list[TokenInfoOut])
def list_user_tokens(user_id: RowId, ctx: Ctx, p: Admin) -> list[TokenInfoOut]:
    return [TokenInfoOut.model_validate(t.model_dump()) for t in ctx.store.tokens(user_id)]


@router.delete("/users/{user_id}/tokens/{token_id}", response_model=TokenInfoOut)
def revoke_user_token(user_id: RowId, token_id: RowId, ctx: Ctx, p: Admin) -> TokenInfoOut:
    revoked = ctx.store.revoke_token(token_id, p.user, owner_id=user_id)
    return TokenInfoOut.model_validate(revoked.model_dump())


@router.get("/account/tokens", response_model=list[TokenInfoOut])
def list_own_tokens(ctx: Ctx, p: Member) -> list[TokenInfoOut]:
    """The caller's own tokens (live, expired and revoked; never the token itself)."""
    return [TokenInfoOut.model_validate(t.model_dump()) for t in ctx.store.tokens(p.user.id)]


@router.post("/account/tokens", response_model=TokenOut, status_code=201)
def create_own_token(body: TokenIn, request: Request, ctx: Ctx, p: Member) -> TokenOut:
    """A token for the caller: ``full`` acts with the caller's role; it expires. Issued
    with a token, it expires no later than that token (a stolen token cannot renew itself
    for ever, nor outlive its revocation's reason)."""
    parent = None
    if p.session is None:
        parent = ctx.store.token_expiry(request.headers.get("authorization", "")[7:].strip())
    token = ctx.store.create_token(p.user.id, body.name, p.user, body.scope, days=body.days,
                                   not_after=parent)  # fmt: skip
    return TokenOut(token=token)


@router.delete("/account/tokens/{token_id}", response_model=TokenInfoOut)
def revoke_own_token(token_id: RowId, ctx: Ctx, p: Member) -> TokenInfoOut:
    revoked = ctx.store.revoke_token(token_id, p.user, owner_id=p.user.id)
    return TokenInfoOut.model_validate(revoked.model_dump())


@router.get("/account/sessions", response_model=list[SessionOut])
def list_own_sessions(ctx: Ctx, p: Member) -> list[SessionOut]:
    """The caller's own live browser sessions, newest first; ``current`` marks the one
    asking (none when asked with an API token)."""
    sid = p.session.sid if p.session else None
    return [SessionOut.model_validate(i.model_dump()) for i in ctx.store.sessions_of(p.user, sid)]


@router.delete("/account/sessions/{handle}", response_model=SessionOut)
def end_own_session(handle: SessionHandle, ctx: Ctx, p: Member) -> SessionOut:
    """End one of the caller's sessions (its cookie is refused from now on); audited. An
    unknown handle, or another user's, is 404 alike."""
    sid = p.session.sid if p.session else None
    return SessionOut.model_validate(ctx.store.end_session(p.user, handle, sid).model_dump())


@router.post("/account/sessions/end-others", response_model=SessionsEndedOut)
def end_other_sessions(ctx: Ctx, p: Member) -> SessionsEndedOut:
    """End every session of the caller but the one asking (every one, asked with an API
    token); audited."""
    sid = p.session.sid if p.session else None
    return SessionsEndedOut(sessions_ended=ctx.store.end_other_sessions(p.user, sid))


@router.post("/users/{user_id}/password", response_model=UserOut)
def reset_password(user_id: RowId, body: PasswordResetIn, ctx: Ctx, p: Admin) -> UserOut:
    """Set a temporary password: the user's sessions end and they must change it at their
    next login. An admin changes their own password at ``/api/account/password``."""
    if user_id == p.user.id:
        raise InvalidTransition("change your own password with your current one")
    return _user_out(ctx.store.reset_password(user_id, body.password, p.user))


@router.post("/account/password", response_model=PasswordChangeOut)
def change_password(body: PasswordChangeIn, ctx: Ctx, p: Anyone) -> PasswordChangeOut:
    """Change the caller's own password (the current one is required). The caller's other
    sessions end; the session making the change (if any) stays."""
    keep = p.session.sid if p.session else None
    revoked = ctx.store.change_password(
        p.user, body.current_password, body.new_password, keep_sid=keep
    )
    return PasswordChangeOut(sessions_revoked=revoked)


@router.post("/users/{user_id}/disable", response_model=UserOut)
def disable_user(user_id: RowId, ctx: Ctx, p: Admin) -> UserOut:
    if user_id == p.user.id:
        raise InvalidTransition("an admin cannot disable their own account")
    return _user_out(ctx.store.set_active(user_id, False, p.user))
