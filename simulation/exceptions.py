"""Errors of the ``simulation`` package (generator parameters, labels and alert files)."""

from probity.errors import ProbityError


class SimulationError(ProbityError):
    """Base for simulation and evaluation errors."""


class LabelsError(SimulationError):
    """A labels or alerts file could not be read or does not have the expected shape."""
