"""Fixtures for the deployment files: paths, and promtool (installed by `make test`)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import CollectorRegistry
from pydantic import BaseModel

from probity.settings import Settings
from streams.metrics import WorkerMetrics, start_metrics_server

ROOT = Path(__file__).resolve().parents[2]
#: the scrape token of the tests' worker metrics (a worker's /metrics always asks for one)
SCRAPE_TOKEN = "deploy-tests-scrape-token"
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


def settings_field_exists(name: str) -> bool:
    """``PROBITY_TOPICS__ALERTS`` -> Settings.topics.alerts; dict fields take any key."""
    parts = name.removeprefix("PROBITY_").lower().split("__")
    model: type[BaseModel] = Settings
    for i, part in enumerate(parts):
        field = model.model_fields.get(part)
        if field is None:
            return False
        ann = field.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            model = ann
            continue
        origin = getattr(ann, "__origin__", None)
        return origin is dict or i == len(parts) - 1
    return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def query(port: int, expr: str) -> list[dict[str, Any]]:
    url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    with urllib.request.urlopen(url, timeout=5) as resp:
        body = json.load(resp)
    assert body["status"] == "success", body
    return list(body["data"]["result"])


def by_source(port: int, expr: str) -> dict[str, float]:
    return {r["metric"].get("source", ""): float(r["value"][1]) for r in query(port, expr)}


@contextmanager
def running_prometheus(
    binary: str, target: str, work: Path, token: str = SCRAPE_TOKEN
) -> Iterator[int]:
    """Prometheus scraping ``target`` every second as job ``probity-worker`` (the job the
    rules name) with the bearer ``token``, the project's rules evaluated every second.
    Yields its HTTP port once ready."""
    port = free_port()
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(DEPLOY / "prometheus" / "rules" / "probity.rules.yml")],
        "scrape_configs": [
            {
                "job_name": "probity-worker",
                "authorization": {"type": "Bearer", "credentials": token},
                "static_configs": [{"targets": [target]}],
            }
        ],
    }
    (work / "prometheus.yml").write_text(yaml.safe_dump(config))
    log_path = work / "prometheus.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [
                binary,
                f"--config.file={work / 'prometheus.yml'}",
                f"--storage.tsdb.path={work / 'prometheus-data'}",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/-/ready", timeout=1):
                        break
                except OSError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        pytest.fail(f"prometheus did not start:\n{log_path.read_text()}")
                    time.sleep(0.2)
            yield port
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


@pytest.fixture
def prometheus(prometheus_bin: str, tmp_path: Path) -> Iterator[tuple[int, int, WorkerMetrics]]:
    """A worker's metrics on a loopback port and a real Prometheus scraping them every
    second with the project's rules loaded. Yields (prometheus port, metrics port, metrics)."""
    registry = CollectorRegistry()
    metrics = WorkerMetrics(registry)
    server, thread = start_metrics_server(registry, "127.0.0.1", 0, token=SCRAPE_TOKEN)
    metrics_port = server.server_address[1]
    try:
        with running_prometheus(prometheus_bin, f"127.0.0.1:{metrics_port}", tmp_path) as port:
            yield port, metrics_port, metrics
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
