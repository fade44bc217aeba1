"""Server-rendered pages for analysts (Jinja2, autoescaped, no JavaScript).

Forms post back with the session's CSRF token and redirect (303) to a page, so a reload
never repeats a decision. Revealing a subject answers with the page itself: the identity
is never put in a URL or a cookie.
"""

from __future__ import annotations

import contextlib
import math
import secrets
from datetime import UTC, datetime, time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from triage.api import (
    CloseIn,
    SessionHandle,
    alert_detail,
    assign_alert,
    checkpoint_dir,
    close_alert,
    reveal_request_view,
    reveal_subject,
    suppression_out,
)
from triage.auth import (
    LoginRequired,
    Principal,
    authenticate,
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
    SUPERVISE,
    Outcome,
    QueueFilter,
    RevealRequest,
    Role,
    Status,
    TokenScope,
    User,
)
from triage.chart import link_chart
from triage.context import Context
from triage.exceptions import (
    AuthError,
    InvalidTransition,
    NotFound,
    TriageError,
)
from triage.mfa import PENDING_COOKIE as MFA_PENDING_COOKIE
from triage.mfa import PENDING_MAX_AGE_S as MFA_PENDING_MAX_AGE_S
from triage.present import masker_for, path_links, present, risk_points
from triage.security import MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS, HashingBusy

router = APIRouter(include_in_schema=False)

LOGIN_CSRF_COOKIE = "probity_login_csrf"
Reader = Annotated[Principal, Depends(require(READ_ALERTS))]
Decider = Annotated[Principal, Depends(require(DECIDE))]
Supervisor = Annotated[Principal, Depends(require(SUPERVISE))]
Auditor = Annotated[Principal, Depends(require(AUDIT))]
Admin = Annotated[Principal, Depends(require(ADMINISTER))]
Anyone = Annotated[Principal, Depends(require(ANY_ROLE, password_change=True))]
Member = Annotated[Principal, Depends(require(ANY_ROLE))]
RowId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Password = Annotated[
    str, Form(pattern=NO_NUL, min_length=MIN_PASSWORD_CHARS, max_length=MAX_PASSWORD_CHARS)
]
Field_ = Annotated[str, Form(pattern=NO_NUL, max_length=5000)]
OptField = Annotated[str, Form(pattern=NO_NUL, max_length=5000)]


def _render(
    request: Request, name: str, p: Principal | None, status_code: int = 200, **data: Any
) -> HTMLResponse:
    ctx = context(request)
    return ctx.templates.TemplateResponse(
        request,
        name,
        {
            "user": p.user if p else None,
            "csrf": p.csrf if p else "",
            "roles": Role,
            "can_read": p is not None and p.user.role in READ_ALERTS,
            "can_supervise": p is not None and p.user.role in SUPERVISE,
            **data,
        },
        status_code=status_code,
    )


def error_page(request: Request, status: int, message: str) -> Response:
    return _render(request, "error.html", None, status, status=status, message=message)


def _aid(alert_id: str) -> str:
    """An alert id from a URL: anything no alert could have is simply not found."""
    if len(alert_id) > 64 or "\x00" in alert_id:
        raise NotFound("no such alert")
    return alert_id


def _see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


# ------------------------------------------------------------------ login
@router.get("/login")
def login_form(request: Request) -> Response:
    token = secrets.token_urlsafe(24)
    resp = _render(request, "login.html", None, login_csrf=token, sso=_sso_name(request))
    _set_login_cookie(request, resp, token)
    return resp


def _sso_name(request: Request) -> str | None:
    """The identity provider's name for the login page's button, or None (no SSO)."""
    oidc = context(request).oidc
    return oidc.settings.display_name if oidc is not None else None


def _set_login_cookie(request: Request, resp: Response, token: str) -> None:
    ctx = context(request)
    resp.set_cookie(LOGIN_CSRF_COOKIE, token, max_age=900, httponly=True, samesite="strict",
                    secure=ctx.settings.cookie_secure, path="/login")  # fmt: skip


