"""The triage service: ``create_app(settings, store)`` gives the FastAPI app (JSON API under
``/api``, pages elsewhere, ``/healthz``, ``/readyz``, ``/metrics``, ``/openapi.json``).

Every page and API endpoint requires a login or token and checks the caller's role; only
the probes (``/healthz``, ``/readyz``), the login form and the stylesheet are open. The
OpenAPI document needs a login or full token of any role (it maps the attack surface, and
integrators have a token anyway); there is no Swagger UI. Responses carry a strict
Content-Security-Policy (no script at all), so even a text that escaped escaping could not
run.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from importlib.resources import files
from pathlib import Path
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from starlette.middleware.sessions import SessionMiddleware
from starlette.templating import Jinja2Templates

from probity.settings import Settings
from triage import api, investigate, oversight, pages, signin
from triage.auth import (
    FreshSecondFactorRequired,
    LoginRequired,
    PasswordChangeRequired,
    Principal,
    SecondFactorRequired,
    require,
    require_metrics,
)
from triage.base import ANY_ROLE, Role
from triage.context import Context
from triage.exceptions import (
    ApprovalPending,
    AuthError,
    Forbidden,
    InvalidTransition,
    NotFound,
    QuotaExceeded,
    TriageError,
)
from triage.guard import RequestGuard
from triage.metrics import QueueMetrics, RequestCounter
from triage.mfa import SecondFactor
from triage.oidc import STATE_COOKIE as OIDC_STATE_COOKIE
from triage.oidc import STATE_MAX_AGE_S as OIDC_STATE_MAX_AGE_S
from triage.oidc import OidcLogin
from triage.security import (
    HashingBusy,
    Pseudonymiser,
    SessionCodec,
    derive_key,
    limit_hashing,
)
from triage.store import Store
from triage.throttle import LoginThrottle

log = logging.getLogger(__name__)

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def create_app(
    settings: Settings, store: Store, *, registry: CollectorRegistry | None = None
) -> FastAPI:
    """Build the service over a migrated ``store``. Without ``settings.secret_key`` a random
    key is used: sessions and pseudonyms then change at every restart (fine for a demo)."""
    if settings.secret_key is not None:
        secret = settings.secret_key.get_secret_value().encode()
    else:
        log.warning("PROBITY_SECRET_KEY unset: sessions and pseudonyms last one process only")
        secret = secrets.token_bytes(32)
    env = Environment(
        loader=FileSystemLoader(str(files("triage") / "templates")),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["seg"] = url_segment
    registry = registry or CollectorRegistry()
    limit_hashing(settings.triage.max_concurrent_hashes)
    headers = dict(SECURITY_HEADERS)
    if settings.triage.cookie_secure:  # served over HTTPS: browsers keep to it
        headers["Strict-Transport-Security"] = (
            f"max-age={settings.triage.hsts_max_age_s}; includeSubDomains"
        )
    t = settings.triage
    throttle = LoginThrottle(
        client_free=t.login_client_free_failures, global_free=t.login_global_free_failures,
        window_s=t.login_window_s, base_s=t.login_backoff_base_s, max_s=t.login_backoff_max_s,
        global_max_s=t.login_global_backoff_max_s,
    )  # fmt: skip
    checkpoint_dir = Path(settings.triage.audit_checkpoint_dir) if store.has_audit_key else None
    mfa_key = (
        settings.triage.mfa_key.get_secret_value().encode()
        if settings.triage.mfa_key is not None
        else derive_key(secret, "mfa")
    )
    oidc = OidcLogin(settings.triage.oidc) if settings.triage.oidc.enabled else None
    ctx = Context(
        settings=settings.triage,
        store=store,
        sessions=SessionCodec(derive_key(secret, "session"), settings.triage.session_max_age_s),
        pseudonym=Pseudonymiser(derive_key(secret, "pseudonym")),
        templates=Jinja2Templates(env=env),
        registry=registry,
        throttle=throttle,
        metrics=QueueMetrics(
            registry,
            store,
            checkpoint_dir=checkpoint_dir,
            audit_verify_interval_s=settings.triage.audit_verify_interval_s,
        ),
        mfa=SecondFactor(
            mfa_key, issuer=t.totp_issuer, fresh_s=t.mfa_fresh_s,
            roles=frozenset(Role(r) for r in t.mfa_roles),
        ),
        oidc=oidc,
    )
    app = FastAPI(
        title="Probity ACU queue",
        version="1",
        description="Triage of integrity-risk alerts. Every endpoint needs a session or a "
        "Bearer token and checks the caller's role.",
        docs_url=None,  # the Swagger UI loads scripts from a CDN: not on this service
        redoc_url=None,
        openapi_url=None,  # served below, behind authentication
    )
    app.state.ctx = ctx
    if oidc is not None:  # the round trip's state, nonce and PKCE verifier, signed
        app.add_middleware(
            SessionMiddleware, secret_key=derive_key(secret, "oidc-state").hex(),
            session_cookie=OIDC_STATE_COOKIE, max_age=OIDC_STATE_MAX_AGE_S, path="/login/oidc",
            same_site="lax", https_only=settings.triage.cookie_secure,
        )  # fmt: skip
    app.add_middleware(RequestGuard, max_body_bytes=settings.triage.max_body_bytes)
    app.mount("/static", StaticFiles(directory=str(files("triage") / "static")), name="static")
    app.include_router(api.router)
    app.include_router(pages.router)
    app.include_router(investigate.api)
    app.include_router(investigate.pages)
    oversight.setup(app, settings, store, registry)
    app.include_router(signin.api)
    app.include_router(signin.pages)

    @app.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        for key, value in headers.items():
            response.headers.setdefault(key, value)
        return response

    # outermost but for Starlette's error middleware: counts the guard's 413s and the 500s
    app.add_middleware(RequestCounter, metrics=ctx.metrics)

    def _is_api(request: Request) -> bool:
        return request.url.path.startswith("/api") or request.url.path in (
            "/metrics", "/openapi.json"
        )  # fmt: skip

    def _error(request: Request, status: int, message: str) -> Response:
        if _is_api(request):
            return JSONResponse({"detail": message}, status_code=status)
        return pages.error_page(request, status, message)

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired) -> Response:
        if _is_api(request):
            return JSONResponse(
                {"detail": "authentication required"},
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        return RedirectResponse("/login", status_code=303)

    @app.exception_handler(PasswordChangeRequired)
    async def _change_password(request: Request, exc: PasswordChangeRequired) -> Response:
        if _is_api(request):
            return JSONResponse({"detail": "password change required"}, status_code=403)
        return RedirectResponse("/account/password", status_code=303)

    @app.exception_handler(SecondFactorRequired)
    async def _enrol(request: Request, exc: SecondFactorRequired) -> Response:
        if _is_api(request):
            return JSONResponse({"detail": "second factor required"}, status_code=403)
        return RedirectResponse("/account/mfa", status_code=303)

    @app.exception_handler(FreshSecondFactorRequired)
    async def _step_up(request: Request, exc: FreshSecondFactorRequired) -> Response:
        if _is_api(request):
            return JSONResponse({"detail": str(exc)}, status_code=403)
        return RedirectResponse(f"/account/mfa/verify?next={quote(exc.next_url)}",
                                status_code=303)  # fmt: skip

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden) -> Response:
        return _error(request, 403, str(exc))

    @app.exception_handler(NotFound)
    async def _not_found(request: Request, exc: NotFound) -> Response:
        return _error(request, 404, "not found")

    @app.exception_handler(HashingBusy)
    async def _busy(request: Request, exc: HashingBusy) -> Response:
        response = _error(request, 503, str(exc))
        response.headers["Retry-After"] = "1"
        return response

    @app.exception_handler(ApprovalPending)
    async def _pending(request: Request, exc: ApprovalPending) -> Response:
        return _error(request, 202, str(exc))

    @app.exception_handler(QuotaExceeded)
    async def _quota(request: Request, exc: QuotaExceeded) -> Response:
        return _error(request, 429, str(exc))

    @app.exception_handler(InvalidTransition)
    async def _conflict(request: Request, exc: InvalidTransition) -> Response:
        return _error(request, 409, str(exc))

    @app.exception_handler(AuthError)
    async def _auth(request: Request, exc: AuthError) -> Response:
        return _error(request, 400, str(exc))

    @app.exception_handler(TriageError)
    async def _triage(request: Request, exc: TriageError) -> Response:
        return _error(request, 400, str(exc))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        if _is_api(request):
            return JSONResponse({"detail": jsonable_errors(exc)}, status_code=422)
        return pages.error_page(request, 422, "the form was not filled in correctly")

    @app.get("/healthz", tags=["health"], include_in_schema=True)
    def healthz() -> dict[str, str]:
        """Liveness: the process answers. Reveals nothing."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"], responses={503: {"description": "store not ready"}})
    def readyz() -> JSONResponse:
        """Readiness: the store answers and its schema exists."""
        ok = ctx.store.ready()
        return JSONResponse({"status": "ok" if ok else "unavailable"}, 200 if ok else 503)

    @app.get("/metrics", tags=["health"], response_class=PlainTextResponse)
    def metrics(_: Annotated[Principal, Depends(require_metrics)]) -> Response:
        """Prometheus metrics of the queue: a ``metrics``-scope token (what Prometheus should
        hold), or any user's login or full token."""
        ctx.metrics.refresh()
        return Response(generate_latest(ctx.registry), media_type=CONTENT_TYPE_LATEST)

    @app.get("/openapi.json", include_in_schema=False)
    def openapi(_: Annotated[Principal, Depends(require(ANY_ROLE))]) -> JSONResponse:
        """The OpenAPI document, for any logged-in user or full token."""
        return JSONResponse(app.openapi())

    return app


def url_segment(value: object) -> str:
    """One URL path segment: an alert id from an event cannot add segments or a query to a
    link or form action (``/alerts/x/../../admin``), whatever it holds."""
    return quote(str(value), safe="")


def jsonable_errors(exc: RequestValidationError) -> list[dict[str, object]]:
    """Validation errors without the input echoed back (it may hold personal data)."""
    return [
        {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": e.get("type")}
        for e in exc.errors()
    ]
