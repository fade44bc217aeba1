"""``probity bench``: the processing core measured without Kafka (small force), and the delay
measurement on the real broker."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from devtools.bench.delay import bench_delay
from devtools.bench.force import write_force
from devtools.bench.offline import bench_offline
from devtools.bench.report import BenchResult, build_kind
from probity.cli import main
from probity.settings import Settings


def test_offline_bench_reports_with_and_without_the_graph() -> None:
    args = ["bench", "--offline", "--staff", "20", "--family-rounds", "1"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "without graph" in lines[0] and "with graph" in lines[1]
    # the editable checkout runs the sources; make test-native runs this against the build
    assert all(f"{build_kind()} build" in line for line in lines)
    assert all("events/s decoded and judged" in line and "orjson.loads" in line
               for line in lines[:2])  # fmt: skip
    # then the insider family's cost, with and without it in turns, on the force with IT
    # life and on the plain force
    assert "insider family" in lines[2] and "with/without" in lines[2]
    assert "force with IT life" in lines[2] and "force without IT life" in lines[3]


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


def test_officers_packed_and_trimmed_at_checkpoints_hold_what_a_plain_dict_holds() -> None:
    """Officer state packed and trimmed at checkpoints as the worker (and the memory child)
    does gives the same alerts and the same state as a plain dict (it round-trips through
    its changelog bytes); decoded stays only what the last checkpoint touched."""
    import orjson

    from detectors.registry import build
    from devtools.bench.force import synthetic_history
    from engine.codec import unpack_state
    from engine.pipeline import Pipeline
    from models.events import decode_obj
    from streams.officer_state import OfficerStore

    events = [decode_obj(e) for e in synthetic_history(60, 4)]
    plain = Pipeline(build())
    officers = OfficerStore("t", "", cache_size=16)
    cached = Pipeline(build(), officers=officers)
    a, b = [], []
    touched: dict[str, int] = {}
    for i, e in enumerate(events):
        a += plain.process(e)
        b += cached.process(e)
        if e.actor is not None and not e.is_reference:
            touched[e.actor] = 0
        if i % 50 == 0:
            officers.pack(touched)
            assert set(officers.cache) <= set(touched) and len(officers.cache) <= 16
            touched.clear()
    officers.pack(touched)
    assert [x.id for x in a] == [x.id for x in b]
    assert len(officers.data) == len(plain.officers)
    for key, state in plain.officers.items():
        assert unpack_state(officers.data[key]) == orjson.loads(orjson.dumps(state))


@pytest.mark.broker
def test_delay_is_measured_from_each_events_due_time_to_its_alert(tmp_path: Path) -> None:
    """At a light offered rate every canary view (one in 100) comes back as an alert, through
    the bare relay (the baseline) and through the worker, each delay measured from the moment
    the event was due: positive and far below a second."""
    result = BenchResult(machine={}, events=0)
    settings = Settings(partitions=4, data_dir=str(tmp_path))
    bench_delay(settings, tmp_path, rate=200.0, seconds=4.0, say=lambda _msg: None,
                result=result)  # fmt: skip
    offered = round(result.delay_rate_offered * 4.0)
    assert 780 <= offered <= 820
    assert result.delay_samples == (offered + 99) // 100  # views 0, 100, 200...
    assert result.relay_samples == result.delay_samples
    assert 0 < result.relay_p50_ms <= result.relay_p99_ms < 1000
    assert 0 < result.delay_p50_ms <= result.delay_p99_ms < 1000


@pytest.mark.broker
@pytest.mark.slow
def test_throughput_rounds_interleave_and_scale_out_is_measured(tmp_path: Path) -> None:
    """Two rounds of raw consumer then worker, each with its rate and CPU time per event, then
    one worker and two workers in one group: every run reported, and the table and JSON show
    them."""
    from devtools.bench.pipeline import bench_throughput
    from devtools.bench.report import Run

    force = tmp_path / "force.jsonl"
    events = write_force(150, 7, 1, force)
    result = BenchResult(machine={"cpus": 2, "python": "3"}, events=events)
    said: list[str] = []
    # frequent checkpoints: a small force gives the rate several commits to be timed between
    settings = Settings(partitions=4, data_dir=str(tmp_path), commit_interval_s=0.5)
    bench_throughput(settings, force, tmp_path, said.append, result, rounds=2, scale_out=2)

    assert [m.split(":")[0] for m in said] == [
        "round 1", "round 1", "round 1", "round 2", "round 2", "round 2", "scale-out",
        "scale-out"]  # fmt: skip
    assert "probity replay" in said[2]
    assert len(result.raw_runs) == len(result.pipeline_runs) == 2
    for run in [*result.raw_runs, *result.pipeline_runs]:
        assert run.eps > 0 and run.cpu_us > 0
    # judging costs more CPU per event than reading alone
    assert min(r.cpu_us for r in result.pipeline_runs) > max(r.cpu_us for r in result.raw_runs)
    assert result.raw_eps == pytest.approx(sum(r.eps for r in result.raw_runs) / 2)
    assert isinstance(result.scaleout, Run) and result.scaleout.eps > 0
    assert isinstance(result.scaleout_single, Run) and result.scaleout_single.eps > 0
    assert result.scaleout_workers == 2 and result.partitions == 4
    assert result.scaleout_ratio == pytest.approx(
        result.scaleout.eps / result.scaleout_single.eps)
    # probity replay of the same force in each round, file to alerts file, against the raw
    # consumer's rate
    assert len(result.replay_runs) == 2 and all(t > 0 for t in result.replay_runs)
    assert result.replay_s == pytest.approx(sum(result.replay_runs) / 2)
    assert result.replay_events == events
    assert result.replay_ratio == pytest.approx(events / result.replay_s / result.raw_eps)
    assert len(result.replay_round_ratios()) == 2

    table = result.table()
    assert "round 1: raw, then pipeline" in table and "round 2" in table
    assert "scale-out: 2 workers, 4 partitions" in table and "us CPU/event" in table
    assert "replay of" in table and "file to alerts" in table
    data = result.to_json()
    assert len(data["pipeline_runs"]) == 2 and data["scaleout_ratio"] == result.scaleout_ratio
    assert data["replay_ratio"] == result.replay_ratio and len(data["replay_runs"]) == 2


def test_convert_figures_go_into_the_table_and_the_json() -> None:
    """``probity bench`` runs the ECS conversion benchmark (small here) and reports its rate
    per CPU second with min and max over the rounds and its ratio to orjson.loads."""
    import json

    from adapters.bench import bench_ecs

    result = BenchResult(machine={"cpus": 2, "python": "3"}, events=0)
    result.convert = bench_ecs(lines=60, repeat=2)
    row = next(line for line in result.table().splitlines() if "probity convert" in line)
    assert "ECS JSON, 60 lines" in row and "lines/CPU-s" in row and "of orjson.loads" in row
    assert "over 2 rounds" in row and ">= 50,000/s:" in row
    data = json.loads(json.dumps(result.to_json()))
    assert data["convert"]["repeat"] == 2 and data["convert"]["events"] == 50
    assert data["targets"]["convert_lines_per_cpu_s"] == 50_000
    assert data["targets"]["replay_ratio"] == 0.04


def test_family_cost_runs_with_and_without_the_family_in_turns(tmp_path: Path) -> None:
    from devtools.bench.family import bench_family

    force = tmp_path / "force-it.jsonl"
    write_force(20, 21, 1, force, it=True)
    r = bench_family(force, "insider", rounds=2)
    assert r.detectors and all(d.startswith("insider.") for d in r.detectors)
    assert len(r.with_eps) == len(r.without_eps) == 2 and min(r.with_eps) > 0
    assert r.ratio > 0 and len(r.ratios) == 2
    assert "insider family" in r.line() and "with/without" in r.line()
    with pytest.raises(ValueError, match="no detector of family"):
        bench_family(force, "nope", rounds=1)


def test_family_cost_on_the_plain_force_goes_into_the_table(tmp_path: Path) -> None:
    """The plain benchmark force (no IT events) answers whether the family slowed the
    pipeline that was there before it; its row stands beside the IT force's."""
    from devtools.bench.family import bench_family

    force = tmp_path / "force.jsonl"
    write_force(20, 21, 1, force)
    r = bench_family(force, "insider", rounds=1, it=False)
    assert "force without IT life" in r.line() and len(r.with_eps) == 1
    result = BenchResult(machine={"cpus": 2, "python": "3"}, events=0, family="insider",
                         family_events=900, family_with_eps=[9.0], family_without_eps=[10.0],
                         family_plain_events=800, family_plain_with_eps=[10.0, 12.0],
                         family_plain_without_eps=[10.0, 10.0])  # fmt: skip
    rows = [line for line in result.table().splitlines() if "without insider.*" in line]
    assert len(rows) == 2
    assert "0.90 (0.90-0.90)" in rows[0] and "900-event force with IT life" in rows[0]
    assert "1.10 (1.00-1.20)" in rows[1] and "800-event force without IT life" in rows[1]


