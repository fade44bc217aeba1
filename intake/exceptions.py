"""Errors of the ``intake`` package (all under :class:`probity.errors.ProbityError`)."""

from __future__ import annotations

from probity.errors import ProbityError


class IntakeError(ProbityError):
    """Base for errors of the ``intake`` package."""


class TokenStoreError(IntakeError):
    """The token file cannot be read or written, or a command on it makes no sense (a second
    token for a source, revoking a token that does not exist)."""


class Throttled(IntakeError):
    """The broker is behind: more records are waiting for its acknowledgement than the intake
    lets wait. Answered 429 with ``Retry-After``."""

    def __init__(self, in_flight: int, limit: int, retry_after_s: int) -> None:
        self.in_flight = in_flight
        self.limit = limit
        self.retry_after_s = retry_after_s
        super().__init__(f"{in_flight} records await the broker (limit {limit})")


class TooLarge(IntakeError):
    """A body or line over the configured limit (answered 413 before the rest is read)."""


class FormatError(IntakeError):
    """A request names a format no adapter reads, or its source's declaration (format, zone,
    mapping) is unusable. Answered 400."""


class SourcesError(IntakeError):
    """The sources file cannot be read, is not TOML, or declares a source wrongly (the file
    and the field are named)."""
