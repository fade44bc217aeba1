from __future__ import annotations

import socket

import pytest

from streams.broker import broker_for, embedded_broker, wait_for_port
from streams.exceptions import BrokerError


def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def test_embedded_broker_answers_then_stops(tmp_path):
    with embedded_broker(log_dir=tmp_path) as b:
        assert b.host == "127.0.0.1" and _answers(b.host, b.port)
        assert b.url == f"kafka://127.0.0.1:{b.port}"
    assert b.process.poll() is not None
    assert not _answers(b.host, b.port)


def test_embedded_broker_stops_on_error(tmp_path):
    with pytest.raises(RuntimeError), embedded_broker(log_dir=tmp_path) as b:
        raise RuntimeError("boom")
    assert b.process.poll() is not None


def test_configured_broker_is_used_unchanged():
    with broker_for("kafka://kafka-1:9092,kafka-2:9092") as url:
        assert url == "kafka://kafka-1:9092,kafka-2:9092"


def test_wait_for_port_gives_a_clear_error():
    with pytest.raises(BrokerError, match="nothing answers"):
        wait_for_port("127.0.0.1", 1, timeout_s=0.3)


def test_broker_dies_with_the_process_that_started_it(tmp_path):
    """Even a SIGKILLed parent leaves no broker behind (Linux parent-death signal)."""
    import os
    import signal
    import subprocess
    import sys
    import time

    script = (
        "import sys, time\n"
        "from streams.broker import start_broker\n"
        f"b = start_broker(log_dir=__import__('pathlib').Path({str(tmp_path)!r}))\n"
        "print(b.process.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    broker_pid = int(parent.stdout.readline())
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 10
    gone = False
    while not gone and time.monotonic() < deadline:
        try:
            os.kill(broker_pid, 0)
            time.sleep(0.1)
        except ProcessLookupError:
            gone = True
    if not gone:
        os.kill(broker_pid, signal.SIGKILL)
    assert gone, "the broker outlived its parent"
