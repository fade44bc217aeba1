"""The triage contract: statuses, outcomes, roles, and the records the store hands out.

The workflow is ``new -> assigned -> in_review -> closed`` (a supervisor may reopen a
closed alert, which goes back to ``assigned`` if it has an assignee, else ``new``).
Closing needs an :class:`Outcome` and a meaningful rationale. Four eyes: closing a high or
critical alert as a false positive or no further action goes to ``pending_closure`` until
a second person (a supervisor or the head of unit, not the proposer) approves it (then
``closed``) or rejects it (back to ``in_review``).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator


class Status(StrEnum):
    NEW = "new"
    ASSIGNED = "assigned"
    IN_REVIEW = "in_review"
    PENDING_CLOSURE = "pending_closure"  # proposed; a second person approves or rejects
    CLOSED = "closed"


class Outcome(StrEnum):
    NO_FURTHER_ACTION = "no_further_action"
    REFERRED_TO_PSD = "referred_to_psd"
    INTELLIGENCE_CASE = "intelligence_case"
    FALSE_POSITIVE = "false_positive"
    DUPLICATE = "duplicate"


class Role(StrEnum):
    """Roles as issue 6 defines them; a user has exactly one."""

    ANALYST = "analyst"
    SUPERVISOR = "supervisor"  # also assigns, reopens, manages suppressions
    HEAD_OF_UNIT = "head_of_unit"  # also sees alerts about analysts' ties; never the ACU's
    AUDITOR = "auditor"  # reads the audit log only
    #: the outside reviewer (e.g. another force's professional standards): sees and works
    #: the alerts about ACU staff, the head of unit included, and nothing else
    REVIEWER = "reviewer"
    ADMIN = "admin"  # accounts and tokens, no alert content
    #: a machine client (the force's case-management system, a SIEM), not a person: no
    #: password, no session; it reads alerts, pseudonymised, through its service tokens
    SERVICE = "service"


class TokenScope(StrEnum):
    """What an API token may do: act with its owner's role, be scraped, or let a machine
    read the queue.

    Only the owner issues a ``full`` token for themselves; an admin (or ``probity triage
    token create``) issues ``metrics`` tokens, and ``service`` tokens for service accounts,
    only, so no one acts under another's name."""

    FULL = "full"
    METRICS = "metrics"  # GET /metrics and nothing else: what Prometheus holds
    #: a service account's: GET /api/alerts and GET /api/alerts/{id}, pseudonymised, and
    #: nothing else (no reveal, no change, no page, no /metrics)
    SERVICE = "service"


#: Roles whose creation needs a second admin's approval (they see everything or grant it).
PRIVILEGED = frozenset({Role.ADMIN, Role.HEAD_OF_UNIT, Role.REVIEWER})

#: Text inputs may not carry NUL characters (PostgreSQL text cannot hold them).
NO_NUL = r"^[^\x00]*$"

#: Who may do what. Each endpoint depends on one of these sets, nothing else.
READ_ALERTS = frozenset({Role.ANALYST, Role.SUPERVISOR, Role.HEAD_OF_UNIT, Role.REVIEWER})
DECIDE = READ_ALERTS
#: assign others, reopen, approve closures, suppressions and sensitive reveals; a reviewer
#: does so for the ACU's alerts, the only ones they see
SUPERVISE = frozenset({Role.SUPERVISOR, Role.HEAD_OF_UNIT, Role.REVIEWER})
#: The outcomes that end scrutiny of an officer; on a high or critical alert they need a
#: second approver (four eyes).
DISMISSALS = frozenset({Outcome.FALSE_POSITIVE, Outcome.NO_FURTHER_ACTION})
FOUR_EYES_SEVERITIES = frozenset({"high", "critical"})
AUDIT = frozenset({Role.AUDITOR})
ADMINISTER = frozenset({Role.ADMIN})
#: every person's role; a service account (a machine) is admitted only where a dependency
#: says so (``require(..., service=True)``)
ANY_ROLE = frozenset(Role) - {Role.SERVICE}


