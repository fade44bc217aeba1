"""``probity bench --offline``: the processing core measured without Kafka (small force)."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from probity.cli import main
from streams.bench import bench_offline, write_force


def test_offline_bench_reports_with_and_without_the_graph() -> None:
    result = CliRunner().invoke(main, ["bench", "--offline", "--staff", "20"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "without graph" in lines[0] and "with graph" in lines[1]
    assert all("events/s decoded and judged" in line and "orjson.loads" in line for line in lines)


def test_offline_bench_writes_alerts_comparable_between_runs(tmp_path: Path) -> None:
    force = tmp_path / "force.jsonl"
    n = write_force(20, 21, 1, force)
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    r = bench_offline(force, graph=False, alerts_out=first)
    bench_offline(force, graph=False, alerts_out=second)
    assert r.events == n and r.pipeline_eps > 0 and r.loads_eps > r.pipeline_eps
    assert first.read_bytes() == second.read_bytes()  # no wall-clock stamp in them
    assert len(first.read_bytes().splitlines()) == r.alerts


def test_offline_bench_restores_the_collector_it_tuned(tmp_path: Path) -> None:
    import gc

    force = tmp_path / "force.jsonl"
    write_force(20, 21, 1, force)
    before = gc.get_threshold()
    bench_offline(force, graph=False)
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
