"""Who watches the ACU: the worker refuses to start until the ACU is named (its staff list
or a unit that marks it), with an error that says what to set."""

from __future__ import annotations

import os
import subprocess
import sys

import click
import pytest

from probity.commands.streams import _check_acu
from probity.settings import Settings, TriageSettings


def _worker(tmp_path, **extra: str) -> subprocess.CompletedProcess[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROBITY_")}
    env.update({"PROBITY_DATA_DIR": str(tmp_path), "PROBITY_KAFKA": "kafka://127.0.0.1:1",
                **extra})  # fmt: skip
    return subprocess.run(
        [sys.executable, "-m", "probity", "worker"], env=env, capture_output=True, timeout=120,
        check=False, stdin=subprocess.DEVNULL,
    )  # fmt: skip


@pytest.mark.parametrize("extra", [{}, {"PROBITY_TRIAGE__ACU_UNITS": "[]"}])
def test_the_worker_refuses_to_start_without_the_acu(tmp_path, extra):
    done = _worker(tmp_path, **extra)
    assert done.returncode == 1
    err = done.stderr.decode()
    assert "the ACU is not configured" in err
    assert "PROBITY_TRIAGE__ACU_STAFF_IDS" in err and "PROBITY_TRIAGE__ACU_UNITS" in err


def test_a_staff_list_or_a_unit_names_the_acu(monkeypatch):
    """The default unit is a guess: only a value the operator set counts."""
    with pytest.raises(click.ClickException):
        _check_acu(Settings())
    _check_acu(Settings(triage=TriageSettings(acu_staff_ids=frozenset({"S1042"}))))
    _check_acu(Settings(triage=TriageSettings(acu_units=frozenset({"psd-acu"}))))
    with pytest.raises(click.ClickException):
        _check_acu(Settings(triage=TriageSettings(acu_units=frozenset())))
    monkeypatch.setenv("PROBITY_TRIAGE__ACU_STAFF_IDS", '["S1042"]')
    _check_acu(Settings())


def test_what_a_child_process_is_given_keeps_the_acu(monkeypatch):
    """``probity run`` and replays start their workers with ``to_env``: the ACU they were
    given reaches the child."""
    from probity.settings import to_env

    parent = Settings(triage=TriageSettings(acu_units=frozenset({"acu"})))
    for key, value in to_env(parent).items():
        monkeypatch.setenv(key, value)
    assert Settings().triage.acu_configured
