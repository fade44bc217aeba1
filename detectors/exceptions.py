"""Errors of the ``detectors`` package."""

from probity.errors import ProbityError


class DetectorError(ProbityError):
    """Base for detector errors."""


class RegistrationError(DetectorError):
    """A detector class breaks the declared contract (bad id, kinds, parameters)."""


class DetectorFailed(DetectorError):
    """A detector raised while evaluating an event; the worker logs, counts and goes on."""
