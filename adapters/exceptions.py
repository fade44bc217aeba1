"""Errors of the ``adapters`` package (all under :class:`probity.errors.ProbityError`)."""

from __future__ import annotations

from probity.errors import ProbityError


class AdapterError(ProbityError):
    """Base for errors of the ``adapters`` package."""


class FieldError(AdapterError):
    """One input record that cannot become an event, blamed on the source field at fault.

    ``reason`` reads ``<field>: <what is wrong>`` (``EventID: 4658 is not mapped``), the
    shape the dead letters use, so a reject names the field an operator has to look at.
    """

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.reason = f"{field}: {message}"
        super().__init__(self.reason)


class ConfigError(AdapterError):
    """A usage error: unknown format, unreadable or invalid mapping file, bad time zone.
    Raised before any line is read; ``probity convert`` exits non-zero on it."""


class RegistrationError(AdapterError):
    """Two adapters claim one format name, or a class breaks the adapter contract."""
