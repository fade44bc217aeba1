"""Passwords, API tokens, session cookies, CSRF and pseudonyms.

Keys: every key derives from the one ``secret_key`` by HMAC with a purpose label, so a
leaked pseudonym table says nothing about session signatures and vice versa.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from zxcvbn import zxcvbn

from triage.exceptions import AuthError, TriageError

_HASHER = PasswordHasher()
#: A hash verified when the user does not exist, so a wrong username costs the same time.
_DUMMY_HASH = _HASHER.hash("not a password: equalises timing for unknown users")
#: argon2 runs at once (each takes 64 MiB): a login flood queues here instead of exhausting
#: memory; :func:`limit_hashing` sets it from the settings at start-up.
_HASH_SLOTS = threading.BoundedSemaphore(4)
_HASH_WAIT_S = 10.0
#: zxcvbn's estimate (log10 of guesses) a password must reach: 10^10 guesses is its top
#: score, out of reach of an online attack and slow offline against argon2
MIN_GUESSES_LOG10 = 10.0
#: zxcvbn's work grows with length (and 4.5 refuses more than 72 characters with a
#: ValueError): a longer password is judged on this much of it
_STRENGTH_PREFIX = 72


class HashingBusy(TriageError):
    """Every password-hashing slot stayed busy: try again shortly (503)."""


def limit_hashing(slots: int, wait_s: float = 10.0) -> None:
    """At most ``slots`` argon2 hashes or verifications at once in this process."""
    global _HASH_SLOTS, _HASH_WAIT_S
    _HASH_SLOTS, _HASH_WAIT_S = threading.BoundedSemaphore(slots), wait_s


@contextmanager
def _hash_slot() -> Iterator[None]:
    slots = _HASH_SLOTS
    if not slots.acquire(timeout=_HASH_WAIT_S):
        raise HashingBusy("the service is busy checking passwords: try again shortly")
    try:
        yield
    finally:
        slots.release()


MIN_PASSWORD_CHARS = 12
MAX_PASSWORD_CHARS = 1024  # argon2 hashes anything; the cap bounds the work per request
MIN_DISTINCT_CHARS = 5
#: Long but common choices (compared case-insensitively, spaces ignored); length alone
#: would admit them.
COMMON_PASSWORDS = frozenset({
    "password1234", "password12345", "password123!", "passwordpassword", "123456789012",
    "1234567890123", "12345678901234", "qwertyuiop12", "qwerty123456", "qwertyqwerty",
    "iloveyou1234", "welcome12345", "letmein12345", "changeme1234", "administrator",
    "adminadmin12", "probity12345", "probitypassword",
})  # fmt: skip


def derive_key(secret: bytes, purpose: str) -> bytes:
    return hmac.new(secret, purpose.encode(), hashlib.sha256).digest()


def password_problem(password: str, username: str | None = None) -> str | None:
    """Why ``password`` is not acceptable, or ``None``. One policy for ``create-admin``, the
    admin's account forms, an admin's reset and a user's own change: length first (NIST
    SP 800-63B), then the obvious guesses length alone would let through, then zxcvbn's
    offline estimate (its lists of common passwords, words, names and its patterns:
    ``Password2024!`` is refused)."""
    if len(password) < MIN_PASSWORD_CHARS:
        return f"a password needs at least {MIN_PASSWORD_CHARS} characters"
    if len(password) > MAX_PASSWORD_CHARS:
        return f"a password has at most {MAX_PASSWORD_CHARS} characters"
    if len(set(password)) < MIN_DISTINCT_CHARS:
        return f"a password needs at least {MIN_DISTINCT_CHARS} different characters"
    folded = password.casefold()
    if "".join(folded.split()) in COMMON_PASSWORDS:
        return "that password is too common"
    if username and len(username) >= 3 and username.casefold() in folded:
        return "a password may not contain the username"
    guess = zxcvbn(password[:_STRENGTH_PREFIX], user_inputs=[username] if username else [])
    if float(guess["guesses_log10"]) < MIN_GUESSES_LOG10:
        return "that password is too easy to guess (common words, names, dates or patterns)"
    return None


def hash_password(password: str, username: str | None = None) -> str:
    """The argon2 hash of a password that meets :func:`password_problem`'s policy."""
    problem = password_problem(password, username)
    if problem is not None:
        raise AuthError(problem)
    with _hash_slot():
        return _HASHER.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Constant-ish time: an unknown user (``None``) still pays for one argon2 verify."""
    with _hash_slot():
        try:
            return (
                _HASHER.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
            )
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
    sid: str  # random; the store keeps its SHA-256 while the session is live


class SessionCodec:
    """Signed, timed session cookies carrying the user id, a session id and the session's
    CSRF token.

    The signature and expiry are checked here; whether the session is still live (not
    logged out, the account not disabled, the password not changed since) is the store's
    ``session_user(sid)``. The cookie holds no alert content.
    """

    def __init__(self, key: bytes, max_age_s: int) -> None:
        self._serializer = URLSafeTimedSerializer(key, salt="probity-triage-session")
        self._max_age_s = max_age_s

    def issue(self, user_id: int) -> tuple[str, Session]:
        session = Session(
            user_id=user_id, csrf=secrets.token_urlsafe(24), sid=secrets.token_urlsafe(32)
        )
        payload: dict[str, Any] = {"u": user_id, "c": session.csrf, "s": session.sid}
        return self._serializer.dumps(payload), session

    def read(self, cookie: str) -> Session:
        try:
            payload = self._serializer.loads(cookie, max_age=self._max_age_s)
        except SignatureExpired as exc:
            raise AuthError("session expired") from exc
        except BadSignature as exc:
            raise AuthError("bad session") from exc
        if (
            not isinstance(payload, dict)
            or not isinstance(payload.get("u"), int)
            or not isinstance(payload.get("s"), str)
            or not isinstance(payload.get("c"), str)
        ):
            raise AuthError("bad session")  # includes cookies from before sessions were revocable
        return Session(user_id=payload["u"], csrf=payload["c"], sid=payload["s"])


def csrf_ok(session: Session, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(session.csrf, given or "")
