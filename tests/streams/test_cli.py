"""The command line as an operator uses it: real processes, real broker."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from probity.settings import to_env

pytestmark = pytest.mark.broker


def _probity(args, settings, stdin: bytes | None = None, extra_env=None):
    env = {**os.environ, **to_env(settings), **(extra_env or {})}
    return subprocess.run(
        [sys.executable, "-m", "probity", *args], input=stdin, env=env, capture_output=True,
        timeout=120, check=False,
    )  # fmt: skip


def test_ingest_file_and_stdin_with_summary(stream_settings, contract_examples):
    valid = contract_examples / "valid.jsonl"
    invalid = contract_examples / "invalid.jsonl"
    done = _probity(["ingest", str(valid), str(invalid)], stream_settings)
    assert done.returncode == 0, done.stderr.decode()
    out = done.stdout.decode()
    assert "read 42, published 30, invalid 12" in out
    assert "not valid JSON x1" in out and "attrs.count" in out

    piped = _probity(["ingest", "-"], stream_settings, stdin=valid.read_bytes())
    assert piped.returncode == 0 and "read 30, published 30, invalid 0" in piped.stdout.decode()


def test_ingest_without_a_broker_says_what_to_do(tmp_path):
    from probity.settings import Settings

    done = _probity(["ingest", "x.jsonl"], Settings(data_dir=str(tmp_path)),
                    extra_env={"PROBITY_KAFKA": ""})  # fmt: skip
    assert done.returncode == 2
    assert b"PROBITY_KAFKA" in done.stderr


def test_help_lists_every_command():
    done = subprocess.run([sys.executable, "-m", "probity", "--help"], capture_output=True,
                          timeout=60, check=True)  # fmt: skip
    for name in ("run", "worker", "ingest", "replay", "simulate", "evaluate", "triage",
                 "graph", "bench", "sink", "detectors"):  # fmt: skip
        assert f"  {name}" in done.stdout.decode()


def test_detectors_command_lists_the_registry():
    from detectors.registry import registered

    done = subprocess.run([sys.executable, "-m", "probity", "detectors"], capture_output=True,
                          timeout=60, check=True)  # fmt: skip
    out = done.stdout.decode()
    for det_id in registered():
        assert det_id in out