def test_the_memory_history_has_it_life_the_insider_detectors_judge() -> None:
    """The memory child's history feeds the insider detectors (their state is measured), and
    its report holds the peak to the 250 MB target (10^6 bytes, MiB beside)."""
    from detectors.registry import registered
    from devtools.bench.force import synthetic_history

    kinds = {e["kind"] for e in synthetic_history(50, 2)}
    insider = {k for i, c in registered().items() if i.startswith("insider.") for k in c.kinds}
    assert {"device.connected", "file.copied", "message.sent", "web.visited"} <= kinds & insider
    assert not {"device.connected"} & {e["kind"] for e in synthetic_history(50, 2, it=False)}
    r = BenchResult(machine={"cpus": 2, "python": "3"}, events=0, memory_staff=10_000,
                    worker_rss_mb=200, worker_peak_rss_mb=260)  # fmt: skip
    assert "peak < 250 MB: MISSED" in r.table()
    assert "peak 260 MB (248 MiB)" in r.table()
    r.worker_peak_rss_mb = 240
    assert "peak < 250 MB: met" in r.table()


def test_the_memory_child_reports_its_peak() -> None:
    from devtools.bench.memory import measure

    data = measure(30, 2, graph=False)
    assert data["peak"] >= data["rss"] > 0 and data["events"] > 0


def test_versus_runs_both_sides_from_their_own_trees() -> None:
    """``devtools.bench.versus`` against a commit of this repository (small force, one
    round): each side's child imports its own tree, and both give as many alerts."""
    import subprocess

    from devtools.bench.versus import bench_versus

    repo = Path(__file__).resolve().parents[2]
    inside = subprocess.run(["git", "-C", str(repo), "rev-parse", "--verify", "HEAD"],
                            capture_output=True, check=False)  # fmt: skip
    if inside.returncode != 0:
        pytest.skip("not a git checkout")
    result = bench_versus("HEAD", rounds=1, staff=20, days=7, repo=repo)
    assert len(result.now_eps) == len(result.ref_eps) == 1
    assert result.alerts["now"] == result.alerts["ref"] > 0
    assert result.files["now"].startswith(str(repo))
    assert "probity-versus-" in result.files["ref"]
    assert not result.files["ref"].startswith(str(repo))
    lines = result.lines()
    assert lines[1].lstrip().startswith("now:") and lines[2].lstrip().startswith("ref:")
    assert lines[3].startswith("now/ref ")
