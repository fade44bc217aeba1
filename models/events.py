"""Contract v1 events (``shared/contract/EVENTS.md``): the envelope and typed ``attrs`` per kind.

Decoding happens once, at the boundary, through :func:`decode_event`; everything downstream
works on :class:`Event` and never re-validates. Unknown kinds are valid and kept with their
``attrs`` as given; unknown attribute keys are kept and ignored.

>>> e = decode_event(b'{"id":"a1","time":"2026-03-02T09:15:02Z","source":"pnc",'
...                  b'"kind":"auth.login","actor":"S1"}')
>>> (e.kind, e.actor, e.time.isoformat())
('auth.login', 'S1', '2026-03-02T09:15:02+00:00')
"""

from __future__ import annotations

import builtins
import re
from datetime import date, datetime
from typing import Annotated, Any, ClassVar, Literal

import orjson
from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SerializeAsAny,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    create_model,
    field_validator,
    model_validator,
)

from models.exceptions import DecodeError

_RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$"
)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _rfc3339(value: Any) -> Any:
    """Only RFC 3339 text with an offset is a time here (no epoch numbers, no naive times).

    Parsed here when the standard library can: its times carry ``timezone.utc`` (one object),
    which compares several times faster than the per-value offset pydantic attaches, and
    detectors compare event times on every event. Anything it refuses is left to pydantic,
    which reports what is wrong."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _RFC3339.match(value):
        raise ValueError("must be an RFC 3339 timestamp with an offset, e.g. 2026-03-02T09:15:02Z")
    try:
        return datetime.fromisoformat(value.upper())
    except ValueError:
        return value


def _iso_date(value: Any) -> Any:
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not _DATE.match(value):
        raise ValueError("must be a date YYYY-MM-DD")
    return value


Timestamp = Annotated[AwareDatetime, BeforeValidator(_rfc3339)]
IsoDate = Annotated[date, BeforeValidator(_iso_date)]
NonEmpty = Annotated[str, StringConstraints(min_length=1)]
StrictInt = Annotated[int, Field(strict=True)]
StrictBool = Annotated[bool, Field(strict=True)]


class Attrs(BaseModel):
    """Kind-specific attributes. Unknown keys are kept (and ignored by detectors)."""

    model_config = ConfigDict(extra="allow", frozen=True)


def attr_or_none(attrs: Attrs, name: str) -> Any:
    """``getattr(attrs, name, None)`` for a public name no model class defines (``fields``,
    ``staff_id``), read from the fields or the extra keys directly: a kind that does not
    declare it sends ``getattr`` through pydantic's ``__getattr__``, which raises and catches
    (~3 us, asked of most events by some detector)."""
    found = attrs.__dict__.get(name, _ABSENT)
    if found is not _ABSENT:
        return found
    extra = attrs.__pydantic_extra__
    return extra.get(name) if extra else None


_ABSENT = object()


class RecordRef(BaseModel):
    """The record a ``record.*`` event touched."""

    model_config = ConfigDict(extra="allow", frozen=True)

    type: NonEmpty
    id: NonEmpty


# --- activity kinds -------------------------------------------------------------------------


class AuthAttrs(Attrs):
    location: str | None = None
    # contract 1.1 (adapters): what a Windows/Entra/OCSF logon record says about it
    logon_type: str | None = None  # interactive, network, remote_interactive, unlock, ...
    target: str | None = None  # the host or service logged on to
    workstation: str | None = None  # the client machine the logon came from
    reason: str | None = None  # why a logon failed, as the source words it
    app: str | None = None  # the application signed in to


class ExplicitCredentialsAttrs(AuthAttrs):
    account: str | None = None  # the account whose credentials were used
    process: str | None = None


class ProcessAttrs(Attrs):
    path: str | None = None
    command_line: str | None = None
    parent: str | None = None
    sha256: str | None = None  # contract 1.3: the executable's SHA-256, hex


class ObjectAccessAttrs(Attrs):
    path: str | None = None
    access: list[str] | None = None  # read_data, write_data, delete, ...
    object_type: str | None = None  # File, Key, Process, ... as the source names it
    process: str | None = None
    site: str | None = None  # SharePoint/OneDrive site


class FileTransferAttrs(Attrs):
    path: str | None = None
    url: str | None = None
    site: str | None = None
    bytes: StrictInt | None = None
    app: str | None = None  # client application or user agent


class FilePrintedAttrs(Attrs):
    path: str | None = None
    printer: str | None = None
    pages: StrictInt | None = None


class MailboxAccessAttrs(Attrs):
    mailbox: str | None = None  # whose mailbox (the actor's own, or another's)
    count: StrictInt | None = None  # items accessed
    access: str | None = None  # bind (items opened), sync (folder synchronised)
    client: str | None = None


class SearchAttrs(Attrs):
    query: str | None = None
    results: StrictInt | None = None


class FieldsAttrs(Attrs):
    fields: list[str] | None = None


class ExportAttrs(Attrs):
    channel: str | None = None  # print, download, email, usb
    count: StrictInt | None = None
    destination: str | None = None


class MessageAttrs(Attrs):
    channel: str | None = None  # email, teams, whatsapp, sms
    to: list[str] | None = None
    text: str | None = None
    subject: str | None = None
    send_as: str | None = None  # the mailbox the message was sent as, when not the actor's
    # contract 1.3: what was attached (a count, or a list of names or objects) and its size
    attachments: StrictInt | list[Any] | None = None
    attachment_bytes: StrictInt | None = None


class CallAttrs(Attrs):
    number: str | None = None


class BwvActivatedAttrs(Attrs):
    duration_s: StrictInt | None = None


class StopSearchAttrs(Attrs):
    operation: str | None = None
    bwv: StrictBool | None = None
    grounds: str | None = None


class UseOfForceAttrs(Attrs):
    bwv: StrictBool | None = None


class AuditConfigAttrs(Attrs):
    setting: str | None = None
    value: str | None = None


class DeviceAttrs(Attrs):
    device_type: str | None = None  # usb_storage, phone, camera, other
    device_id: str | None = None
    device_name: str | None = None


class FileCopiedAttrs(Attrs):
    path: str | None = None
    destination: str | None = None  # removable, network, cloud, local
    bytes: StrictInt | None = None
    device: str | None = None  # the removable device's name
    domain: str | None = None  # the cloud service's domain
    app: str | None = None


class WebAttrs(Attrs):
    url: str | None = None
    domain: str | None = None
    action: str | None = None  # visit, download, upload
    bytes: StrictInt | None = None
    method: str | None = None  # GET, POST, ...
    bytes_out: StrictInt | None = None  # sent by the client (what an upload carries)
    bytes_in: StrictInt | None = None
    outcome: str | None = None  # allowed, blocked
    category: str | None = None  # the proxy's URL category


class TriageAttrs(Attrs):
    """The ACU queue's own audit rows as events (contract 1.4): who acted in the queue."""

    username: str | None = None
    audit_seq: StrictInt | None = None
    audit_hash: str | None = None
    client: str | None = None  # the request's client address
    reason: str | None = None
    reference: str | None = None  # the case or tasking a reveal is for
    why: str | None = None  # why a reveal was refused: unknown, not_assigned, quota
    approved_by: str | None = None  # the second person who approved a sensitive reveal


