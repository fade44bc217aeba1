"""The alert builder: findings into contract-v1 alerts with deterministic ids, each with a
digest of the evidence events it still holds (:class:`EvidenceBook`)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from detectors.reference.view import ReferenceView
from models.alerts import Alert, EvidenceDigest, Finding, alert_id
from models.events import Event

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


def digest(event: Event) -> EvidenceDigest:
    """The readable digest of one event (see :class:`~models.alerts.EvidenceDigest`).

    Messages give the number of recipients (``recipients``), never who or what was said.
    """
    attrs: dict[str, Any] = {}
    raw = event.attrs.model_dump(mode="json", exclude_none=True)
    for key in sorted(k for k in raw if k in DIGEST_ATTRS):
        value = _short(raw[key])
        if value is not None and value != []:
            attrs[key] = value
    to = raw.get("to")
    if event.kind == "message.sent" and isinstance(to, list):
        attrs["recipients"] = len(to)
    return EvidenceDigest(
        id=event.id,
        time=event.time,
        source=event.source,
        kind=event.kind,
        actor=event.actor,
        record_type=event.record.type if event.record else None,
        record_id=event.record.id if event.record else None,
        purpose=event.purpose[:_MAX_TEXT] if event.purpose else None,
        terminal=event.terminal[:_MAX_TEXT] if event.terminal else None,
        subjects=list(event.subjects or [])[:_MAX_ITEMS],
        attrs=attrs,
    )


class EvidenceBook:
    """The latest ``size`` events judged in this process, by id, for the alert builder.

    The pipeline notes each event it judges (a reference to the decoded event, no copy);
    the builder digests the ones an alert cites. An evidence event older than the book's
    reach is left out of the alert, which names it in ``evidence_missing``.
    """

    def __init__(self, size: int = 50_000) -> None:
        self.size = size
        self._events: OrderedDict[str, Event] = OrderedDict()

    def note(self, event: Event) -> None:
        """Called by the pipeline for each event it judges (before the detectors run)."""
        events = self._events
        if event.id in events:
            events.move_to_end(event.id)
        else:
            events[event.id] = event
            if len(events) > self.size:
                events.popitem(last=False)

    def get(self, event_id: str) -> Event | None:
        return self._events.get(event_id)

    def __len__(self) -> int:
        return len(self._events)


def evidence_digests(
    evidence: Iterable[str], lookup: Callable[[str], Event | None]
) -> tuple[list[EvidenceDigest], list[str]]:
    """Digests of the evidence events ``lookup`` still has (time order), and the ids it has
    not (in the order the alert gives them)."""
    found: list[EvidenceDigest] = []
    missing: list[str] = []
    for eid in dict.fromkeys(evidence):
        event = lookup(eid)
        if event is None:
            missing.append(eid)
        else:
            found.append(digest(event))
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
    evidence: Callable[[str], Event | None] | None = None,
    ref: ReferenceView | None = None,
) -> Alert:
    """One alert per finding; the id depends only on detector, officer and evidence (or dedup).

    ``raised_at`` is the only wall-clock stamp in the pipeline. Given ``evidence`` (an event
    look-up by id, e.g. :meth:`EvidenceBook.get`), the alert carries the digests of its
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
