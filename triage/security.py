"""Passwords, API tokens, session cookies, CSRF and pseudonyms.

Keys: every key derives from the one ``secret_key`` by HMAC with a purpose label, so a
leaked pseudonym table says nothing about session signatures and vice versa.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from triage.exceptions import AuthError

_HASHER = PasswordHasher()
#: A hash verified when the user does not exist, so a wrong username costs the same time.
_DUMMY_HASH = _HASHER.hash("not a password: equalises timing for unknown users")
MIN_PASSWORD_CHARS = 12


def derive_key(secret: bytes, purpose: str) -> bytes:
    return hmac.new(secret, purpose.encode(), hashlib.sha256).digest()


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_CHARS:
        raise AuthError(f"a password needs at least {MIN_PASSWORD_CHARS} characters")
    return _HASHER.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Constant-ish time: an unknown user (``None``) still pays for one argon2 verify."""
    try:
        return _HASHER.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def new_api_token() -> tuple[str, str]:
    """``(token, sha256 hex)``: hand the token out once, keep only the hash."""
    token = "prb_" + secrets.token_urlsafe(32)
    return token, token_hash(token)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Pseudonymiser:
    """Stable pseudonyms for people: an HMAC of the id, never reversible without the key.

    >>> p = Pseudonymiser(b"k" * 32)
    >>> p("P-1") == p("P-1") != p("P-2")
    True
    >>> p("P-1").startswith("anon-")
    True
    """

    def __init__(self, key: bytes) -> None:
        self._key = key

    def __call__(self, value: str) -> str:
        return "anon-" + hmac.new(self._key, value.encode(), hashlib.sha256).hexdigest()[:16]


@dataclass(frozen=True)
class Session:
    user_id: int
    csrf: str


class SessionCodec:
    """Signed, timed session cookies carrying the user id and the session's CSRF token.

    The cookie holds no alert content; expiry is checked on every request.
    """

    def __init__(self, key: bytes, max_age_s: int) -> None:
        self._serializer = URLSafeTimedSerializer(key, salt="probity-triage-session")
        self._max_age_s = max_age_s

    def issue(self, user_id: int) -> tuple[str, Session]:
        session = Session(user_id=user_id, csrf=secrets.token_urlsafe(24))
        payload: dict[str, Any] = {"u": user_id, "c": session.csrf}
        return self._serializer.dumps(payload), session

    def read(self, cookie: str) -> Session:
        try:
            payload = self._serializer.loads(cookie, max_age=self._max_age_s)
        except SignatureExpired as exc:
            raise AuthError("session expired") from exc
        except BadSignature as exc:
            raise AuthError("bad session") from exc
        if not isinstance(payload, dict) or not isinstance(payload.get("u"), int):
            raise AuthError("bad session")
        return Session(user_id=payload["u"], csrf=str(payload.get("c", "")))


def csrf_ok(session: Session, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(session.csrf, given or "")
