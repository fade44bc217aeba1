"""Golden data per detector (STYLE.md point 4): ``data/<detector id>/events.jsonl`` in, and
``expected.jsonl`` out (one line per alert: detector, officer, evidence, severity; any extra
keys present in an expected line are compared too). Readable by an analyst, reviewed like code.
A case folder may hold several scenarios as ``<name>.events.jsonl`` / ``<name>.expected.jsonl``
(an empty expected file = a hard negative: no alert)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from detectors.graph.association import AssociationGraph
from detectors.registry import build, registered
from engine.pipeline import Pipeline
from models.events import decode_event

DATA = Path(__file__).parent / "data"


def _cases() -> list[tuple[str, Path, Path]]:
    out = []
    for folder in sorted(p for p in DATA.iterdir() if p.is_dir()) if DATA.is_dir() else []:
        for events in sorted(folder.glob("*events.jsonl")):
            expected = events.with_name(events.name.replace("events.jsonl", "expected.jsonl"))
            out.append((folder.name, events, expected))
    return out


CASES = _cases()


@pytest.mark.parametrize(
    ("detector", "events", "expected"), CASES, ids=[f"{d}/{e.name}" for d, e, _ in CASES]
)
def test_golden(detector: str, events: Path, expected: Path) -> None:
    assert detector in registered(), f"golden data for unregistered detector {detector}"
    assert expected.exists(), f"{expected} missing"
    evs = [decode_event(line) for line in events.read_bytes().splitlines() if line.strip()]
    graph = AssociationGraph() if detector.startswith("association.") else None
    if registered()[detector].mode == "findings":
        # it judges the other detectors' findings: run them all, keep only its alerts
        alerts = [a for a in Pipeline(build(), graph=graph).run(evs) if a.detector == detector]
    else:
        alerts = Pipeline([d for d in build() if d.id == detector], graph=graph).run(evs)
    got = sorted(
        (a.to_json() for a in alerts), key=lambda a: (a["officer"], a["time"], a["evidence"])
    )
    want = [json.loads(line) for line in expected.read_text().splitlines() if line.strip()]
    want.sort(key=lambda a: (a["officer"], a.get("time", ""), a["evidence"]))
    assert len(got) == len(want), f"got {[(a['officer'], a['evidence']) for a in got]}"
    for g, w in zip(got, want, strict=True):
        for key, value in w.items():
            if key == "evidence":
                assert sorted(g[key]) == sorted(value)
            else:
                assert g[key] == value, f"{key}: {g[key]!r} != {value!r}"


def test_every_detector_has_golden_data() -> None:
    covered = {d for d, _, _ in CASES}
    missing = set(registered()) - covered
    assert not missing, f"detectors without golden data: {sorted(missing)}"
