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


@pytest.fixture(scope="session")
def it_force() -> Force:
    """The small force with IT life (``it=True``), where the insider scenarios run too."""
    force = Force(staff=60, days=10, seed=11, it=True)
    force.events()
    return force


@pytest.fixture(scope="session", params=[11, 12, 13], ids=lambda s: f"seed{s}")
def forces(request: pytest.FixtureRequest) -> Force:
    """The same small force under three seeds, for properties that must hold whatever the seed."""
    if request.param == 11:
        force: Force = request.getfixturevalue("small_force")
        return force
    force = Force(staff=60, days=10, seed=request.param)
    force.events()
    return force
