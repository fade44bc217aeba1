"""Process-wide runtime tuning for the processing core (the worker, the offline bench).

The core allocates many small long-lived objects (officer state, reference data), so CPython's
default collector (first generation at 700 allocations) spends about a fifth of the offline
run walking them again and again; a larger first generation and freezing what is loaded at
start-up keep the collector for what is really garbage.
"""

from __future__ import annotations

import gc

from probity.settings import Settings


def tune_gc(settings: Settings, *, freeze: bool = True) -> None:
    """Set the collector's thresholds from ``settings.gc_thresholds`` (empty = leave CPython's).

    ``freeze`` moves every object alive now into the permanent generation (``gc.freeze``):
    call it once what lives for the whole process (settings, detectors, reference data) is
    loaded, so later collections do not scan it."""
    if settings.gc_thresholds:
        gc.set_threshold(*settings.gc_thresholds)
    if freeze and settings.gc_freeze:
        gc.collect()
        gc.freeze()