#: the queue's audit actions that are events of the contract (1.4); the rest stay outside
TRIAGE_KINDS = (
    "triage.subject.revealed", "triage.subject.reveal_refused",
    "triage.subject.reveal_requested", "triage.subject.reveal_approved",
    "triage.subject.reveal_declined", "triage.alert.viewed", "triage.queue.searched",
)  # fmt: skip


# --- reference kinds ------------------------------------------------------------------------


class StaffAccount(BaseModel):
    """One account a member of staff holds in a force system (contract 1.2): what the
    systems name them by, so identity resolution can map it to the staff id."""

    model_config = ConfigDict(extra="allow", frozen=True)

    #: the account as a system names it: ``FORCE\\jsmith``, ``john.smith@force.example``,
    #: a Windows SID, a records system's user id
    id: NonEmpty
    #: ``username``, ``email``, ``sid``, ``system_user`` (or another word): informative
    type: str | None = None
    #: the ``source`` it belongs to, when it means something only there (a system user id)
    system: str | None = None
    valid_from: Timestamp | None = None
    valid_to: Timestamp | None = None


class StaffAttrs(Attrs):
    staff_id: NonEmpty
    name: str | None = None
    dob: IsoDate | None = None
    role: str | None = None
    unit: str | None = None
    station: str | None = None
    addresses: list[str] | None = None
    phones: list[str] | None = None
    status: Literal["active", "suspended", "left"] | None = None
    accounts: list[StaffAccount] | None = None
    # contract 1.3: departure, line management and private contact, from HR
    leaving_date: IsoDate | None = None  # the last day of service, once known
    notice_date: IsoDate | None = None  # the day resignation (or notice) was given
    line_manager: str | None = None  # the staff id of their line manager
    personal_emails: list[str] | None = None  # private e-mail addresses HR holds


