"""The registry of detector classes, and building configured instances from settings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from detectors.base import Detector
from detectors.exceptions import RegistrationError

_REGISTRY: dict[str, type[Detector]] = {}
D = TypeVar("D", bound=type[Detector])


def register(cls: D) -> D:
    """Class decorator: check the contract and add the detector to the registry."""
    cls.check_contract()
    existing = _REGISTRY.get(cls.id)
    if existing is not None and existing is not cls:
        raise RegistrationError(f"detector id {cls.id} registered twice")
    _REGISTRY[cls.id] = cls
    return cls


def registered() -> dict[str, type[Detector]]:
    """Every registered detector class by id (importing the catalogue first)."""
    import detectors.catalogue  # noqa: F401  (registers the built-in detectors)

    return dict(sorted(_REGISTRY.items()))


def build(
    params: Mapping[str, Mapping[str, Any]] | None = None,
    disabled: frozenset[str] = frozenset(),
) -> list[Detector]:
    """Instances of every enabled detector, with parameters keyed by id ('.' or '_')."""
    params = params or {}
    out = []
    for det_id, cls in registered().items():
        if det_id in disabled:
            continue
        given = dict(params.get(det_id, params.get(det_id.replace(".", "_"), {})))
        unknown = set(given) - set(cls.parameters())
        if unknown:
            raise RegistrationError(f"{det_id}: unknown parameters {sorted(unknown)}")
        out.append(cls(**given))
    return out
