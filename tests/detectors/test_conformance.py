"""The conformance suite (detectors.conformance) over every discovered detector (STYLE.md
point 3): a new detector is checked the moment it exists, without new test code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from detectors import conformance
from detectors.base import Detector
from detectors.registry import registered
from models.events import Event, decode_event

DETECTORS = registered()
DATA = Path(__file__).parent / "data"


def _golden(detector_id: str) -> list[tuple[list[Event], bool]]:
    """Each golden scenario's events, and whether alerts are expected of it."""
    out = []
    for events in sorted((DATA / detector_id).glob("*events.jsonl")):
        expected = events.with_name(events.name.replace("events.jsonl", "expected.jsonl"))
        lines = [ln for ln in events.read_bytes().splitlines() if ln.strip()]
        alerts = [json.loads(ln) for ln in expected.read_text().splitlines() if ln.strip()]
        out.append(([decode_event(ln) for ln in lines], bool(alerts)))
    return out


@pytest.fixture(params=sorted(DETECTORS), ids=str)
def detector_cls(request: pytest.FixtureRequest) -> type[Detector]:
    return DETECTORS[request.param]


def test_at_least_the_first_detectors_are_registered() -> None:
    assert {"access.canary", "access.covert_unauthorised", "audit.monitoring_disabled"} <= set(
        DETECTORS
    )


def test_conforms_on_the_samples(detector_cls: type[Detector]) -> None:
    """Contract, determinism, no mutation, kinds it does not read ignored, optional fields
    missing, state serialises, frozen clock: with each of its parameter sets."""
    conformance.check_detector(detector_cls)


def test_conforms_on_its_golden_data_and_finds_something(detector_cls: type[Detector]) -> None:
    """Run in its mode (a real graph for graph detectors, its inputs beside a findings
    detector), each golden scenario that expects alerts gives findings: no check passes
    vacuously because the detector never fires."""
    for events, alerts_expected in _golden(detector_cls.id):
        for det in conformance.parameter_sets(detector_cls)[:1]:
            found = conformance.check_run(det, events, DETECTORS)
            if alerts_expected:
                assert found, f"{detector_cls.id} found nothing where its golden data expects"


def test_volume_presets_validate_and_order_the_alerts(detector_cls: type[Detector]) -> None:
    """``fewer`` raises no more than the defaults on each golden scenario, ``more`` no fewer
    (the presets were already built and run on the samples by check_detector)."""
    scenarios = [events for events, _ in _golden(detector_cls.id)]
    totals = conformance.check_volume(detector_cls, scenarios, DETECTORS)
    assert totals["fewer"] <= totals["default"] <= totals["more"]


def test_a_preset_out_of_order_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    """A preset that raises more under ``fewer`` is caught (the check is not vacuous). The
    swap is made on the Params model (never compiled), not by subclassing the detector, which
    the native build's compiled classes refuse."""
    cls = DETECTORS["association.convergence"]
    original = cls.Params.preset

    def swapped(volume: str) -> dict[str, object]:
        return dict(original({"fewer": "more", "more": "fewer"}.get(volume, volume)))

    monkeypatch.setattr(cls.Params, "preset", staticmethod(swapped))
    scenarios = [events for events, alerts in _golden(cls.id) if alerts]
    with pytest.raises(conformance.ConformanceError, match="not ordered"):
        conformance.check_volume(cls, scenarios, DETECTORS)


def test_a_detector_reading_the_wall_clock_fails() -> None:
    import datetime

    from detectors.base import EventDetector
    from models.alerts import Category

    class Clocked(EventDetector):  # not a built-in's subclass: those may be compiled
        """Reads the wall clock."""

        id = "test.clocked"
        kinds = frozenset({"record.view"})
        category = Category.MISUSE_OF_SYSTEMS
        description = "reads the wall clock"

        def judge(self, event, view):  # type: ignore[no-untyped-def]
            datetime.datetime.now(datetime.UTC)
            return []

    Clocked.__module__ = __name__
    events = conformance.sample_reference() + conformance.sample_events(Clocked.kinds)
    with pytest.raises(conformance.ConformanceError, match="wall clock"):
        conformance.check_run(Clocked(), events, DETECTORS)


@pytest.mark.slow
def test_state_stays_bounded(detector_cls: type[Detector]) -> None:
    """One officer's slot after 10,000 events stays under the cap the detector declares."""
    conformance.check_bounded_state(detector_cls, DETECTORS)