class TerminalAttrs(Attrs):
    """Contract 1.3: a workstation's assignment, from the asset register (keyed by terminal)."""

    terminal: NonEmpty
    owner: str | None = None  # the staff id it is assigned to (none: pooled)
    shared: StrictBool | None = None  # hot-desk, kiosk, briefing-room: anyone may use it
    location: str | None = None  # the station or site it stands in


class VettingAttrs(Attrs):
    staff_id: NonEmpty
    level: str | None = None
    status: Literal["granted", "conditions", "withdrawn", "expired"] | None = None
    expires: IsoDate | None = None


class MisconductAttrs(Attrs):
    staff_id: NonEmpty
    case: str | None = None
    outcome: (
        Literal[
            "no_case",
            "management_action",
            "written_warning",
            "final_written_warning",
            "dismissed",
        ]
        | None
    ) = None


class ReviewCompletedAttrs(Attrs):
    staff_id: NonEmpty
    case: str | None = None


class AssociationAttrs(Attrs):
    staff_id: NonEmpty
    person: str | None = None
    relationship: str | None = None


class WatchlistAttrs(Attrs):
    list: NonEmpty
    person: str | None = None
    name: str | None = None
    dob: IsoDate | None = None
    group: str | None = None
    authorised: builtins.list[str] | None = None

    @model_validator(mode="after")
    def _entity(self) -> WatchlistAttrs:
        if not self.person and not (self.name and self.dob):
            raise ValueError("a watchlist entry needs a person, or a name and dob")
        return self


class WatchlistRemovedAttrs(Attrs):
    list: NonEmpty
    person: str | None = None
    name: str | None = None
    dob: IsoDate | None = None

    @model_validator(mode="after")
    def _entity(self) -> WatchlistRemovedAttrs:
        if not self.person and not (self.name and self.dob):
            raise ValueError("a watchlist removal needs a person, or a name and dob")
        return self


class PersonLinkAttrs(Attrs):
    person: NonEmpty
    link: str | None = None  # address, phone, vehicle, person
    value: str | None = None


class TaskAttrs(Attrs):
    ref: NonEmpty
    staff_ids: list[str] | None = None
    subjects: list[str] | None = None


class ShiftAttrs(Attrs):
    staff_id: NonEmpty
    start: Timestamp | None = None
    end: Timestamp | None = None


class ComplaintAttrs(Attrs):
    staff_id: NonEmpty
    complaint: str | None = None
    complainant: str | None = None
    category: str | None = None
    body: str | None = None


