"""The intake's HTTP API (FastAPI; its OpenAPI is at ``/openapi.json`` for a source's or the
admin token, and there is no ``/docs`` page).

``POST /v1/events`` with ``Authorization: Bearer <token>``; the body NDJSON or one JSON
array, in the contract's JSON or the format named by ``?format=`` / ``X-Probity-Format`` /
the source's token. Answers: 200 with one result per line; 503 with ``Retry-After`` when
some lines were not acknowledged by the broker (``failed``: send them again); 401 without a
valid token; 403 when ``?source=`` names another source; 413 over the body or line limit
(found while reading, before the rest is read); 429 with ``Retry-After`` when the broker is
behind; 400 for an unknown format. ``GET /metrics`` is Prometheus's, with
``Authorization: Bearer <metrics_token>`` (401 otherwise, and to everyone while
``PROBITY_METRICS_TOKEN`` is unset); ``GET /healthz`` says whether the process is up,
``GET /admin/accounts/unresolved`` lists the accounts that resolved to no member of staff,
with ``Authorization: Bearer <intake.admin_token>`` (401 otherwise, 403 for a source's token,
and 401 to everyone while ``PROBITY_INTAKE__ADMIN_TOKEN`` is unset).
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, HTTPException, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CollectorRegistry, make_asgi_app
from starlette.routing import Route

from intake.base import BatchResult, Problem
from intake.batch import is_array
from intake.exceptions import FormatError, Throttled, TooLarge
from intake.service import IntakeService
from intake.syslog import SyslogPort
from intake.tokens import SourceToken
from probity import __version__

log = logging.getLogger(__name__)

_Scope = MutableMapping[str, Any]
_Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
_Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="probity-intake"'}

_BODY = {
    "required": True,
    "content": {
        "application/x-ndjson": {"schema": {"type": "string"}},
        "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
        "text/plain": {"schema": {"type": "string"}},
    },
    "description": "events: NDJSON, or one JSON array, in the contract's JSON or a format",
}


async def read_body(request: Request, max_body: int, max_line: int) -> bytes:
    """The body, refused with :class:`TooLarge` as soon as it or a line (outside a JSON array)
    passes its limit: a declared length over the limit is refused before anything is read."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_body:
        raise TooLarge(f"body: {declared} bytes, the limit is {max_body}")
    buf = bytearray()
    array: bool | None = None
    run = 0  # bytes of the line being read
    lineno = 1
    async for chunk in request.stream():
        buf += chunk
        if len(buf) > max_body:
            raise TooLarge(f"body: over {max_body} bytes")
        if array is None and buf.strip():
            array = is_array(bytes(buf[:64]))
        if array:
            continue
        parts = chunk.split(b"\n")
        for n, part in enumerate(parts):
            run += len(part)
            if run > max_line:
                raise TooLarge(f"line {lineno}: over {max_line} bytes")
            if n < len(parts) - 1:
                run = 0
                lineno += 1
    return bytes(buf)


class MetricsApp:
    """Prometheus's ASGI app behind ``Authorization: Bearer <token>`` (``metrics_token``,
    compared in constant time): the per-source counts say whose system is being watched.
    Without a token it answers 401 to everyone, and a warning at start says so. (A class,
    not a function, so a Starlette route serves it as an ASGI app at ``/metrics`` itself,
    with no redirect to ``/metrics/``.)"""

    def __init__(self, registry: CollectorRegistry, token: str | None) -> None:
        self.inner = make_asgi_app(registry)
        self.expected = f"Bearer {token}".encode() if token else None
        if self.expected is None:
            log.warning("PROBITY_METRICS_TOKEN is not set: the intake's /metrics answers 401 "
                        "to everyone (Prometheus scrapes it with that bearer token)")  # fmt: skip

    async def __call__(self, scope: _Scope, receive: _Receive, send: _Send) -> None:
        given = dict(scope.get("headers") or ()).get(b"authorization", b"")
        if self.expected is None or not hmac.compare_digest(given, self.expected):
            refused = PlainTextResponse("a bearer token is needed\n", 401, headers=_CHALLENGE)
            await refused(scope, receive, send)
            return
        await self.inner(scope, receive, send)


