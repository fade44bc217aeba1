"""``tune_gc``: the collector set from settings, and undone cleanly by the offline bench."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from probity.runtime import tune_gc
from probity.settings import Settings


@pytest.fixture(autouse=True)
def _restore_gc() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


def test_default_settings_raise_the_first_generation_and_freeze_start_up_objects() -> None:
    gc.unfreeze()
    alive = object()
    tune_gc(Settings())
    assert gc.get_threshold() == (50_000, 20, 100)
    assert gc.get_freeze_count() > 0
    assert alive is not None


def test_empty_thresholds_keep_cpythons_and_freeze_can_be_turned_off() -> None:
    gc.unfreeze()
    before = gc.get_threshold()
    tune_gc(Settings(gc_thresholds=(), gc_freeze=False))
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_thresholds_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROBITY_GC_THRESHOLDS", "[10000, 5, 5]")
    assert Settings().gc_thresholds == (10_000, 5, 5)
