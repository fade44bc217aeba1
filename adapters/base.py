"""The adapter contract: one input format turned into contract events, line by line.

An adapter is a mapping with golden files (STYLE 12): what a source field means is data
(a TOML table beside the module), and the adapter's code is the small part that applies
it. Each adapter names its ``format``, splits a stream into records (:meth:`records`:
lines by default; a JSON array or a CSV file record by record), and turns one record into
one contract event (:meth:`to_event`), or raises :class:`~adapters.exceptions.FieldError`
naming the source field at fault.

:meth:`Adapter.convert` is the boundary: every event it yields has been decoded by
:func:`models.events.decode_obj` (so it is valid contract), and every record that did not
become one is a :class:`Reject` carrying the original text, file, line number and reason.
Nothing is dropped, and nothing but blank lines is skipped.
"""

from __future__ import annotations

import hashlib
import re
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, tzinfo
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, ClassVar

import orjson

from adapters.exceptions import ConfigError, FieldError
from models.events import Event, decode_obj
from models.exceptions import DecodeError

if TYPE_CHECKING:
    from adapters.identity import IdentityResolver

_SOURCE = re.compile(r"^[a-z0-9_.-]{1,64}$")
#: event ids are at most this long (contract: 1..128 characters)
MAX_ID = 128


@dataclass(frozen=True, slots=True)
class Reject:
    """A record that did not become an event: what it was (as text, and the bytes read),
    where, and why."""

    original: str
    file: str
    line: int
    reason: str
    raw: bytes = b""

    def dumps(self) -> bytes:
        return orjson.dumps(
            {"file": self.file, "line": self.line, "reason": self.reason, "original": self.original}
        )


@dataclass(frozen=True, slots=True)
class Converted:
    """One contract event: the decoded :class:`Event` and its JSON line (no newline)."""

    event: Event
    json: bytes
    file: str
    line: int


@dataclass(frozen=True)
class AdapterConfig:
    """What a run of an adapter is told: the source name events carry (else the format's
    default), the zone of times written without an offset, a mapping file, and the identity
    resolver that maps accounts to staff ids (:mod:`adapters.identity`; None: actors stay
    the accounts the source names)."""

    source: str | None = None
    tz: tzinfo = UTC
    mapping: Path | None = None
    options: dict[str, Any] = field(default_factory=dict)
    identity: IdentityResolver | None = None


class Adapter(ABC):
    """Base of every format. Subclasses set the class attributes and :meth:`to_event`."""

    #: the name ``--format`` takes; the module is named after it (``-`` as ``_``)
    format: ClassVar[str]
    #: one line for ``probity convert --help`` and docs/contract.md
    description: ClassVar[str]
    #: the contract ``source`` when ``--source`` is not given
    default_source: ClassVar[str]
    #: whether ``--mapping`` is required
    needs_mapping: ClassVar[bool] = False

    def __init__(self, config: AdapterConfig | None = None) -> None:
        self.config = config or AdapterConfig()
        self.source = self.config.source or self.default_source
        if not _SOURCE.match(self.source):
            raise ConfigError(f"source {self.source!r}: must match [a-z0-9_.-]{{1,64}}")
        if self.needs_mapping and self.config.mapping is None:
            raise ConfigError(f"format {self.format} needs --mapping FILE")

    # --- what a format defines ---------------------------------------------------------

    def records(self, stream: IO[bytes]) -> Iterator[tuple[int, bytes]]:
        """The stream as (line number, original bytes) per record; blank lines skipped."""
        for lineno, raw in enumerate(stream, start=1):
            raw = raw.rstrip(b"\r\n")
            if raw.strip():
                yield lineno, raw

    @abstractmethod
    def to_event(self, raw: bytes) -> dict[str, Any]:
        """One record's bytes as a contract event object (``id``, ``time``, ``source``,
        ``kind``...). Raises :class:`FieldError` naming the source field at fault."""

    # --- the boundary ------------------------------------------------------------------

    def convert_record(self, raw: bytes, file: str, line: int) -> Converted | Reject:
        """One record into a decoded event or a reject; never raises for bad input."""
        try:
            obj = self.to_event(raw)
            event = decode_obj(obj)
            if self.config.identity is not None:
                obj, event = self.config.identity.apply(obj, event)
        except FieldError as exc:
            return self.reject(raw, file, line, exc.reason)
        except DecodeError as exc:
            return self.reject(raw, file, line, f"contract: {exc.reason}")
        except (ValueError, TypeError, KeyError, AttributeError, IndexError, RecursionError) as exc:
            # a case the mapping did not foresee: rejected with what went wrong, not a crash
            return self.reject(raw, file, line, f"record: cannot convert ({type(exc).__name__})")
        return Converted(event, orjson.dumps(obj), file, line)

    def convert(self, stream: IO[bytes], file: str) -> Iterator[Converted | Reject]:
        """Every record of ``stream`` as an event or a reject, in input order."""
        for line, raw in self.records(stream):
            yield self.convert_record(raw, file, line)

    def reject(self, raw: bytes, file: str, line: int, reason: str) -> Reject:
        return Reject(raw.decode("utf-8", "replace"), file, line, reason, raw)


