"""Optional native build: with ``PROBITY_MYPYC=1`` the hot modules (the detectors and the
pipeline) are compiled with mypyc, as black and mypy ship themselves; the same sources, type
checked strictly, run about a third faster. Without it (the default, and every editable
development install) nothing is compiled. ``make native`` builds and installs it into
``.venv-native``; ``make bench`` measures that build, the deployment image ships it.

Needs mypy and the project's dependencies in the build environment (build with
``pip install --no-build-isolation``), and a C compiler.
"""

import os

from setuptools import setup

#: compiled when PROBITY_MYPYC=1 (tests/detectors/test_native.py checks the files exist). Left out:
#: detectors/state.py (its generic Fact class does not compile), detectors/base.py and
#: registry.py (interpreted bases and introspection), models/ (pydantic models stay
#: interpreted).
NATIVE_MODULES = [
    "detectors/access.py",
    "detectors/association.py",
    "detectors/audit.py",
    "detectors/common.py",
    "detectors/conduct.py",
    "detectors/field.py",
    "detectors/graph.py",
    "detectors/lookups.py",
    "detectors/messages.py",
    "detectors/offduty.py",
    "detectors/purpose.py",
    "detectors/risk.py",
    "detectors/vetting.py",
    "detectors/volume.py",
    "engine/alerts.py",
    "engine/codec.py",
    "engine/hooks.py",
    "engine/pipeline.py",
]

ext_modules = []
if os.environ.get("PROBITY_MYPYC") == "1":
    from mypyc.build import mypycify

    ext_modules = mypycify(NATIVE_MODULES, opt_level="3")

setup(ext_modules=ext_modules)
