"""Injected misconduct (scenarios) and the legitimate cases that look like it (look-alikes).

One module per detector family (``access``, ``vetting``, ``association``...), each holding the
scenarios that its detectors are expected to find and the look-alikes they must stay quiet
on; ``base`` holds the contract (:class:`Label`, the :func:`scenario` and :func:`lookalike`
declarations, discovery) and ``_helpers`` what the families share.

Counts, days, hours and variants come from the world's random generator, so they change with
the seed: detectors must find the behaviour, not a number. Subjects of scenarios are fresh
people, so benign tasks never explain them.
"""

from simulation.scenarios.base import (
    Label,
    Scenario,
    all_lookalikes,
    all_scenarios,
    expected_detectors,
    lookalike,
    scenario,
)

__all__ = [
    "Label",
    "Scenario",
    "all_lookalikes",
    "all_scenarios",
    "expected_detectors",
    "lookalike",
    "scenario",
]
