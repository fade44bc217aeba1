"""Observers of the engine: how the runtime (metrics, suppressions) watches it judge."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from models.alerts import Finding


@dataclass
class PipelineHooks:
    """Optional observers, called synchronously by :class:`~engine.pipeline.Pipeline` and
    :class:`~engine.graph_judge.GraphJudge` on the event's path, so each must be cheap.

    ``on_detector_time(detector_id, seconds)`` after each timed detector call (set it only
    when timing is wanted: the untimed path skips the clock reads); ``on_finding`` for each
    finding kept; ``on_detector_error(detector_id, exc)`` when a detector raised (the event
    goes on without its findings); ``is_suppressed`` drops a finding before it becomes an
    alert; ``on_coverage(feed, share, inactive)`` with a reference feed's share of staff
    covered and the ids of the detectors inactive for want of it (empty when it covers
    enough), on each tick and when a missing feed first stops a detector. An exception
    raised by a hook propagates to the caller of the engine.
    """

    on_detector_time: Callable[[str, float], None] | None = None
    on_finding: Callable[[Finding], None] | None = None
    on_detector_error: Callable[[str, Exception], None] | None = None
    is_suppressed: Callable[[Finding], bool] | None = None
    on_coverage: Callable[[str, float, tuple[str, ...]], None] | None = None