@router.post("/login")
def login(
    request: Request,
    username: Annotated[str, Form(pattern=NO_NUL, max_length=64)],
    password: Annotated[str, Form(pattern=NO_NUL, max_length=1024)],
    csrf_token: Annotated[str, Form(pattern=NO_NUL, max_length=100)] = "",
) -> Response:
    ctx = context(request)
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not secrets.compare_digest(expected, csrf_token):
        return error_page(request, 403, "the login form expired: reload it and try again")
    client = request.client.host if request.client else "unknown"
    wait = ctx.throttle.retry_after(client)
    if wait > 0:  # progressive back-off, per client address and global; never a lock-out
        ctx.metrics.login("throttled")
        return _login_again(request, 429, "Too many failed logins: wait and try again.",
                            retry_after=wait)  # fmt: skip
    try:
        user = ctx.store.authenticate(username, password)
    except HashingBusy:
        ctx.metrics.login("busy")
        return _login_again(request, 503, "The service is busy: try again shortly.",
                            retry_after=1)  # fmt: skip
    if user is None:
        ctx.metrics.login("failed")
        ctx.throttle.failed(client)
        return _login_again(request, 401, "Wrong username or password.")
    ctx.throttle.succeeded(client)
    if user.mfa_enrolled:  # the password alone opens no session: the code is asked next
        # (counted once the code passes or fails: one login, one outcome)
        pending, _ = ctx.mfa.pending_cookie(user.id)
        resp = _see_other("/login/totp")
        resp.set_cookie(MFA_PENDING_COOKIE, pending, max_age=MFA_PENDING_MAX_AGE_S,
                        httponly=True, samesite="strict", secure=ctx.settings.cookie_secure,
                        path="/login")  # fmt: skip
        return resp
    ctx.metrics.login("ok")
    return start_session(request, user, mfa=False)


def start_session(request: Request, user: User, *, mfa: bool,
                  resp: Response | None = None) -> Response:  # fmt: skip
    """A new session for ``user`` after a complete login (``mfa``: with a second factor);
    the browser's previous session ends. ``resp`` defaults to a redirect home."""
    ctx = context(request)
    _end_previous_session(request)
    cookie, session = ctx.sessions.issue(user.id)
    ctx.store.open_session(user.id, session.sid, ctx.settings.session_max_age_s, mfa=mfa)
    if resp is None:
        resp = _see_other("/account/password" if user.must_change_password else "/")
    # no Max-Age: the cookie goes when the browser closes; the server ends the session
    # after session_idle_s unused or session_max_age_s in all
    resp.set_cookie(ctx.settings.session_cookie, cookie, httponly=True, samesite="strict",
                    secure=ctx.settings.cookie_secure, path="/")  # fmt: skip
    resp.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    resp.delete_cookie(MFA_PENDING_COOKIE, path="/login")
    return resp


def _login_again(
    request: Request, status: int, error: str, retry_after: float | None = None
) -> Response:
    token = secrets.token_urlsafe(24)
    page = _render(request, "login.html", None, status, login_csrf=token, error=error,
                   sso=_sso_name(request))  # fmt: skip
    _set_login_cookie(request, page, token)
    if retry_after is not None:
        page.headers["Retry-After"] = str(max(1, math.ceil(retry_after)))
    return page


def _end_previous_session(request: Request) -> None:
    """Logging in again replaces the browser's cookie: end the session it held too, or a
    copy of the old cookie would live on unseen until it expired."""
    ctx = context(request)
    old = request.cookies.get(ctx.settings.session_cookie)
    if not old:
        return
    with contextlib.suppress(AuthError):
        previous = ctx.sessions.read(old)
        user = ctx.store.session_user(previous.sid)
        if user is not None:
            ctx.store.close_session(previous.sid, user)


@router.post("/logout")
async def logout(request: Request) -> Response:
    """Ends the session server-side too: a copy of the cookie is refused from now on."""
    ctx = context(request)
    p: Principal | None = None
    with contextlib.suppress(LoginRequired):
        p = await authenticate(request)  # checks the CSRF token: no cross-site logout
    if p is not None and p.session is not None:
        ctx.store.close_session(p.session.sid, p.user)
    resp = _see_other("/login")
    resp.delete_cookie(ctx.settings.session_cookie, path="/", secure=ctx.settings.cookie_secure)
    return resp


