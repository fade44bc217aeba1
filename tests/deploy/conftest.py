"""Fixtures for the deployment files: paths, and promtool (installed by `make test`)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


def require_tool(name: str) -> str:
    """Path of a Debian tool the tests need; skipped on a bare machine, a failure in CI."""
    path = shutil.which(name)
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{name} missing in CI: `make test` installs deploy/system-packages.txt")
        pytest.skip(f"{name} not installed (`make system-deps` installs it)")
    return path


@pytest.fixture(scope="session")
def promtool() -> str:
    return require_tool("promtool")


@pytest.fixture(scope="session")
def prometheus_bin() -> str:
    return require_tool("prometheus")