def _problem(code: int, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(Problem(detail=detail).model_dump(), status_code=code, headers=headers)


def create_app(service: IntakeService) -> FastAPI:
    """The app over ``service``; its lifespan starts and stops the service."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await service.start()
        ports = [SyslogPort(service, listener) for listener in service.settings.intake.syslog]
        app.state.syslog_ports = ports
        try:
            for port in ports:
                await port.start(service.settings.intake.host)
            yield
        finally:
            for port in ports:
                await port.stop()
            await service.stop()

    app = FastAPI(
        title="Probity intake",
        version=__version__,
        description=__doc__,
        lifespan=lifespan,
        openapi_url=None,  # served below, behind a token
        docs_url=None,
        redoc_url=None,
    )
    token = service.settings.metrics_token
    scrape = MetricsApp(service.registry, token.get_secret_value() if token is not None else None)
    app.router.routes.append(Route("/metrics", scrape, methods=["GET"], include_in_schema=False))
    settings = service.settings.intake

    def authenticate(authorization: str | None) -> SourceToken | None:
        if not authorization or not authorization.lower().startswith("bearer "):
            return None
        return service.tokens.verify(authorization[7:].strip())

    admin = settings.admin_token
    secret = admin.get_secret_value() if admin is not None else ""
    admin_expected = f"Bearer {secret}".encode() if secret else None
    if admin_expected is None:
        log.warning("PROBITY_INTAKE__ADMIN_TOKEN is not set: the intake's /admin endpoints "
                    "answer 401 to everyone")  # fmt: skip

    def is_admin(authorization: str | None) -> bool:
        given = (authorization or "").encode()
        return admin_expected is not None and hmac.compare_digest(given, admin_expected)

    def require_admin(authorization: Annotated[str | None, Header()] = None) -> None:
        """The admin token (compared in constant time): the unresolved accounts are names of
        people's and systems' accounts. A source's token is refused with 403."""
        if is_admin(authorization):
            return
        if authenticate(authorization) is not None:
            raise HTTPException(403, "a source's token does not open /admin")
        raise HTTPException(401, "the admin bearer token is required", headers=_CHALLENGE)

    @app.get("/openapi.json", include_in_schema=False)
    async def openapi(authorization: Annotated[str | None, Header()] = None) -> JSONResponse:
        """The OpenAPI document, for a source's token or the admin token."""
        if not is_admin(authorization) and authenticate(authorization) is None:
            raise HTTPException(401, "a bearer token is required", headers=_CHALLENGE)
        return JSONResponse(app.openapi())

    problems: dict[int | str, dict[str, Any]] = {
        code: {"model": Problem, "description": what}
        for code, what in {
            400: "unknown format",
            401: "no valid token",
            403: "the token is another source's",
            413: "body or line over the limit",
            429: "the broker is behind: retry after Retry-After seconds",
            503: "some lines were not acknowledged by the broker (status failed): send again",
        }.items()
    }

    @app.post(
        "/v1/events",
        response_model=BatchResult,
        responses=problems,
        openapi_extra={"requestBody": _BODY},
        summary="Send events",
    )
    async def post_events(
        request: Request,
        authorization: Annotated[str | None, Header()] = None,
        x_probity_format: Annotated[str | None, Header()] = None,
        format: Annotated[str | None, Query(description="the body's format")] = None,
        source: Annotated[
            str | None, Query(description="the source the sender means to be (checked)")
        ] = None,
    ) -> JSONResponse:
        """Publish the events of the body; one answer per line, after the broker's ack."""
        token = authenticate(authorization)
        if token is None:
            service.metrics.unauthorized()
            return _problem(
                401,
                "a valid bearer token is required",
                _CHALLENGE,
            )
        if source is not None and source != token.source:
            service.metrics.refused(token.source, 403)
            return _problem(403, f"source: this token is source {token.source!r}, not {source!r}")
        try:
            format_name = service.format_of(token, format or x_probity_format)
        except FormatError as exc:
            service.metrics.refused(token.source, 400)
            return _problem(400, str(exc))
        retry = {"Retry-After": str(settings.retry_after_s)}
        try:
            service.publisher.check(token.source)
            body = await read_body(request, settings.max_body_bytes, settings.max_line_bytes)
            result = await service.handle(token, format_name, body)
        except TooLarge as exc:
            service.metrics.refused(token.source, 413)
            return _problem(413, str(exc), {"Connection": "close"})
        except Throttled as exc:
            return _problem(429, f"the broker is behind: {exc}; retry", retry)
        code = 503 if result.failed else 200
        return JSONResponse(
            result.model_dump(mode="json"),
            status_code=code,
            headers=retry if result.failed else None,
        )

    @app.get(
        "/admin/accounts/unresolved",
        summary="Accounts that resolved to no one",
        dependencies=[Depends(require_admin)],
        responses={401: {"description": "no admin token"}, 403: {"description": "a source's"}},
    )
    async def unresolved_accounts() -> list[dict[str, Any]]:
        """Accounts adapter formats named that resolved to no member of staff (service,
        shared, contractor accounts), most events first: for the ACU to look at. Needs the
        admin token (``intake.admin_token``)."""
        identity = service.identity
        return [u.as_json() for u in identity.unresolved()] if identity is not None else []

    @app.get("/healthz", summary="Liveness")
    async def healthz() -> dict[str, object]:
        return {"ok": True, "in_flight": service.publisher.in_flight}

    return app
