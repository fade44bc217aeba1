"""Fixtures for detector tests: a pipeline over chosen detectors, run on events offline."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import pytest

from detectors.registry import build
from engine.pipeline import Pipeline
from models.alerts import Alert
from models.events import Event


@pytest.fixture
def run_detectors() -> Callable[..., list[Alert]]:
    """``run_detectors(events, only={"access.canary"})``: alerts the offline pipeline gives."""

    def run(events: Iterable[Event], only: set[str] | None = None, **params: dict) -> list[Alert]:
        every = build(params)
        if only is not None and any(d.mode == "findings" for d in every if d.id in only):
            # a detector that judges findings needs the others running beside it
            return [a for a in Pipeline(every).run(events) if a.detector in only]
        dets = [d for d in every if only is None or d.id in only]
        return Pipeline(dets).run(events)

    return run
