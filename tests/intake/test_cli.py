"""``probity intake`` as its own process: tokens from the command line, then events posted
to it land on the topic; SIGTERM stops it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import orjson
import pytest

from probity.settings import Settings, to_env
from streams.broker import EmbeddedBroker, free_port, wait_for_port
from tests.intake.conftest import intake_settings, topic_ids

pytestmark = pytest.mark.broker


def test_intake_process(broker: EmbeddedBroker, tmp_path: Path) -> None:
    port = free_port()
    s: Settings = intake_settings(broker, tmp_path)
    env = {**os.environ, **to_env(s), "PROBITY_INTAKE__PORT": str(port)}
    probity = [sys.executable, "-m", "probity"]
    made = subprocess.run(
        [*probity, "intake", "token", "create", "--source", "athena"],
        env=env,
        capture_output=True,
        check=True,
        timeout=60,
    )
    token = made.stdout.decode().strip()
    proc = subprocess.Popen([*probity, "intake"], env=env, stderr=subprocess.PIPE)
    try:
        wait_for_port("127.0.0.1", port, 30)
        event = {
            "id": "cli-1",
            "time": "2026-03-02T09:00:00Z",
            "source": "athena",
            "kind": "auth.login",
            "actor": "S1",
        }
        r = httpx.post(
            f"http://127.0.0.1:{port}/v1/events",
            content=orjson.dumps(event),
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        assert r.status_code == 200 and r.json()["accepted"] == 1
        assert topic_ids(s, s.topics.activity) == ["cli-1"]
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    # uvicorn shuts down cleanly, then re-raises the signal it caught
    assert proc.returncode in (0, -signal.SIGTERM), err.decode()[-2000:]
    assert b"Application shutdown complete" in err
