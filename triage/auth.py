"""Who is calling and may they: one dependency per role set, CSRF on every cookie-authenticated
change, Bearer tokens for integrations.

A request is authenticated by ``Authorization: Bearer <token>`` or by the session cookie. A
cookie-authenticated POST/PUT/PATCH/DELETE must carry the session's CSRF token (form field
``csrf_token`` or header ``X-CSRF-Token``); Bearer calls need none (no ambient credential).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from fastapi import Request

from triage.base import Role, User
from triage.context import Context
from triage.exceptions import AuthError, Forbidden
from triage.security import Session, csrf_ok

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class LoginRequired(AuthError):
    """No valid credentials; pages redirect to the login form, the API answers 401."""


@dataclass(frozen=True)
class Principal:
    user: User
    session: Session | None  # None when authenticated by an API token

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
        user = ctx.store.user_for_token(header[7:].strip())
        if user is None:
            raise LoginRequired("bad token")
        return Principal(user, None)
    cookie = request.cookies.get(ctx.settings.cookie_name)
    if not cookie:
        raise LoginRequired("not logged in")
    try:
        session = ctx.sessions.read(cookie)
    except AuthError as exc:
        raise LoginRequired(str(exc)) from exc
    user = ctx.store.get_user(session.user_id)
    if user is None:
        raise LoginRequired("account disabled")
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


def require(roles: frozenset[Role]) -> Callable[[Request], Awaitable[Principal]]:
    """A dependency admitting only ``roles`` (everyone else gets 403, anonymous 401)."""

    async def dependency(request: Request) -> Principal:
        principal = await authenticate(request)
        if principal.user.role not in roles:
            raise Forbidden(f"role {principal.user.role} may not do this")
        return principal

    dependency.__name__ = "require_" + "_".join(sorted(r.value for r in roles))
    return dependency
