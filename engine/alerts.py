"""The alert builder: findings into contract-v1 alerts with deterministic ids, each with a
digest of the evidence events it still holds (:class:`EvidenceBook`)."""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from itertools import accumulate
from sys import intern
from typing import Any

import orjson
import zstandard
from pydantic_core import to_jsonable_python

from detectors.reference.view import ReferenceView
from engine.codec import squeeze
from models.alerts import Alert, EvidenceDigest, Finding, alert_id
from models.events import Attrs, Event, attr_or_none, decode_event

#: watch lists whose people are shown to an analyst only once a second person approves
SENSITIVE_LISTS = frozenset({"covert_subject", "vip", "canary", "vulnerable_victim"})

#: structured attributes a digest may carry: what detectors judge by (enums, counts, field
#: names, domains, list names), never free text (message text, search strings, grounds,
#: paths, URLs, names, numbers, addresses)
DIGEST_ATTRS = frozenset({
    "location", "logon_type", "results", "fields", "channel", "count", "duration_s",
    "operation", "bwv", "setting", "value", "device_type", "destination", "bytes", "domain",
    "action", "access", "object_type", "pages", "outcome", "category", "level", "status",
    "expires", "case", "list", "group", "relationship", "role", "unit",
})  # fmt: skip
_MAX_TEXT = 64
_MAX_ITEMS = 12


def _short(value: Any) -> Any:
    if isinstance(value, str):
        return value[:_MAX_TEXT]
    if isinstance(value, list):
        return [_short(v) for v in value[:_MAX_ITEMS] if isinstance(v, str | int | float | bool)]
    if isinstance(value, bool | int | float):
        return value
    return None


#: what the book keeps of one event: just what its digest needs, the free text already cut
#: (id, time, source, kind, actor, record type, record id, purpose, terminal, subjects,
#: (name, value) of the digest attributes, recipients)
Held = tuple[Any, ...]

#: per attributes model, its declared fields a digest may carry (sorted)
_DIGEST_FIELDS: dict[type[Attrs], tuple[str, ...]] = {}


def _digest_fields(cls: type[Attrs]) -> tuple[str, ...]:
    names = _DIGEST_FIELDS.get(cls)
    if names is None:
        names = tuple(sorted(n for n in cls.model_fields if n in DIGEST_ATTRS))
        _DIGEST_FIELDS[cls] = names
    return names


def held(event: Event) -> Held:
    """What the book keeps of ``event``: the digest's inputs, no model and no free text.

    Cheap (no serialisation): the attributes' values stay as decoded and are put in JSON
    form only when an alert cites the event (:func:`digest_of`). Names are interned so the
    book shares one string per source, kind and officer."""
    attrs = event.attrs
    found = attrs.__dict__
    kept = [(n, v) for n in _digest_fields(type(attrs)) if (v := found[n]) is not None]
    extra = attrs.__pydantic_extra__
    if extra:
        kept += [(k, v) for k, v in extra.items() if k in DIGEST_ATTRS and v is not None]
        kept.sort()
    recipients = None
    if event.kind == "message.sent":
        to = attr_or_none(attrs, "to")
        if isinstance(to, list):
            recipients = len(to)
    record = event.record
    actor = event.actor
    return (
        event.id, event.time, intern(event.source), intern(event.kind),
        intern(actor) if actor is not None else None,
        record.type if record else None, record.id if record else None,
        event.purpose[:_MAX_TEXT] if event.purpose else None,
        event.terminal[:_MAX_TEXT] if event.terminal else None,
        tuple(event.subjects[:_MAX_ITEMS]) if event.subjects else (),
        tuple(kept), recipients,
    )  # fmt: skip


def digest_of(entry: Held) -> EvidenceDigest:
    """The readable digest of one held event (see :class:`~models.alerts.EvidenceDigest`).

    Messages give the number of recipients (``recipients``), never who or what was said.
    """
    eid, time, source, kind, actor, rtype, rid, purpose, terminal, subjects, kept, to = entry
    attrs: dict[str, Any] = {}
    for key, raw in kept:
        value = _short(to_jsonable_python(raw))
        if value is not None and value != []:
            attrs[key] = value
    if to is not None:
        attrs["recipients"] = to
    return EvidenceDigest(
        id=eid, time=time, source=source, kind=kind, actor=actor, record_type=rtype,
        record_id=rid, purpose=purpose, terminal=terminal, subjects=list(subjects), attrs=attrs,
    )  # fmt: skip


