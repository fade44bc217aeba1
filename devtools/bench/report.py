"""The bench's results: one record of every measurement, its table and its JSON."""

from __future__ import annotations

import os
import statistics
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

#: the bench's memory unit: megabytes of 10^6 bytes (a MiB, 2^20 bytes, is 4.9% more)
MB = 1_000_000
MIB = 2**20

TARGETS = {
    "pipeline_ratio": 0.04,
    "delay_p99_ms": 250.0,
    "worker_rss_mb": 250.0,
    "replay_s": 60.0,
    "replay_ratio": 0.04,
    "convert_lines_per_cpu_s": 50_000,
}


@dataclass
class Run:
    """One timed run: events per second, and CPU microseconds per event of the process(es)
    that did the work (summed over workers)."""

    eps: float
    cpu_us: float


@dataclass
class BenchResult:
    machine: dict[str, Any]
    events: int
    #: medians of the runs below
    raw_eps: float = 0.0
    pipeline_eps: float = 0.0
    #: each round's run, in the order run (raw and pipeline interleaved)
    raw_runs: list[Run] = field(default_factory=list)
    pipeline_runs: list[Run] = field(default_factory=list)
    partitions: int = 0
    #: one worker, then several in one group, over the same force: their combined run
    scaleout_workers: int = 0
    scaleout_single: Run | None = None
    scaleout: Run | None = None
    #: ``probity replay`` of the force, file to alerts file (median of the runs below)
    replay_s: float = 0.0
    replay_events: int = 0
    #: each round's replay, seconds, in the order run (after that round's raw consumer)
    replay_runs: list[float] = field(default_factory=list)
    #: ``probity convert`` of ECS JSON against orjson.loads (:func:`adapters.bench.bench_ecs`)
    convert: dict[str, Any] = field(default_factory=dict)
    delay_rate_offered: float = 0.0
    delay_p50_ms: float = 0.0
    delay_p99_ms: float = 0.0
    delay_samples: int = 0
    relay_p50_ms: float = 0.0
    relay_p99_ms: float = 0.0
    relay_samples: int = 0
    memory_staff: int = 0
    memory_events: int = 0
    #: megabytes of 10^6 bytes (:data:`MB`), as the target
    worker_rss_mb: float = 0.0
    #: the most the memory child ever held (ru_maxrss), held to the same target
    worker_peak_rss_mb: float = 0.0
    baseline_rss_mb: float = 0.0
    #: the insider family's cost: the offline pipeline with and without it, in turns
    family: str = ""
    family_events: int = 0
    family_with_eps: list[float] = field(default_factory=list)
    family_without_eps: list[float] = field(default_factory=list)
    #: the same on the plain benchmark force (no IT events): the pipeline of before the
    #: family against the pipeline with it
    family_plain_events: int = 0
    family_plain_with_eps: list[float] = field(default_factory=list)
    family_plain_without_eps: list[float] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        return self.pipeline_eps / self.raw_eps if self.raw_eps else 0.0

    @property
    def replay_eps(self) -> float:
        return self.replay_events / self.replay_s if self.replay_s else 0.0

    @property
    def replay_ratio(self) -> float:
        """Replay end to end (events over its median time) against the raw consumer's
        median rate in the same run."""
        return self.replay_eps / self.raw_eps if self.raw_eps else 0.0

    def replay_round_ratios(self) -> list[float]:
        """Each round's replay against that round's raw consumer."""
        return [
            self.replay_events / s / raw.eps if s and raw.eps else 0.0
            for s, raw in zip(self.replay_runs, self.raw_runs, strict=False)
        ]

    @property
    def scaleout_ratio(self) -> float:
        """The workers' combined rate over one worker's, measured alike."""
        if self.scaleout is None or self.scaleout_single is None or not self.scaleout_single.eps:
            return 0.0
        return self.scaleout.eps / self.scaleout_single.eps

    def _median_cpu(self, runs: list[Run]) -> float:
        return statistics.median(r.cpu_us for r in runs) if runs else 0.0

    def table(self) -> str:
        def verdict(ok: bool) -> str:
            return "met" if ok else "MISSED"

        raw_cpu, pipe_cpu = self._median_cpu(self.raw_runs), self._median_cpu(self.pipeline_runs)
        rows = [
            ("raw aiokafka consumer (baseline)", f"{self.raw_eps:,.0f} events/s",
             f"{raw_cpu:,.1f} us CPU/event", ""),
            ("pipeline, all detectors, 1 worker", f"{self.pipeline_eps:,.0f} events/s",
             f"{self.ratio:.2%} of baseline, {pipe_cpu:,.0f} us CPU/event",
             f">= 4%: {verdict(self.ratio >= TARGETS['pipeline_ratio'])}"),
        ]  # fmt: skip
        for i, (raw, pipe) in enumerate(zip(self.raw_runs, self.pipeline_runs, strict=False)):
            rows.append((
                f"  round {i + 1}: raw, then pipeline",
                f"{raw.eps:,.0f} | {pipe.eps:,.0f} events/s",
                f"{raw.cpu_us:,.1f} | {pipe.cpu_us:,.0f} us CPU/event",
                f"{pipe.eps / raw.eps if raw.eps else 0:.2%} of its baseline",
            ))  # fmt: skip
        if self.scaleout is not None and self.scaleout_single is not None:
            rows.append((
                f"scale-out: {self.scaleout_workers} workers, {self.partitions} partitions",
                f"{self.scaleout.eps:,.0f} events/s",
                f"x{self.scaleout_ratio:.2f} of 1 worker's {self.scaleout_single.eps:,.0f}/s",
                f"{self.scaleout_single.cpu_us:,.0f} | {self.scaleout.cpu_us:,.0f} us CPU/event",
            ))  # fmt: skip
        runs = ", ".join(f"{s:.1f}" for s in self.replay_runs)
        ratios = ", ".join(f"{r:.2%}" for r in self.replay_round_ratios())
        replay_ok = (self.replay_s < TARGETS["replay_s"]
                     and self.replay_ratio >= TARGETS["replay_ratio"])  # fmt: skip
        rows += [
            (f"replay of {self.replay_events:,} events, file to alerts",
             f"{self.replay_s:.1f} s, {self.replay_eps:,.0f} events/s",
             f"{self.replay_ratio:.2%} of baseline (runs {runs} s; {ratios} of their round's)",
             f"< 60 s, >= 4%: {verdict(replay_ok)}"),
            (f"event-to-alert delay at {self.delay_rate_offered:,.0f}/s offered",
             f"p50 {self.delay_p50_ms:.0f} ms, p99 {self.delay_p99_ms:.0f} ms",
             f"relay p50 {self.relay_p50_ms:.0f}, p99 {self.relay_p99_ms:.0f} ms",
             f"p99 < 250 ms: {verdict(0 < self.delay_p99_ms < TARGETS['delay_p99_ms'])}"),
            (f"worker memory, {self.memory_staff:,} staff, 21 days, IT life",
             f"{self.worker_rss_mb:.0f} MB resident, peak {self.worker_peak_rss_mb:.0f} MB "
             f"({self.worker_peak_rss_mb * MB / MIB:.0f} MiB)",
             f"baseline {self.baseline_rss_mb:.0f} MB, {self.memory_events:,} events",
             f"peak < 250 MB: "
             f"{verdict(0 < self.worker_peak_rss_mb < TARGETS['worker_rss_mb'])}"),
        ]  # fmt: skip
        if self.convert:
            c = self.convert
            convert_ok = c["convert_lines_per_cpu_s"] >= c["target_lines_per_cpu_s"]
            rows.append((
                f"probity convert, ECS JSON, {c['lines']:,} lines",
                f"{c['convert_lines_per_cpu_s']:,} lines/CPU-s",
                f"{c['ratio_to_orjson']:.3f} of orjson.loads ({c['ratio_to_orjson_min']:.3f}-"
                f"{c['ratio_to_orjson_max']:.3f}; {c['convert_lines_per_cpu_s_min']:,}-"
                f"{c['convert_lines_per_cpu_s_max']:,}/s over {c['repeat']} rounds)",
                f">= 50,000/s: {verdict(convert_ok)}",
            ))  # fmt: skip
        for events, with_eps, without_eps, force in (
            (self.family_events, self.family_with_eps, self.family_without_eps, "with"),
            (self.family_plain_events, self.family_plain_with_eps,
             self.family_plain_without_eps, "without"),
        ):  # fmt: skip
            if with_eps and without_eps:
                rows.append(_family_row(self.family, events, with_eps, without_eps, force))
        widths = [max(len(r[i]) for r in rows) for i in range(4)]
        lines = [
            f"Probity bench on {self.machine['cpus']} CPUs, {self.machine['python']}, "
            f"{self.machine.get('build', '?')} build, {self.events:,}-event simulated force"
        ]
        for r in rows:
            lines.append("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["ratio"] = self.ratio
        data["scaleout_ratio"] = self.scaleout_ratio
        data["replay_eps"] = self.replay_eps
        data["replay_ratio"] = self.replay_ratio
        data["replay_round_ratios"] = self.replay_round_ratios()
        data["targets"] = TARGETS
        return data


def _family_row(
    family: str, events: int, with_eps: list[float], without_eps: list[float], force: str
) -> tuple[str, str, str, str]:
    """The table's row for one family measurement (see :mod:`devtools.bench.family`)."""
    w, o = statistics.median(with_eps), statistics.median(without_eps)
    rs = [a / b for a, b in zip(with_eps, without_eps, strict=True)]
    return (
        f"offline, with | without {family}.* ({len(rs)} rounds in turns)",
        f"{w:,.0f} | {o:,.0f} events/s",
        f"ranges {min(with_eps):,.0f}-{max(with_eps):,.0f} | "
        f"{min(without_eps):,.0f}-{max(without_eps):,.0f}",
        f"with/without {w / o:.2f} ({min(rs):.2f}-{max(rs):.2f}), "
        f"{events:,}-event force {force} IT life",
    )


def build_kind() -> str:
    """Which build runs: ``native`` (``make native``: detectors and engine compiled with
    mypyc) or ``pure`` Python (an editable development install)."""
    import importlib.machinery

    import engine.pipeline

    compiled = str(engine.pipeline.__file__).endswith(
        tuple(importlib.machinery.EXTENSION_SUFFIXES)
    )
    return "native" if compiled else "pure"


def machine() -> dict[str, Any]:
    import platform

    return {
        "cpus": os.cpu_count(),
        "build": build_kind(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
    }
