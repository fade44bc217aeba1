"""The image's dependencies: locked with hashes, consistent with pyproject.toml, installed
with --require-hashes from a base image pinned by digest (no container engine here: the
Dockerfile is checked as text; `make lock` regenerates the lock)."""

from __future__ import annotations

import re
import tomllib

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.deploy.conftest import DEPLOY, ROOT

LOCK = DEPLOY / "requirements.lock"
_PIN = re.compile(r"^([A-Za-z0-9_.\-]+(?:\[[^\]]*\])?)==([^\s;\\]+)")


def _locked() -> dict[str, tuple[str, list[str]]]:
    """name -> (version, hashes) of every locked requirement."""
    out: dict[str, tuple[str, list[str]]] = {}
    name = ""
    for line in LOCK.read_text().splitlines():
        pin = _PIN.match(line)
        if pin:
            name = canonicalize_name(pin.group(1).split("[")[0])
            out[name] = (pin.group(2), [])
        elif "--hash=sha256:" in line and name:
            out[name][1].append(line.split("--hash=sha256:")[1].strip(" \\"))
    return out


def _runtime_requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [Requirement(r) for r in project["dependencies"]]


def test_every_dependency_is_locked_at_a_version_pyproject_allows() -> None:
    locked = _locked()
    for req in _runtime_requirements():
        if req.marker is not None and not req.marker.evaluate({"python_version": "3.11"}):
            continue
        name = canonicalize_name(req.name)
        assert name in locked, f"{req.name} is not in {LOCK.name}: run `make lock`"
        version = locked[name][0]
        assert req.specifier.contains(version, prereleases=True), (
            f"{req.name}=={version} is outside {req.specifier}: run `make lock`")  # fmt: skip


def test_every_locked_requirement_has_hashes() -> None:
    locked = _locked()
    assert len(locked) > 20
    for name, (version, hashes) in locked.items():
        assert hashes, f"{name}=={version} has no hash"
        assert all(re.fullmatch(r"[0-9a-f]{64}", h) for h in hashes), name


def test_the_image_installs_the_lock_with_hashes_on_a_pinned_base() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert "pip wheel --require-hashes --wheel-dir /wheels -r deploy/requirements.lock" in (
        dockerfile)  # fmt: skip
    base = re.search(r"^ARG PYTHON_BASE=(\S+)$", dockerfile, re.M)
    assert base and re.fullmatch(r"python:3\.11-[a-z-]+@sha256:[0-9a-f]{64}", base.group(1))
    froms = re.findall(r"^FROM (\S+)", dockerfile, re.M)
    assert froms and all(f == "${PYTHON_BASE}" for f in froms), froms
    ignored = (DEPLOY / "Dockerfile.dockerignore").read_text().split()
    assert "deploy" not in ignored and "deploy/requirements.lock" not in ignored