def digest(event: Event) -> EvidenceDigest:
    """The readable digest of one event (see :func:`digest_of`)."""
    return digest_of(held(event))


#: events per sealed block of the book: one compressed blob per block, so an event held costs
#: its id, its place in the index and 25-30 bytes compressed
BOOK_BLOCK = 256
_OPEN = zstandard.ZstdDecompressor()


def _sealed_form(entry: Held) -> tuple[Any, ...]:
    """A held event as orjson writes it, without its id (the block keeps the ids): values,
    its time included (RFC 3339 text, back exactly with :meth:`datetime.fromisoformat`),
    JSON as :func:`to_jsonable_python` makes them (orjson's own for the rest, written the
    same way)."""
    return entry[1:]


def _held_form(eid: str, raw: list[Any]) -> Held:
    """A held event back from its sealed form (the inverse of :func:`_sealed_form`)."""
    time, source, kind, actor, rtype, rid, purpose, terminal, subjects, kept, to = raw
    return (
        eid, datetime.fromisoformat(time), source, kind, actor, rtype, rid, purpose, terminal,
        tuple(subjects), tuple((k, v) for k, v in kept), to,
    )  # fmt: skip


def _seal(entries: Iterable[Held]) -> bytes | None:
    """A block's held events as one zstd-compressed JSON array; None if a value has no JSON
    form orjson can write (an integer over 64 bits), so the block is kept as held tuples."""
    try:
        raw = orjson.dumps(
            [_sealed_form(e) for e in entries], default=to_jsonable_python,
            option=orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS,
        )  # fmt: skip
    except orjson.JSONEncodeError:
        return None
    return squeeze(raw)


class _Sealed:
    """A sealed block's events. Those noted with the bytes they were decoded from (a worker's
    and a replay judge's) are kept as those bytes end to end, compressed, with where each
    ends: sealing them is one join and one compression, about 0.3 us and 25 bytes an event,
    against several us in Python for their held tuples' JSON. The others (offline callers,
    the graph judge's events of other workers, redeliveries) as their held tuples'
    compressed JSON, or the tuples when orjson cannot write them."""

    __slots__ = ("blob", "ends", "raw_ids", "row_ids", "rows")

    def __init__(self, entries: dict[str, Event | Held | bytes], ids: tuple[str, ...]) -> None:
        raws: list[bytes] = []
        raw_ids: list[str] = []
        rest: list[Held] = []
        rest_ids: list[str] = []
        for eid, entry in entries.items():
            if isinstance(entry, bytes):
                raws.append(entry)
                raw_ids.append(eid)
            else:
                rest.append(entry if isinstance(entry, tuple) else held(entry))
                rest_ids.append(eid)
        # the block's own ids tuple where one part has them all (as it nearly always does)
        self.raw_ids = ids if not rest else tuple(raw_ids)
        self.ends = array("I", accumulate(map(len, raws)))
        self.blob = squeeze(b"".join(raws)) if raws else b""
        self.row_ids = ids if not raws else tuple(rest_ids)
        self.rows: bytes | dict[str, Held] | None = None
        if rest:
            rows = _seal(rest)
            self.rows = rows if rows is not None else dict(zip(rest_ids, rest, strict=True))

    def size(self) -> int:
        """Bytes of compressed events (for tests)."""
        return len(self.blob) + (len(self.rows) if isinstance(self.rows, bytes) else 0)

    def opened(self) -> dict[str, bytes | list[Any] | Held]:
        """Every event of the block by id: its bytes, its sealed row, or its held tuple."""
        out: dict[str, bytes | list[Any] | Held] = {}
        if self.ends:
            data, ends = _OPEN.decompress(self.blob), self.ends
            out.update(zip(self.raw_ids, [data[ends[i - 1] if i else 0 : ends[i]]
                                          for i in range(len(ends))], strict=True))  # fmt: skip
        rows = self.rows
        if isinstance(rows, bytes):
            out.update(zip(self.row_ids, orjson.loads(_OPEN.decompress(rows)), strict=True))
        elif rows is not None:
            out.update(rows)
        return out


#: a sealed block: its events' ids in the order they were noted, and the events
_Block = tuple[tuple[str, ...], _Sealed]


def _held_entry(eid: str, entry: bytes | list[Any] | Held) -> Held:
    """The held tuple of a sealed block's entry (see :meth:`_Sealed.opened`); bytes are
    decoded (the event judged was decoded from them)."""
    if isinstance(entry, bytes):
        return held(decode_event(entry))
    return entry if isinstance(entry, tuple) else _held_form(eid, entry)


