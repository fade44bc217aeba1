"""Resident memory of a worker's pipeline state after a large force's history.

Run as a child process (``python -m devtools.bench.memory STAFF DAYS graph|nograph``) so that
nothing of the parent's is counted; it prints one JSON line: the resident set before loading
(the baseline), after, and at its peak (the most the child ever held, between checkpoints
included), the events judged, the officers decoded and packed. The history has IT life, so
the insider detectors hold their state too.
"""

from __future__ import annotations

import gc
import json
import resource
import subprocess
import sys

import orjson
import psutil

from devtools.bench.force import synthetic_history
from devtools.bench.report import MB, BenchResult


def measure(staff: int, days: int, graph: bool) -> dict[str, int]:
    """Load the history into a pipeline as the worker holds it; its memory before and after."""
    from detectors.graph.association import AssociationGraph
    from detectors.registry import build
    from engine.pipeline import Pipeline
    from models.events import decode_event
    from probity.runtime import tune_gc
    from probity.settings import Settings
    from streams.officer_state import OfficerStore

    proc = psutil.Process()
    settings = Settings()
    # the worker's own store, without its changelog, packed and trimmed at checkpoints as the
    # worker's is when it is busy for whole commit intervals: only when it is full after a
    # batch (the most it keeps decoded)
    officers = OfficerStore("memory-child", "", cache_size=settings.officer_cache_size)
    p = Pipeline(build(), officers=officers, graph=AssociationGraph() if graph else None)
    tune_gc(settings)
    gc.collect()
    base = proc.memory_info().rss
    n, touched = 0, {}
    for ev in synthetic_history(staff, days):
        raw = orjson.dumps(ev)  # as the worker has it: bytes, decoded once, given to the book
        event = decode_event(raw)
        p.process(event, raw)
        n += 1
        if event.actor is not None and not event.is_reference:
            touched[event.actor] = 0
        if n % settings.batch_size == 0 and officers.full():
            officers.pack(touched)
            touched.clear()
    officers.pack(touched)
    gc.collect()
    rss = proc.memory_info().rss
    # the kernel's high-water mark lags the resident count by the pages each thread has not
    # yet reported (a fraction of a MB), so the end may read above it: the peak is the larger
    peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, rss)  # Linux: KiB
    return {"base": base, "rss": rss, "peak": peak, "events": n,
            "decoded": len(officers.cache), "packed": len(officers.data)}  # fmt: skip


def bench_memory(staff: int, days: int, result: BenchResult, *, graph: bool = True) -> None:
    """Resident memory of a worker's pipeline state after a large force's history, in a child
    process; the child's memory before loading is the baseline. ``graph=False`` leaves out
    the association graph (it lives in the one graph agent, not in every worker)."""
    out = subprocess.run(  # noqa: S603 - our interpreter, our code
        [sys.executable, "-m", "devtools.bench.memory", str(staff), str(days),
         "graph" if graph else "nograph"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    data = json.loads(out.stdout.strip().splitlines()[-1])
    result.memory_staff = staff
    result.memory_events = data["events"]
    # megabytes of 10^6 bytes, the unit of the target (issue 16: under 250 MB)
    result.worker_rss_mb = data["rss"] / MB
    result.worker_peak_rss_mb = data["peak"] / MB
    result.baseline_rss_mb = data["base"] / MB


def main(argv: list[str]) -> None:
    staff, days, graph = int(argv[0]), int(argv[1]), argv[2] == "graph"
    print(json.dumps(measure(staff, days, graph)))  # the parent reads it


if __name__ == "__main__":
    main(sys.argv[1:])
