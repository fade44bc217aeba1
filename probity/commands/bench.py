"""``probity bench``: speed and memory against baselines measured in the same run
(:mod:`devtools.bench`). ``--offline`` needs nothing more than the runtime; the full bench
needs the ``bench`` extra."""

from __future__ import annotations

from pathlib import Path

import click

from probity.commands import require_extra, say, setup_logging
from probity.settings import get_settings


@click.command()
@click.option(
    "--staff",
    type=int,
    default=340,
    show_default=True,
    help="staff of the simulated force (340 x 21 days is about 120,000 events)",
)
@click.option(
    "--rate",
    type=float,
    default=5000.0,
    show_default=True,
    help="events/s offered for the delay measurement (capped below saturation)",
)
@click.option("--delay-seconds", type=float, default=20.0, show_default=True)
@click.option("--rounds", type=click.IntRange(1), default=2, show_default=True,
              help="rounds of raw consumer then pipeline worker, interleaved")
@click.option("--scale-out", type=click.IntRange(0), default=2, show_default=True,
              help="workers in one group for the scale-out measurement (0 or 1: none)")
@click.option("--memory-staff", type=int, default=10_000, show_default=True)
@click.option("--family", default="insider", show_default=True,
              help="detector family whose cost is measured: the offline pipeline with and "
              "without it over the force with IT life and over the plain force, in turns "
              "('' for none)")
@click.option("--family-rounds", type=click.IntRange(0), default=3, show_default=True)
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    default="bench-results.json",
    show_default=True,
    help="where to write the results as JSON",
)
@click.option(
    "--offline",
    is_flag=True,
    help="only the processing core, no Kafka: decode and judge the simulated force's events "
    "with and without the association graph, in CPU time, against orjson.loads",
)
def bench(
    staff: int, rate: float, delay_seconds: float, rounds: int, scale_out: int,
    memory_staff: int, family: str, family_rounds: int, out: str, offline: bool,
) -> None:
    """Measure throughput (vs a raw consumer), delay, memory and replay time (the full bench
    needs the bench extra: pip install 'probity[bench]'; --offline does not)."""
    import json

    from devtools.bench.force import write_force
    from devtools.bench.offline import bench_offline

    if offline:
        import tempfile

        with tempfile.TemporaryDirectory(prefix="probity-bench-") as tmp:
            force = Path(tmp) / "force.jsonl"
            write_force(staff, 21, 1, force)
            for graph in (False, True):
                click.echo(bench_offline(force, graph=graph).line())
            if family and family_rounds:
                from devtools.bench.family import bench_family

                it_force = Path(tmp) / "force-it.jsonl"
                write_force(staff, 21, 1, it_force, it=True)
                click.echo(bench_family(it_force, family, rounds=family_rounds).line())
                click.echo(bench_family(force, family, rounds=family_rounds, it=False).line())
        return
    require_extra("bench", "psutil", "confluent_kafka")
    from devtools.bench.run import run_bench

    settings = get_settings()
    setup_logging(settings.model_copy(update={"log_level": "WARNING"}))
    result = run_bench(settings, staff=staff, rate=rate, delay_seconds=delay_seconds,
                       memory_staff=memory_staff, rounds=rounds, scale_out=scale_out,
                       family=family, family_rounds=family_rounds, say=say)  # fmt: skip
    click.echo(result.table())
    Path(out).write_text(json.dumps(result.to_json(), indent=2))
    click.echo(f"written to {out}")