class EvidenceBook:
    """The latest ``size`` events judged in this process, by id, for the alert builder.

    The pipeline notes each event it judges; the book keeps only what a digest needs
    (:func:`held`: shared names and short values, about a tenth of the decoded event, which a
    worker would otherwise hold ``size`` of), and the builder digests the ones an alert
    cites. The newest ``block`` events are kept as they came (the bytes they were decoded
    from, when the caller gives them, else the events: what to keep of them is worked out for
    a whole block at once, when it is sealed, since only a few are ever cited); older ones are
    sealed in compressed blocks (the bytes end to end, else the held tuples' JSON; a tuple
    held cost about 460 bytes with its place in an ordered dict, a sealed event costs 25-30
    plus its id and a plain dict's entry) and opened when an alert cites one of them. The
    blocks keep the order: an event noted again (a redelivery) moves to the open block, as to
    the end of a queue, and the oldest event still held in the oldest block is the one that
    goes. An evidence event older than the book's reach is left out of the alert, which names
    it in ``evidence_missing``.
    """

    def __init__(self, size: int = 50_000, block: int = BOOK_BLOCK) -> None:
        self.size = size
        self.block = block
        self._where: dict[str, int] = {}  # every event held, by id: the number of its block
        self._number = 0  # the open block's
        self._open: dict[str, Event | Held | bytes] = {}  # in the order noted
        self._sealed: dict[int, _Block] = {}
        self._live: dict[int, int] = {}  # events of each sealed block still held
        self._first = 0  # the oldest block that may hold an event
        self._cursor = 0  # where in it the events still held may start
        self._opened: tuple[int, dict[str, bytes | list[Any] | Held]] | None = None  # last read

    def note(self, event: Event, raw: bytes | None = None) -> None:
        """Called by the pipeline for each event it judges (before the detectors run), with
        the bytes it was decoded from when the caller has them (kept instead of the event).

        A full open block is sealed when the next event comes, not at once, so that noting
        the same event again straight after (the graph judge does) finds it still open."""
        where = self._where
        eid = event.id
        at = where.get(eid)
        if at is not None and at == self._number:  # noted again: to the end
            self._open[eid] = self._open.pop(eid)
            return
        if len(self._open) >= self.block:
            self._seal_open()
        if at is not None:  # noted again, from a sealed block: to the end, as it was kept
            self._open[eid] = self._kept(at, eid)
            where[eid] = self._number
            self._drop(at)
            self._compact(at)
        else:
            where[eid] = self._number
            self._open[eid] = event if raw is None else raw
            if len(where) > self.size:
                self._evict()

    def _seal_open(self) -> None:
        entries, number = self._open, self._number
        ids = tuple(entries)
        self._sealed[number] = (ids, _Sealed(entries, ids))
        self._live[number] = len(entries)
        self._open = {}
        self._number = number + 1

    def _entries(self, number: int) -> dict[str, bytes | list[Any] | Held]:
        """Sealed block ``number``'s events by id, opened (the last block opened is kept)."""
        opened = self._opened
        if opened is None or opened[0] != number:
            opened = self._opened = (number, self._sealed[number][1].opened())
        return opened[1]

    def _kept(self, number: int, eid: str) -> bytes | Held:
        """An event of sealed block ``number`` as it can be kept open again: its bytes, or
        its held tuple."""
        entry = self._entries(number)[eid]
        return entry if isinstance(entry, bytes) else _held_entry(eid, entry)

    def _evict(self) -> None:
        """Let the least recently noted event go."""
        where = self._where
        while True:
            number = self._first
            if number == self._number:  # a book smaller than a block
                del where[eid := next(iter(self._open))], self._open[eid]
                return
            sealed = self._sealed.get(number)
            ids = sealed[0] if sealed is not None else ()
            for i in range(self._cursor, len(ids)):
                eid = ids[i]
                if where.get(eid) == number:
                    del where[eid]
                    self._cursor = i + 1
                    self._drop(number)
                    return
            self._first, self._cursor = number + 1, 0

    def _drop(self, number: int) -> None:
        """One event of sealed block ``number`` is no longer held there; at none, free it."""
        left = self._live[number] - 1
        if left:
            self._live[number] = left
            return
        del self._live[number], self._sealed[number]
        if self._opened is not None and self._opened[0] == number:
            self._opened = None

    def _compact(self, number: int) -> None:
        """Seal block ``number`` again with only its events still held once redeliveries have
        moved most of them out (so a few events held cannot keep a whole block each)."""
        sealed = self._sealed.get(number)
        if sealed is None or self._live[number] * 8 >= self.block:
            return
        where = self._where
        kept = {eid: self._kept(number, eid) for eid in sealed[0] if where.get(eid) == number}
        ids = tuple(kept)
        self._sealed[number] = (ids, _Sealed(kept, ids))  # type: ignore[arg-type]
        if number == self._first:
            self._cursor = 0
        if self._opened is not None and self._opened[0] == number:
            self._opened = None

    def get(self, event_id: str) -> Held | None:
        at = self._where.get(event_id)
        if at is None:
            return None
        if at == self._number:
            entry = self._open[event_id]
            return held(entry) if isinstance(entry, Event) else _held_entry(event_id, entry)
        return _held_entry(event_id, self._entries(at)[event_id])

    def held_ids(self) -> list[str]:
        """The ids held, the least recently noted first (for tests and inspection)."""
        where = self._where
        out = [
            eid for number in sorted(self._sealed) for eid in self._sealed[number][0]
            if where.get(eid) == number
        ]  # fmt: skip
        return [*out, *self._open]

    def __len__(self) -> int:
        return len(self._where)


