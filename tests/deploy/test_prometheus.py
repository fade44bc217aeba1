"""Prometheus configuration and rules pass promtool; a real Prometheus scrapes worker metrics
and shows a silent source's last-seen age growing."""

from __future__ import annotations

import json
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import CollectorRegistry

from streams.metrics import WorkerMetrics, start_metrics_server
from tests.deploy.conftest import DEPLOY

PROM = DEPLOY / "prometheus"
RULES = PROM / "rules" / "probity.rules.yml"
RULE_TESTS = PROM / "rules" / "probity.rules.test.yml"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)


def test_promtool_check_rules(promtool: str) -> None:
    done = _run(promtool, "check", "rules", str(RULES))
    assert done.returncode == 0, done.stdout + done.stderr


def test_promtool_test_rules(promtool: str) -> None:
    done = _run(promtool, "test", "rules", str(RULE_TESTS))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


def test_promtool_check_config(promtool: str) -> None:
    done = _run(promtool, "check", "config", str(PROM / "prometheus.yml"))
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_alert_has_a_test() -> None:
    rules = yaml.safe_load(RULES.read_text())
    alerts = {r["alert"] for g in rules["groups"] for r in g["rules"] if "alert" in r}
    tests = yaml.safe_load(RULE_TESTS.read_text())
    tested = {
        case["alertname"]
        for t in tests["tests"]
        for case in t.get("alert_rule_test", [])
        if case.get("exp_alerts")  # a firing case, not only a quiet one
    }
    assert alerts == tested
    assert {
        "ProbitySourceSilent",
        "ProbityDeadLettersRising",
        "ProbityConsumerLagGrowing",
        "ProbityWorkerDown",
        "ProbityAlertUnassignedOverADay",
    } <= alerts


def test_every_alert_is_documented() -> None:
    doc = (DEPLOY.parent / "docs" / "operations.md").read_text()
    rules = yaml.safe_load(RULES.read_text())
    for group in rules["groups"]:
        for rule in group["rules"]:
            if "alert" in rule:
                assert f"`{rule['alert']}`" in doc, rule["alert"]


# -- a real Prometheus ------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _query(port: int, expr: str) -> list[dict[str, Any]]:
    url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    with urllib.request.urlopen(url, timeout=5) as resp:
        body = json.load(resp)
    assert body["status"] == "success", body
    return list(body["data"]["result"])


def _by_source(port: int, expr: str) -> dict[str, float]:
    return {r["metric"].get("source", ""): float(r["value"][1]) for r in _query(port, expr)}


@pytest.fixture
def prometheus(prometheus_bin: str, tmp_path: Path) -> Iterator[tuple[int, int, WorkerMetrics]]:
    """A worker's metrics on a loopback port and a real Prometheus scraping them every
    second with the project's rules loaded. Yields (prometheus port, metrics port, metrics)."""
    registry = CollectorRegistry()
    metrics = WorkerMetrics(registry)
    server, thread = start_metrics_server(registry, "127.0.0.1", 0)
    metrics_port = server.server_address[1]
    prom_port = _free_port()
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(RULES)],
        "scrape_configs": [
            {
                "job_name": "probity-worker",
                "static_configs": [{"targets": [f"127.0.0.1:{metrics_port}"]}],
            }
        ],
    }
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    log = (tmp_path / "prometheus.log").open("w")
    proc = subprocess.Popen(
        [
            prometheus_bin,
            f"--config.file={tmp_path / 'prometheus.yml'}",
            f"--storage.tsdb.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{prom_port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{prom_port}/-/ready", timeout=1):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        "prometheus did not start: " + (tmp_path / "prometheus.log").read_text()
                    ) from None
                time.sleep(0.2)
        yield prom_port, metrics_port, metrics
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_prometheus_sees_a_silent_source_age_grow(
    prometheus: tuple[int, int, WorkerMetrics], event_factory, promtool: str
) -> None:
    prom_port, metrics_port, metrics = prometheus
    n = 0

    def feed(*sources: str) -> None:
        nonlocal n
        for source in sources:
            n += 1
            metrics.event_consumed(
                event_factory("auth.login", actor="S1", source=source, id=f"e{n}")
            )

    age = "time() - probity_source_last_seen_timestamp_seconds"
    # both sources send until Prometheus has scraped both
    deadline = time.monotonic() + 20
    while set(_by_source(prom_port, "probity_source_events_total")) != {"athena", "pnc"}:
        assert time.monotonic() < deadline, "Prometheus never scraped both sources"
        feed("athena", "pnc")
        time.sleep(0.3)
    # pnc stops; athena goes on
    feed("athena", "pnc")
    time.sleep(1.5)  # let a scrape take pnc's last value
    first = _by_source(prom_port, age)
    for _ in range(10):
        feed("athena")
        time.sleep(0.3)
    time.sleep(1.5)
    second = _by_source(prom_port, age)
    assert second["pnc"] - first["pnc"] >= 2.0, (first, second)
    assert second["pnc"] >= 4.0
    assert second["athena"] < 3.0, second
    counts = _by_source(prom_port, "probity_source_events_total")
    assert counts["athena"] > counts["pnc"]

    # the live scrape is clean for promtool too
    with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5) as resp:
        body = resp.read()
    done = subprocess.run(
        [promtool, "check", "metrics"], input=body, capture_output=True, timeout=30, check=False
    )
    assert done.returncode == 0 and not (done.stdout + done.stderr).strip(), done

    # and the loaded rules are healthy and their recording rules evaluate
    with urllib.request.urlopen(f"http://127.0.0.1:{prom_port}/api/v1/rules", timeout=5) as resp:
        groups = json.load(resp)["data"]["groups"]
    health = {r["name"]: r["health"] for g in groups for r in g["rules"]}
    assert health and all(h in ("ok", "unknown") for h in health.values()), health
    deadline = time.monotonic() + 10
    while "pnc" not in _by_source(prom_port, "probity:source_silence_threshold_seconds"):
        assert time.monotonic() < deadline, "recording rules never evaluated"
        time.sleep(0.5)
    assert _by_source(prom_port, "probity:source_silence_threshold_seconds")["pnc"] == 1800
