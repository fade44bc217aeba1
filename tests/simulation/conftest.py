"""Fixtures for the simulation tests: one small force, generated once per session."""

from __future__ import annotations

import pytest

from simulation.generator import Force


@pytest.fixture(scope="session")
def small_force() -> Force:
    """60 staff over 10 days: every scenario and look-alike, in well under a second."""
    force = Force(staff=60, days=10, seed=11)
    force.events()
    return force
