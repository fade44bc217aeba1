"""Finding adapters: every module of :mod:`adapters.formats`, and the ``probity.adapters``
entry-point group (a package outside this repository registers ``name = "pkg.mod:Class"``).

A new format is one module plus its golden files: nothing here lists formats. A module
named ``windows_json`` defines the adapter whose ``format`` is ``windows-json``; modules
starting with ``_`` are helpers, not scanned.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from functools import cache
from importlib.metadata import entry_points

from adapters import formats
from adapters.base import Adapter, AdapterConfig
from adapters.exceptions import ConfigError, RegistrationError

ENTRY_POINT_GROUP = "probity.adapters"


def _check(cls: type[Adapter], where: str) -> None:
    for attr in ("format", "description", "default_source"):
        if not isinstance(getattr(cls, attr, None), str):
            raise RegistrationError(f"{where}: adapter {cls.__name__} has no {attr}")
    if inspect.isabstract(cls):
        raise RegistrationError(f"{where}: adapter {cls.__name__} is abstract")


@cache
def registered() -> dict[str, type[Adapter]]:
    """Every adapter class by format name, sorted."""
    found: dict[str, type[Adapter]] = {}

    def add(cls: type[Adapter], where: str) -> None:
        _check(cls, where)
        other = found.get(cls.format)
        if other is not None and other is not cls:
            raise RegistrationError(f"format {cls.format} claimed by {other!r} and {cls!r}")
        found[cls.format] = cls

    for info in pkgutil.iter_modules(formats.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{formats.__name__}.{info.name}")
        own = [
            obj
            for obj in vars(module).values()
            if inspect.isclass(obj)
            and issubclass(obj, Adapter)
            and obj.__module__ == module.__name__
            and not inspect.isabstract(obj)
        ]
        if len(own) != 1:
            raise RegistrationError(f"{module.__name__}: defines {len(own)} adapters, not one")
        cls = own[0]
        if cls.format.replace("-", "_") != info.name:
            raise RegistrationError(
                f"{module.__name__}: format {cls.format!r} does not match its module name"
            )
        add(cls, module.__name__)

    for ep in entry_points(group=ENTRY_POINT_GROUP):
        cls = ep.load()
        if not (inspect.isclass(cls) and issubclass(cls, Adapter)):
            raise RegistrationError(f"entry point {ep.name}: {ep.value} is not an Adapter")
        add(cls, f"entry point {ep.name}")
    return dict(sorted(found.items()))


def formats_available() -> list[str]:
    return list(registered())


def create(format_name: str, config: AdapterConfig | None = None) -> Adapter:
    """A configured adapter for ``format_name``; :class:`ConfigError` if there is none."""
    cls = registered().get(format_name)
    if cls is None:
        raise ConfigError(
            f"unknown format {format_name!r} (known: {', '.join(formats_available())})"
        )
    return cls(config)
