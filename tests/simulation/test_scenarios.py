"""The scenarios' declarations against the detector registry: one declaration per scenario
names the detector it exercises, and every registered detector is exercised."""

from __future__ import annotations

import random

import pytest

from detectors.registry import registered
from simulation import benign
from simulation.exceptions import SimulationError
from simulation.generator import DEFAULT_START, Force
from simulation.scenarios import (
    Label,
    all_lookalikes,
    all_scenarios,
    expected_detectors,
    lookalike,
    scenario,
)
from simulation.world import World, midnight

# detectors that legitimately have no scenario of their own: name them here with the reason,
# so a detector without one is a decision, not an oversight
WITHOUT_SCENARIO: dict[str, str] = {
    "access.queue_reveals": "reads the ACU queue's own audit feed (triage.subject.*), which a "
    "simulated force's systems do not produce; its golden data and "
    "tests/triage/test_publish.py (the queue's reveals through the pipeline) cover it",
}


def test_every_declared_detector_is_registered() -> None:
    known = set(registered())
    declared = {d for s in (*all_scenarios(), *all_lookalikes()) for d in s.detectors}
    assert declared <= known, sorted(declared - known)


def test_every_registered_detector_has_a_scenario() -> None:
    without = sorted(set(registered()) - expected_detectors())
    assert without == sorted(WITHOUT_SCENARIO), f"detectors without a scenario: {without}"
    assert not set(WITHOUT_SCENARIO) - set(registered()), "allow-list names unknown detectors"


def test_a_scenario_expects_one_detector_of_its_own_family() -> None:
    for s in all_scenarios():
        assert len(s.detectors) == 1 and not s.legitimate, s
        assert s.detectors[0].partition(".")[0] == s.family, (s.name, s.detectors)
    for s in all_lookalikes():
        assert s.legitimate and s.detectors, s
        assert s.detectors[0].partition(".")[0] == s.family, (s.name, s.detectors)


def test_injection_order_is_declared_once_per_injector() -> None:
    for declared in (all_scenarios(), all_lookalikes()):
        orders = [s.order for s in declared]
        assert orders == sorted(set(orders))
        assert len({s.inject for s in declared}) == len(declared)


def test_labels_carry_the_declarations(it_force: Force) -> None:
    labels = it_force.labels()
    known = set(registered())
    expected = {d for s in all_scenarios() for d in s.detectors}
    for lab in labels["scenarios"]:
        assert len(lab["detectors"]) == 1 and lab["detectors"][0] in expected, lab["id"]
        assert set(lab["also"]) <= known, lab["id"]
        assert not lab["legitimate"]
    must_not = {tuple(s.detectors) for s in all_lookalikes()}
    for lab in labels["lookalikes"]:
        assert tuple(lab["detectors"]) in must_not and lab["legitimate"], lab["id"]
    assert {d for lab in labels["scenarios"] for d in lab["detectors"]} == expected_detectors()


def test_without_it_life_no_insider_scenario_runs(small_force: Force) -> None:
    """The insider scenarios need IT life (``Force(it=True)``); without it the force is the
    clean world as before (its digest is pinned in test_noise.py)."""
    labels = small_force.labels()
    assert not [lab for lab in (*labels["scenarios"], *labels["lookalikes"])
                if lab["detectors"][0].startswith("insider.")]  # fmt: skip
    assert "it" not in labels["metadata"]


def test_an_order_taken_twice_is_refused() -> None:
    taken = all_scenarios()[0]

    def again(w: World) -> list[Label]:
        return []

    with pytest.raises(SimulationError, match="taken twice"):
        scenario(taken.detectors[0], order=taken.order)(again)
    with pytest.raises(SimulationError, match="at least one"):
        lookalike(order=10_000)


def test_a_housemate_of_the_declared_partner_is_an_incidental_ocg_path() -> None:
    """The declared partner look-alike's officer lives with a colleague (staff couples share
    an address): the partner moving in closes an undeclared path for the colleague, which the
    labels name as an incidental, right ``ocg_path`` alert, not a false one."""
    w = World(seed=1, start=midnight(DEFAULT_START), days=14, rng=random.Random("t"))
    benign.populate(w, 60)
    officer, mate = w.staff[5], w.staff[23]  # the first couple
    assert officer.address == mate.address
    w.reserved |= {s.id for s in w.staff if s is not officer}
    inject = next(s for s in all_lookalikes() if s.name == "la_declared_reviewed_partner")
    alike, housemate = inject(w)
    assert alike.officers == [officer.id] and alike.legitimate and not alike.incidental
    assert housemate.incidental and not housemate.legitimate
    assert housemate.officers == [mate.id]
    assert housemate.detectors == ["association.ocg_path"]
    moved = alike.evidence[-1]
    assert moved["attrs"]["value"] == officer.address and moved in housemate.evidence
    # a partner look-alike whose officer lives alone gives no incidental label
    w.reserved = {s.id for s in w.staff if s.id != w.staff[7].id}
    assert [lab.incidental for lab in inject(w)] == [False]


def test_a_housemate_on_the_scenario_officers_ocg_path_is_incidental() -> None:
    """A nominal moves in with (or a relative at home joins an OCG of) the ``ocg_path``
    scenario's officer, who lives with a colleague: the colleague is on the same path, and
    their alert is right too (seed 2's noisy world: S1043, living with S1061)."""
    w = World(seed=1, start=midnight(DEFAULT_START), days=14, rng=random.Random("t"))
    benign.populate(w, 60)
    benign.background(w)
    officer, mate = w.staff[5], w.staff[23]
    w.reserved |= {s.id for s in w.staff if s is not officer}
    inject = next(s for s in all_scenarios() if s.name == "ocg_path")
    found, housemate = inject(w)
    assert found.officers == [officer.id] and not found.incidental
    assert found.detectors == ["association.ocg_path"]
    assert housemate.incidental and housemate.officers == [mate.id]
    assert housemate.detectors == ["association.ocg_path"]
    assert housemate.evidence == found.evidence
