"""Fixtures for the streaming tests: one real embedded broker per session, fresh topics and
consumer group per test, and worker processes that are always cleaned up."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from probity.settings import Settings
from streams.broker import EmbeddedBroker, start_broker
from streams.replay import WorkerProcess, replay_settings
from streams.topics import ensure_topics


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedBroker]:
    b = start_broker(log_dir=tmp_path_factory.mktemp("broker"))
    yield b
    b.stop()


@pytest.fixture
def stream_settings(broker: EmbeddedBroker, tmp_path: Path) -> Settings:
    """Settings with run-scoped topics and group on the session broker (topics created)."""
    s = replay_settings(Settings(partitions=4, data_dir=str(tmp_path)), broker.url)
    ensure_topics(s, s.bootstrap_servers)
    return s


@pytest.fixture
def worker_factory(tmp_path: Path) -> Iterator[Callable[[Settings], WorkerProcess]]:
    started: list[WorkerProcess] = []

    def make(settings: Settings) -> WorkerProcess:
        w = WorkerProcess(settings, tmp_path / f"worker-{len(started)}.log")
        started.append(w)
        return w

    yield make
    for w in started:
        w.kill()
