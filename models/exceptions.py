"""Errors raised while turning bytes into the project's models."""

from __future__ import annotations

from probity.errors import ProbityError


class ModelError(ProbityError):
    """Base for errors of the ``models`` package."""


class DecodeError(ModelError):
    """Bytes that are not a valid contract-v1 event.

    ``reason`` is one line naming the field at fault (``attrs.count: ...``), ready for the
    dead letters; ``event_id`` is set when the input was an object with a usable id.
    """

    def __init__(self, reason: str, *, event_id: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.event_id = event_id
