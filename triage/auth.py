"""Who is calling and may they: one dependency per role set, CSRF on every cookie-authenticated
change, Bearer tokens for integrations.

A request is authenticated by ``Authorization: Bearer <token>`` or by the session cookie. A
cookie is good only while its session is live in the store (logout, disabling the account
and a password change end it). A cookie-authenticated POST/PUT/PATCH/DELETE must carry the
session's CSRF token (form field ``csrf_token`` or header ``X-CSRF-Token``); Bearer calls
need none (no ambient credential).

A ``metrics`` token passes only :func:`require_metrics`; every :func:`require` refuses it. A
user who must change their password (session or full token) passes only the dependencies
built with ``password_change=True`` (the password page, logout).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from fastapi import Request

from triage.base import ANY_ROLE, Role, TokenScope, User
from triage.context import Context
from triage.exceptions import AuthError, Forbidden
from triage.security import Session, csrf_ok

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class LoginRequired(AuthError):
    """No valid credentials; pages redirect to the login form, the API answers 401."""


class PasswordChangeRequired(Forbidden):
    """An admin reset the password: pages redirect to the change form, the API answers 403."""


@dataclass(frozen=True)
class Principal:
    user: User
    session: Session | None  # None when authenticated by an API token
    scope: TokenScope = TokenScope.FULL  # a session acts with its user's role

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
    user = ctx.store.session_user(session.sid)
    if user is None or user.id != session.user_id:
        raise LoginRequired("session ended")  # logged out, revoked, expired or disabled
    principal = Principal(user, session)
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


def _check(principal: Principal, roles: frozenset[Role], password_change: bool) -> Principal:
    if principal.scope is not TokenScope.FULL:
        raise Forbidden("this token may only read /metrics")
    # a token does not skip the forced password change: after a reset the account may be in
    # someone else's hands, and the reset has revoked its tokens anyway
    if principal.user.must_change_password and not password_change:
        raise PasswordChangeRequired("change your password first")
    if principal.user.role not in roles:
        raise Forbidden(f"role {principal.user.role} may not do this")
    return principal


def require(
    roles: frozenset[Role], *, password_change: bool = False
) -> Callable[[Request], Awaitable[Principal]]:
    """A dependency admitting only ``roles`` with a full credential (everyone else gets 403,
    anonymous 401). ``password_change`` admits a session that must change its password."""

    async def dependency(request: Request) -> Principal:
        return _check(await authenticate(request), roles, password_change)

    dependency.__name__ = "require_" + "_".join(sorted(r.value for r in roles))
    return dependency


async def require_metrics(request: Request) -> Principal:
    """``/metrics``: a ``metrics`` token, or any full credential of any role."""
    principal = await authenticate(request)
    if principal.scope is TokenScope.METRICS:
        return principal
    return _check(principal, ANY_ROLE, password_change=False)
