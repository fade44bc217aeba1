"""Every measurement of ``probity bench`` in one run (see :mod:`devtools.bench`)."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

from adapters.bench import bench_ecs
from devtools.bench.delay import bench_delay
from devtools.bench.family import bench_family
from devtools.bench.force import write_force
from devtools.bench.memory import bench_memory
from devtools.bench.pipeline import bench_throughput
from devtools.bench.report import TARGETS, BenchResult, machine
from probity.settings import Settings


def run_bench(
    settings: Settings, *, staff: int = 340, days: int = 21, rate: float = 5000.0,
    delay_seconds: float = 20.0, memory_staff: int = 10_000, memory_days: int = 21,
    rounds: int = 2, scale_out: int = 2, convert_lines: int = 100_000, convert_repeat: int = 5,
    family: str = "insider", family_rounds: int = 3,
    say: Callable[[str], None] = print,
) -> BenchResult:  # fmt: skip
    """Run every measurement; see the module docstring."""
    result = BenchResult(machine=machine(), events=0)
    with tempfile.TemporaryDirectory(prefix="probity-bench-") as tmp:
        work = Path(tmp)
        force = work / "force.jsonl"
        say(f"simulating {staff} staff over {days} days")
        result.events = write_force(staff, days, 1, force)
        s = settings.model_copy(update={"data_dir": str(work)})
        bench_throughput(s, force, work, say, result, rounds=rounds, scale_out=scale_out)
        offered = rate
        if result.pipeline_eps and rate > 0.7 * result.pipeline_eps:
            offered = max(50.0, round(0.5 * result.pipeline_eps, -1))
            result.notes.append(
                f"delay measured at {offered:,.0f}/s offered, not {rate:,.0f}/s: the "
                f"pipeline saturates at about {result.pipeline_eps:,.0f}/s"
            )
        bench_delay(s, work, offered, delay_seconds, say, result)
        if result.relay_p99_ms >= TARGETS["delay_p99_ms"]:
            result.notes.append(
                f"the delay's baseline, a bare relay (no judging) offered the same load on a "
                f"broker of its own, has p99 {result.relay_p99_ms:,.0f} ms itself: the broker's "
                f"tail, not the worker's"
            )
        if family and family_rounds:
            it_force = work / "force-it.jsonl"
            say(f"{family} family: {staff} staff over {days} days with IT life, and the plain "
                f"force, with and without it, {family_rounds} rounds in turns")  # fmt: skip
            write_force(staff, days, 1, it_force, it=True)
            fam = bench_family(it_force, family, rounds=family_rounds, settings=settings)
            result.family, result.family_events = fam.family, fam.events
            result.family_with_eps, result.family_without_eps = fam.with_eps, fam.without_eps
            plain = bench_family(force, family, rounds=family_rounds, settings=settings,
                                 it=False)  # fmt: skip
            result.family_plain_events = plain.events
            result.family_plain_with_eps = plain.with_eps
            result.family_plain_without_eps = plain.without_eps
    say(f"convert: ECS JSON, {convert_lines:,} lines, against orjson.loads")
    result.convert = bench_ecs(convert_lines, convert_repeat)
    say(f"memory: {memory_staff:,} staff, {memory_days} days of history with IT life")
    bench_memory(memory_staff, memory_days, result)
    return result
