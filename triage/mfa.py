"""The second factor: TOTP (RFC 6238, pyotp) secrets kept encrypted, codes good once, the
half-way state between a right password and a right code, and which reveals are sensitive.

Threat: a password phished, guessed or reused from another breach. With a second factor
the password alone opens nothing: the service issues no session until the code passes.

Secrets are encrypted with Fernet (AES-128-CBC + HMAC-SHA256, ``cryptography``) under the
MFA key (``triage.mfa_key``, else derived from ``secret_key``), so a copy of the database
(a backup, a database administrator) cannot mint codes. A code matches the current
30-second step or one either side (clock drift); the store accepts a step only after the
last one accepted, so a code seen over a shoulder or in a log cannot be used again.
"""

from __future__ import annotations

import base64
import hmac
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
from cryptography.fernet import Fernet, InvalidToken
from itsdangerous import BadSignature, URLSafeTimedSerializer

from triage.base import Role, StoredAlert, User
from triage.security import derive_key

#: the half-way cookie (a right password, no code yet): its name, path and life
PENDING_COOKIE = "probity_mfa_pending"
PENDING_MAX_AGE_S = 300
_CODE = re.compile(r"^[0-9]{6}$")
_STEP_S = 30

#: Detectors whose subjects are sensitive to reveal: covert subjects, VIPs, canary records
#: and vulnerable victims. Revealing one needs a recent second factor
#: (:func:`triage.auth.require_fresh_mfa`); the two-person approval of such reveals hooks
#: in at the same place. Alerts restricted by conflict of interest count too.
SENSITIVE_DETECTORS = frozenset({
    "access.canary", "access.covert_unauthorised", "access.vip_browsing",
    "access.vulnerable_victim",
})  # fmt: skip


def is_sensitive(alert: StoredAlert) -> bool:
    """Whether revealing a person of ``alert`` is a sensitive reveal."""
    return alert.restricted or alert.detector in SENSITIVE_DETECTORS


@dataclass(frozen=True)
class Pending:
    """A right password awaiting its code: who, and the form's CSRF token."""

    user_id: int
    csrf: str


class SecondFactor:
    """TOTP secrets (made, encrypted, checked) and the pending-login cookie.

    >>> sf = SecondFactor(b"k" * 32, issuer="Probity", roles=frozenset({Role.ADMIN}),
    ...                   fresh_s=900, clock=lambda: 1_000_000.0)
    >>> secret, sealed, uri = sf.new_secret("alice")
    >>> sealed != secret and uri.startswith("otpauth://totp/Probity:alice?")
    True
    >>> code = pyotp.TOTP(secret).at(1_000_000)
    >>> sf.step_of(sealed, code) == 1_000_000 // 30
    True
    >>> sf.step_of(sealed, "12345"), sf.step_of("not a ciphertext", code)
    (None, None)
    """

    def __init__(
        self, key: bytes, *, issuer: str, roles: frozenset[Role], fresh_s: int,
        clock: Callable[[], float] = time.time,
    ) -> None:  # fmt: skip
        """``key``: the MFA key; the cipher's and the cookie's keys derive from it."""
        self._box = Fernet(base64.urlsafe_b64encode(derive_key(key, "totp-secrets")))
        self._pending = URLSafeTimedSerializer(
            derive_key(key, "mfa-pending"), salt="probity-mfa-pending"
        )
        self.issuer, self.roles, self.fresh_s, self._clock = issuer, roles, fresh_s, clock

    def required(self, user: User) -> bool:
        """Whether ``user``'s sessions need a second factor: their role asks for one, or
        they enrolled one."""
        return user.role in self.roles or user.mfa_enrolled

    def new_secret(self, username: str) -> tuple[str, str, str]:
        """``(secret, ciphertext, otpauth URI)``: show the secret and URI once, keep only
        the ciphertext."""
        secret = pyotp.random_base32()  # 160 bits, RFC 4226's recommendation
        uri = pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=self.issuer)
        return secret, self._box.encrypt(secret.encode()).decode(), uri

    def step_of(self, ciphertext: str | None, code: str) -> int | None:
        """The 30-second step ``code`` is right for (now, or one step either side), or None.
        Whether that step may still be used is the store's question."""
        if ciphertext is None or not _CODE.match(code):
            return None
        try:
            secret = self._box.decrypt(ciphertext.encode()).decode()
        except InvalidToken:  # another key: the user enrols again after a two-admin reset
            return None
        totp, now = pyotp.TOTP(secret), self._clock()
        for drift in (0, -1, 1):
            at = now + drift * _STEP_S
            if hmac.compare_digest(totp.at(at), code):
                return int(at // _STEP_S)
        return None

    @staticmethod
    def well_formed(code: str) -> bool:
        return bool(_CODE.match(code))

    def pending_cookie(self, user_id: int) -> tuple[str, Pending]:
        pending = Pending(user_id=user_id, csrf=secrets.token_urlsafe(24))
        return self._pending.dumps({"u": user_id, "c": pending.csrf}), pending

    def read_pending(self, cookie: str) -> Pending | None:
        try:
            data = self._pending.loads(cookie, max_age=PENDING_MAX_AGE_S)
        except BadSignature:  # includes an expired one
            return None
        if not isinstance(data, dict) or not isinstance(data.get("u"), int) or not isinstance(
            data.get("c"), str
        ):
            return None
        return Pending(user_id=data["u"], csrf=data["c"])

    def fresh(self, mfa_at: datetime | None, now: datetime) -> bool:
        """Whether a second factor proved at ``mfa_at`` is recent enough for a sensitive act."""
        return mfa_at is not None and now - mfa_at <= timedelta(seconds=self.fresh_s)
