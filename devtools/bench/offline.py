"""The Kafka-free engine alone: decode and judge a force's events, in CPU time, against a raw
``orjson.loads`` loop over the same lines in the same run."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import orjson

from devtools.bench.report import build_kind
from probity.settings import Settings


@dataclass
class OfflineResult:
    """The processing core without Kafka, against a raw ``orjson.loads`` loop in the same run."""

    events: int
    alerts: int
    loads_eps: float
    decode_eps: float
    pipeline_eps: float
    graph: bool

    def line(self) -> str:
        return (
            f"offline core, {build_kind()} build ({'with' if self.graph else 'without'} graph): "
            f"{self.pipeline_eps:,.0f} events/s decoded and judged, {self.alerts} alerts; "
            f"decode alone {self.decode_eps:,.0f}/s; raw orjson.loads {self.loads_eps:,.0f}/s "
            f"({self.pipeline_eps / self.loads_eps:.2%} of it)"
        )


def bench_offline(
    events_path: Path, *, graph: bool = True, alerts_out: Path | None = None,
    settings: Settings | None = None,
) -> OfflineResult:  # fmt: skip
    """Decode and judge a force's events with every detector as the worker would, no Kafka.

    Timed in CPU seconds of this process (other processes on the machine disturb it less than
    wall-clock time): decoding (the bytes as read from the topic) plus :meth:`Pipeline.run`.
    The baseline is ``orjson.loads`` over the same lines. ``alerts_out`` gets every alert as
    sorted JSON lines without the wall-clock ``raised_at``, to compare two versions. The
    collector is tuned as the worker tunes it (:func:`probity.runtime.tune_gc` with
    ``settings``) for the run and restored afterwards."""
    import gc

    thresholds = gc.get_threshold()
    try:
        return _offline(events_path, graph, alerts_out, settings or Settings())
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)


def _offline(
    events_path: Path, graph: bool, alerts_out: Path | None, settings: Settings
) -> OfflineResult:
    from detectors.graph.association import AssociationGraph
    from detectors.registry import build
    from engine.pipeline import Pipeline
    from models.events import decode_event
    from probity.runtime import tune_gc

    lines = events_path.read_bytes().splitlines()
    t0 = time.process_time()
    for raw in lines:
        orjson.loads(raw)
    loads_s = time.process_time() - t0
    t0 = time.process_time()
    events = [decode_event(raw) for raw in lines]
    decode_s = time.process_time() - t0
    del events
    pipeline = Pipeline(build(), graph=AssociationGraph() if graph else None)
    tune_gc(settings)
    t0 = time.process_time()
    alerts = pipeline.run(decode_event(raw) for raw in lines)
    run_s = time.process_time() - t0
    if alerts_out is not None:
        rows = []
        for a in alerts:
            data = a.to_json()
            data.pop("raised_at", None)
            rows.append(orjson.dumps(data, option=orjson.OPT_SORT_KEYS))
        alerts_out.write_bytes(b"\n".join(sorted(rows)) + b"\n")
    n = len(lines)
    return OfflineResult(events=n, alerts=len(alerts), loads_eps=n / loads_s,
                         decode_eps=n / decode_s, pipeline_eps=n / run_s, graph=graph)  # fmt: skip
