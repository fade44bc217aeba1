"""Who is calling and may they: one dependency per role set, CSRF on every cookie-authenticated
change, Bearer tokens for integrations.

A request is authenticated by ``Authorization: Bearer <token>`` or by the session cookie. A
cookie is good only while its session is live in the store (logout, disabling the account
and a password change end it). A cookie-authenticated POST/PUT/PATCH/DELETE must carry the
session's CSRF token (form field ``csrf_token`` or header ``X-CSRF-Token``); Bearer calls
need none (no ambient credential).

A ``metrics`` token passes only :func:`require_metrics`; every :func:`require` refuses it. A
``service`` token (a service account's) passes only the dependencies built with
``service=True`` (reading alerts through the API); a service account has no other way in.
A user who must change their password (session or full token) passes only the dependencies
built with ``password_change=True`` (the password page, logout).

Second factor: a session of a role in ``mfa_roles`` (admin and head of unit by default)
that has not proved a second factor passes only the dependencies built with
``mfa_setup=True`` (enrolment) or ``password_change=True`` (the account's set-up pages);
pages send it to the enrolment page, the API answers 403. An API token is issued by its
owner from such a session, so it carries the factor its owner proved.
:func:`require_fresh_mfa` asks for a recent one before a sensitive act.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from fastapi import Request

from triage.base import ANY_ROLE, Role, TokenScope, User
from triage.context import Context
from triage.exceptions import AuthError, Forbidden, NotFound
from triage.mfa import is_sensitive
from triage.security import Session, csrf_ok

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class LoginRequired(AuthError):
    """No valid credentials; pages redirect to the login form, the API answers 401."""


class PasswordChangeRequired(Forbidden):
    """An admin reset the password: pages redirect to the change form, the API answers 403."""


class SecondFactorRequired(Forbidden):
    """The role needs a second factor and the session has none: pages redirect to the
    enrolment page, the API answers 403."""


class FreshSecondFactorRequired(Forbidden):
    """A sensitive act needs a second factor proved in the last ``mfa_fresh_s``: pages
    redirect to the confirmation form (then back to ``next_url``), the API answers 403."""

    def __init__(self, message: str, next_url: str = "/") -> None:
        super().__init__(message)
        self.next_url = next_url


@dataclass(frozen=True)
class Principal:
    user: User
    session: Session | None  # None when authenticated by an API token
    scope: TokenScope = TokenScope.FULL  # a session acts with its user's role
    mfa_at: datetime | None = None  # when the session last proved a second factor

    @property
    def csrf(self) -> str:
        return self.session.csrf if self.session else ""


def context(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx


async def authenticate(request: Request) -> Principal:
    ctx = context(request)
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        resolved = ctx.store.resolve_token(header[7:].strip())
        if resolved is None:
            raise LoginRequired("bad token")
        return Principal(resolved[0], None, resolved[1])
    cookie = request.cookies.get(ctx.settings.session_cookie)
    if not cookie:
        raise LoginRequired("not logged in")
    try:
        session = ctx.sessions.read(cookie)
    except AuthError as exc:
        raise LoginRequired(str(exc)) from exc
    found = ctx.store.session_login(session.sid)
    if found is None or found[0].id != session.user_id:
        raise LoginRequired("session ended")  # logged out, revoked, expired or disabled
    principal = Principal(found[0], session, mfa_at=found[1])
    if request.method not in SAFE_METHODS:
        given = request.headers.get("x-csrf-token")
        if given is None and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")
        ):
            form = await request.form()
            value = form.get("csrf_token")
            given = value if isinstance(value, str) else None
        if not csrf_ok(session, given):
            raise Forbidden("missing or wrong CSRF token")
    return principal


def _check(
    request: Request, principal: Principal, roles: frozenset[Role], password_change: bool,
    mfa_setup: bool = False, service: bool = False,
) -> Principal:  # fmt: skip
    if principal.scope is TokenScope.SERVICE:
        if not service or principal.user.role is not Role.SERVICE:
            raise Forbidden("a service token may only read alerts (GET /api/alerts)")
        return principal
    if principal.scope is not TokenScope.FULL:
        raise Forbidden("this token may only read /metrics")
    if principal.user.role is Role.SERVICE:  # no session, no full token: belt and braces
        raise Forbidden("a service account acts only through its service tokens")
    # a token does not skip the forced password change: after a reset the account may be in
    # someone else's hands, and the reset has revoked its tokens anyway
    if principal.user.must_change_password and not password_change:
        raise PasswordChangeRequired("change your password first")
    if (
        principal.session is not None
        and principal.mfa_at is None
        and not (mfa_setup or password_change)
        and context(request).mfa.required(principal.user)
    ):
        raise SecondFactorRequired("set up your second factor (an authenticator app) first")
    if principal.user.role not in roles:
        raise Forbidden(f"role {principal.user.role} may not do this")
    return principal


def require(
    roles: frozenset[Role], *, password_change: bool = False, mfa_setup: bool = False,
    service: bool = False,
) -> Callable[[Request], Awaitable[Principal]]:  # fmt: skip
    """A dependency admitting only ``roles`` with a full credential (everyone else gets 403,
    anonymous 401). ``password_change`` admits a session that must change its password or
    still lacks its second factor; ``mfa_setup`` only the latter (the enrolment pages);
    ``service`` also a service account's ``service`` token (the read-only alert API)."""

    async def dependency(request: Request) -> Principal:
        return _check(
            request, await authenticate(request), roles, password_change, mfa_setup, service
        )

    dependency.__name__ = "require_" + "_".join(sorted(r.value for r in roles))
    if service:
        dependency.__name__ += "_or_service"
    return dependency


