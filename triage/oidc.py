"""OpenID Connect login with the force's identity provider (authlib's Starlette client).

authlib does the protocol: discovery, the authorization-code flow with ``state``, ``nonce``
and PKCE (S256), the code exchange with the client secret, and the ID token's checks (its
RS256/ES256 signature against the provider's JWKS, ``iss``, ``aud``, ``exp``, ``iat``,
``nonce``, ``azp``). The state, nonce and PKCE verifier live for the round trip in a signed
cookie scoped to ``/login/oidc`` (SameSite=Lax: the provider's redirect back is a cross-site
navigation). This module adds what is the force's: the second factor the provider must
have used, and which claim names the local account.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx2
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.starlette_client import OAuth
from joserfc.errors import JoseError
from starlette.requests import Request
from starlette.responses import Response

from probity.settings import OidcSettings

#: the callback's path (registered at the provider as ``https://<queue>/login/oidc/callback``)
CALLBACK_PATH = "/login/oidc/callback"
#: the round trip's cookie: state, nonce and PKCE verifier, signed, ten minutes
STATE_COOKIE = "probity_oidc"
STATE_MAX_AGE_S = 600
_LEEWAY_S = 60


class OidcRefused(Exception):
    """The provider's answer is not a login: ``why`` goes to the audit log, ``message`` to
    the person."""

    def __init__(self, why: str, message: str, username: str | None = None) -> None:
        super().__init__(message)
        self.why, self.message, self.username = why, message, username


@dataclass(frozen=True)
class Identity:
    """Who the provider says signed in, with a second factor."""

    username: str
    subject: str
    staff_id: str | None


def mfa_proved(claims: dict[str, Any], settings: OidcSettings) -> bool:
    """Whether the ID token says a second factor was used: ``amr`` (RFC 8176) holds one of
    ``mfa_amr``, or ``acr`` is one of ``mfa_acr``.

    >>> s = OidcSettings(mfa_acr=("urn:force:loa:2",))
    >>> mfa_proved({"amr": ["pwd", "otp"]}, s), mfa_proved({"amr": ["pwd"]}, s)
    (True, False)
    >>> mfa_proved({"acr": "urn:force:loa:2"}, s), mfa_proved({"amr": "mfa"}, s)
    (True, False)
    """
    amr = claims.get("amr")
    if isinstance(amr, list) and any(isinstance(a, str) and a in settings.mfa_amr for a in amr):
        return True
    acr = claims.get("acr")
    return isinstance(acr, str) and acr in settings.mfa_acr


class OidcLogin:
    """The queue as a relying party of one provider (``settings.issuer``)."""

    def __init__(self, settings: OidcSettings) -> None:
        if not settings.enabled or settings.issuer is None:
            raise ValueError("OIDC needs an issuer and a client id")
        self.settings = settings
        self.issuer = settings.issuer.rstrip("/")
        oauth = OAuth()
        oauth.register(
            "idp",
            client_id=settings.client_id,
            client_secret=(
                settings.client_secret.get_secret_value() if settings.client_secret else None
            ),
            server_metadata_url=f"{self.issuer}/.well-known/openid-configuration",
            client_kwargs={
                "scope": settings.scopes,
                "code_challenge_method": "S256",
                "timeout": settings.timeout_s,
            },
        )
        client = oauth.create_client("idp")
        if client is None:  # pragma: no cover - just registered
            raise ValueError("the provider could not be registered")
        self._client: Any = client

    async def redirect(self, request: Request, redirect_uri: str) -> Response:
        """The redirect to the provider's authorization endpoint (state, nonce and PKCE
        kept in the round-trip cookie). ``max_age`` is not sent: the provider's own session
        rules apply, and its MFA claim is checked on the way back."""
        try:
            response: Response = await self._client.authorize_redirect(request, redirect_uri)
        except (httpx2.HTTPError, OAuthError, ValueError, KeyError) as exc:
            raise OidcRefused("provider_unreachable",
                              "the sign-in service cannot be reached: try again later") from exc
        return response

    async def identity(self, request: Request) -> Identity:
        """The person the provider's callback names, once every check passed; else
        :class:`OidcRefused` with the reason."""
        if request.query_params.get("error"):
            raise OidcRefused("provider_error", "the sign-in service refused the login")
        try:
            token = await self._client.authorize_access_token(
                request,
                claims_options={
                    "iss": {"essential": True, "value": self.issuer},
                    "aud": {"essential": True, "value": self.settings.client_id},
                },
                leeway=_LEEWAY_S,
            )
        except OAuthError as exc:  # includes a state that is not this browser's
            raise OidcRefused(f"oauth:{exc.error or 'error'}"[:64],
                              "the sign-in could not be completed: start again") from exc
        except JoseError as exc:  # signature, iss, aud, exp, nonce
            raise OidcRefused(f"id_token:{exc.error}"[:64],
                              "the sign-in service's answer did not verify") from exc
        except httpx2.HTTPError as exc:
            raise OidcRefused("provider_unreachable",
                              "the sign-in service cannot be reached: try again later") from exc
        claims = token.get("userinfo")
        if not claims:
            raise OidcRefused("no_id_token", "the sign-in service sent no identity")
        username = claims.get(self.settings.username_claim)
        subject = claims.get("sub")
        if not isinstance(username, str) or not username or len(username) > 64:
            raise OidcRefused("no_username", "the sign-in service did not say who you are")
        if not mfa_proved(dict(claims), self.settings):
            raise OidcRefused(
                "no_mfa",
                "the sign-in service did not confirm a second factor: sign in there with "
                "your second factor (or use the password form with your authenticator app)",
                username,
            )
        staff = claims.get(self.settings.staff_id_claim)
        return Identity(username=username, subject=str(subject)[:255],
                        staff_id=staff if isinstance(staff, str) and staff else None)  # fmt: skip
