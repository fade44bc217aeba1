"""A detector's id, module and golden folder agree (elastic/detection-rules' file-name test is
the model): ``family.name`` lives in ``detectors/family/name.py`` and its golden data in
``tests/detectors/data/family.name/``; every module of a family holds one detector, every
golden folder belongs to one."""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path

import pytest

import detectors
from detectors.base import Detector
from detectors.registry import detector_modules, registered

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).parent / "data"
ID_PATTERN = re.compile(r"^[a-z]+\.[a-z][a-z0-9_]*$")
BUILT_IN = {i: c for i, c in registered().items() if c.__module__.startswith("detectors.")}


@pytest.mark.parametrize("detector_id", sorted(BUILT_IN))
def test_id_module_and_golden_folder_agree(detector_id: str) -> None:
    cls = BUILT_IN[detector_id]
    assert ID_PATTERN.match(detector_id), f"{detector_id}: ids are family.snake_case_name"
    family, name = detector_id.split(".")
    assert cls.__module__ == f"detectors.{family}.{name}", (
        f"{detector_id} is defined in {cls.__module__}, expected detectors.{family}.{name}"
    )
    source = Path(inspect.getfile(cls))
    package = Path(inspect.getfile(detectors)).parent  # the checkout's, or the installed build's
    assert source.parent == package / family and source.name.split(".")[0] == name, source
    folder = DATA / detector_id
    assert (folder / "events.jsonl").is_file() or list(folder.glob("*events.jsonl")), (
        f"{detector_id}: no golden data in {folder}"
    )
    for events in folder.glob("*events.jsonl"):
        expected = events.with_name(events.name.replace("events.jsonl", "expected.jsonl"))
        assert expected.is_file(), f"{events} has no {expected.name}"


@pytest.mark.parametrize("module", detector_modules())
def test_every_family_module_holds_one_detector(module: str) -> None:
    mod = importlib.import_module(module)
    own = [c for c in vars(mod).values() if isinstance(c, type) and issubclass(c, Detector)
           and c.__module__ == module and not inspect.isabstract(c)]  # fmt: skip
    assert len(own) == 1, f"{module} defines {[c.__name__ for c in own]}"
    assert own[0] is registered().get(own[0].id), f"{module}: {own[0].__name__} not registered"


def test_every_golden_folder_belongs_to_a_detector() -> None:
    folders = {p.name for p in DATA.iterdir() if p.is_dir()}
    stray = folders - set(registered())
    assert not stray, f"golden data of no detector: {sorted(stray)}"
    missing = set(BUILT_IN) - folders
    assert not missing, f"detectors without golden data: {sorted(missing)}"


def test_detectors_import_only_models_and_themselves() -> None:
    """Imports point one way: ``models`` <- ``detectors`` <- the engine and the runtime. A
    detector module importing the engine, streams, triage or the simulator is a cycle."""
    import ast

    allowed = {"detectors", "models", "probity"}  # probity: the root error only
    project = {"detectors", "models", "probity", "streams", "engine", "triage", "simulation",
               "adapters", "devtools"}  # fmt: skip
    bad = []
    for path in sorted((ROOT / "detectors").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level
                     else [])  # fmt: skip
            for name in names:
                top = name.partition(".")[0]
                outward = top in project and top not in allowed
                if outward or (top == "probity" and name != "probity.errors"):
                    bad.append(f"{path.relative_to(ROOT)}: {name}")
    assert not bad, bad
