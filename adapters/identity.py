"""Identity resolution: the account a source names (``FORCE\\jsmith``,
``john.smith@force.example``, a SID, a system user id) to the staff id as of the event's
time, so an officer's events from every system land on the officer's partition.

Fed by ``staff.upsert`` events whose ``attrs.accounts`` list the member of staff's accounts
(contract 1.2), versioned by event time like the reference state: the upsert of a member
of staff in effect at time *t* is their latest with ``time <= t`` (before their first, the
first: an upsert describes the past until an earlier one says otherwise), and an account of
it counts at *t* when ``valid_from <= t < valid_to`` (either open). So an account
re-assigned mid-month resolves to its old holder before the change and its new one after.
When several staff hold one account at *t*, the latest ``valid_from`` wins (then the lowest
staff id).

Accounts compare case-insensitively. An actor ``DOMAIN\\user`` also matches an account
declared as plain ``user``; the actor's SID (``attrs.actor_sid``, from Windows formats) is
tried first. An account with ``system`` only matches events of that source.

:meth:`IdentityResolver.apply` rewrites a converted event: ``actor`` becomes the staff id
and ``attrs.actor_account`` keeps the account as named; an account that resolves to no one
(service, shared, contractor accounts) keeps its ``actor`` (so it is keyed by the account),
gets ``attrs.unresolved_account = true``, and is counted per source and account for the
ACU's list. Nothing is dropped. Thread-safe: the intake feeds it from a consumer thread.

>>> from models.events import decode_obj
>>> r = IdentityResolver()
>>> r.observe(decode_obj({"id": "h1", "time": "2026-03-01T00:00:00Z", "source": "hr",
...     "kind": "staff.upsert",
...     "attrs": {"staff_id": "S1", "accounts": [{"id": "FORCE\\\\jsmith"}]}}))
True
>>> from datetime import datetime, UTC
>>> r.resolve("force\\\\JSmith", datetime(2026, 3, 2, tzinfo=UTC), "windows")
'S1'
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from adapters.exceptions import ConfigError
from models.events import Event, StaffAttrs, attr_or_none, decode_event, decode_obj
from models.exceptions import DecodeError


def normalise(account: str) -> str:
    return account.strip().casefold()


@dataclass(frozen=True, slots=True)
class _Held:
    """One account in one version of a member of staff."""

    key: str
    system: str | None
    valid_from: datetime | None
    valid_to: datetime | None

    def covers(self, at: datetime, source: str | None) -> bool:
        if self.system is not None and source is not None and self.system != source:
            return False
        if self.valid_from is not None and at < self.valid_from:
            return False
        return self.valid_to is None or at < self.valid_to


@dataclass
class _Staff:
    """A member of staff's upserts, by event time: (time, accounts held)."""

    times: list[datetime] = field(default_factory=list)
    versions: list[tuple[_Held, ...]] = field(default_factory=list)

    def add(self, at: datetime, held: tuple[_Held, ...]) -> None:
        i = bisect.bisect_right(self.times, at)
        self.times.insert(i, at)
        self.versions.insert(i, held)

    def at(self, t: datetime) -> tuple[_Held, ...]:
        i = bisect.bisect_right(self.times, t) - 1
        return self.versions[max(i, 0)]


@dataclass
class Unresolved:
    """An account that resolved to no one: how often, from which source, first and last."""

    source: str
    account: str
    count: int
    first: datetime
    last: datetime

    def as_json(self) -> dict[str, Any]:
        return {"source": self.source, "account": self.account, "count": self.count,
                "first": self.first.isoformat(), "last": self.last.isoformat()}  # fmt: skip


