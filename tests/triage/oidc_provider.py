"""A small OpenID Connect provider for the tests: discovery, JWKS, authorize and token
endpoints, ID tokens signed RS256 (joserfc), PKCE (S256) and client authentication checked.

It signs in whoever :attr:`Provider.person` says, at once (no login form): the tests
drive the browser's redirects with an HTTP client. What it puts in the ID token can be
bent per test (:attr:`Provider.bend`) to play a provider that is wrong or an attacker.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import uvicorn
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

CLIENT_ID = "probity-queue"
CLIENT_SECRET = "provider-test-secret-0123456789"


@dataclass
class Provider:
    """The provider's state: who signs in next and how the ID token is bent."""

    issuer: str = ""
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, parameters={
        "kid": "k1", "use": "sig", "alg": "RS256"}))  # fmt: skip
    person: dict[str, Any] = field(default_factory=dict)
    bend: dict[str, Any] = field(default_factory=dict)  # claims overriding the right ones
    other_key: bool = False  # sign with a key not in the JWKS (same kid)
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    authorize_requests: list[dict[str, str]] = field(default_factory=list)

    def id_token(self, grant: dict[str, Any]) -> str:
        now = int(time.time())
        claims = {"iss": self.issuer, "aud": CLIENT_ID, "iat": now, "exp": now + 300,
                  "nonce": grant["nonce"], "auth_time": now, **grant["person"], **self.bend}
        key = self.key
        if self.other_key:
            key = RSAKey.generate_key(2048, parameters={"kid": "k1", "alg": "RS256"})
        return jwt.encode({"alg": "RS256", "kid": "k1"}, claims, key)

    # ---------------------------------------------------------------- endpoints
    async def discovery(self, request: Request) -> Response:
        return JSONResponse({
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic"],
            "scopes_supported": ["openid", "profile", "email"],
        })  # fmt: skip

    async def jwks(self, request: Request) -> Response:
        return JSONResponse(KeySet([self.key]).as_dict(private=False))

    async def authorize(self, request: Request) -> Response:
        q = dict(request.query_params)
        self.authorize_requests.append(q)
        if (q.get("client_id") != CLIENT_ID or q.get("response_type") != "code"
                or q.get("code_challenge_method") != "S256" or not q.get("code_challenge")
                or "openid" not in q.get("scope", "").split()):  # fmt: skip
            return JSONResponse({"error": "invalid_request"}, status_code=400)
        code = secrets.token_urlsafe(16)
        self.codes[code] = {"nonce": q.get("nonce"), "challenge": q["code_challenge"],
                            "redirect_uri": q["redirect_uri"], "person": dict(self.person)}
        sep = "&" if "?" in q["redirect_uri"] else "?"
        target = q["redirect_uri"] + sep + urlencode({"code": code, "state": q.get("state", "")})
        return RedirectResponse(target, status_code=302)

    async def token(self, request: Request) -> Response:
        auth = request.headers.get("authorization", "")
        expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if auth != f"Basic {expected}":
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        form = await request.form()
        grant = self.codes.pop(str(form.get("code", "")), None)  # a code is good once
        if grant is None or form.get("grant_type") != "authorization_code" or form.get(
            "redirect_uri"
        ) != grant["redirect_uri"]:
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        verifier = str(form.get("code_verifier", ""))
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
        if challenge.rstrip(b"=").decode() != grant["challenge"]:
            return JSONResponse({"error": "invalid_grant", "error_description": "PKCE"},
                                status_code=400)  # fmt: skip
        return JSONResponse({"access_token": secrets.token_urlsafe(16), "token_type": "Bearer",
                             "expires_in": 300, "id_token": self.id_token(grant)})  # fmt: skip

    def app(self) -> Starlette:
        return Starlette(routes=[
            Route("/.well-known/openid-configuration", self.discovery),
            Route("/jwks", self.jwks),
            Route("/authorize", self.authorize),
            Route("/token", self.token, methods=["POST"]),
        ])  # fmt: skip


@contextmanager
def running_provider() -> Iterator[Provider]:
    """A provider served by uvicorn on a free loopback port for the block's length."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    provider = Provider(issuer=f"http://127.0.0.1:{port}")
    server = uvicorn.Server(uvicorn.Config(provider.app(), host="127.0.0.1", port=port,
                                           log_level="warning"))  # fmt: skip
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the test provider did not start")
        time.sleep(0.05)
    try:
        yield provider
    finally:
        server.should_exit = True
        thread.join(timeout=10)