async def require_metrics(request: Request) -> Principal:
    """``/metrics``: a ``metrics`` token, or any full credential of any role."""
    principal = await authenticate(request)
    if principal.scope is TokenScope.METRICS:
        return principal
    return _check(request, principal, ANY_ROLE, password_change=False)


def require_fresh_mfa(request: Request, principal: Principal, next_url: str = "/") -> None:
    """Refuse (and audit) unless ``principal`` is a session whose second factor was proved
    in the last ``mfa_fresh_s``. An API token never passes: a sensitive act is done by a
    person at a browser. Who calls it: the reveal routes for sensitive alerts and the
    approval of two-person reveals (:func:`require_fresh_mfa_to_approve`)."""
    ctx = context(request)
    if principal.session is not None and ctx.mfa.fresh(principal.mfa_at, ctx.store.clock()):
        return
    ctx.store.record(principal.user, "mfa.step_up_required", {"path": request.url.path[:256]})
    raise FreshSecondFactorRequired(
        "this needs a second factor confirmed in the last "
        f"{ctx.mfa.fresh_s // 60} minutes, at a browser session", next_url,
    )  # fmt: skip


def require_fresh_mfa_to_approve(request: Request, principal: Principal, request_id: int) -> None:
    """:func:`require_fresh_mfa` before approving a two-person reveal (every one is of a
    sensitive subject) that ``principal`` may decide. Any other request (unknown, hidden,
    one's own, decided) passes through: the store refuses it as it would anyway."""
    ctx = context(request)
    if any(r.id == request_id for r in ctx.store.reveal_requests(principal.user)):
        require_fresh_mfa(request, principal, next_url="/reveal-requests")


def require_fresh_mfa_for_reveal(request: Request, principal: Principal, alert_id: str) -> None:
    """:func:`require_fresh_mfa` when revealing a person of ``alert_id`` is sensitive
    (:func:`triage.mfa.is_sensitive`). An alert the caller cannot see passes through: the
    reveal itself refuses it, audited, without saying whether it exists."""
    ctx = context(request)
    try:
        alert, _ = ctx.store.view_alert(alert_id, principal.user, audit=False)
    except NotFound:
        return
    if is_sensitive(alert):
        require_fresh_mfa(request, principal, next_url=f"/alerts/{quote(alert_id, safe='')}")