class User(BaseModel):
    """An account as the service sees it (never the password hash).

    ``line_manager`` and ``associates`` are staff or person ids the user may not judge:
    alerts about them, or naming them among their people (subjects, path nodes), are
    visible only to the head of unit, who may not work them either (conflict of interest).
    """

    model_config = ConfigDict(frozen=True)

    id: int
    username: str
    staff_id: str
    role: Role
    active: bool = True
    line_manager: str | None = None
    associates: frozenset[str] = frozenset()
    must_change_password: bool = False
    awaiting_approval: bool = False  # a privileged account a second admin has not approved
    created_by: str | None = None
    approved_by: str | None = None
    mfa_enrolled: bool = False  # a confirmed TOTP secret: every login then asks for a code
    mfa_reset_by: str | None = None  # an admin asked to reset it; a second admin approves


class TokenInfo(BaseModel):
    """An API token as its owner or an admin may list it (never the token itself)."""

    model_config = ConfigDict(frozen=True)

    id: int
    user_id: int
    name: str
    scope: TokenScope
    created_at: AwareDatetime
    created_by: str | None = None
    expires_at: AwareDatetime | None = None
    revoked_at: AwareDatetime | None = None

    def live_at(self, at: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > at)


class SessionInfo(BaseModel):
    """A live browser session as its owner may list it: never the session id, its hash or
    its CSRF token; ``handle`` is the random public name that ends it."""

    model_config = ConfigDict(frozen=True)

    handle: str
    created_at: AwareDatetime
    last_seen_at: AwareDatetime | None
    expires_at: AwareDatetime
    client: str | None
    user_agent: str | None
    mfa: bool  # the session proved a second factor
    current: bool  # the session asking


class Suppression(BaseModel):
    """Feedback from a false positive: ``detector`` + (``officer`` or ``subject``) until expiry.

    Four eyes: a suppression is in force only once a second person (``approved_by``, not
    its creator) has approved it."""

    model_config = ConfigDict(frozen=True)

    id: int | None = None
    detector: str
    officer: str | None = None
    subject: str | None = None
    expires_at: AwareDatetime
    reason: str
    created_by: str
    created_at: AwareDatetime
    source_alert: str | None = None
    removed_at: AwareDatetime | None = None
    removed_by: str | None = None
    approved_by: str | None = None
    approved_at: AwareDatetime | None = None

    @model_validator(mode="after")
    def _one_scope(self) -> Suppression:
        if (self.officer is None) == (self.subject is None):
            raise ValueError("a suppression is scoped to exactly one of officer or subject")
        return self

    def active_at(self, at: datetime) -> bool:
        return self.approved_by is not None and self.removed_at is None and self.expires_at > at


class AuditEntry(BaseModel):
    """One row of the append-only audit log."""

    model_config = ConfigDict(frozen=True)

    seq: int
    at: AwareDatetime
    username: str
    staff_id: str
    action: str
    alert_id: str | None = None
    detail: dict[str, object] = Field(default_factory=dict)
    prev_hash: str
    hash: str
    client: str | None = None  # the request's client address, when done through the service
    user_agent: str | None = None


class RevealRequest(BaseModel):
    """A reveal of a sensitive subject awaiting (or given) a second person's decision.
    ``subject`` is the real id: hand out its pseudonym, never it."""

    model_config = ConfigDict(frozen=True)

    id: int
    alert_id: str
    subject: str
    requested_by: str
    requested_at: AwareDatetime
    reason: str
    reference: str
    status: Literal["pending", "approved", "declined", "used"]
    decided_by: str | None = None
    decided_at: AwareDatetime | None = None


