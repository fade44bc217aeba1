"""Second factor and single sign-on, as pages (no JavaScript) and API routes.

* ``/login/totp``: the second step of a password login for an account with TOTP; the
  half-way cookie proves the password only, and no session exists until the code passes.
  Wrong codes are throttled like wrong passwords, per client address and per account.
* ``/account/mfa``: enrol an authenticator app (secret and ``otpauth://`` URI shown once,
  confirmed by a first code); ``/account/mfa/verify``: confirm a code again before a
  sensitive act (step-up).
* ``/admin/users/{id}/mfa-reset`` (and ``/approve``), ``/api/users/{id}/mfa-reset``: a
  lost authenticator is removed by two admins, the second approving the first's request.
* ``/login/oidc`` and its callback: the force's identity provider (:mod:`triage.oidc`).
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from triage.api import Admin as ApiAdmin
from triage.api import Ctx, RowId, UserOut, _user_out
from triage.auth import Principal, context, require
from triage.base import ANY_ROLE, NO_NUL, User
from triage.exceptions import NotFound, TriageError
from triage.mfa import PENDING_COOKIE
from triage.oidc import CALLBACK_PATH, OidcRefused
from triage.pages import Admin, _render, _see_other, _users_page, error_page, start_session

api = APIRouter(prefix="/api", tags=["accounts"])
pages = APIRouter(include_in_schema=False)

#: enrolment pages: a session that still lacks the second factor its role needs may use them
Enrolling = Annotated[Principal, Depends(require(ANY_ROLE, mfa_setup=True))]
Member = Annotated[Principal, Depends(require(ANY_ROLE))]
Code = Annotated[str, Form(pattern=NO_NUL, max_length=16)]
Csrf = Annotated[str, Form(pattern=NO_NUL, max_length=100)]


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _throttled(request: Request, user: User) -> float:
    """Seconds before another code may be tried: the login throttle, keyed by the client
    address and by the account (a guesser spread over many addresses is slowed too)."""
    t = context(request).throttle
    return max(t.retry_after(_client(request)), t.retry_after(f"mfa:{user.id}"))


def _check_code(request: Request, user: User, code: str, purpose: str, sid: str | None) -> bool:
    """Whether ``code`` is ``user``'s current TOTP code, not used before; throttled and
    audited. ``sid``: a session proving a factor now (step-up) is marked."""
    ctx = context(request)
    code = code.strip().replace(" ", "")
    secret, _ = ctx.store.totp_ciphertexts(user.id)
    step = ctx.mfa.step_of(secret, code)
    if step is None:
        ctx.store.mfa_failed(user, purpose, "wrong" if ctx.mfa.well_formed(code) else "malformed")
        ok = False
    else:
        ok = ctx.store.totp_use(user, step, purpose=purpose, sid=sid)
    for key in (_client(request), f"mfa:{user.id}"):
        if ok:
            ctx.throttle.succeeded(key)
        else:
            ctx.throttle.failed(key)
    ctx.metrics.second_factor(purpose, "ok" if ok else "failed")
    return ok


def _local(next_url: str) -> str:
    """A redirect target on this site only (``/x``, never ``//host`` or ``/\\host``)."""
    if next_url.startswith("/") and not next_url.startswith(("//", "/\\")) and len(next_url) < 512:
        return next_url
    return "/"


# ------------------------------------------------------------------ login, second step
def _pending_user(request: Request) -> tuple[User, str] | None:
    ctx = context(request)
    pending = ctx.mfa.read_pending(request.cookies.get(PENDING_COOKIE, ""))
    if pending is None:
        return None
    user = ctx.store.get_user(pending.user_id)
    if user is None or not user.mfa_enrolled:
        return None
    return user, pending.csrf


def _totp_page(request: Request, csrf: str, status: int = 200, error: str | None = None,
               retry_after: float | None = None) -> Response:  # fmt: skip
    page = _render(request, "totp.html", None, status, step_csrf=csrf, error=error)
    if retry_after is not None:
        page.headers["Retry-After"] = str(max(1, int(retry_after + 0.999)))
    return page


@pages.get("/login/totp")
def totp_form(request: Request) -> Response:
    found = _pending_user(request)
    if found is None:
        return _see_other("/login")
    return _totp_page(request, found[1])


@pages.post("/login/totp")
def totp_login(request: Request, code: Code, csrf_token: Csrf = "") -> Response:
    """The code after the password: a session (with its second factor) only when it passes."""
    ctx = context(request)
    found = _pending_user(request)
    if found is None:
        return _see_other("/login")  # expired (5 minutes) or forged: the password again
    user, csrf = found
    if not secrets.compare_digest(csrf, csrf_token):
        return error_page(request, 403, "the form expired: log in again")
    wait = _throttled(request, user)
    if wait > 0:
        ctx.metrics.login("throttled")
        ctx.metrics.second_factor("login", "throttled")
        return _totp_page(request, csrf, 429, "Too many wrong codes: wait and try again.", wait)
    if not _check_code(request, user, code, "login", None):
        ctx.metrics.login("failed")
        return _totp_page(request, csrf, 401, "That code is not right (or was used already).")
    ctx.metrics.login("ok")
    return start_session(request, user, mfa=True)


# ------------------------------------------------------------------ enrolment
def _mfa_page(request: Request, p: Principal, status: int = 200, **data: object) -> Response:
    ctx = context(request)
    return _render(request, "mfa.html", p, status, required=ctx.mfa.required(p.user),
                   has_factor=p.mfa_at is not None, **data)  # fmt: skip


@pages.get("/account/mfa")
def mfa_status(request: Request, p: Enrolling) -> Response:
    return _mfa_page(request, p, enrolled_now=request.query_params.get("enrolled") == "1")


@pages.post("/account/mfa/enrol")
def mfa_enrol(request: Request, p: Enrolling) -> Response:
    """A new secret, shown once with its ``otpauth://`` URI; kept (encrypted) as pending
    until a code from it confirms it."""
    ctx = context(request)
    secret, sealed, uri = ctx.mfa.new_secret(p.user.username)
    try:
        ctx.store.totp_begin(p.user, sealed)
    except TriageError as exc:
        return _mfa_page(request, p, 409, error=str(exc))
    return _mfa_page(request, p, secret=secret, uri=uri)


@pages.post("/account/mfa/confirm")
def mfa_confirm(request: Request, p: Enrolling, code: Code) -> Response:
    """The first code from the new secret: it becomes the account's second factor, and this
    session counts as having proved it."""
    ctx = context(request)
    if _throttled(request, p.user) > 0:
        ctx.metrics.second_factor("enrolment", "throttled")
        return _mfa_page(request, p, 429, error="Too many wrong codes: wait and try again.")
    _, pending = ctx.store.totp_ciphertexts(p.user.id)
    step = ctx.mfa.step_of(pending, code.strip().replace(" ", ""))
    if step is None:
        ctx.metrics.second_factor("enrolment", "failed")
        ctx.store.mfa_failed(p.user, "enrolment", "wrong")
        for key in (_client(request), f"mfa:{p.user.id}"):
            ctx.throttle.failed(key)
        error = ("That code is not right: check the phone's clock, or start again."
                 if pending else "Start the enrolment first.")  # fmt: skip
        return _mfa_page(request, p, 400, error=error)
    try:
        ctx.store.totp_confirm(p.user, step, p.session.sid if p.session else None)
    except TriageError as exc:
        return _mfa_page(request, p, 409, error=str(exc))
    ctx.metrics.second_factor("enrolment", "ok")
    return _see_other("/account/mfa?enrolled=1")


@pages.get("/account/mfa/verify")
def step_up_form(request: Request, p: Member) -> Response:
    """Confirm a code again before a sensitive act (a reveal of a covert, VIP, canary or
    vulnerable person, or a restricted alert's)."""
    return _render(request, "mfa_verify.html", p, next_url=_local(request.query_params.get(
        "next", "/")), sso=context(request).oidc is not None)  # fmt: skip


@pages.post("/account/mfa/verify")
def step_up(
    request: Request, p: Member, code: Code,
    next_url: Annotated[str, Form(pattern=NO_NUL, max_length=512)] = "/",
) -> Response:  # fmt: skip
    target = _local(next_url)
    sso = context(request).oidc is not None
    if not p.user.mfa_enrolled:
        return _render(request, "mfa_verify.html", p, 409, next_url=target, sso=sso,
                       error="Enrol an authenticator app first (Second factor page).")  # fmt: skip
    wait = _throttled(request, p.user)
    if wait > 0:
        context(request).metrics.second_factor("step_up", "throttled")
        return _render(request, "mfa_verify.html", p, 429, next_url=target, sso=sso,
                       error="Too many wrong codes: wait and try again.")  # fmt: skip
    if not _check_code(request, p.user, code, "step_up", p.session.sid if p.session else None):
        return _render(request, "mfa_verify.html", p, 400, next_url=target, sso=sso,
                       error="That code is not right (or was used already).")  # fmt: skip
    return _see_other(target)


# ------------------------------------------------------------------ reset by two admins
@pages.post("/admin/users/{user_id}/mfa-reset")
def request_reset(user_id: RowId, request: Request, p: Admin) -> Response:
    """First admin: ask for the account's second factor to be removed (a lost phone)."""
    try:
        user = context(request).store.request_mfa_reset(user_id, p.user)
    except TriageError as exc:
        return _users_page(request, p, 400, error=str(exc))
    return _users_page(request, p, notice=f"Reset of {user.username}'s second factor asked "
                       "for: a second admin must approve it.")  # fmt: skip


@pages.post("/admin/users/{user_id}/mfa-reset/approve")
def approve_reset(user_id: RowId, request: Request, p: Admin) -> Response:
    """Second admin: the factor goes, with the account's sessions and tokens."""
    user = context(request).store.approve_mfa_reset(user_id, p.user)
    return _users_page(request, p, notice=f"Second factor of {user.username} removed; they "
                       "enrol again at their next login.")  # fmt: skip


@api.post("/users/{user_id}/mfa-reset", response_model=UserOut)
def api_request_reset(user_id: RowId, ctx: Ctx, p: ApiAdmin) -> UserOut:
    """Ask for an account's second factor to be reset; a second admin approves."""
    return _user_out(ctx.store.request_mfa_reset(user_id, p.user))


@api.post("/users/{user_id}/mfa-reset/approve", response_model=UserOut)
def api_approve_reset(user_id: RowId, ctx: Ctx, p: ApiAdmin) -> UserOut:
    """Approve another admin's reset: the factor, sessions and tokens of the account end."""
    return _user_out(ctx.store.approve_mfa_reset(user_id, p.user))


# ------------------------------------------------------------------ single sign-on
def _sso_refused(request: Request, exc: OidcRefused) -> Response:
    ctx = context(request)
    issuer = ctx.oidc.issuer if ctx.oidc else ""
    ctx.store.oidc_refused(exc.why, issuer, exc.username)
    ctx.metrics.login("failed")
    return _render(request, "error.html", None, 403, status=403, message=exc.message)


@pages.get("/login/oidc")
async def oidc_start(request: Request) -> Response:
    """Off to the force's identity provider (404 when none is configured)."""
    ctx = context(request)
    if ctx.oidc is None:
        raise NotFound("no single sign-on here")
    redirect_uri = ctx.oidc.settings.redirect_uri or str(request.url_for("oidc_callback"))
    try:
        return await ctx.oidc.redirect(request, redirect_uri)
    except OidcRefused as exc:
        return _sso_refused(request, exc)


@pages.get(CALLBACK_PATH, name="oidc_callback")
async def oidc_callback(request: Request) -> Response:
    """Back from the provider: every check passed (state, PKCE, the ID token's signature,
    issuer, audience, expiry, nonce, the second factor, the account) or the login is
    refused and audited."""
    ctx = context(request)
    if ctx.oidc is None:
        raise NotFound("no single sign-on here")
    try:
        who = await ctx.oidc.identity(request)
    except OidcRefused as exc:
        return _sso_refused(request, exc)
    create = who.staff_id if ctx.oidc.settings.create_analysts else None
    if ctx.oidc.settings.create_analysts and create is None:
        return _sso_refused(request, OidcRefused(
            "no_staff_id", "the sign-in service did not give your staff id", who.username))
    try:
        user = ctx.store.oidc_account(who.username, who.subject, ctx.oidc.issuer,
                                      create_with_staff_id=create)  # fmt: skip
    except TriageError as exc:
        ctx.metrics.login("failed")
        return _render(request, "error.html", None, 403, status=403, message=str(exc))
    ctx.metrics.login("ok")
    # the provider's redirect is a cross-site navigation: a SameSite=Strict cookie set now
    # is not sent on a redirect in the same navigation, so a page at this site moves on
    page = _render(request, "signed_in.html", None, target="/")
    return start_session(request, user, mfa=True, resp=page)

