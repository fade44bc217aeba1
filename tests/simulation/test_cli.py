"""``probity simulate`` and ``probity evaluate`` through click's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from models.events import decode_event
from probity.cli import main


def test_simulate_writes_valid_events_and_labels_deterministically(tmp_path: Path) -> None:
    runner = CliRunner()
    args = ["simulate", "--staff", "40", "--days", "7", "--seed", "9", "--quiet"]
    a = runner.invoke(main, [*args, "--out", str(tmp_path / "a")])
    b = runner.invoke(main, [*args, "--out", str(tmp_path / "b")])
    assert a.exit_code == 0, a.output
    assert b.exit_code == 0, b.output
    raw = (tmp_path / "a" / "events.jsonl").read_bytes()
    assert raw == (tmp_path / "b" / "events.jsonl").read_bytes()
    lines = raw.splitlines()
    for line in lines:
        decode_event(line)
    labels = json.loads((tmp_path / "a" / "labels.json").read_text())
    assert labels["metadata"]["events"] == len(lines)
    assert labels["metadata"]["days"] == 7 and labels["metadata"]["seed"] == 9
    assert len(labels["scenarios"]) >= 26


def test_simulate_start_date_and_summary(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        [
            "simulate",
            "--staff",
            "30",
            "--days",
            "7",
            "--start",
            "2026-05-04",
            "--out",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 0, result.output
    labels = json.loads((tmp_path / "labels.json").read_text())
    assert labels["metadata"]["start"] == "2026-05-04T00:00:00Z"
    assert "scenarios" in result.output  # the summary line (stderr is mixed in here)


def test_simulate_refuses_a_tiny_force(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["simulate", "--staff", "3", "--out", str(tmp_path)])
    assert result.exit_code != 0
    assert "staff" in result.output


def test_evaluate_prints_the_table_and_json(tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["simulate", "--staff", "30", "--days", "7", "--quiet",
                                "--out", str(tmp_path)]).exit_code == 0  # fmt: skip
    labels = json.loads((tmp_path / "labels.json").read_text())
    first = labels["scenarios"][0]
    alert = {"id": "a1", "detector": first["detectors"][0], "category": first["category"],
             "officer": first["officers"][0], "time": first["window"]["start"],
             "evidence": first["evidence"][:1]}  # fmt: skip
    noise = dict(alert, id="a2", officer="S9999", evidence=["nothing"])
    (tmp_path / "alerts.jsonl").write_text(json.dumps(alert) + "\n" + json.dumps(noise) + "\n")
    args = ["evaluate", "--labels", str(tmp_path / "labels.json"),
            "--alerts", str(tmp_path / "alerts.jsonl")]  # fmt: skip
    table = runner.invoke(main, args)
    assert table.exit_code == 0, table.output
    assert f"recall: 1/{len(labels['scenarios'])} scenarios found" in table.output
    assert "precision: 1/2 alerts true (50%)" in table.output
    as_json = runner.invoke(main, [*args, "--json", "--staff", "1000", "--days", "1"])
    assert as_json.exit_code == 0, as_json.output
    data = json.loads(as_json.output)
    assert data["alerts"] == {"total": 2, "true": 1, "false": 1}
    assert data["fp_per_1000_staff_day"] == 1.0
    assert data["scenarios"][0]["found"] is True


def test_evaluate_reports_a_bad_alerts_file(tmp_path: Path) -> None:
    (tmp_path / "labels.json").write_text('{"scenarios": []}')
    (tmp_path / "alerts.jsonl").write_text("{oops\n")
    result = CliRunner().invoke(
        main,
        [
            "evaluate",
            "--labels",
            str(tmp_path / "labels.json"),
            "--alerts",
            str(tmp_path / "alerts.jsonl"),
        ],
    )
    assert result.exit_code == 1
    assert "alerts line 1" in result.output
