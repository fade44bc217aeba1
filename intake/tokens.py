"""The sources' bearer tokens: one per source, created and revoked from the command line,
stored hashed, each bound to the source name its events carry.

A token reads ``pit_<id>_<secret>``: the id (12 hex digits) finds the record, the secret
(32 random bytes, URL-safe base64) is checked against its SHA-256. A fast hash is enough for
a 256-bit random secret (no dictionary to guess from) and costs microseconds per request,
where argon2 would cost tens of milliseconds. The file is JSON, written whole and replaced
atomically, mode 0600; a running intake rereads it when it changes, so a revoked token stops
working within a request.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import hmac
import os
import re
import secrets
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from intake.exceptions import TokenStoreError
from probity.settings import Settings

PREFIX = "pit"
_TOKEN = re.compile(r"^pit_([0-9a-f]{12})_([A-Za-z0-9_-]{20,})$")


class SourceToken(BaseModel):
    """One token's record (never the token itself): whose it is and how its source sends."""

    model_config = ConfigDict(frozen=True)

    id: str
    source: str = Field(pattern=r"^[a-z0-9_.-]{1,64}$")
    sha256: str
    created: datetime
    revoked: datetime | None = None
    format: str | None = Field(default=None, description="the format the source sends")
    tz: str | None = Field(default=None, description="zone of its times without an offset")
    mapping: str | None = Field(default=None, description="its mapping file (csv)")

    @property
    def active(self) -> bool:
        return self.revoked is None


def tokens_path(settings: Settings) -> Path:
    """Where the token file lives: ``intake.tokens_path``, else under ``data_dir``."""
    configured = settings.intake.tokens_path
    return Path(configured) if configured else Path(settings.data_dir) / "intake-tokens.json"


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class TokenStore:
    """The token file. Writers (the CLI) lock it; the intake only reads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: tuple[int, int] | None = None
        self._by_id: dict[str, SourceToken] = {}

    # --- reading ---------------------------------------------------------------------

    def _read(self) -> list[SourceToken]:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise TokenStoreError(f"{self.path}: cannot read ({exc})") from exc
        try:
            items = orjson.loads(data) if data.strip() else []
            return [SourceToken.model_validate(x) for x in items]
        except (orjson.JSONDecodeError, ValidationError, TypeError) as exc:
            raise TokenStoreError(f"{self.path}: not a token file ({exc})") from exc

    def tokens(self) -> list[SourceToken]:
        """Every token record, revoked ones included, oldest first."""
        return self._read()

    def _refresh(self) -> None:
        try:
            st = self.path.stat()
            stamp = (st.st_mtime_ns, st.st_size)
        except FileNotFoundError:
            stamp = (0, 0)
        if stamp != self._stamp:
            self._by_id = {t.id: t for t in self._read()}
            self._stamp = stamp

    def verify(self, token: str) -> SourceToken | None:
        """The active record ``token`` belongs to, or None (unknown, malformed, revoked)."""
        m = _TOKEN.match(token)
        if m is None:
            return None
        self._refresh()
        record = self._by_id.get(m.group(1))
        if record is None or not record.active:
            return None
        if not hmac.compare_digest(record.sha256, _digest(m.group(2))):
            return None
        return record

    # --- writing (the CLI) ------------------------------------------------------------

    @contextlib.contextmanager
    def _locked(self) -> Iterator[list[SourceToken]]:
        """The records under an exclusive lock; what the block leaves in the list is written."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock_path = self.path.with_name(self.path.name + ".lock")
        with open(lock_path, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            records = self._read()
            yield records
            data = orjson.dumps(
                [r.model_dump(mode="json") for r in records], option=orjson.OPT_INDENT_2
            )
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".tokens-")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                os.chmod(tmp, 0o600)
                os.replace(tmp, self.path)
            except BaseException:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
                raise

    def create(
        self,
        source: str,
        *,
        format_name: str | None = None,
        tz: str | None = None,
        mapping: str | None = None,
        replace: bool = False,
    ) -> tuple[SourceToken, str]:
        """A new token for ``source``: its record and the token, shown once and never stored.
        A source has one active token: with ``replace`` the old one is revoked, else it is an
        error."""
        secret = secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        with self._locked() as records:
            active = [r for r in records if r.source == source and r.active]
            if active and not replace:
                raise TokenStoreError(
                    f"source {source} already has token {active[0].id}: revoke it first, "
                    "or create with --replace"
                )
            for i, r in enumerate(records):
                if r in active:
                    records[i] = r.model_copy(update={"revoked": now})
            taken = {r.id for r in records}
            token_id = secrets.token_hex(6)
            while token_id in taken:
                token_id = secrets.token_hex(6)
            try:
                record = SourceToken(
                    id=token_id,
                    source=source,
                    sha256=_digest(secret),
                    created=now,
                    format=format_name,
                    tz=tz,
                    mapping=mapping,
                )
            except ValidationError as exc:
                raise TokenStoreError(f"source {source!r}: must match [a-z0-9_.-]{{1,64}}") from exc
            records.append(record)
        return record, f"{PREFIX}_{token_id}_{secret}"

    def revoke(
        self, *, token_id: str | None = None, source: str | None = None
    ) -> list[SourceToken]:
        """Revoke one token by id, or every active token of a source; the records revoked."""
        if (token_id is None) == (source is None):
            raise TokenStoreError("name a token id or a source, not both")
        now = datetime.now(UTC)
        done: list[SourceToken] = []
        with self._locked() as records:
            for i, r in enumerate(records):
                if r.active and (r.id == token_id or r.source == source):
                    records[i] = r.model_copy(update={"revoked": now})
                    done.append(records[i])
        if not done:
            raise TokenStoreError(f"no active token {token_id or 'of source ' + str(source)}")
        return done
