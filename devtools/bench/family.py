"""What one detector family costs: the Kafka-free pipeline over the same force with every
detector and without the family's, in turns in the same run (with, without, with, without...),
in CPU time, so a machine busy with something else shows as spread, not as a verdict.

Measured on two forces: the benchmark force with IT life (``probity simulate --it``), where
the insider detectors have something to judge, and the plain benchmark force (no IT events),
where the question is whether adding them slowed the pipeline that was there before.
"""

from __future__ import annotations

import gc
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

from devtools.bench.report import build_kind
from probity.settings import Settings


@dataclass
class FamilyResult:
    """Events per second (CPU time) of each run, with and without ``family``, in run order."""

    family: str
    detectors: list[str]
    events: int
    #: ``True``: the force with IT life; ``False``: the plain benchmark force
    it: bool = True
    with_eps: list[float] = field(default_factory=list)
    without_eps: list[float] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        """Median with / median without: 1.0 means the family costs nothing."""
        return statistics.median(self.with_eps) / statistics.median(self.without_eps)

    @property
    def ratios(self) -> list[float]:
        """Each round's with / without, for the spread."""
        return [w / o for w, o in zip(self.with_eps, self.without_eps, strict=True)]

    def line(self) -> str:
        w, o = statistics.median(self.with_eps), statistics.median(self.without_eps)
        rs = self.ratios
        return (
            f"{self.family} family ({len(self.detectors)} detectors), {build_kind()} build, "
            f"{self.events:,}-event force {'with IT life' if self.it else 'without IT life'}, "
            f"{len(rs)} rounds in turns: with it "
            f"{w:,.0f} events/s ({min(self.with_eps):,.0f}-{max(self.with_eps):,.0f}), without "
            f"{o:,.0f} ({min(self.without_eps):,.0f}-{max(self.without_eps):,.0f}); "
            f"with/without {self.ratio:.2f} ({min(rs):.2f}-{max(rs):.2f})"
        )


def bench_family(
    events_path: Path, family: str = "insider", *, rounds: int = 3,
    settings: Settings | None = None, it: bool = True,
) -> FamilyResult:  # fmt: skip
    """Judge the force with every detector, then without ``family``'s (ids ``family.*``),
    ``rounds`` times in turns; decoding excluded (the events are decoded once, up front).
    ``it`` says which force ``events_path`` holds, for the report."""
    from detectors.graph.association import AssociationGraph
    from detectors.registry import build, registered
    from engine.pipeline import Pipeline
    from models.events import decode_event
    from probity.runtime import tune_gc

    ids = sorted(i for i in registered() if i.startswith(f"{family}."))
    if not ids:
        raise ValueError(f"no detector of family {family!r}")
    raws = [raw for raw in events_path.read_bytes().splitlines() if raw.strip()]
    events = [decode_event(raw) for raw in raws]  # judged with their bytes, as by the worker
    result = FamilyResult(family=family, detectors=ids, events=len(events), it=it)
    thresholds = gc.get_threshold()
    try:
        for _ in range(rounds):
            for without in (False, True):
                pipeline = Pipeline(build(disabled=ids if without else ()),
                                    graph=AssociationGraph())  # fmt: skip
                gc.collect()
                tune_gc(settings or Settings())
                t0 = time.process_time()
                pipeline.run(events, raws)
                eps = len(events) / (time.process_time() - t0)
                (result.without_eps if without else result.with_eps).append(eps)
                gc.unfreeze()
    finally:
        gc.set_threshold(*thresholds)
    return result
