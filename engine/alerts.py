"""The alert builder: findings into contract-v1 alerts with deterministic ids, each with a
digest of the evidence events it still holds (:class:`EvidenceBook`)."""

from __future__ import annotations

from array import array
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from itertools import accumulate
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
    form only when the book seals it or an alert cites it (:func:`digest_of`)."""
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
    return (
        event.id, event.time, event.source, event.kind, event.actor,
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
#: 25-30 bytes compressed and 12 bytes of index
BOOK_BLOCK = 256
_OPEN = zstandard.ZstdDecompressor()
_ROW = b"["  # how a sealed held tuple starts; an event's own bytes are a JSON object
_KEY = 8  # bytes of an id's hash in a block's index


def _keys(ids: Iterable[str]) -> bytes:
    """The ids' hashes packed as a block's index holds them, ``_KEY`` bytes each."""
    return array("q", map(hash, ids)).tobytes()


def _key(event_id: str) -> bytes:
    """One id's hash as a block's index packs it."""
    return _keys((event_id,))


def _held_of(entry: Event | bytes) -> Held:
    """The held tuple of an event kept as it came: the event, or the bytes it was decoded
    from (decoded again: the event judged was decoded from them)."""
    return held(decode_event(entry) if isinstance(entry, bytes) else entry)


def _row(entry: Held) -> bytes | None:
    """A held tuple as a JSON array (values as :func:`to_jsonable_python` makes them; its
    time as RFC 3339 text, back exactly with :meth:`datetime.fromisoformat`); None if a value
    has no JSON form orjson can write (an integer over 64 bits)."""
    try:
        return orjson.dumps(
            entry, default=to_jsonable_python,
            option=orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS,
        )  # fmt: skip
    except orjson.JSONEncodeError:
        return None


def _from_row(raw: list[Any]) -> Held:
    """A held tuple back from its JSON array (the inverse of :func:`_row`)."""
    eid, time, source, kind, actor, rtype, rid, purpose, terminal, subjects, kept, to = raw
    return (
        eid, datetime.fromisoformat(time), source, kind, actor, rtype, rid, purpose, terminal,
        tuple(subjects), tuple((k, v) for k, v in kept), to,
    )  # fmt: skip


class _Sealed:
    """A sealed block: its events end to end in one zstd frame, with where each ends and
    the hash of each one's id (the index: 12 bytes an event, where a dict of the ids cost
    about 120). An event noted with the bytes it was decoded from (a worker's, a replay
    judge's) is kept as those bytes, sealed with one join and one compression (about 0.3 us
    an event); any other (offline callers, the graph judge's events of other workers) as
    its held tuple's JSON, or, where orjson cannot write it, as the tuple itself (``odd``,
    by place)."""

    __slots__ = ("blob", "ends", "keys", "odd")

    def __init__(self, entries: dict[str, Event | bytes]) -> None:
        parts: list[bytes] = []
        odd: dict[int, Held] = {}
        for i, entry in enumerate(entries.values()):
            if isinstance(entry, bytes):
                parts.append(entry)
                continue
            kept = _held_of(entry)
            row = _row(kept)
            if row is None:
                odd[i] = kept
            parts.append(row or b"")
        self.keys = _keys(entries)
        self.ends = array("I", accumulate(map(len, parts)))
        self.blob = squeeze(b"".join(parts))
        self.odd = odd or None

    def __len__(self) -> int:
        return len(self.keys) // _KEY

    def places(self, key: bytes, first: int) -> Iterator[int]:
        """Where an id of hash ``key`` (:func:`_key`) is, from ``first`` on, the last first:
        a search of the packed hashes in C, not one Python int made per hash compared."""
        keys, end = self.keys, len(self.keys)
        while (at := keys.rfind(key, first * _KEY, end)) >= 0:
            if at % _KEY == 0:
                yield at // _KEY
            end = at + _KEY - 1  # the next match starts before this one

    def opened(self) -> list[bytes]:
        """Every event of the block in order: its bytes or its held tuple's JSON (empty for
        an ``odd`` one)."""
        data, ends = _OPEN.decompress(self.blob), self.ends
        return [data[ends[i - 1] if i else 0 : ends[i]] for i in range(len(ends))]


class EvidenceBook:
    """The events of the latest ``size`` notes in this process, by id, for the alert builder.

    The pipeline notes each event it judges; the book keeps only what a digest needs and
    the builder digests the ones an alert cites. The newest ``block`` events are kept as they
    came (the bytes they were decoded from, when the caller gives them, else the events:
    only a few are ever cited, so what to keep of them is worked out when their block is
    sealed); older ones are sealed in compressed blocks (:class:`_Sealed`), opened when an
    alert cites one of them. The book is a log: noting costs a dict insert, the oldest
    notes go (a block is freed once all of its notes have), and an event noted again while
    its block is open moves to its end; noted again later, it is held twice and read from
    its newest note. An evidence event older than the book's reach is left out of the
    alert, which names it in ``evidence_missing``.
    """

    def __init__(self, size: int = 50_000, block: int = BOOK_BLOCK) -> None:
        self.size = size
        self.block = block
        self._open: dict[str, Event | bytes] = {}  # in the order noted
        self._sealed: deque[_Sealed] = deque()  # the oldest first
        self._in_sealed = 0  # notes in the sealed blocks, the gone ones included
        self._gone = 0  # the oldest block's notes that have gone
        self._opened: tuple[_Sealed, list[bytes]] | None = None  # the last block read

    def note(self, event: Event, raw: bytes | None = None) -> None:
        """Called by the pipeline for each event it judges (before the detectors run), with
        the bytes it was decoded from when the caller has them (kept instead of the event).

        A full open block is sealed when the next event comes, not at once, so that noting
        the same event again straight after (the graph judge does) finds it still open."""
        entries = self._open
        eid = event.id
        if eid in entries:  # noted again: to the end, as first kept
            entries[eid] = entries.pop(eid)
            return
        if len(entries) >= self.block:
            self._seal_open()
            entries = self._open
        entries[eid] = event if raw is None else raw

    def _seal_open(self) -> None:
        sealed = _Sealed(self._open)
        self._sealed.append(sealed)
        self._in_sealed += len(sealed)
        self._open = {}
        self._trim()

    def _trim(self) -> None:
        """Let the oldest notes beyond ``size`` go: whole blocks freed, the rest counted."""
        over = self._in_sealed - self._gone + len(self._open) - self.size
        blocks = self._sealed
        while over > 0 and blocks:
            left = len(blocks[0]) - self._gone
            if over < left:
                self._gone += over
                return
            freed = blocks.popleft()
            self._in_sealed -= len(freed)
            self._gone = 0
            over -= left
            if self._opened is not None and self._opened[0] is freed:
                self._opened = None
        for eid in list(self._open)[: max(over, 0)]:  # a book smaller than a block
            del self._open[eid]

    def _read(self, block: _Sealed) -> list[bytes]:
        opened = self._opened
        if opened is None or opened[0] is not block:
            opened = self._opened = (block, block.opened())
        return opened[1]

    def _held_at(self, block: _Sealed, place: int) -> Held:
        """The held tuple of the event at ``place`` in sealed ``block``: its row read back,
        or its bytes decoded."""
        if block.odd is not None and place in block.odd:
            return block.odd[place]
        entry = self._read(block)[place]
        if entry.lstrip()[:1] == _ROW:
            return _from_row(orjson.loads(entry))
        return _held_of(entry)

    def get(self, event_id: str) -> Held | None:
        self._trim()
        entry = self._open.get(event_id)
        if entry is not None:
            return _held_of(entry)
        key = _key(event_id)
        blocks = self._sealed
        for b in range(len(blocks) - 1, -1, -1):  # the newest note first
            block = blocks[b]
            for place in block.places(key, self._gone if b == 0 else 0):
                found = self._held_at(block, place)
                if found[0] == event_id:  # not another id of the same hash
                    return found
        return None

    def held_ids(self) -> list[str]:
        """The ids held, each at its newest note, the least recently noted first (for tests
        and inspection: it opens every block)."""
        self._trim()
        ids: list[str] = []
        for b, block in enumerate(self._sealed):
            first = self._gone if b == 0 else 0
            ids += [self._held_at(block, i)[0] for i in range(first, len(block))]
        ids += self._open
        return list(reversed(dict.fromkeys(reversed(ids))))

    def __len__(self) -> int:
        """Notes held (an event noted again after its block was sealed counts twice)."""
        self._trim()
        return self._in_sealed - self._gone + len(self._open)


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