class JsonAdapter(Adapter):
    """A format of JSON objects: one per line (JSONL), or a file that is one JSON array
    (as the Office 365 Management API and many exporters hand them out), whose elements
    are numbered 1.. in place of line numbers."""

    def records(self, stream: IO[bytes]) -> Iterator[tuple[int, bytes]]:
        first = stream.peek(1)[:1] if hasattr(stream, "peek") else b""
        if first.lstrip() == b"[" or (first and first.isspace() and _starts_array(stream)):
            yield from self._array(stream.read())
            return
        yield from super().records(stream)

    @staticmethod
    def _array(data: bytes) -> Iterator[tuple[int, bytes]]:
        """The elements of a JSON array; if the data is not one (a JSONL file whose first
        line happens to be an array), its lines, as any JSONL file."""
        try:
            items = orjson.loads(data)
        except orjson.JSONDecodeError:
            items = None
        if not isinstance(items, list):
            for lineno, raw in enumerate(data.splitlines(), start=1):
                if raw.strip():
                    yield lineno, raw.rstrip(b"\r")
            return
        for n, item in enumerate(items, start=1):
            yield n, orjson.dumps(item)

    def to_event(self, raw: bytes) -> dict[str, Any]:
        try:
            obj = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise FieldError("line", f"not valid JSON ({exc})") from exc
        if not isinstance(obj, dict):
            raise FieldError("line", f"not a JSON object (got {type(obj).__name__})")
        return self.from_object(obj, raw)

    @abstractmethod
    def from_object(self, obj: dict[str, Any], raw: bytes) -> dict[str, Any]:
        """One parsed JSON object as a contract event object."""


def _starts_array(stream: IO[bytes]) -> bool:
    head: bytes = stream.peek(4096)  # type: ignore[attr-defined]
    return head.lstrip()[:1] == b"["


def content_id(prefix: str, raw: bytes) -> str:
    """An id for a record whose source gives none: the same bytes always get the same id,
    so a record delivered twice is processed once."""
    return f"{prefix}-{hashlib.blake2b(raw, digest_size=12).hexdigest()}"


def dig(obj: Any, path: str) -> Any:
    """``obj["a"]["b"]`` for ``"a.b"``; a flat key ``"a.b"`` (dotted ECS exports) first."""
    if not isinstance(obj, dict):
        return None
    found = obj.get(path)
    if found is not None or "." not in path:
        return found
    cur: Any = obj
    for part in path.split("."):
        if isinstance(cur, dict):
            cur = cur.get(part)
        elif isinstance(cur, list) and part.isdigit():  # "web_resources.0.name"
            cur = cur[int(part)] if int(part) < len(cur) else None
        else:
            return None
        if cur is None:
            return None
    return cur


def text(value: Any) -> str | None:
    """A source value as text, or None when absent or a placeholder (``-``, empty)."""
    if type(value) is str:  # the common case first: this runs for every field read
        value = value.strip()
        return value if value and value != "-" else None
    if value is None or isinstance(value, dict | list):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    s = str(value).strip()
    return None if s in ("", "-") else s