ACTIVITY_ATTRS: dict[str, type[Attrs]] = {
    "auth.login": AuthAttrs,
    "auth.logout": AuthAttrs,
    "auth.failed": AuthAttrs,
    "record.search": SearchAttrs,
    "record.view": FieldsAttrs,
    "record.update": FieldsAttrs,
    "record.delete": FieldsAttrs,
    "record.export": ExportAttrs,
    "message.sent": MessageAttrs,
    "call.made": CallAttrs,
    "bwv.activated": BwvActivatedAttrs,
    "bwv.footage.viewed": Attrs,
    "bwv.footage.deleted": Attrs,
    "stop_search.recorded": StopSearchAttrs,
    "use_of_force.recorded": UseOfForceAttrs,
    "audit.config_changed": AuditConfigAttrs,
    "device.connected": DeviceAttrs,
    "device.disconnected": DeviceAttrs,
    "file.copied": FileCopiedAttrs,
    "web.visited": WebAttrs,
    # contract 1.1: kinds the format adapters produce (docs/contract.md)
    "auth.explicit_credentials": ExplicitCredentialsAttrs,
    "process.started": ProcessAttrs,
    "file.accessed": ObjectAccessAttrs,
    "object.accessed": ObjectAccessAttrs,
    "file.downloaded": FileTransferAttrs,
    "file.uploaded": FileTransferAttrs,
    "file.printed": FilePrintedAttrs,
    "mailbox.accessed": MailboxAccessAttrs,
    # contract 1.4: the ACU queue's own activity (docs/contract.md)
    **dict.fromkeys(TRIAGE_KINDS, TriageAttrs),
}

REFERENCE_ATTRS: dict[str, type[Attrs]] = {
    "staff.upsert": StaffAttrs,
    "vetting.changed": VettingAttrs,
    "misconduct.outcome": MisconductAttrs,
    "vetting.review.completed": ReviewCompletedAttrs,
    "association.declared": AssociationAttrs,
    "watchlist.upsert": WatchlistAttrs,
    "watchlist.removed": WatchlistRemovedAttrs,
    "person.link": PersonLinkAttrs,
    "task.assigned": TaskAttrs,
    "shift.rostered": ShiftAttrs,
    "complaint.logged": ComplaintAttrs,
    "complaint.updated": ComplaintAttrs,
    "complaint.referred": ComplaintAttrs,
    "terminal.assigned": TerminalAttrs,
}

ACTIVITY_KINDS = frozenset(ACTIVITY_ATTRS)
REFERENCE_KINDS = frozenset(REFERENCE_ATTRS)
KNOWN_KINDS = ACTIVITY_KINDS | REFERENCE_KINDS


class Event(BaseModel):
    """One contract-v1 event. Frozen: detectors must not (and cannot) change what they read."""

    model_config = ConfigDict(extra="allow", frozen=True)

    version: ClassVar[int] = 1

    id: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    time: Timestamp
    source: Annotated[str, StringConstraints(pattern=r"^[a-z0-9_.-]{1,64}$")]
    kind: NonEmpty
    actor: NonEmpty | None = None
    record: RecordRef | None = None
    subjects: list[str] | None = None
    purpose: str | None = None
    terminal: str | None = None
    ip: str | None = None
    attrs: SerializeAsAny[Attrs] = Field(default_factory=Attrs)

    @field_validator("attrs", mode="plain")
    @classmethod
    def _attrs_by_kind(cls, value: Any, info: ValidationInfo) -> Attrs:
        if value is None:
            value = {}
        if isinstance(value, Attrs):
            value = value.model_dump()
        if not isinstance(value, dict):
            raise ValueError("attrs must be an object")
        kind = info.data.get("kind")
        model = ACTIVITY_ATTRS.get(kind) or REFERENCE_ATTRS.get(kind) or Attrs  # type: ignore[arg-type]
        return model.model_validate(value)

    @model_validator(mode="after")
    def _kind_rules(self) -> Event:
        if self.kind in ACTIVITY_KINDS and not self.actor:
            raise ValueError(f"actor: required for activity kind {self.kind}")
        if self.kind.startswith("record.") and self.kind in ACTIVITY_KINDS and self.record is None:
            raise ValueError(f"record: required for kind {self.kind}")
        return self

    @property
    def is_reference(self) -> bool:
        return self.kind in REFERENCE_KINDS

    @property
    def is_known(self) -> bool:
        return self.kind in KNOWN_KINDS

    @property
    def key(self) -> str:
        """The Kafka key the contract names: the actor, or the reference entity's id."""
        return event_key(self.kind, self.actor, self.attrs, self.id)

    def dumps(self) -> bytes:
        """Canonical JSON bytes (unset optional fields left out)."""
        return orjson.dumps(self.model_dump(mode="json", exclude_none=False, exclude_unset=True))


