"""Fixtures for the streaming tests: one real embedded broker per session, fresh topics and
consumer group per test, and worker processes that are always cleaned up."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from probity.settings import Settings
from streams.broker import EmbeddedBroker, start_broker
from streams.replay import WorkerProcess
from tests.streams.faults_helpers import JsonLogWorker, fresh_settings


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedBroker]:
    b = start_broker(log_dir=tmp_path_factory.mktemp("broker"))
    yield b
    b.stop()


@pytest.fixture
def stream_settings(broker: EmbeddedBroker, tmp_path: Path) -> Settings:
    """Settings with run-scoped topics and group on the session broker (topics created)."""
    return fresh_settings(broker, tmp_path)


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


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Callable[[Settings, str], JsonLogWorker]]:
    """Named worker processes whose JSON logs the test reads; always killed after."""
    started: list[JsonLogWorker] = []

    def make(settings: Settings, name: str) -> JsonLogWorker:
        w = JsonLogWorker(settings, tmp_path / f"{name}.log")
        started.append(w)
        return w

    yield make
    for w in started:
        w.kill()
