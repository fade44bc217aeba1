"""The language of the pipeline: events in, findings and alerts out (pydantic v2)."""

from models.alerts import Alert, Category, Finding, PathHop, alert_id
from models.events import (
    ACTIVITY_KINDS,
    KNOWN_KINDS,
    REFERENCE_KINDS,
    Event,
    decode_event,
    decode_obj,
)
from models.exceptions import DecodeError

__all__ = [
    "ACTIVITY_KINDS",
    "KNOWN_KINDS",
    "REFERENCE_KINDS",
    "Alert",
    "Category",
    "DecodeError",
    "Event",
    "Finding",
    "PathHop",
    "alert_id",
    "decode_event",
    "decode_obj",
]
