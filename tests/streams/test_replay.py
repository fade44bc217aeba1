"""End to end on the real embedded broker: ingest, a worker process, alerts and dead letters."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest

from detectors.graph.association import AssociationGraph
from detectors.registry import build, registered
from engine.pipeline import Pipeline
from models.deadletters import load_dead_letter
from models.events import decode_event
from probity.settings import Settings
from simulation.generator import Force
from streams.replay import replay
from streams.replay_judge import owner

pytestmark = pytest.mark.broker

FIRST_THREE = {
    ("access.canary", "S1001", ("ath-4",), "critical"),
    ("access.covert_unauthorised", "S1001", ("int-6",), "high"),
    ("audit.monitoring_disabled", "S1002", ("aud-1",), "critical"),
}


def test_contract_examples_give_exact_alerts_and_dead_letters(broker, contract_examples, tmp_path):
    only_first = frozenset(registered()) - {d for d, *_ in FIRST_THREE}
    settings = Settings(
        kafka=broker.url, partitions=4, data_dir=str(tmp_path), disabled_detectors=only_first
    )
    alerts_out, dl_out = tmp_path / "a.jsonl", tmp_path / "dl.jsonl"
    summary = replay(
        settings,
        [str(contract_examples / "valid.jsonl"), str(contract_examples / "invalid.jsonl")],
        alerts_out=alerts_out,
        dead_letters_out=dl_out,
        work_dir=tmp_path,
    )
    alerts = [json.loads(line) for line in alerts_out.read_text().splitlines()]
    got = {(a["detector"], a["officer"], tuple(a["evidence"]), a["severity"]) for a in alerts}
    assert got == FIRST_THREE
    assert len(alerts) == 3
    for a in alerts:
        assert a["version"] == 1 and a["id"].startswith("a-") and a["explanation"]

    dead = [load_dead_letter(line) for line in dl_out.read_bytes().splitlines()]
    assert len(dead) == 12 and summary.invalid == 12 and summary.events == 30
    assert summary.dead_letters == dead
    invalid_lines = (contract_examples / "invalid.jsonl").read_bytes().splitlines()
    by_line = {d.origin.line: d for d in dead}
    assert sorted(by_line) == list(range(1, 13))
    for lineno, d in by_line.items():
        assert d.origin.file is not None and d.origin.file.endswith("invalid.jsonl")
        assert d.original_bytes == invalid_lines[lineno - 1]
        assert d.reason
    assert by_line[7].reason.startswith("attrs.count")
    assert by_line[2].reason.startswith("id")


def test_all_detectors_still_give_the_first_three(broker, contract_examples, tmp_path):
    """With every detector registered; a joiner matching the barred list also proves that
    detectors reading reference kinds run through the worker's reference agent."""
    joiner = tmp_path / "joiner.jsonl"
    joiner.write_text(
        '{"id":"hr-9","time":"2026-03-03T06:00:00Z","source":"hr","kind":"staff.upsert",'
        '"attrs":{"staff_id":"S1099","name":"Jon Smyth","dob":"1983-07-02","role":"response",'
        '"status":"active"}}\n'
    )
    settings = Settings(kafka=broker.url, partitions=4, data_dir=str(tmp_path))
    out = tmp_path / "a.jsonl"
    replay(
        settings,
        [str(contract_examples / "valid.jsonl"), str(joiner)],
        alerts_out=out,
        work_dir=tmp_path,
    )
    alerts = [json.loads(line) for line in out.read_text().splitlines()]
    got = {(a["detector"], a["officer"], tuple(a["evidence"]), a["severity"]) for a in alerts}
    assert got >= FIRST_THREE
    assert len({a["id"] for a in alerts}) == len(alerts)
    barred = [a for a in alerts if a["detector"] == "vetting.barred_match"]
    assert [(a["officer"], a["category"]) for a in barred] == [("S1099", "vetting")]


def _force_file(tmp_path: Path, staff: int = 60, days: int = 14, seed: int = 2) -> Path:
    path = tmp_path / "force.jsonl"
    with path.open("wb") as fh:
        for ev in Force(staff=staff, days=days, seed=seed).events():
            fh.write(orjson.dumps(ev) + b"\n")
    return path


def _keys(alerts: list[dict[str, Any]]) -> set[tuple[str, str, str, str]]:
    return {(a["id"], a["detector"], a["officer"], a["severity"]) for a in alerts}


@pytest.mark.parametrize("judges", [1, 2, 3])
def test_judges_give_the_offline_pipelines_alerts(broker, tmp_path, judges):
    """The replay's judges (hand-assigned partitions, the engine; with several, the graph's
    edge records through the edges topic to judge 0) raise, from the broker, exactly the
    alerts the offline pipeline raises from the file."""
    force = _force_file(tmp_path)
    settings = Settings(kafka=broker.url, partitions=8, data_dir=str(tmp_path))
    out = tmp_path / "judge.jsonl"
    summary = replay(settings, [str(force)], alerts_out=out, work_dir=tmp_path, judges=judges)
    got = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    events = [decode_event(line) for line in force.read_bytes().splitlines()]
    offline = Pipeline(build(), graph=AssociationGraph()).run(events)
    assert summary.events == len(events) and summary.invalid == 0
    assert got and _keys(got) == _keys([a.to_json() for a in offline])
    assert len({a["id"] for a in got}) == len(got)


@pytest.mark.slow
def test_worker_path_gives_the_judges_alerts(broker, tmp_path):
    """``via_worker`` (the deployed worker: groups, checkpoints, graph agent) and the judge
    agree on a simulated force."""
    force = _force_file(tmp_path)
    settings = Settings(kafka=broker.url, partitions=4, data_dir=str(tmp_path))
    runs = {}
    for via_worker in (False, True):
        out = tmp_path / f"alerts-{via_worker}.jsonl"
        replay(settings, [str(force)], alerts_out=out, work_dir=tmp_path, via_worker=via_worker)
        runs[via_worker] = _keys([orjson.loads(line) for line in out.read_bytes().splitlines()])
    assert runs[True] and runs[True] == runs[False]


def test_judges_split_the_partitions_graph_judge_taking_fewer():
    assert [owner(p, 8, 1) for p in range(8)] == [0] * 8
    assert [owner(p, 8, 2) for p in range(8)] == [0, 0, 0, 1, 1, 1, 1, 1]
    assert [owner(p, 16, 2) for p in range(16)] == [0] * 7 + [1] * 9  # a replay's topics
    assert [owner(p, 8, 3) for p in range(8)] == [0, 0, 1, 2, 1, 2, 1, 2]
    assert [owner(p, 1, 2) for p in range(1)] == [0]