def evidence_digests(
    evidence: Iterable[str], lookup: Callable[[str], Held | None]
) -> tuple[list[EvidenceDigest], list[str]]:
    """Digests of the evidence events ``lookup`` still has (time order), and the ids it has
    not (in the order the alert gives them)."""
    found: list[EvidenceDigest] = []
    missing: list[str] = []
    for eid in dict.fromkeys(evidence):
        entry = lookup(eid)
        if entry is None:
            missing.append(eid)
        else:
            found.append(digest_of(entry))
    found.sort(key=lambda d: (d.time, d.id))
    return found, missing


def people_of(finding: Finding) -> list[str]:
    """The people an alert names other than its officer: subjects and path nodes."""
    out = dict.fromkeys(finding.subjects)
    for hop in finding.path or []:
        out.update(dict.fromkeys((hop.from_, hop.to)))
    out.pop(finding.officer, None)
    return list(out)


def reference_extras(finding: Finding, ref: ReferenceView) -> dict[str, Any]:
    """What staff and watch-list reference data add to an alert: the officer's unit (so the
    queue can tell an alert about a member of the ACU from any other) and the alert's
    people on a sensitive list (their reveal needs a second person)."""
    extra: dict[str, Any] = {}
    staff = ref.staff(finding.officer)
    if staff is not None and staff.value.unit:
        extra["officer_unit"] = staff.value.unit
    sensitive = [
        p for p in people_of(finding)
        if any(w.list in SENSITIVE_LISTS for w in ref.watch_entries(p))
    ]  # fmt: skip
    if sensitive:
        extra["sensitive_subjects"] = sensitive
    return extra


def build_alert(
    finding: Finding,
    *,
    clock: Callable[[], datetime] | None = None,
    evidence: Callable[[str], Held | None] | None = None,
    ref: ReferenceView | None = None,
) -> Alert:
    """One alert per finding; the id depends only on detector, officer and evidence (or dedup).

    ``raised_at`` is the only wall-clock stamp in the pipeline. Given ``evidence`` (the book's
    look-up of a held event by id, :meth:`EvidenceBook.get`), the alert carries the digests of its
    evidence events (``evidence_events``) and names those no longer held
    (``evidence_missing``); without it, neither field is set. Given ``ref`` (reference data
    at the finding's time), it carries the officer's unit and its sensitive people
    (:func:`reference_extras`).
    """
    raised = (clock or (lambda: datetime.now(UTC)))()
    key = [finding.dedup] if finding.dedup else finding.evidence
    extra: dict[str, Any] = {}
    if evidence is not None:
        found, missing = evidence_digests(finding.evidence, evidence)
        extra["evidence_events"] = found
        if missing:
            extra["evidence_missing"] = missing
    if ref is not None:
        extra.update(reference_extras(finding, ref))
    return Alert(
        id=alert_id(finding.detector, finding.officer, key),
        detector=finding.detector,
        category=finding.category,
        officer=finding.officer,
        time=finding.time,
        raised_at=raised,
        severity=finding.severity,
        score=round(finding.score, 1),
        title=finding.title,
        explanation=finding.explanation,
        evidence=finding.evidence,
        subjects=finding.subjects,
        path=finding.path,
        facts=finding.facts,
        identifiers=finding.identifiers,
        **extra,
    )
