"""Fixtures shared by every test area: contract examples and an event factory."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from models.events import Event, decode_obj

ROOT = Path(__file__).resolve().parent.parent
CONTRACT = ROOT.parent / "shared" / "contract"
EXAMPLES = CONTRACT / "examples"


@pytest.fixture(scope="session")
def contract_examples() -> Path:
    """``shared/contract/examples`` beside the checkout (CI clones with shared/ beside it)."""
    if not EXAMPLES.is_dir():
        pytest.fail(f"contract examples not found at {EXAMPLES}: shared/ must sit beside the repo")
    return EXAMPLES


@pytest.fixture
def event_factory() -> Callable[..., Event]:
    """Build valid events with sensible defaults: ``event_factory("record.view", actor="S1")``."""
    counter = itertools.count(1)

    def make(kind: str, **fields: Any) -> Event:
        obj: dict[str, Any] = {
            "id": fields.pop("id", f"ev-{next(counter)}"),
            "time": fields.pop("time", "2026-03-02T09:00:00Z"),
            "source": fields.pop("source", "athena"),
            "kind": kind,
        }
        obj.update(fields)
        return decode_obj(obj)

    return make
