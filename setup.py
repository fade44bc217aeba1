"""Optional native build: with ``PROBITY_MYPYC=1`` the hot modules (the detectors and the
pipeline) are compiled with mypyc, as black and mypy ship themselves; the same sources, type
checked strictly, run about a third faster. Without it (the default, and every editable
development install) nothing is compiled. ``make native`` builds and installs it into
``.venv-native``; ``make bench`` measures that build, the deployment image ships it.

Needs mypy and the project's dependencies in the build environment (build with
``pip install --no-build-isolation``), and a C compiler.
"""

import ast
import os
from pathlib import Path

from setuptools import setup

ROOT = Path(__file__).resolve().parent

#: left interpreted, each with its reason (paths relative to the checkout; a folder ends in /)
NATIVE_EXCLUDE = {
    "detectors/base.py": "the bases detectors subclass, with pydantic parameter models",
    "detectors/registry.py": "discovery and start-up validation (imports, entry points)",
    "detectors/catalogue.py": "describes detectors for the CLI; start-up only",
    "detectors/conformance.py": "the test suite's checks; patches the clock",
    "detectors/exceptions.py": "exceptions subclass the project's interpreted root error",
    "detectors/officers.py": "kept with the reference state, interpreted as before",
    "detectors/reference/": "the generic Fact class does not compile",
}
#: pydantic models need their annotations whole; mypyc erases them (python/mypy#11330)
NATIVE_EXCLUDE_NAMES = {"params.py": "each family's parameter models (pydantic)"}


def declares_params(path: Path) -> bool:
    """Does the module define a parameter model itself (a class whose base ends in
    ``Params``)? A new detector may keep its ``Params`` in its own module: it then runs
    interpreted until the model moves into its family's ``params.py``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return any(
        isinstance(node, ast.ClassDef)
        and any(ast.unparse(base).split(".")[-1].endswith("Params") for base in node.bases)
        for node in ast.walk(tree)
    )


#: outside detectors/ (the engine's hot path)
NATIVE_EXTRA = ["engine/alerts.py", "engine/codec.py", "engine/hooks.py", "engine/pipeline.py"]


def native_modules() -> list[str]:
    """Every module under ``detectors/`` except package markers and the exclusions, plus
    :data:`NATIVE_EXTRA` (tests/detectors/test_native.py checks the files exist)."""
    found = []
    for path in sorted((ROOT / "detectors").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if path.name == "__init__.py" or path.name in NATIVE_EXCLUDE_NAMES:
            continue
        if declares_params(path):
            continue
        if any(rel == ex or (ex.endswith("/") and rel.startswith(ex)) for ex in NATIVE_EXCLUDE):
            continue
        found.append(rel)
    return found + NATIVE_EXTRA


NATIVE_MODULES = native_modules()

ext_modules = []
if os.environ.get("PROBITY_MYPYC") == "1":
    from mypyc.build import mypycify

    ext_modules = mypycify(NATIVE_MODULES, opt_level="3")

setup(ext_modules=ext_modules)
