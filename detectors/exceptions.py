"""Errors of the ``detectors`` package."""

from probity.errors import ProbityError


class DetectorError(ProbityError):
    """Base for detector errors."""


class RegistrationError(DetectorError):
    """A detector class breaks the declared contract (bad id, kinds, parameters)."""


class DetectorFailed(DetectorError):
    """A detector raised while evaluating an event; the worker logs, counts and goes on."""


class ConfigError(DetectorError):
    """Parameters given for a detector (settings, overrides) do not fit its ``Params``, or
    name a detector that does not exist; the worker does not start."""
