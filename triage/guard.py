"""The outermost layer of the service: a body-size limit before anything reads the body
(so before authentication), and the request's origin for the audit rows."""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from triage.origin import CURRENT, Origin


class TooLarge(HTTPException):
    """The body passed the limit while streaming in (no or a false Content-Length)."""

    def __init__(self) -> None:
        super().__init__(413, "request body too large")


class RequestGuard:
    """Refuse a body over ``max_body_bytes`` with 413: at once when ``Content-Length`` says
    so, else as soon as the streamed body passes it. Record the client address and user
    agent in :data:`triage.origin.CURRENT` for the request's audit rows."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app, self.max_body_bytes = app, max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) > self.max_body_bytes:
            await _too_large(send)
            return
        client = scope.get("client")
        CURRENT.set(
            Origin(client=client[0] if client else "unknown",
                   user_agent=headers.get("user-agent", "")[:256])
        )  # fmt: skip
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body_bytes:
                    raise TooLarge
            return message

        await self.app(scope, limited, send)


async def _too_large(send: Send) -> None:
    body = b'{"detail":"request body too large"}'
    start: dict[str, Any] = {
        "type": "http.response.start",
        "status": 413,
        "headers": [(b"content-type", b"application/json"), (b"connection", b"close"),
                    (b"content-length", str(len(body)).encode())],
    }  # fmt: skip
    await send(start)
    await send({"type": "http.response.body", "body": body})
