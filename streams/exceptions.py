"""Errors of the ``streams`` package (broker, topics, ingest, replay)."""

from probity.errors import ProbityError


class StreamsError(ProbityError):
    """Base for streaming errors."""


class BrokerError(StreamsError):
    """The broker could not be started, reached or configured."""


class ReplayError(StreamsError):
    """A replay could not finish (worker died, timed out...)."""
