"""Per-officer, per-detector state: plain JSON-able dicts."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any


class OfficerStates:
    """Per-officer, per-detector state: plain JSON-able dicts, so it serialises to a changelog."""

    def __init__(self, data: MutableMapping[str, dict[str, Any]] | None = None) -> None:
        self.data: MutableMapping[str, dict[str, Any]] = data if data is not None else {}

    def officer(self, officer: str) -> dict[str, Any]:
        """One officer's state dict (every detector's slot), created empty if new."""
        officer_state = self.data.get(officer)
        if officer_state is None:
            officer_state = self.data[officer] = {}
        return officer_state

    def slot(self, officer: str, detector_id: str) -> dict[str, Any]:
        officer_state = self.officer(officer)
        slot: dict[str, Any] | None = officer_state.get(detector_id)
        if slot is None:
            slot = officer_state[detector_id] = {}
        return slot
