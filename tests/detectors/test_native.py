"""The native build (``make native``: detectors compiled with mypyc) reads what it cannot
introspect from the sources that ship beside the compiled modules: checked here, in the pure
build, against introspection, for every registered detector."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from detectors.base import _signature_from_source
from detectors.registry import registered

ROOT = Path(__file__).resolve().parents[2]


def _shape(sig: inspect.Signature) -> list[tuple[str, object, object]]:
    return [(p.name, p.kind, p.default) for p in sig.parameters.values()]


def _compiled(cls: type) -> bool:
    try:
        inspect.signature(cls.__init__)  # type: ignore[misc]
    except ValueError:
        return True
    return False


@pytest.mark.parametrize("detector_id", sorted(registered()))
def test_parameters_read_from_source_match_introspection(detector_id: str) -> None:
    cls = registered()[detector_id]
    if _compiled(cls):
        # the native build: nothing to introspect; the settings it reads must still build it
        assert cls(**cls.parameters()).id == detector_id
        return
    assert _shape(_signature_from_source(cls)) == _shape(inspect.signature(cls.__init__))


def test_the_native_module_list_names_existing_sources() -> None:
    """setup.py's list of compiled modules names files that exist (a rename would silently
    leave a module interpreted)."""
    if not (ROOT / "setup.py").is_file():
        pytest.skip("run outside the checkout (make test-native)")
    namespace: dict[str, object] = {"__file__": str(ROOT / "setup.py")}
    setup_src = (ROOT / "setup.py").read_text()
    exec(compile(setup_src.split("ext_modules = []")[0], "setup.py", "exec"), namespace)
    modules = namespace["NATIVE_MODULES"]
    assert isinstance(modules, list) and modules
    assert all((ROOT / m).is_file() for m in modules), modules


def test_the_build_is_the_one_expected() -> None:
    """``make test-native`` sets PROBITY_EXPECT_NATIVE=1: its run must import the compiled
    modules, not sources that happen to sit beside the tests."""
    import os

    from streams.bench import build_kind

    expected = "native" if os.environ.get("PROBITY_EXPECT_NATIVE") == "1" else "pure"
    assert build_kind() == expected
