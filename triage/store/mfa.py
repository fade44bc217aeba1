"""Second factors: TOTP enrolment and one-time use of each code, the two-admin reset, the
second factor of a session, and accounts signed in through the identity provider.

The store keeps TOTP secrets only as the ciphertext :mod:`triage.mfa` hands it; it never
sees a secret or a code, only the 30-second step a code matched.
"""

from __future__ import annotations

import secrets

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from triage.base import PRIVILEGED, Role, User
from triage.exceptions import Forbidden, InvalidTransition, NotFound, TriageError
from triage.security import token_hash
from triage.store.accounts import UNKNOWN, AccountsMixin
from triage.store.core import as_user
from triage.tables import SessionRow, UserRow

#: the actor of an account created at its first sign-in through the identity provider
SSO = User(id=0, username="sso", staff_id="sso", role=Role.ANALYST)


class MfaMixin(AccountsMixin):
    """TOTP secrets (encrypted), replay protection, resets and OIDC sign-in."""

    # ----------------------------------------------------------------- enrolment
    def totp_ciphertexts(self, user_id: int) -> tuple[str | None, str | None]:
        """``(confirmed, pending)`` encrypted secrets of an active user (None: none)."""
        with self._tx() as s:
            row = s.get(UserRow, user_id)
            if row is None or not row.active:
                raise NotFound(f"no active user {user_id}")
            return row.totp_secret, row.totp_pending

    def totp_begin(self, user: User, ciphertext: str) -> None:
        """Keep a new secret as pending until a code from it confirms it. An account with a
        confirmed secret cannot replace it itself: that needs the two-admin reset (else a
        stolen session could move the second factor to the thief's phone)."""
        with self._tx() as s:
            row = s.get(UserRow, user.id)
            if row is None or not row.active:
                raise NotFound(f"no active user {user.id}")
            if row.totp_secret is not None:
                raise InvalidTransition("a second factor is already enrolled: ask two admins "
                                        "to reset it")  # fmt: skip
            row.totp_pending = ciphertext
            self._append(s, user, "mfa.enrolment_started", None, {})

    def totp_confirm(self, user: User, step: int, sid: str | None) -> None:
        """The pending secret becomes the account's; ``step`` is the confirming code's, so
        the same code cannot log in too. The confirming session counts as having proved it."""
        with self._tx() as s:
            row = s.get(UserRow, user.id)
            if row is None or not row.active or row.totp_pending is None:
                raise InvalidTransition("start the enrolment again")
            row.totp_secret, row.totp_pending, row.totp_last_step = row.totp_pending, None, step
            if sid is not None:
                self._mark_session(s, sid, user.id)
            self._append(s, user, "mfa.enrolled", None, {"method": "totp"})

    def totp_use(self, user: User, step: int, *, purpose: str, sid: str | None = None) -> bool:
        """Accept a code that matched ``step`` once: only a step after the last accepted one
        passes (one compare-and-set, so two requests racing with one code cannot both win).
        Audited either way; a step-up (``sid``) marks that session."""
        with self._tx() as s:
            result = s.execute(
                update(UserRow)
                .where(UserRow.id == user.id, UserRow.active.is_(True),
                       UserRow.totp_secret.is_not(None),
                       or_(UserRow.totp_last_step.is_(None), UserRow.totp_last_step < step))
                .values(totp_last_step=step)
            )  # fmt: skip
            ok = bool(getattr(result, "rowcount", 0))
            if ok and sid is not None:
                self._mark_session(s, sid, user.id)
            action = "mfa.verified" if ok else "mfa.failed"
            self._append(s, user, action, None, {"purpose": purpose, **({} if ok else
                                                                        {"why": "replayed"})})
            return ok

    def mfa_failed(self, user: User, purpose: str, why: str) -> None:
        """A wrong or malformed code: audited (the code itself never is)."""
        with self._tx() as s:
            self._append(s, user, "mfa.failed", None, {"purpose": purpose, "why": why})

    def _mark_session(self, s: Session, sid: str, user_id: int) -> None:
        s.execute(
            update(SessionRow)
            .where(SessionRow.id_hash == token_hash(sid), SessionRow.user_id == user_id)
            .values(mfa_at=self.clock())
        )

    # ----------------------------------------------------------------- reset (four eyes)
    def request_mfa_reset(self, user_id: int, actor: User) -> User:
        """An admin asks for ``user_id``'s second factor to be removed (a lost phone). Nothing
        changes until a second admin approves (:meth:`approve_mfa_reset`)."""
        if actor.role is not Role.ADMIN:
            raise Forbidden("only an admin resets a second factor")
        with self._tx() as s:
            row = s.get(UserRow, user_id)
            if row is None or not row.active:
                raise NotFound(f"no active user {user_id}")
            if actor.id == row.id or actor.username == row.username:
                raise Forbidden("your own second factor is reset by two other admins")
            if row.totp_secret is None and row.totp_pending is None:
                raise InvalidTransition(f"{row.username} has no second factor to reset")
            row.mfa_reset_by = actor.username
            self._append(s, actor, "mfa.reset_requested", None, {"user": row.username})
            return as_user(row)

    def approve_mfa_reset(self, user_id: int, approver: User) -> User:
        """A second admin (not the one who asked, not the account's owner) approves: the
        secret goes, and so do the account's sessions and tokens (whoever holds the phone
        may hold them too); the user enrols again at their next login."""
        if approver.role is not Role.ADMIN:
            raise Forbidden("only an admin approves a reset")
        with self._tx() as s:
            row = s.get(UserRow, user_id)
            if row is None or not row.active or row.mfa_reset_by is None:
                raise NotFound(f"no reset of user {user_id} awaiting approval")
            if approver.username in (row.mfa_reset_by, row.username):
                raise Forbidden("a reset needs a second admin: you asked for it or it is yours")
            requested_by = row.mfa_reset_by
            row.totp_secret = row.totp_pending = row.totp_last_step = row.mfa_reset_by = None
            sessions = self._revoke_sessions(s, user_id)
            tokens = self._revoke_tokens(s, user_id)
            self._append(
                s, approver, "mfa.reset", None,
                {"user": row.username, "requested_by": requested_by,
                 "sessions_revoked": sessions, "tokens_revoked": tokens},
            )  # fmt: skip
            return as_user(row)

    # ----------------------------------------------------------------- single sign-on
    def oidc_account(
        self, username: str, subject: str, issuer: str, *, create_with_staff_id: str | None
    ) -> User:
        """The active local account an identity provider's login maps to.

        ``username`` names an existing account; its first OIDC login binds ``subject``, and
        a later login under that name with another subject is refused (the provider gave
        the name to someone else). An unknown name is refused, unless
        ``create_with_staff_id`` is given: an **analyst** account is then created (never a
        privileged one; an admin raises it if need be) with an unusable password. Every
        outcome is audited; refusals raise :class:`Forbidden`."""
        with self._tx() as s:
            row = s.execute(
                select(UserRow).where(UserRow.username == username)
            ).scalar_one_or_none()
            service = row is not None and row.role == Role.SERVICE.value  # a machine's
            if row is not None and row.active and not service and row.oidc_subject in (
                None, subject,
            ):
                first = row.oidc_subject is None
                row.oidc_subject = subject
                user = as_user(row)
                self._append(s, user, "login", None,
                             {"method": "oidc", "issuer": issuer, "bound": first})  # fmt: skip
                return user
            if row is None and create_with_staff_id:
                return self._create_sso_analyst(username, subject, issuer, create_with_staff_id)
            why = ("unmapped" if row is None else "inactive" if not row.active
                   else "service" if service else "subject_mismatch")  # fmt: skip
            anon = User(id=0, username=row.username if row else UNKNOWN,
                        staff_id=row.staff_id if row else UNKNOWN, role=Role.ANALYST)
            self._append(s, anon, "login.oidc_refused", None, {"why": why, "issuer": issuer})
        raise Forbidden(_REFUSED[why])

    def _create_sso_analyst(self, username: str, subject: str, issuer: str, staff_id: str) -> User:
        unusable = secrets.token_urlsafe(48)  # nobody knows it: this account signs in by OIDC
        user = self.create_user(username, unusable, Role.ANALYST, staff_id, actor=SSO)
        assert user.role not in PRIVILEGED
        with self._tx() as s:
            row = s.get(UserRow, user.id)
            if row is None:  # pragma: no cover - just created
                raise TriageError("the account vanished")
            row.oidc_subject = subject
            self._append(s, user, "login", None,
                         {"method": "oidc", "issuer": issuer, "created": True})  # fmt: skip
            return as_user(row)

    def oidc_refused(self, why: str, issuer: str, username: str | None = None) -> None:
        """A provider's login refused before an account was chosen (no second factor, a bad
        token or state): audited under the account's name if it is one, else ``(unknown)``."""
        with self._tx() as s:
            row = (
                s.execute(select(UserRow).where(UserRow.username == username)).scalar_one_or_none()
                if username else None
            )  # fmt: skip
            anon = User(id=0, username=row.username if row else UNKNOWN,
                        staff_id=row.staff_id if row else UNKNOWN, role=Role.ANALYST)
            self._append(s, anon, "login.oidc_refused", None, {"why": why, "issuer": issuer})


_REFUSED = {
    "unmapped": "no account here matches your sign-in: ask an admin to create one",
    "inactive": "this account is disabled or awaits approval",
    "subject_mismatch": "this account is bound to another identity at the provider",
    "service": "a service account signs in with its tokens only, never as a person",
}