@router.get("/")
def home(p: Annotated[Principal, Depends(require(ANY_ROLE))]) -> Response:
    if p.user.role in READ_ALERTS:
        return _see_other("/queue")
    return _see_other("/audit" if p.user.role is Role.AUDITOR else "/admin/users")


# ------------------------------------------------------------------ own password
@router.get("/account/password")
def password_form(request: Request, p: Anyone) -> Response:
    changed = request.query_params.get("changed") == "1"
    return _render(request, "password.html", p, changed=changed, min_chars=MIN_PASSWORD_CHARS)


@router.post("/account/password")
def change_password(
    request: Request, p: Anyone,
    current_password: Annotated[str, Form(pattern=NO_NUL, max_length=MAX_PASSWORD_CHARS)],
    new_password: Password,
    confirm_password: Annotated[str, Form(pattern=NO_NUL, max_length=MAX_PASSWORD_CHARS)],
) -> Response:  # fmt: skip
    """The user's own password; their other sessions end, this one stays."""
    try:
        if new_password != confirm_password:
            raise AuthError("the two new passwords differ")
        context(request).store.change_password(
            p.user, current_password, new_password, keep_sid=p.session.sid if p.session else None
        )
    except AuthError as exc:
        return _render(request, "password.html", p, 400, error=str(exc),
                       min_chars=MIN_PASSWORD_CHARS)  # fmt: skip
    return _see_other("/account/password?changed=1")


# ------------------------------------------------------------------ own sessions
@router.get("/account/sessions")
def sessions_page(request: Request, p: Member) -> Response:
    """The user's own live sessions (ASVS 3.3.4), this one marked; each can be ended."""
    ctx = context(request)
    ended = request.query_params.get("ended", "")
    notice = {"1": "Session ended.", "others": "Your other sessions have been ended."}.get(ended)
    sid = p.session.sid if p.session else None
    return _render(request, "sessions.html", p, sessions=ctx.store.sessions_of(p.user, sid),
                   notice=notice)  # fmt: skip


@router.post("/account/sessions/{handle}/end")
def end_session(handle: SessionHandle, request: Request, p: Member) -> Response:
    """End one of the user's sessions; ending this one is a logout. Another user's session
    is not found, like an unknown one."""
    ctx = context(request)
    ended = ctx.store.end_session(p.user, handle, p.session.sid if p.session else None)
    if not ended.current:
        return _see_other("/account/sessions?ended=1")
    resp = _see_other("/login")
    resp.delete_cookie(ctx.settings.session_cookie, path="/", secure=ctx.settings.cookie_secure)
    return resp


@router.post("/account/sessions/end-others")
def end_other_sessions(request: Request, p: Member) -> Response:
    context(request).store.end_other_sessions(p.user, p.session.sid if p.session else None)
    return _see_other("/account/sessions?ended=others")


# ------------------------------------------------------------------ queue
FILTER_KEYS = ("status", "severity", "category", "detector", "officer", "unit", "assignee",
               "date_from", "date_to", "sort")  # fmt: skip


def _date(value: str, end: bool) -> datetime | None:
    if not value:
        return None
    try:
        day = datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError as exc:
        raise InvalidTransition("dates are YYYY-MM-DD") from exc
    return datetime.combine(day.date(), time.max if end else time.min, tzinfo=UTC)