class IdentityResolver:
    """Accounts to staff ids as of a time; see the module's docstring."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._staff: dict[str, _Staff] = {}
        self._holders: dict[str, set[str]] = {}  # account key -> staff ids that ever held it
        self._unresolved: dict[tuple[str, str], Unresolved] = {}

    # --- feeding -----------------------------------------------------------------------

    def observe(self, event: Event) -> bool:
        """Take a ``staff.upsert`` (other events are ignored); True if it was one."""
        if event.kind != "staff.upsert" or not isinstance(event.attrs, StaffAttrs):
            return False
        attrs = event.attrs
        held = tuple(
            _Held(normalise(a.id), a.system, a.valid_from, a.valid_to) for a in attrs.accounts or ()
        )
        with self._lock:
            self._staff.setdefault(attrs.staff_id, _Staff()).add(event.time, held)
            for h in held:
                self._holders.setdefault(h.key, set()).add(attrs.staff_id)
        return True

    def load(self, lines: Iterable[bytes], where: str = "staff file") -> int:
        """Feed contract JSONL (a staff file: its ``staff.upsert`` lines; others ignored);
        the number of upserts taken. An invalid line is a usage error."""
        n = 0
        for lineno, raw in enumerate(lines, start=1):
            if not raw.strip():
                continue
            try:
                n += self.observe(decode_event(raw))
            except DecodeError as exc:
                raise ConfigError(f"{where} line {lineno}: {exc.reason}") from exc
        return n

    @classmethod
    def from_files(cls, paths: Iterable[Path]) -> IdentityResolver:
        resolver = cls()
        for path in paths:
            try:
                with path.open("rb") as fh:
                    resolver.load(fh, str(path))
            except OSError as exc:
                raise ConfigError(f"{path}: cannot read ({exc})") from exc
        return resolver

    @property
    def staff_count(self) -> int:
        with self._lock:
            return len(self._staff)

    # --- resolving ---------------------------------------------------------------------

    def resolve(self, account: str, at: datetime, source: str | None = None,
                sid: str | None = None) -> str | None:  # fmt: skip
        """The staff id holding ``account`` (or ``sid``) at ``at``, or None."""
        keys = []
        if sid:
            keys.append(normalise(sid))
        key = normalise(account)
        keys.append(key)
        if "\\" in key:
            keys.append(key.rsplit("\\", 1)[1])
        with self._lock:
            for k in keys:
                found = self._holder(k, at, source)
                if found is not None:
                    return found
            if account in self._staff:  # already a staff id
                return account
        return None

    def _holder(self, key: str, at: datetime, source: str | None) -> str | None:
        best: tuple[float, str] | None = None
        for staff_id in self._holders.get(key, ()):
            for h in self._staff[staff_id].at(at):
                if h.key == key and h.covers(at, source):
                    since = h.valid_from.timestamp() if h.valid_from else float("-inf")
                    rank = (-since, staff_id)
                    if best is None or rank < best:
                        best = rank
        return best[1] if best else None

    def apply(self, obj: dict[str, Any], event: Event) -> tuple[dict[str, Any], Event]:
        """A converted event with its actor resolved (see the module's docstring)."""
        actor = event.actor
        if actor is None or event.is_reference:
            return obj, event
        sid = attr_or_none(event.attrs, "actor_sid")
        sid = sid if isinstance(sid, str) else None
        staff_id = self.resolve(actor, event.time, event.source, sid)
        attrs = dict(obj.get("attrs") or {})
        if staff_id is None:
            self._count(event.source, actor, event.time)
            attrs["unresolved_account"] = True
        elif staff_id == actor:
            return obj, event
        else:
            attrs["actor_account"] = actor
            obj = {**obj, "actor": staff_id}
        obj = {**obj, "attrs": attrs}
        return obj, decode_obj(obj)

    def _count(self, source: str, account: str, at: datetime) -> None:
        with self._lock:
            found = self._unresolved.get((source, account))
            if found is None:
                self._unresolved[(source, account)] = Unresolved(source, account, 1, at, at)
            else:
                found.count += 1
                found.first = min(found.first, at)
                found.last = max(found.last, at)

    def unresolved(self) -> list[Unresolved]:
        """The accounts that resolved to no one, most events first."""
        with self._lock:
            items = [Unresolved(u.source, u.account, u.count, u.first, u.last)
                     for u in self._unresolved.values()]  # fmt: skip
        return sorted(items, key=lambda u: (-u.count, u.source, u.account))

    def unresolved_jsonl(self) -> bytes:
        return b"".join(orjson.dumps(u.as_json()) + b"\n" for u in self.unresolved())
