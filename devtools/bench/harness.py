"""What the Kafka measurements share: run-scoped topics, worker processes, progress rates."""

from __future__ import annotations

import time
from pathlib import Path

from probity.settings import Settings
from streams.broker import free_port
from streams.replay import WorkerProcess, replay_settings
from streams.topics import ensure_topics


def fresh_topics(settings: Settings, bootstrap_url: str) -> Settings:
    """Run-scoped topics on ``bootstrap_url``, created."""
    s = replay_settings(settings, bootstrap_url)
    ensure_topics(s, s.bootstrap_servers)
    return s


def start_worker(settings: Settings, log: Path) -> WorkerProcess:
    """A worker process, once its /readyz says so (at most 90 s)."""
    import urllib.request

    port = free_port()
    worker = WorkerProcess(settings.model_copy(update={"worker_web_port": port}), log)
    worker.start()
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as r:
                if r.status == 200:
                    break
        except OSError:
            time.sleep(0.3)
    return worker


def progress_rate(samples: list[tuple[float, int]]) -> float:
    """Events/s between the first and the last commit that moved (start-up excluded)."""
    moving = [(t, n) for t, n in samples if n > 0]
    if len(moving) < 2:
        return 0.0
    (t0, n0), (t1, n1) = moving[0], moving[-1]
    return (n1 - n0) / (t1 - t0) if t1 > t0 else 0.0