class Note(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    author: str
    text: str
    created_at: AwareDatetime


class StoredAlert(BaseModel):
    """A contract alert as the queue holds it, with its triage state."""

    model_config = ConfigDict(frozen=True)

    id: str
    detector: str
    category: str
    officer: str
    officer_unit: str | None = None
    time: AwareDatetime
    raised_at: AwareDatetime
    severity: str
    score: float
    title: str
    explanation: str
    evidence: list[str]
    subjects: list[str]
    path: list[dict[str, object]] | None = None
    facts: dict[str, object] = Field(default_factory=dict)
    restricted: bool = False
    status: Status
    assignee: str | None = None
    outcome: Outcome | None = None
    rationale: str | None = None
    duplicate_of: str | None = None
    received_at: AwareDatetime
    updated_at: AwareDatetime
    closed_at: AwareDatetime | None = None
    closed_by: str | None = None
    proposed_by: str | None = None  # who proposed a closure awaiting approval, or made it
    approved_by: str | None = None  # the second person who approved the closure
    #: digests of the evidence events (contract extension), time order; None: not given
    evidence_events: list[dict[str, object]] | None = None
    #: evidence ids whose digest the engine no longer held when it raised the alert
    evidence_missing: list[str] | None = None
    #: identifiers the text quotes (phones, e-mail addresses, names...): masked like people
    identifiers: list[str] = Field(default_factory=list)
    #: people on a covert, VIP, canary or vulnerable-victim list: a reveal takes two people
    sensitive_subjects: list[str] = Field(default_factory=list)


Sort = Literal["score", "age"]


class QueueFilter(BaseModel):
    """What an analyst can narrow the queue by. ``unit`` is ``facts.officer_unit``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    status: Status | None = None
    severity: Literal["low", "medium", "high", "critical"] | None = None
    category: str | None = Field(default=None, max_length=64)
    detector: str | None = Field(default=None, max_length=128)
    officer: str | None = Field(default=None, max_length=128)
    unit: str | None = Field(default=None, max_length=128)
    assignee: str | None = Field(default=None, max_length=128)
    date_from: AwareDatetime | None = None
    date_to: AwareDatetime | None = None
    sort: Sort = "score"
    page: int = Field(default=1, ge=1, le=100_000)
    per_page: int = Field(default=50, ge=1, le=500)

    @field_validator("category", "detector", "officer", "unit", "assignee")
    @classmethod
    def _no_nul(cls, value: str | None) -> str | None:
        if value is not None and "\x00" in value:
            raise ValueError("no NUL characters")
        return value

    def active(self) -> dict[str, object]:
        """The filters actually set (for the audit log and the page's links)."""
        return {
            k: (v.isoformat() if isinstance(v, datetime) else str(v))
            for k, v in self.model_dump(exclude={"page", "per_page", "sort"}).items()
            if v not in (None, "")
        }


class QueuePage(BaseModel):
    model_config = ConfigDict(frozen=True)

    items: list[StoredAlert]
    total: int
    page: int
    per_page: int
    counts: dict[str, int]


# ---------------------------------------------------------------------- cases
class CaseStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class CaseOutcome(StrEnum):
    """How an investigation ends (a case cannot close without one and its rationale)."""

    NO_FURTHER_ACTION = "no_further_action"
    MANAGEMENT_ACTION = "management_action"
    REFERRAL_PSD = "referral_psd"
    REFERRAL_IOPC = "referral_iopc"  # needs the IOPC's referral reference
    VETTING_REVIEW = "vetting_review"


#: the pattern of a case, tasking or referral reference
REFERENCE = r"^[A-Za-z0-9][A-Za-z0-9/_.:-]{2,63}$"


class CaseTask(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    text: str
    created_by: str
    created_at: AwareDatetime
    done_by: str | None = None
    done_at: AwareDatetime | None = None


class Case(BaseModel):
    """An investigation about one officer, as the store hands it out."""

    model_config = ConfigDict(frozen=True)

    id: int
    officer: str
    title: str
    status: CaseStatus
    restricted: bool = False
    opened_by: str
    opened_at: AwareDatetime
    updated_at: AwareDatetime
    outcome: CaseOutcome | None = None
    rationale: str | None = None
    referral_reference: str | None = None
    closed_by: str | None = None
    closed_at: AwareDatetime | None = None


class CaseDetail(BaseModel):
    """A case with what it holds: its alerts (those the viewer may see), the visible
    alerts about the officer not yet attached (suggested), tasks and notes."""

    model_config = ConfigDict(frozen=True)

    case: Case
    alerts: list[StoredAlert]
    suggested: list[StoredAlert]
    tasks: list[CaseTask]
    notes: list[Note]