@router.get("/queue")
def queue(request: Request, p: Reader) -> Response:
    ctx = context(request)
    q = request.query_params
    raw = {k: q.get(k, "") for k in FILTER_KEYS}
    try:
        f = QueueFilter(
            status=raw["status"] or None, severity=raw["severity"] or None,
            category=raw["category"] or None, detector=raw["detector"] or None,
            officer=raw["officer"] or None, unit=raw["unit"] or None,
            assignee=raw["assignee"] or None,
            date_from=_date(raw["date_from"], end=False), date_to=_date(raw["date_to"], end=True),
            sort=raw["sort"] or "score", page=int(q.get("page", "1") or 1),
            per_page=ctx.settings.page_size,
        )  # fmt: skip
    except (ValidationError, ValueError) as exc:
        raise InvalidTransition("the filters are not valid") from exc
    result = ctx.store.queue(f, p.user)
    items = [present(a, masker_for(a, ctx.pseudonym)) for a in result.items]
    pages = max((result.total + f.per_page - 1) // f.per_page, 1)
    return _render(
        request, "queue.html", p, items=items, result=result, f=raw, page=f.page, pages=pages,
        statuses=[s.value for s in Status],
        severities=["low", "medium", "high", "critical"],
        query={k: v for k, v in raw.items() if v},
    )  # fmt: skip


@router.post("/queue/bulk-close")
async def bulk_close(request: Request, p: Decider) -> Response:
    ctx = context(request)
    form = await request.form()
    ids = [_aid(v) for v in form.getlist("alert_ids") if isinstance(v, str)][:500]
    duplicate_of = _aid(str(form.get("duplicate_of", "")))
    rationale = str(form.get("rationale", ""))[:5000].replace("\x00", "")
    if not ids or not duplicate_of:
        raise InvalidTransition("choose the duplicates and the alert they duplicate")
    ctx.store.bulk_close_duplicates(ids, duplicate_of, rationale, p.user)
    return _see_other("/queue")


# ------------------------------------------------------------------ alert
def _alert_page(request: Request, p: Principal, alert_id: str,
                revealed: set[str] | None = None, status: int = 200) -> Response:  # fmt: skip
    ctx = context(request)
    detail = alert_detail(ctx, alert_id, p.user, revealed)
    stored, _ = ctx.store.view_alert(alert_id, p.user, audit=False)
    links = path_links(stored, masker_for(stored, ctx.pseudonym, revealed))
    history = ctx.store.officer_alerts(detail.officer, p.user)
    users = [u for u in ctx.store.users() if u.role in READ_ALERTS and u.active] \
        if p.user.role in SUPERVISE else []  # fmt: skip
    return _render(
        request, "alert.html", p, status, a=detail, links=links,
        chart=link_chart(links, detail.officer),
        risk=risk_points(history), outcomes=[o.value for o in Outcome], users=users,
        closed=detail.status is Status.CLOSED,
        pending=detail.status is Status.PENDING_CLOSURE,
        max_days=ctx.settings.suppression_max_days,
    )  # fmt: skip


@router.get("/alerts/{alert_id}")
def alert_page(alert_id: str, request: Request, p: Reader) -> Response:
    return _alert_page(request, p, _aid(alert_id))


@router.post("/alerts/{alert_id}/reveal")
def reveal(
    alert_id: str, request: Request, p: Reader,
    subject: Annotated[str, Form(pattern=NO_NUL, max_length=128)], reason: Field_,
    reference: Annotated[str, Form(pattern=NO_NUL, max_length=64)] = "",
) -> Response:  # fmt: skip
    require_fresh_mfa_for_reveal(request, p, _aid(alert_id))
    value = reveal_subject(context(request), _aid(alert_id), subject, reason, reference, p.user)
    return _alert_page(request, p, _aid(alert_id), revealed={value})


@router.post("/alerts/{alert_id}/assign")
def assign(
    alert_id: str,
    request: Request,
    p: Decider,
    assignee: Annotated[str, Form(pattern=NO_NUL, max_length=64)],
) -> Response:
    assign_alert(context(request), _aid(alert_id), assignee, p.user)
    return _see_other(f"/alerts/{_aid(alert_id)}")


@router.post("/alerts/{alert_id}/review")
def review(alert_id: str, request: Request, p: Decider) -> Response:
    context(request).store.start_review(_aid(alert_id), p.user)
    return _see_other(f"/alerts/{_aid(alert_id)}")


@router.post("/alerts/{alert_id}/close")
def close(
    alert_id: str, request: Request, p: Decider,
    outcome: Annotated[str, Form(pattern=NO_NUL, max_length=32)], rationale: Field_,
    duplicate_of: Annotated[str, Form(pattern=NO_NUL, max_length=64)] = "",
    suppress: Annotated[str, Form(pattern=NO_NUL, max_length=16)] = "",
    suppress_subject: Annotated[str, Form(pattern=NO_NUL, max_length=128)] = "",
    suppress_days: Annotated[int, Form(ge=1, le=3650)] = 30,
) -> Response:  # fmt: skip
    try:
        body = CloseIn(
            outcome=outcome, rationale=rationale, duplicate_of=duplicate_of or None,
            suppress=suppress or None, suppress_subject=suppress_subject or None,
            suppress_days=suppress_days,
        )  # fmt: skip
    except ValidationError as exc:
        raise InvalidTransition("choose an outcome and give a rationale") from exc
    close_alert(context(request), _aid(alert_id), body, p.user)
    return _see_other("/queue")


@router.post("/alerts/{alert_id}/notes")
def note(alert_id: str, request: Request, p: Decider, text: Field_) -> Response:
    context(request).store.add_note(_aid(alert_id), text, p.user)
    return _see_other(f"/alerts/{_aid(alert_id)}")


@router.post("/alerts/{alert_id}/approve-closure")
def approve_closure(alert_id: str, request: Request, p: Supervisor) -> Response:
    context(request).store.approve_closure(_aid(alert_id), p.user)
    return _see_other(f"/alerts/{_aid(alert_id)}")


@router.post("/alerts/{alert_id}/reject-closure")
def reject_closure(alert_id: str, request: Request, p: Supervisor, reason: Field_) -> Response:
    context(request).store.reject_closure(_aid(alert_id), reason, p.user)
    return _see_other(f"/alerts/{_aid(alert_id)}")


@router.post("/alerts/{alert_id}/reopen")
def reopen(alert_id: str, request: Request, p: Supervisor, reason: Field_) -> Response:
    context(request).store.reopen(_aid(alert_id), reason, p.user)
    return _see_other(f"/alerts/{_aid(alert_id)}")


# ------------------------------------------------------------------ two-person reveals
def _reveal_rows(ctx: Context, viewer: User, requests: list[RevealRequest]) -> list[dict[str, Any]]:
    """Requests as the page shows them (:func:`reveal_request_view`), with the alert's title
    masked; requests on alerts no longer visible are not shown."""
    rows = []
    for r in requests:
        if (view := reveal_request_view(r, ctx, viewer)) is None:
            continue
        out, alert = view
        row = out.model_dump()
        row.update(title=present(alert, masker_for(alert, ctx.pseudonym))["title"],
                   decided_at=r.decided_at)  # fmt: skip
        rows.append(row)
    return rows


@router.get("/reveal-requests")
def reveal_requests(request: Request, p: Reader) -> Response:
    """Reveals of sensitive subjects awaiting a second person that the caller may decide
    (a supervisor who sees the alert; never their own), and the caller's own requests."""
    ctx = context(request)
    return _render(
        request, "reveal_requests.html", p,
        pending=_reveal_rows(ctx, p.user, ctx.store.reveal_requests(p.user)),
        mine=_reveal_rows(ctx, p.user, ctx.store.own_reveal_requests(p.user)),
    )  # fmt: skip


@router.post("/reveal-requests/{request_id}/approve")
def approve_reveal(request_id: RowId, request: Request, p: Supervisor) -> Response:
    """Approve: the requester may then reveal the person once (on the alert page)."""
    require_fresh_mfa_to_approve(request, p, request_id)
    context(request).store.decide_reveal(request_id, True, p.user)
    return _see_other("/reveal-requests")


@router.post("/reveal-requests/{request_id}/decline")
def decline_reveal(request_id: RowId, request: Request, p: Supervisor, reason: Field_) -> Response:
    context(request).store.decide_reveal(request_id, False, p.user, reason)
    return _see_other("/reveal-requests")


# ------------------------------------------------------------------ suppressions
@router.get("/suppressions")
def suppressions(request: Request, p: Reader) -> Response:
    ctx = context(request)
    rows = [suppression_out(s, ctx) for s in ctx.store.suppressions(p.user)]
    return _render(request, "suppressions.html", p, suppressions=rows)


@router.post("/suppressions/{sup_id}/approve")
def approve_suppression(sup_id: RowId, request: Request, p: Supervisor) -> Response:
    context(request).store.approve_suppression(sup_id, p.user)
    return _see_other("/suppressions")


@router.post("/suppressions/{sup_id}/remove")
def remove_suppression(sup_id: RowId, request: Request, p: Supervisor) -> Response:
    context(request).store.remove_suppression(sup_id, p.user)
    return _see_other("/suppressions")


# ------------------------------------------------------------------ audit
@router.get("/audit")
def audit(request: Request, p: Auditor) -> Response:
    ctx = context(request)
    after = request.query_params.get("after", "0")
    # ASCII digits only ("²".isdigit() is true) and within the column (BIGINT)
    after_seq = int(after) if after.isascii() and after.isdigit() and len(after) <= 18 else 0
    ctx.store.record(p.user, "audit.viewed", {"after": after_seq})
    entries = ctx.store.audit_entries(after_seq, 100)
    try:
        rows = ctx.store.verify_audit(checkpoint_dir(ctx))
        verified: tuple[bool, str] = (True, f"{rows} rows verify")
    except TriageError as exc:  # a broken chain, or a checkpoint that is not ours
        verified = (False, str(exc))
    return _render(request, "audit.html", p, entries=entries, verified=verified,
                   next_after=entries[-1].seq if len(entries) == 100 else None)  # fmt: skip


# ------------------------------------------------------------------ admin
def _users_page(request: Request, p: Principal, status: int = 200, **extra: Any) -> Response:
    ctx: Context = context(request)
    return _render(request, "users.html", p, status, users=ctx.store.users(), **extra)


@router.get("/admin/users")
def users(request: Request, p: Admin) -> Response:
    return _users_page(request, p)


@router.post("/admin/users")
def create_user(
    request: Request, p: Admin,
    username: Annotated[str, Form(max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")],
    role: Annotated[Role, Form()],
    staff_id: Annotated[str, Form(pattern=NO_NUL, min_length=1, max_length=128)],
    password: Annotated[str, Form(pattern=NO_NUL, max_length=MAX_PASSWORD_CHARS)] = "",
    line_manager: Annotated[str, Form(pattern=NO_NUL, max_length=128)] = "",
    associates: Annotated[str, Form(pattern=NO_NUL, max_length=5000)] = "",
) -> Response:  # fmt: skip
    """A new account; a service account (a machine's) gets no password, whatever is typed."""
    ids = [a.strip() for a in associates.replace("\n", ",").split(",") if a.strip()]
    if role is not Role.SERVICE and len(password) < MIN_PASSWORD_CHARS:
        return _users_page(request, p, 400, error=f"a first password of at least "
                           f"{MIN_PASSWORD_CHARS} characters is needed")  # fmt: skip
    try:
        context(request).store.create_user(username, password, role, staff_id,
                                           line_manager=line_manager or None,
                                           associates=ids, actor=p.user,
                                           must_change_password=True)  # fmt: skip
    except TriageError as exc:
        return _users_page(request, p, 400, error=str(exc))
    return _see_other("/admin/users")


@router.post("/admin/users/{user_id}/tokens")
def create_token(
    user_id: RowId,
    request: Request,
    p: Admin,
    name: Annotated[str, Form(pattern=NO_NUL, min_length=1, max_length=128)],
    scope: Annotated[TokenScope, Form()] = TokenScope.METRICS,
) -> Response:
    """A metrics token for the account, or a service token for a service account (admins
    issue no full tokens: they act as the owner)."""
    token = context(request).store.create_token(user_id, name, p.user, scope)
    return _users_page(request, p, new_token=token)


@router.post("/admin/users/{user_id}/approve")
def approve_user(user_id: RowId, request: Request, p: Admin) -> Response:
    """Four eyes: a second admin activates a new admin or head-of-unit account."""
    context(request).store.approve_user(user_id, p.user)
    return _see_other("/admin/users")


@router.post("/admin/users/{user_id}/password")
def reset_password(user_id: RowId, request: Request, p: Admin, password: Password) -> Response:
    """A temporary password; the user's sessions end and they must change it at login."""
    if user_id == p.user.id:
        raise InvalidTransition("change your own password on the password page")
    try:
        user = context(request).store.reset_password(user_id, password, p.user)
    except AuthError as exc:
        return _users_page(request, p, 400, error=str(exc))
    return _users_page(request, p, notice=f"Password of {user.username} reset; they must "
                       "change it at their next login.")  # fmt: skip


@router.post("/admin/users/{user_id}/disable")
def disable_user(user_id: RowId, request: Request, p: Admin) -> Response:
    if user_id == p.user.id:
        raise InvalidTransition("an admin cannot disable their own account")
    context(request).store.set_active(user_id, False, p.user)
    return _see_other("/admin/users")
