"""Accounts: users, passwords and the login lock-out, API tokens and browser sessions."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from triage.base import PRIVILEGED, Role, SessionInfo, TokenInfo, TokenScope, User
from triage.exceptions import AuthError, Forbidden, InvalidTransition, NotFound, TriageError
from triage.origin import CURRENT
from triage.security import (
    hash_password,
    new_api_token,
    password_problem,
    token_hash,
    verify_password,
)
from triage.store.core import StoreCore, as_token, as_user
from triage.tables import ApiTokenRow, AuditRow, SessionRow, UserRow

#: audit actions that count towards a name's lock-out: guessing through the login form and
#: guessing the current password on the change form are the same attack
_FAILED_LOGINS = ("login_failed", "password.change_failed")

#: the audit name of a failed login whose name is no account's (never the typed text)
UNKNOWN = "(unknown)"

#: a service account's password hash: not an argon2 hash, so no password ever verifies
NO_PASSWORD = "!service-account:no-password"  # noqa: S105 - a marker, not a secret

#: the actor of what is done from the command line (``probity triage ...``)
CLI = User(id=0, username="cli", staff_id="cli", role=Role.ADMIN)


class AccountsMixin(StoreCore):
    """Users, authentication, API tokens and server-side sessions."""

    # ----------------------------------------------------------------- users and tokens
    def create_user(
        self,
        username: str,
        password: str,
        role: Role,
        staff_id: str,
        *,
        line_manager: str | None = None,
        associates: Iterable[str] = (),
        actor: User | None = None,
        must_change_password: bool = False,
    ) -> User:
        """A local account (argon2 hash). ``actor`` is None for the command line (``cli``);
        an admin creating an account passes ``must_change_password`` (they chose it).

        Four eyes on privilege: once an admin exists, a new admin or head of unit is created
        inactive and ``awaiting_approval`` until a second admin approves it
        (:meth:`approve_user`). The very first accounts (no admin yet) are the bootstrap.

        A ``service`` account is a machine's, not a person's: it gets no password (``password``
        is ignored; no login can match the stored value) and never a forced change."""
        by = actor or CLI
        with self._tx() as s:
            pending = role in PRIVILEGED and self._has_admin(s)
        if role is Role.SERVICE:
            stored, must_change_password = NO_PASSWORD, False
        else:
            stored = hash_password(password, username)
        row = UserRow(
            username=username,
            staff_id=staff_id,
            role=role.value,
            password_hash=stored,
            active=not pending,
            line_manager=line_manager or None,
            associates=sorted(set(associates)),
            created_at=self.clock(),
            must_change_password=must_change_password,
            awaiting_approval=pending,
            created_by=by.username,
        )
        try:
            with self._tx() as s:
                s.add(row)
                s.flush()
                self._append(
                    s, by, "user.created", None,
                    {"user": username, "role": role.value, "staff_id": staff_id,
                     "must_change_password": must_change_password,
                     "awaiting_approval": pending},
                )  # fmt: skip
        except IntegrityError as exc:
            raise TriageError(f"user {username!r} exists") from exc
        return as_user(row)

    def approve_user(self, user_id: int, approver: User) -> User:
        """A second admin (not the one who created it) activates a privileged account."""
        if approver.role is not Role.ADMIN:
            raise Forbidden("only an admin approves an account")
        with self._tx() as s:
            row = s.get(UserRow, user_id)
            if row is None or not row.awaiting_approval:
                raise NotFound(f"no account {user_id} awaiting approval")
            if approver.username in (row.created_by, row.username):
                raise Forbidden("a privileged account needs a second admin: you created it")
            row.awaiting_approval, row.active, row.approved_by = False, True, approver.username
            self._append(
                s, approver, "user.approved", None, {"user": row.username, "role": row.role}
            )
            return as_user(row)

    def _has_admin(self, s: Session) -> bool:
        return (
            s.execute(
                select(UserRow.id)
                .where(UserRow.role == Role.ADMIN.value, UserRow.awaiting_approval.is_(False))
                .limit(1)
            ).first()
            is not None
        )

    def has_admin(self) -> bool:
        with self._tx() as s:
            return self._has_admin(s)

    def users(self) -> list[User]:
        with self._tx() as s:
            return [as_user(r) for r in s.execute(select(UserRow).order_by(UserRow.id)).scalars()]

    def get_user(self, user_id: int) -> User | None:
        with self._tx() as s:
            row = s.get(UserRow, user_id)
            return as_user(row) if row is not None and row.active else None

    def _recent_failures(self, s: Session, username: str) -> int:
        since = self.clock() - timedelta(seconds=self.policy.login_window_s)
        return s.execute(
            select(func.count())
            .select_from(AuditRow)
            .where(
                AuditRow.action.in_(_FAILED_LOGINS),
                AuditRow.username == username[:64],
                AuditRow.at > since,
            )
        ).scalar_one()

    def authenticate(self, username: str, password: str) -> User | None:
        """The active user with these credentials, or None; a failure is audited under the
        account's name when the name is an account's, else as ``(unknown)``: a name that is
        no account's may be a password typed into the wrong field, so it is never kept.

        No name is ever locked out (a stranger could lock anyone out): the service throttles
        by client address and globally instead (:mod:`triage.throttle`)."""
        with self._tx() as s:
            row = s.execute(
                select(UserRow).where(UserRow.username == username)
            ).scalar_one_or_none()
            ok = verify_password(row.password_hash if row else None, password)
            anon = User(
                id=0,
                username=row.username if row else UNKNOWN,
                staff_id=row.staff_id if row else UNKNOWN,
                role=Role.ANALYST,
            )
            if row is not None and ok and row.active and row.role != Role.SERVICE.value:
                user = as_user(row)
                self._append(s, user, "login", None, {})
                return user
            self._append(s, anon, "login_failed", None, {"known_user": row is not None})
            return None

    def set_active(self, user_id: int, active: bool, actor: User) -> User:
        with self._tx() as s:
            row = s.get(UserRow, user_id)
            if row is None:
                raise NotFound(f"no user {user_id}")
            if active and row.awaiting_approval:
                raise InvalidTransition("the account awaits a second admin's approval")
            row.active = active
            detail: dict[str, Any] = {"user": row.username, "active": active}
            if not active:
                detail["tokens_revoked"] = self._revoke_tokens(s, user_id)
                detail["sessions_revoked"] = self._revoke_sessions(s, user_id)
            self._append(s, actor, "user.updated", None, detail)
            return as_user(row)

    def change_password(
        self, user: User, current: str, new: str, *, keep_sid: str | None = None
    ) -> int:
        """Set ``user``'s own password, given the current one; every other session of the
        user is revoked (``keep_sid``, the caller's own, survives). Returns how many were.

        A wrong current password is audited as ``password.change_failed`` and counts towards
        the login lock-out, so a stolen session cannot guess its way to the password. The
        audit rows never hold a password."""
        problem = password_problem(new, user.username)
        if problem is None and new == current:
            problem = "the new password must differ from the current one"
        if problem is not None:
            raise AuthError(problem)
        new_hash = hash_password(new, user.username)
        with self._tx() as s:
            row = s.get(UserRow, user.id)
            if row is None or not row.active:
                raise NotFound(f"no active user {user.id}")
            who = as_user(row)
            if self._recent_failures(s, row.username) >= self.policy.login_max_failures:
                self._append(s, who, "password.change_locked", None, {})
                outcome = "too many failed attempts: try again later"
            elif not verify_password(row.password_hash, current):
                self._append(s, who, "password.change_failed", None, {})
                outcome = "the current password is not right"
            else:
                row.password_hash, row.must_change_password = new_hash, False
                revoked = self._revoke_sessions(s, user.id, keep=keep_sid)
                self._append(s, who, "password.changed", None, {"sessions_revoked": revoked})
                return revoked
        raise AuthError(outcome)  # after the commit: the failure stays in the audit log

    def reset_password(self, user_id: int, temporary: str, actor: User) -> User:
        """An admin sets a temporary password: the user must change it at their next login,
        and all their sessions and API tokens end now (a reset means the account may be in
        someone else's hands)."""
        with self._tx() as s:
            row = s.get(UserRow, user_id)
            if row is None or not row.active:
                raise NotFound(f"no active user {user_id}")
            if row.role == Role.SERVICE.value:
                raise InvalidTransition("a service account has no password: revoke its tokens")
            row.password_hash = hash_password(temporary, row.username)
            row.must_change_password = True
            revoked = self._revoke_sessions(s, user_id)
            tokens = self._revoke_tokens(s, user_id)
            self._append(
                s, actor, "user.password_reset", None,
                {"user": row.username, "sessions_revoked": revoked, "tokens_revoked": tokens},
            )  # fmt: skip
            return as_user(row)

    def create_token(
        self,
        user_id: int,
        name: str,
        actor: User,
        scope: TokenScope = TokenScope.FULL,
        *,
        days: int | None = None,
        not_after: datetime | None = None,
    ) -> str:
        """A new API token for ``user_id``; the plaintext is returned once, never stored.

        A ``full`` token acts with its owner's role, so only the owner issues one for
        themselves; an admin (or the command line) issues ``metrics`` tokens, which read
        ``/metrics`` and nothing else, and ``service`` tokens, which read alerts
        pseudonymised, for service accounts only (a service account holds no other kind).
        Every token expires after ``days`` (at most, and by default,
        ``policy.token_max_days``; ``policy.service_token_max_days`` for a service token),
        and not after ``not_after`` (the expiry of the token that issued it)."""
        longest = (
            self.policy.service_token_max_days
            if scope is TokenScope.SERVICE
            else self.policy.token_max_days
        )
        days = longest if days is None else days
        if not 1 <= days <= longest:
            raise InvalidTransition(f"a {scope.value} token lasts 1 to {longest} days")
        if actor.id != user_id:
            if actor.role is not Role.ADMIN:
                raise Forbidden("only the owner issues their own tokens")
            if scope is TokenScope.FULL:
                raise Forbidden(
                    "an admin issues metrics and service tokens only; a full token is its owner's"
                )
        elif scope is TokenScope.SERVICE:
            raise Forbidden("an admin issues service tokens, for service accounts")
        token, digest = new_api_token()
        now = self.clock()
        with self._tx() as s:
            row = s.get(UserRow, user_id)
            if row is None or not row.active:
                raise NotFound(f"no active user {user_id}")
            if (scope is TokenScope.SERVICE) != (row.role == Role.SERVICE.value) and (
                scope is not TokenScope.METRICS
            ):
                raise Forbidden(
                    "a service token is for a service account, which holds no full token"
                )
            expires = now + timedelta(days=days)
            if not_after is not None and not_after < expires:
                expires = not_after
            s.add(
                ApiTokenRow(user_id=user_id, name=name, token_hash=digest, created_at=now,
                            scope=scope.value, created_by=actor.username, expires_at=expires)
            )  # fmt: skip
            self._append(s, actor, "token.created", None,
                         {"user": row.username, "name": name, "scope": scope.value,
                          "days": days})  # fmt: skip
        return token

    def tokens(self, user_id: int | None = None) -> list[TokenInfo]:
        """API tokens (of ``user_id``, or everyone's), newest first, revoked ones too."""
        with self._tx() as s:
            q = select(ApiTokenRow).order_by(ApiTokenRow.id.desc())
            if user_id is not None:
                q = q.where(ApiTokenRow.user_id == user_id)
            return [as_token(r) for r in s.execute(q).scalars()]

    def revoke_token(self, token_id: int, actor: User, *, owner_id: int | None = None) -> TokenInfo:
        """End one token now. ``owner_id`` set: only a token of that user (self-service);
        unset: any token (an admin, or the command line)."""
        with self._tx() as s:
            row = s.get(ApiTokenRow, token_id)
            if row is None or (owner_id is not None and row.user_id != owner_id):
                raise NotFound(f"no token {token_id}")
            if row.revoked_at is None:
                row.revoked_at = self.clock()
                owner = s.get(UserRow, row.user_id)
                self._append(s, actor, "token.revoked", None,
                             {"token": token_id, "name": row.name, "scope": row.scope,
                              "user": owner.username if owner else None})  # fmt: skip
            return as_token(row)

    def _revoke_tokens(self, s: Session, user_id: int) -> int:
        result = s.execute(
            update(ApiTokenRow)
            .where(ApiTokenRow.user_id == user_id, ApiTokenRow.revoked_at.is_(None))
            .values(revoked_at=self.clock())
        )
        return int(getattr(result, "rowcount", 0) or 0)

    def resolve_token(self, token: str) -> tuple[User, TokenScope] | None:
        """The active owner of a live (not revoked, not expired) token, and its scope."""
        with self._tx() as s:
            found = s.execute(
                select(UserRow, ApiTokenRow.scope)
                .join(ApiTokenRow, ApiTokenRow.user_id == UserRow.id)
                .where(
                    ApiTokenRow.token_hash == token_hash(token),
                    ApiTokenRow.revoked_at.is_(None),
                    or_(ApiTokenRow.expires_at.is_(None), ApiTokenRow.expires_at > self.clock()),
                    UserRow.active.is_(True),
                )
            ).one_or_none()
            return (as_user(found[0]), TokenScope(found[1])) if found is not None else None

    def token_expiry(self, token: str) -> datetime | None:
        """When a token expires (None: unknown, or one from before tokens expired)."""
        with self._tx() as s:
            return s.execute(
                select(ApiTokenRow.expires_at).where(ApiTokenRow.token_hash == token_hash(token))
            ).scalar_one_or_none()

    def user_for_token(self, token: str) -> User | None:
        resolved = self.resolve_token(token)
        return resolved[0] if resolved is not None else None

    # ----------------------------------------------------------------- sessions
    def open_session(self, user_id: int, sid: str, max_age_s: int, *, mfa: bool = False) -> None:
        """Record a new browser session (its id's hash) after a successful login; expired
        rows of anyone are deleted on the way, so the table holds live sessions only.
        ``mfa``: the login proved a second factor (a TOTP code, the provider's claim)."""
        now = self.clock()
        origin = CURRENT.get()  # the login request's, for its owner's sessions page
        with self._tx() as s:
            s.execute(delete(SessionRow).where(SessionRow.expires_at <= now))
            s.add(SessionRow(id_hash=token_hash(sid), user_id=user_id, created_at=now,
                             expires_at=now + timedelta(seconds=max_age_s),
                             last_seen_at=now, mfa_at=now if mfa else None,
                             handle=secrets.token_urlsafe(12),
                             client=origin.client[:64] if origin else None,
                             user_agent=origin.user_agent[:256] if origin else None))  # fmt: skip

    def session_user(self, sid: str) -> User | None:
        """The active user of a live session, or None (logged out, revoked, expired, idle
        for ``policy.session_idle_s``, or the account disabled). A use moves the session's
        last-seen time on (written at most once a minute)."""
        found = self.session_login(sid)
        return found[0] if found is not None else None

    def _live(self, now: datetime) -> tuple[ColumnElement[bool], ...]:
        """The clauses a live session meets: not expired, not idle."""
        idle_since = now - timedelta(seconds=self.policy.session_idle_s)
        return (
            SessionRow.expires_at > now,
            or_(SessionRow.last_seen_at.is_(None), SessionRow.last_seen_at > idle_since),
        )

    def session_login(self, sid: str) -> tuple[User, datetime | None] | None:
        """:meth:`session_user` and when the session last proved a second factor."""
        now = self.clock()
        with self._tx() as s:
            found = s.execute(
                select(UserRow, SessionRow)
                .join(SessionRow, SessionRow.user_id == UserRow.id)
                .where(
                    SessionRow.id_hash == token_hash(sid),
                    *self._live(now),
                    UserRow.active.is_(True),
                )
            ).one_or_none()
            if found is None:
                return None
            user_row, session_row = found
            seen = session_row.last_seen_at
            if seen is None or now - seen >= timedelta(seconds=60):
                session_row.last_seen_at = now
            return as_user(user_row), session_row.mfa_at

    def close_session(self, sid: str, user: User) -> None:
        """Logout: the session ends server-side (a copied cookie is refused from now on)."""
        with self._tx() as s:
            s.execute(
                delete(SessionRow).where(
                    SessionRow.id_hash == token_hash(sid), SessionRow.user_id == user.id
                )
            )
            self._append(s, user, "logout", None, {})

    def sessions_of(self, user: User, current_sid: str | None = None) -> list[SessionInfo]:
        """``user``'s own live sessions, newest first; ``current_sid`` (the asking session's
        id) is marked ``current``. Never the ids, their hashes or the CSRF tokens."""
        now = self.clock()
        here = token_hash(current_sid) if current_sid else None
        with self._tx() as s:
            rows = s.execute(
                select(SessionRow)
                .where(SessionRow.user_id == user.id, *self._live(now))
                .order_by(SessionRow.created_at.desc(), SessionRow.handle)
            ).scalars()
            return [_session_info(r, r.id_hash == here) for r in rows]

    def end_session(self, user: User, handle: str, current_sid: str | None = None) -> SessionInfo:
        """End one of ``user``'s own live sessions, by its handle; audited as
        ``session.ended``. Another user's session, an ended or an unknown one is the same
        :class:`NotFound`, audited as ``session.end_refused`` (no oracle for handles)."""
        now = self.clock()
        here = token_hash(current_sid) if current_sid else None
        with self._tx() as s:
            row = s.execute(
                select(SessionRow).where(
                    SessionRow.handle == handle, SessionRow.user_id == user.id, *self._live(now)
                )
            ).scalar_one_or_none()
            if row is not None:
                info = _session_info(row, row.id_hash == here)
                s.delete(row)
                self._append(s, user, "session.ended", None,
                             {"session": handle, "current": info.current,
                              "client": info.client})  # fmt: skip
                return info
        with self._tx() as s:
            self._append(s, user, "session.end_refused", None, {"session": handle[:32]})
        raise NotFound(f"no session {handle[:32]!r}")

    def end_other_sessions(self, user: User, current_sid: str | None = None) -> int:
        """End every session of ``user`` but ``current_sid`` (all of them when called with
        an API token); audited as ``session.ended_others``. Returns how many ended."""
        with self._tx() as s:
            ended = self._revoke_sessions(s, user.id, keep=current_sid)
            self._append(s, user, "session.ended_others", None, {"sessions_revoked": ended})
            return ended

    def live_sessions(self, user_id: int) -> int:
        with self._tx() as s:
            return s.execute(
                select(func.count())
                .select_from(SessionRow)
                .where(SessionRow.user_id == user_id, SessionRow.expires_at > self.clock())
            ).scalar_one()

    def purge_expired_sessions(self) -> int:
        """Delete expired session rows (``open_session`` does it too); returns how many."""
        with self._tx() as s:
            result = s.execute(delete(SessionRow).where(SessionRow.expires_at <= self.clock()))
            return int(getattr(result, "rowcount", 0) or 0)

    def _revoke_sessions(self, s: Session, user_id: int, keep: str | None = None) -> int:
        """End all of a user's sessions but ``keep`` (a session id); returns how many ended.
        Whatever changes who a user is or how they prove it (disabling, a password change or
        reset, a role change should one be added) must call this."""
        q = delete(SessionRow).where(SessionRow.user_id == user_id)
        if keep is not None:
            q = q.where(SessionRow.id_hash != token_hash(keep))
        result = s.execute(q)
        return int(getattr(result, "rowcount", 0) or 0)


def _session_info(r: SessionRow, current: bool) -> SessionInfo:
    return SessionInfo(handle=r.handle, created_at=r.created_at, last_seen_at=r.last_seen_at,
                       expires_at=r.expires_at, client=r.client, user_agent=r.user_agent,
                       mfa=r.mfa_at is not None, current=current)  # fmt: skip
