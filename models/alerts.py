"""Contract v1 alerts (``shared/contract/ALERTS.md``) and the findings detectors return.

A :class:`Finding` is what a detector says; the alert builder (``engine.alerts``) turns it
into an :class:`Alert` with a deterministic id, so a redelivered event or a restarted worker
never makes a second alert.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class Category(StrEnum):
    """The counter-corruption threat an alert points to (the contract's list)."""

    MISUSE_OF_SYSTEMS = "misuse_of_systems"
    UNAUTHORISED_DISCLOSURE = "unauthorised_disclosure"
    INAPPROPRIATE_ASSOCIATION = "inappropriate_association"
    ABUSE_OF_POSITION_SEXUAL = "abuse_of_position_sexual"
    VETTING = "vetting"
    DISCRIMINATION = "discrimination"
    INTEGRITY_OF_EVIDENCE = "integrity_of_evidence"
    AUDIT_TAMPERING = "audit_tampering"
    CONDUCT_PATTERN = "conduct_pattern"


Severity = Literal["low", "medium", "high", "critical"]
SEVERITIES: tuple[Severity, ...] = ("low", "medium", "high", "critical")
Score = Annotated[float, Field(ge=0, le=100)]


class PathHop(BaseModel):
    """One link of an association chain, with the events that support it (extension)."""

    from_: str = Field(alias="from")
    to: str
    relation: str
    evidence: list[str] | None = None

    model_config = ConfigDict(frozen=True, extra="allow", populate_by_name=True)


class _AlertBody(BaseModel):
    """What a finding and an alert share: who, what, why, the evidence and the chain."""

    model_config = ConfigDict(frozen=True)

    detector: str
    category: Category
    officer: str
    time: AwareDatetime
    severity: Severity
    score: Score
    title: str
    explanation: str
    evidence: list[str] = Field(min_length=1)
    subjects: list[str] = Field(default_factory=list)
    path: list[PathHop] | None = None
    facts: dict[str, Any] = Field(default_factory=dict)
    identifiers: list[str] = Field(
        default_factory=list,
        description="every identifier of a person the title, explanation or facts quote other "
        "than the officer and the subjects (phone numbers, e-mail addresses, names, dates of "
        "birth, operation names, complaint references): readers pseudonymise them as they do "
        "subjects (extension)",
    )


class Finding(_AlertBody):
    """What a detector returns: the facts of one alert, before id and wall-clock stamp.

    ``facts`` holds the figures behind the explanation (counts, baselines, thresholds) so
    the queue can show them as data, not only as prose.
    """

    dedup: str | None = Field(
        default=None,
        description="overrides the evidence in the alert id when one alert must stand for a "
        "growing sequence (e.g. one reminder per person)",
    )
    weak: bool = Field(
        default=False,
        description="evidence too weak to alert alone (a colleague's household reached once "
        "with no purpose): the engine raises no alert for it but hands it to the findings "
        "detectors (risk accumulation), which name it when it adds up",
    )


def alert_id(detector: str, officer: str, evidence: Iterable[str]) -> str:
    """Deterministic alert id: the same detector, officer and evidence give the same id.

    >>> a = alert_id("access.canary", "S1", ["e2", "e1"])
    >>> a == alert_id("access.canary", "S1", ["e1", "e2"])
    True
    """
    material = "\x1f".join([detector, officer, *sorted(set(evidence))])
    return "a-" + hashlib.sha256(material.encode()).hexdigest()[:20]


class EvidenceDigest(BaseModel):
    """What one evidence event says, as much as an analyst needs to read it (extension).

    The envelope (time, system, kind, actor, record, purpose, terminal, subjects) and the
    few structured attributes detectors judge by; never message text, search strings,
    grounds, paths or URLs: free text stays in the source system.
    """

    model_config = ConfigDict(frozen=True, extra="allow")

    id: str
    time: AwareDatetime
    source: str
    kind: str
    actor: str | None = None
    record_type: str | None = None
    record_id: str | None = None
    purpose: str | None = None
    terminal: str | None = None
    subjects: list[str] = Field(default_factory=list)
    attrs: dict[str, Any] = Field(default_factory=dict)


#: the extension fields an alert carries only when the builder had the events in hand
_OPTIONAL = (
    "path", "evidence_events", "evidence_missing", "officer_unit", "sensitive_subjects",
)  # fmt: skip


class Alert(_AlertBody):
    """One contract-v1 alert; extra fields (``facts``) are an extension readers may ignore.

    ``evidence_events`` (extension, optional): a digest of each evidence event the builder
    still held, in time order; ``evidence_missing``: the evidence ids it no longer held
    (their digests are left out). Both are absent when the builder kept no events.

    ``officer_unit`` (extension): the officer's unit as staff reference data gave it when
    the alert was built, so the queue knows an alert about a member of the ACU without the
    detector saying so; ``sensitive_subjects``: the alert's people on the covert-subject,
    VIP, canary or vulnerable-victim lists (revealing them takes two people). Absent when
    the builder had no reference data or found nothing.
    """

    model_config = ConfigDict(frozen=True, extra="allow", populate_by_name=True)

    id: str
    version: Literal[1] = 1
    raised_at: AwareDatetime
    evidence_events: list[EvidenceDigest] | None = None
    evidence_missing: list[str] | None = None
    officer_unit: str | None = None
    sensitive_subjects: list[str] | None = None

    def to_json(self) -> dict[str, Any]:
        """The contract's JSON shape (optional extensions left out when absent), id and
        version first."""
        data = self.model_dump(mode="json", by_alias=True)
        for key in _OPTIONAL:
            if data.get(key) is None:
                data.pop(key, None)
        if not data.get("identifiers"):
            data.pop("identifiers", None)
        head = {k: data.pop(k) for k in ("id", "version")}
        return {**head, **data}
