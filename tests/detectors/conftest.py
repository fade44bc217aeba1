"""Fixtures for detector tests: a pipeline over chosen detectors, run on events offline."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import pytest

from detectors.registry import build
from models.alerts import Alert
from models.events import Event
from streams.pipeline import Pipeline


@pytest.fixture
def run_detectors() -> Callable[..., list[Alert]]:
    """``run_detectors(events, only={"access.canary"})``: alerts the offline pipeline gives."""

    def run(events: Iterable[Event], only: set[str] | None = None, **params: dict) -> list[Alert]:
        dets = [d for d in build(params) if only is None or d.id in only]
        return Pipeline(dets).run(events)

    return run
