"""The native build (``make native``: detectors compiled with mypyc) builds every detector
from its parameter model as the pure build does; the models stay interpreted (mypyc erases the
annotations pydantic reads), so their types and descriptions are whole in either build."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from detectors.registry import registered

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("detector_id", sorted(registered()))
def test_builds_from_its_parameter_model(detector_id: str) -> None:
    cls = registered()[detector_id]
    assert cls(cls.Params()).id == detector_id
    assert cls(**cls.parameters()).params == cls.Params()
    source = sys.modules[cls.Params.__module__].__file__ or ""
    assert source.endswith(".py"), f"{cls.Params.__module__} is compiled: {source}"
    schema = cls.Params.model_json_schema()["properties"]
    assert all(field.get("description") for field in schema.values()), schema


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

    from devtools.bench.report import build_kind

    expected = "native" if os.environ.get("PROBITY_EXPECT_NATIVE") == "1" else "pure"
    assert build_kind() == expected
