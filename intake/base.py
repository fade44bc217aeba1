"""The intake's contract with its callers: what a request gets back, line by line.

Every record of a request gets one :class:`LineResult`: ``accepted`` (the broker has it),
``duplicate`` (an event with this id from this source was accepted before: not published
again), ``rejected`` (not an event: ``reason`` names the field; sending it again will not
help) or ``failed`` (the broker did not acknowledge it in time: send it again, the id makes
that safe).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Status = Literal["accepted", "duplicate", "rejected", "failed"]
STATUSES: tuple[Status, ...] = ("accepted", "duplicate", "rejected", "failed")


class LineResult(BaseModel):
    """The answer for one record: its line (or array element) number, 1-based."""

    model_config = ConfigDict(frozen=True)

    line: int = Field(description="line number, or element number of a JSON array (1-based)")
    id: str | None = Field(default=None, description="the event id, when the record had one")
    status: Status
    reason: str | None = Field(default=None, description="why rejected or failed")


class BatchResult(BaseModel):
    """The answer for one request: counts by status, and one result per record in order."""

    model_config = ConfigDict(frozen=True)

    source: str
    format: str
    accepted: int = 0
    duplicate: int = 0
    rejected: int = 0
    failed: int = 0
    lines: list[LineResult] = Field(default_factory=list)

    @classmethod
    def of(cls, source: str, format_name: str, lines: list[LineResult]) -> BatchResult:
        counts = {s: 0 for s in STATUSES}
        for r in lines:
            counts[r.status] += 1
        return cls(source=source, format=format_name, lines=lines, **counts)


class Problem(BaseModel):
    """An answer for the whole request (401, 403, 413, 429, 503)."""

    detail: str
