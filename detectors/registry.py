"""Finding detectors, and building configured instances from settings.

Detectors are found, not listed: every module of the family packages under ``detectors/``
(``detectors/access/canary.py``...; modules starting with ``_`` and each family's
``params.py`` are helpers) is imported, and each registers its class with :func:`register`.
Packs outside the repository are Python distributions that declare an entry point in the
group ``probity.detectors`` naming a module (or a detector class); loading it registers them.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable, Mapping
from importlib.metadata import entry_points
from typing import Any, TypeVar

from detectors.base import Detector, FindingsDetector
from detectors.exceptions import ConfigError, RegistrationError

#: the group packs outside the repository declare their detectors in
ENTRY_POINT_GROUP = "probity.detectors"
#: packages under ``detectors/`` that hold no detectors
NOT_FAMILIES = frozenset({"lib", "reference", "graph"})
#: modules of a family package that hold no detector
NOT_DETECTORS = frozenset({"params"})

_REGISTRY: dict[str, type[Detector]] = {}
_DISCOVERED = False
D = TypeVar("D", bound=type[Detector])


def register(cls: D) -> D:
    """Class decorator: check the contract and add the detector to the registry."""
    cls.check_contract()
    existing = _REGISTRY.get(cls.id)
    if existing is not None and existing is not cls:
        raise RegistrationError(
            f"detector id {cls.id} registered twice: {existing.__module__} and {cls.__module__}"
        )
    _REGISTRY[cls.id] = cls
    return cls


def detector_modules() -> list[str]:
    """The built-in detector modules, found by scanning the family packages."""
    import detectors

    found = []
    for family in pkgutil.iter_modules(detectors.__path__):
        if not family.ispkg or family.name in NOT_FAMILIES or family.name.startswith("_"):
            continue
        package = importlib.import_module(f"detectors.{family.name}")
        for mod in pkgutil.iter_modules(package.__path__):
            if mod.ispkg or mod.name.startswith("_") or mod.name in NOT_DETECTORS:
                continue
            found.append(f"detectors.{family.name}.{mod.name}")
    return sorted(found)


def _discover() -> None:
    global _DISCOVERED
    if _DISCOVERED:
        return
    for name in detector_modules():
        importlib.import_module(name)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            loaded = ep.load()
        except Exception as exc:
            raise RegistrationError(f"detector pack {ep.name} ({ep.value}) failed: {exc}") from exc
        if isinstance(loaded, type) and issubclass(loaded, Detector):
            register(loaded)
    _DISCOVERED = True


def registered() -> dict[str, type[Detector]]:
    """Every registered detector class by id (built-in modules and packs discovered first)."""
    _discover()
    return dict(sorted(_REGISTRY.items()))


def _key(detector_id: str) -> str:
    return detector_id.replace(".", "_").casefold()


def build(
    params: Mapping[str, Mapping[str, Any]] | None = None,
    disabled: Iterable[str] = frozenset(),
    volume: Mapping[str, str] | None = None,
) -> list[Detector]:
    """Instances of every enabled detector, with operator parameters keyed by id ('.' or '_',
    as settings give them), each validated against the detector's ``Params``.

    ``volume`` maps ids to a volume setting (``fewer``, ``default``, ``more``): the fields
    its preset sets (:meth:`~detectors.base.DetectorParams.preset`), under the parameters
    given explicitly, which win.

    Raises :class:`ConfigError` (naming the detector and the field) for parameters or a
    volume of an unknown detector, an unknown or ill-typed parameter, an unknown volume, a
    disabled id that names no detector, a risk input that names none, or a detector whose
    declared dependency (:attr:`~detectors.base.Detector.depends_on`) is disabled.
    """
    classes = registered()
    by_key = {_key(i): i for i in classes}
    given: dict[str, dict[str, Any]] = {}
    for key, level in (volume or {}).items():
        det_id = by_key.get(_key(key))
        if det_id is None:
            raise ConfigError(f"volume given for {key!r}, which is no detector's id")
        try:
            given[det_id] = classes[det_id].Params.preset(str(level).strip().casefold())
        except ValueError as exc:
            raise ConfigError(f"{det_id}: {exc}") from exc
    for key, values in (params or {}).items():
        det_id = by_key.get(_key(key))
        if det_id is None:
            raise ConfigError(f"parameters given for {key!r}, which is no detector's id")
        given[det_id] = {**given.get(det_id, {}), **values}
    off = set()
    for key in disabled:
        det_id = by_key.get(_key(key))
        if det_id is None:
            raise ConfigError(f"disabled detector {key!r} is no detector's id")
        off.add(det_id)
    out: list[Detector] = []
    for det_id, cls in classes.items():
        if det_id in off:
            continue
        for dep in cls.depends_on:
            if dep in off:
                raise ConfigError(
                    f"{det_id} reads the state of {dep}, which is disabled: enable {dep} "
                    f"(tune its parameters instead) or disable {det_id} too"
                )
            if dep not in classes:
                raise ConfigError(f"{det_id} depends on {dep}, which is no detector's id")
        det = cls(**dict(given.get(det_id, {})))
        if isinstance(det, FindingsDetector):
            det.inputs(classes)  # an unknown input id stops the start-up here
        out.append(det)
    return out
