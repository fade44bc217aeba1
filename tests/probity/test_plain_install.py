"""A plain ``pip install`` (no extras, as the deployment image runs) gives a working
``probity``: built as a wheel, installed with its real dependencies into a fresh venv, outside
the checkout, every command and subcommand answers ``--help``, and a command that needs an
extra says which."""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow

#: run by the fresh venv's interpreter: every command path of the click tree, one per line
_WALK = """
import click
from probity.cli import main

def walk(cmd, path, ctx):
    print(" ".join(path))
    if isinstance(cmd, click.Group):
        for name in cmd.list_commands(ctx):
            sub = cmd.get_command(ctx, name)
            walk(sub, [*path, name], click.Context(sub, info_name=name, parent=ctx))

walk(main, [], click.Context(main, info_name="probity"))
"""


@pytest.fixture(scope="module")
def plain_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not (ROOT / "pyproject.toml").is_file():
        pytest.skip("run outside the checkout (make test-native)")
    work = tmp_path_factory.mktemp("plain-install")
    wheels = work / "wheels"
    pip = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels), str(ROOT)]
    subprocess.run(pip, cwd=work, check=True, capture_output=True, timeout=600)
    (wheel,) = wheels.glob("probity-*.whl")
    env_dir = work / "venv"
    venv.create(env_dir, with_pip=True)
    # the real dependencies, from the configured index (the pip cache makes it quick)
    pip = [str(env_dir / "bin" / "python"), "-m", "pip", "install", "-q", str(wheel)]
    subprocess.run(pip, cwd=work, check=True, capture_output=True, timeout=600)
    return env_dir


def _run(env_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # cwd outside the checkout: the installed package is imported, not the sources
    return subprocess.run(args, cwd=env_dir, capture_output=True, text=True, timeout=120)


def test_no_extra_is_installed(plain_venv: Path) -> None:
    py = str(plain_venv / "bin" / "python")
    done = _run(plain_venv, py, "-c", "import importlib.util as u; "
                "print([m for m in ('psutil', 'pytest', 'evtx') if u.find_spec(m)])")
    assert done.stdout.strip() == "[]", done.stdout + done.stderr


def test_every_command_answers_help(plain_venv: Path) -> None:
    py = str(plain_venv / "bin" / "python")
    walked = _run(plain_venv, py, "-c", _WALK)
    assert walked.returncode == 0, walked.stderr
    paths = [line.split() for line in walked.stdout.splitlines()]
    assert ["worker"] in paths and ["graph", "export"] in paths and ["triage"] in paths
    probity = str(plain_venv / "bin" / "probity")
    for path in paths:
        done = _run(plain_venv, probity, *path, "--help")
        assert done.returncode == 0, f"probity {' '.join(path)} --help:\n{done.stderr}"
        assert "Usage: probity" in done.stdout


@pytest.mark.parametrize(("command", "extra"), [
    (["bench"], "bench"), (["graph", "bench", "--edges", "1000"], "bench"),
    (["convert", "--format", "evtx", "-"], "evtx"),
])  # fmt: skip
def test_a_command_needing_an_extra_says_which(
    plain_venv: Path, command: list[str], extra: str
) -> None:
    done = _run(plain_venv, str(plain_venv / "bin" / "probity"), *command)
    assert done.returncode != 0
    assert f"pip install 'probity[{extra}]'" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
