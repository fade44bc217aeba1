"""One suite over every registered detector (STYLE.md point 3): a new detector is checked the
moment it is registered, without new test code."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta

import pytest

from detectors.base import Detector, StateView
from detectors.reference.state import ReferenceState
from detectors.registry import registered
from models.alerts import Category, Finding
from models.events import ACTIVITY_KINDS, KNOWN_KINDS, Event, decode_obj

DETECTORS = registered()
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _sample_events(kinds: frozenset[str]) -> list[Event]:
    """Minimal and fuller events of every kind a detector reads (optional fields absent, then
    present), over a reference state where the subjects sit on every list."""
    out = []
    for i, kind in enumerate(sorted(kinds)):
        base = {"id": f"c-{i}", "time": (T0 + timedelta(minutes=i)).isoformat(), "source": "t"}
        if kind in ACTIVITY_KINDS:
            base["actor"] = "S1"
        if kind.startswith("record."):
            base["record"] = {"type": "person", "id": "P-1"}
        attrs = _attrs_for(kind)
        out.append(decode_obj({**base, "kind": kind, "attrs": attrs}))
        out.append(
            decode_obj(
                {
                    **base,
                    "id": f"c-{i}-full",
                    "kind": kind,
                    "subjects": ["P-1", "P-2"],
                    "purpose": None,
                    "terminal": "WS-1",
                    "attrs": attrs,
                }
            )
        )
    return out


def _attrs_for(kind: str) -> dict:
    key_attrs = {
        "staff.upsert": {"staff_id": "S1"},
        "vetting.changed": {"staff_id": "S1"},
        "misconduct.outcome": {"staff_id": "S1"},
        "vetting.review.completed": {"staff_id": "S1"},
        "association.declared": {"staff_id": "S1"},
        "watchlist.upsert": {"list": "canary", "person": "P-1"},
        "watchlist.removed": {"list": "canary", "person": "P-1"},
        "person.link": {"person": "P-1"},
        "task.assigned": {"ref": "T-1"},
        "shift.rostered": {"staff_id": "S1"},
        "complaint.logged": {"staff_id": "S1"},
        "complaint.updated": {"staff_id": "S1"},
        "complaint.referred": {"staff_id": "S1"},
    }
    return key_attrs.get(kind, {})


def _reference() -> ReferenceState:
    ref = ReferenceState()
    for i, lst in enumerate(
        ["canary", "covert_subject", "vip", "ocg_nominal", "vulnerable_victim"]
    ):
        ref.apply(
            decode_obj(
                {
                    "id": f"w-{i}",
                    "time": "2026-03-01T00:00:00Z",
                    "source": "intel",
                    "kind": "watchlist.upsert",
                    "attrs": {"list": lst, "person": "P-1", "group": "G"},
                }
            )
        )
    ref.apply(
        decode_obj(
            {
                "id": "s-1",
                "time": "2026-03-01T00:00:00Z",
                "source": "hr",
                "kind": "staff.upsert",
                "attrs": {"staff_id": "S1", "name": "A B", "status": "active"},
            }
        )
    )
    return ref


def _run(det: Detector, events: list[Event]) -> tuple[list[Finding], dict]:
    ref = _reference()
    state: dict = {}
    findings: list[Finding] = []
    for e in events:
        view = StateView(now=e.time, officer=e.actor, ref=ref.at(e.time), state=state)
        findings.extend(det.evaluate(e, view))
    return findings, state


@pytest.fixture(params=sorted(DETECTORS), ids=str)
def detector_cls(request: pytest.FixtureRequest) -> type[Detector]:
    return DETECTORS[request.param]


def test_at_least_the_first_detectors_are_registered() -> None:
    assert {"access.canary", "access.covert_unauthorised", "audit.monitoring_disabled"} <= set(
        DETECTORS
    )


def test_declares_its_contract(detector_cls: type[Detector]) -> None:
    assert detector_cls.__doc__ and detector_cls.__doc__.strip()
    assert detector_cls.description.strip()
    assert isinstance(detector_cls.category, Category)
    family, _, name = detector_cls.id.partition(".")
    assert family and name
    assert detector_cls.kinds, "reads no kinds"
    unknown = detector_cls.kinds - KNOWN_KINDS
    assert not unknown, f"reads kinds outside the contract: {unknown}"
    detector_cls.check_contract()
    for value in detector_cls.parameters().values():
        hash(value)  # immutable defaults only


def test_deterministic_and_state_serialises(detector_cls: type[Detector]) -> None:
    events = _sample_events(detector_cls.kinds)
    first, state1 = _run(detector_cls(), events)
    second, state2 = _run(detector_cls(), events)
    assert [f.model_dump() for f in first] == [f.model_dump() for f in second]
    assert json.loads(json.dumps(state1)) == state1
    assert state1 == state2


def test_does_not_mutate_its_input(detector_cls: type[Detector]) -> None:
    events = _sample_events(detector_cls.kinds)
    before = [copy.deepcopy(e.model_dump()) for e in events]
    _run(detector_cls(), events)
    assert [e.model_dump() for e in events] == before


def test_ignores_kinds_it_does_not_read(detector_cls: type[Detector]) -> None:
    others = frozenset(KNOWN_KINDS - detector_cls.kinds)
    findings, _state = _run(detector_cls(), _sample_events(others))
    assert findings == []


def test_findings_are_well_formed(detector_cls: type[Detector]) -> None:
    findings, _ = _run(detector_cls(), _sample_events(detector_cls.kinds))
    for f in findings:
        assert f.detector == detector_cls.id
        if detector_cls.category_varies:
            assert isinstance(f.category, Category)
        else:
            assert f.category == detector_cls.category
        assert f.explanation and f.title and f.evidence
        assert f.time.tzinfo is not None


def test_tick_copes_with_empty_state(detector_cls: type[Detector]) -> None:
    view = StateView(now=T0, officer=None, ref=ReferenceState().at(T0))
    assert detector_cls().on_tick(view) == []