def _kind_event(kind: str, attrs_model: type[Attrs]) -> type[Event]:
    """An :class:`Event` subclass whose ``attrs`` is the kind's model, so that pydantic
    validates the whole event in one pass (no Python call choosing the model per event)."""

    def attrs_of_kind(cls: type[Event], value: Any) -> Any:
        if value is None:
            return {}
        if isinstance(value, Attrs):
            return value if isinstance(value, attrs_model) else value.model_dump()
        if not isinstance(value, dict):
            raise ValueError("attrs must be an object")
        return value

    model = create_model(
        "Event",
        __base__=Event,
        __module__=__name__,
        # the same name as the base's chooser, so this one replaces it
        __validators__={"_attrs_by_kind": field_validator("attrs", mode="before")(attrs_of_kind)},
        attrs=(SerializeAsAny[attrs_model], Field(default_factory=attrs_model)),  # type: ignore[misc,valid-type]
    )
    model.__qualname__ = f"Event[{kind}]"
    return model


#: the model decoding picks by ``kind`` (an unknown kind decodes as :class:`Event` itself)
EVENT_BY_KIND: dict[str, type[Event]] = {
    kind: _kind_event(kind, attrs) for kind, attrs in {**ACTIVITY_ATTRS, **REFERENCE_ATTRS}.items()
}


def event_key(kind: str, actor: str | None, attrs: Attrs, event_id: str) -> str:
    """Kafka key per the contract: activity by ``actor``; reference by its entity id."""
    if kind in REFERENCE_KINDS:
        a = attrs
        if kind == "terminal.assigned":
            return str(getattr(a, "terminal", None) or actor or event_id)
        for name in ("staff_id", "ref"):
            val = getattr(a, name, None)
            if val:
                return str(val)
        person = getattr(a, "person", None)
        if person:
            return str(person)
        listed_name = getattr(a, "name", None)
        dob = getattr(a, "dob", None)
        if listed_name and dob:
            return f"{listed_name}|{dob}"
    return actor or event_id


def _reason(exc: ValidationError) -> str:
    """One line naming the field(s) at fault."""
    parts = []
    for err in exc.errors(include_url=False)[:3]:
        loc = ".".join(str(p) for p in err["loc"] if not str(p).startswith("function-"))
        msg = err["msg"].removeprefix("Value error, ")
        parts.append(f"{loc}: {msg}" if loc else msg)
    more = exc.error_count() - len(parts)
    return "; ".join(parts) + (f" (+{more} more)" if more > 0 else "")


def decode_event(raw: bytes | str) -> Event:
    """Bytes at the boundary into an :class:`Event`, or :class:`DecodeError` with a reason.

    Never raises anything else, whatever the input (see the hypothesis tests).
    """
    try:
        obj = orjson.loads(raw)
    except (orjson.JSONDecodeError, UnicodeDecodeError, TypeError, ValueError) as exc:
        raise DecodeError(f"not valid JSON: {exc}") from exc
    return decode_obj(obj)


def decode_obj(obj: Any) -> Event:
    """A parsed JSON value into an :class:`Event` (see :func:`decode_event`)."""
    if not isinstance(obj, dict):
        raise DecodeError(f"not a JSON object (got {type(obj).__name__})")
    event_id = obj.get("id") if isinstance(obj.get("id"), str) else None
    kind = obj.get("kind")
    model = EVENT_BY_KIND.get(kind, Event) if isinstance(kind, str) else Event
    try:
        return model.model_validate(obj)
    except ValidationError as exc:
        raise DecodeError(_reason(exc), event_id=event_id or None) from exc
    except (RecursionError, ValueError, TypeError) as exc:
        raise DecodeError(f"invalid event: {type(exc).__name__}", event_id=event_id) from exc
