"""One officer's timeline: every alert the viewer may see and every evidence event those
alerts cite, on one time axis, people pseudonymised as on the alert page.

An event cited by several alerts is one entry naming them all. Reference events (vetting,
misconduct outcomes, declarations, complaints, staff records: the reference changes that
mattered to an alert) are marked as such; the queue holds no other reference data, so a
change no alert cited is not on the timeline.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from models.events import REFERENCE_KINDS
from triage.base import StoredAlert
from triage.present import digest_view, masker_for, present
from triage.security import Pseudonymiser

EntryKind = Literal["alert", "event", "reference"]


@dataclass
class Entry:
    """One point of the timeline: an alert (``alert``) or an evidence event (``event``,
    with the ids of the alerts citing it in ``cited_by``)."""

    time: datetime
    kind: EntryKind
    alert: dict[str, Any] | None = None
    event: dict[str, Any] | None = None
    cited_by: list[str] = field(default_factory=list)


def _parse(value: str) -> datetime | None:
    try:
        t = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return t if t.tzinfo is not None else t.replace(tzinfo=UTC)


def build_timeline(
    alerts: list[StoredAlert], pseudonym: Pseudonymiser, *,
    date_from: datetime | None = None, date_to: datetime | None = None,
) -> list[Entry]:  # fmt: skip
    """The entries in time order (an event before the alert it led to at the same time),
    within ``[date_from, date_to]`` when given."""
    entries: list[Entry] = []
    events: dict[str, Entry] = {}
    for a in alerts:
        m = masker_for(a, pseudonym)
        entries.append(Entry(time=a.time, kind="alert", alert=present(a, m)))
        for raw in a.evidence_events or []:
            view = digest_view(raw, m)
            known = events.get(view["id"])
            if known is not None:
                known.cited_by.append(a.id)
                continue
            at = _parse(view["time"])
            if at is None:
                continue
            kind: EntryKind = "reference" if view["kind"] in REFERENCE_KINDS else "event"
            events[view["id"]] = entry = Entry(time=at, kind=kind, event=view, cited_by=[a.id])
            entries.append(entry)

    def inside(e: Entry) -> bool:
        return (date_from is None or e.time >= date_from) and (date_to is None or e.time <= date_to)

    return sorted(
        (e for e in entries if inside(e)),
        key=lambda e: (
            e.time,
            e.kind == "alert",
            e.alert["id"] if e.alert else e.event["id"] if e.event else "",
        ),
    )
