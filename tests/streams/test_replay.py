"""End to end on the real embedded broker: ingest, a worker process, alerts and dead letters."""

from __future__ import annotations

import json

import pytest

from detectors.registry import registered
from models.deadletters import load_dead_letter
from probity.settings import Settings
from streams.replay import replay

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
