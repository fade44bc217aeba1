"""Discovery: one adapter per module of adapters/formats, named as its module, each with
its contract attributes; entry points add formats without touching the package."""

from __future__ import annotations

import importlib.metadata
import inspect
import sys

import pytest

from adapters import registry
from adapters.base import Adapter, JsonAdapter
from adapters.exceptions import ConfigError, RegistrationError


def test_every_format_module_is_found_with_its_contract():
    found = registry.registered()
    assert set(found) == {"cef", "csv", "ecs", "evtx", "m365", "ocsf", "syslog", "windows-json"}
    for name, cls in found.items():
        assert cls.__module__ == f"adapters.formats.{name.replace('-', '_')}"
        assert cls.description and cls.default_source
        assert sys.modules[cls.__module__].__doc__, f"{name}: the module says what the format is"
        assert not inspect.isabstract(cls)


def test_unknown_format_is_a_config_error():
    with pytest.raises(ConfigError, match="unknown format 'nope'"):
        registry.create("nope")


class _Extra(JsonAdapter):
    format = "extra"
    description = "a format from another package"
    default_source = "extra"

    def from_object(self, obj, raw):
        return {}


class _Clash(_Extra):
    format = "ecs"


class _FakeEntryPoint:
    def __init__(self, name: str, obj: object) -> None:
        self.name, self.value, self._obj = name, f"pkg:{name}", obj

    def load(self) -> object:
        return self._obj


@pytest.fixture
def entry_points(monkeypatch):
    def install(*eps: _FakeEntryPoint) -> None:
        monkeypatch.setattr(registry, "entry_points", lambda group: list(eps))
        registry.registered.cache_clear()

    yield install
    registry.registered.cache_clear()


def test_entry_point_group_adds_a_format(entry_points):
    entry_points(_FakeEntryPoint("extra", _Extra))
    assert registry.registered()["extra"] is _Extra
    assert registry.ENTRY_POINT_GROUP == "probity.adapters"
    assert importlib.metadata.entry_points(group="probity.adapters") is not None


def test_entry_point_claiming_a_taken_format_or_not_an_adapter_fails(entry_points):
    entry_points(_FakeEntryPoint("clash", _Clash))
    with pytest.raises(RegistrationError, match="format ecs claimed"):
        registry.registered()
    entry_points(_FakeEntryPoint("junk", object))
    with pytest.raises(RegistrationError, match="not an Adapter"):
        registry.registered()


def test_adapter_base_is_abstract():
    assert inspect.isabstract(Adapter) and inspect.isabstract(JsonAdapter)
