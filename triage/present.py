"""What a reader sees of an alert: people pseudonymised unless revealed, and the shapes of
the risk chart (drawn by the templates as inline SVG), the rows of the link chart.

People are subjects and path nodes other than the officer, the people of the evidence, and
the identifiers the detector says its text quotes (the alert's ``identifiers``: phone
numbers, e-mail addresses, names, dates of birth, operation names, complaint references).
They are replaced everywhere the alert shows text (title, explanation, facts, path, notes),
so a pseudonym is not undone by the prose around it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from triage.base import CaseTask, Note, StoredAlert
from triage.security import Pseudonymiser
from triage.store import officer_people


@dataclass(frozen=True)
class Masker:
    """Replaces people's ids with pseudonyms, except those revealed in this response."""

    pseudonym: Pseudonymiser
    people: frozenset[str]
    revealed: frozenset[str] = frozenset()

    def value(self, v: str) -> str:
        return self.pseudonym(v) if v in self.people and v not in self.revealed else v

    def text(self, s: str) -> str:
        hidden = sorted(self.people - self.revealed, key=len, reverse=True)
        if not hidden:
            return s
        pattern = re.compile("|".join(re.escape(h) for h in hidden))
        return pattern.sub(lambda m: self.pseudonym(m.group(0)), s)

    def any(self, v: Any) -> Any:
        if isinstance(v, str):
            return self.text(v)
        if isinstance(v, list):
            return [self.any(x) for x in v]
        if isinstance(v, dict):
            return {self.text(str(k)): self.any(x) for k, x in v.items()}
        return v

    def lookup(self, pseudonym_or_value: str) -> str | None:
        """The person a pseudonym stands for on this alert (None if it is not one of them)."""
        for p in self.people:
            if pseudonym_or_value in (p, self.pseudonym(p)):
                return p
        return None


def masker_for(
    alert: StoredAlert, pseudonym: Pseudonymiser, revealed: set[str] | None = None
) -> Masker:
    return Masker(pseudonym, frozenset(officer_people(alert)), frozenset(revealed or ()))


def masker_of_all(alerts: Iterable[StoredAlert], pseudonym: Pseudonymiser) -> Masker:
    """One masker for the people of several alerts (a case's notes and tasks, its pack)."""
    people: set[str] = set()
    for a in alerts:
        people |= officer_people(a)
    return Masker(pseudonym, frozenset(people))


def note_view(note: Note | CaseTask, m: Masker) -> dict[str, Any]:
    """A note (or a case task) with the alert's people and identifiers masked in its text:
    what an analyst typed is masked like the detector's prose. Only values the alert
    names are recognised; another identifier typed freehand is shown as typed."""
    data = note.model_dump()
    data["text"] = m.text(note.text)
    return data


def present(alert: StoredAlert, m: Masker) -> dict[str, Any]:
    """The alert as JSON-able data with people masked."""
    data = alert.model_dump(mode="json")
    data["title"] = m.text(alert.title)
    data["explanation"] = m.text(alert.explanation)
    data["facts"] = m.any(alert.facts)
    data["subjects"] = [
        {"pseudonym": m.pseudonym(s), "revealed": s if s in m.revealed else None}
        for s in alert.subjects
    ]
    data["path"] = (
        [
            {**{k: m.any(v) for k, v in hop.items()},
             "from": m.value(str(hop.get("from", ""))), "to": m.value(str(hop.get("to", "")))}
            for hop in alert.path
        ]
        if alert.path
        else None
    )  # fmt: skip
    # what the masker masks is never handed out as such
    data["identifiers"] = [m.value(v) for v in alert.identifiers]
    data["sensitive_subjects"] = [m.value(v) for v in alert.sensitive_subjects]
    data["evidence_events"] = (
        [digest_view(e, m) for e in alert.evidence_events]
        if alert.evidence_events is not None
        else None
    )
    return data


def digest_view(e: Mapping[str, Any], m: Masker) -> dict[str, Any]:
    """One evidence digest with its people pseudonymised (subjects, a person record)."""
    attrs = e.get("attrs")
    return {
        "id": str(e.get("id", "")),
        "time": str(e.get("time", "")),
        "source": str(e.get("source", "")),
        "kind": str(e.get("kind", "")),
        "actor": e.get("actor"),
        "record_type": e.get("record_type"),
        "record_id": m.value(str(e["record_id"])) if e.get("record_id") else None,
        "purpose": m.text(str(e["purpose"])) if e.get("purpose") else None,
        "terminal": e.get("terminal"),
        "subjects": [m.value(str(s)) for s in e.get("subjects") or []],
        "attrs": m.any(attrs) if isinstance(attrs, dict) else {},
    }


def risk_points(
    alerts: list[StoredAlert], width: int = 320, height: int = 80
) -> list[tuple[int, int, float, str]]:
    """(x, y, score, id) for a score-over-time chart of the officer's alerts."""
    if not alerts:
        return []
    t0 = min(a.time for a in alerts).timestamp()
    span = max(max(a.time for a in alerts).timestamp() - t0, 1.0)
    pad = 10
    return [
        (
            pad + int((a.time.timestamp() - t0) / span * (width - 2 * pad)),
            height - pad - int(a.score / 100 * (height - 2 * pad)),
            a.score,
            a.id,
        )
        for a in alerts
    ]


#: the graph's labels name these kinds first (``address 14 Mill Lane``, ``phone +44...``)
_LABEL_KINDS = {"address": "Address", "phone": "Phone", "vehicle": "Vehicle", "ocg": "OCG"}


def _node_kind(value: str, officer: str) -> str:
    """The i2 entity type of a path node. A hop reads in the path's walking order, not the
    relation's, so the kind comes from the node's own label, never from the relation."""
    if value == officer:
        return "Staff"
    head, _, rest = value.partition(" ")
    if rest and head.lower() in _LABEL_KINDS:
        return _LABEL_KINDS[head.lower()]
    if value.startswith("+") or value[:1].isdigit():
        return "Phone"
    return "OCG" if value.upper().startswith("OCG") else "Person"


def path_links(alert: StoredAlert, m: Masker) -> list[dict[str, str]]:
    """Each link of the alert's association path with the systems and dates of the events
    behind it (from the evidence digests), people masked: the link chart's table and the
    rows of its i2 export."""
    digests = {str(e.get("id")): e for e in alert.evidence_events or []}
    out = []
    for hop in alert.path or []:
        src, dst = str(hop.get("from", "")), str(hop.get("to", ""))
        relation = str(hop.get("relation", ""))
        given = hop.get("evidence")
        ids = [str(i) for i in given] if isinstance(given, list) else []
        held = [digests[i] for i in ids if i in digests]
        times = sorted(str(d.get("time", "")) for d in held)
        out.append({
            "from": m.value(src), "from_kind": _node_kind(src, alert.officer),
            "relation": relation,
            "to": m.value(dst), "to_kind": _node_kind(dst, alert.officer),
            "sources": ", ".join(sorted({str(d.get("source", "")) for d in held})),
            "first_seen": times[0] if times else "", "last_seen": times[-1] if times else "",
            "evidence": "; ".join(ids),
        })  # fmt: skip
    return out
