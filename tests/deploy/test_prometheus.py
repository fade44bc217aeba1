"""Prometheus configuration and rules pass promtool; a real Prometheus scrapes worker metrics
and shows a silent source's last-seen age growing."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path

import yaml

from streams.metrics import WorkerMetrics
from tests.deploy.conftest import DEPLOY, SCRAPE_TOKEN, by_source

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


def test_promtool_check_config(promtool: str, tmp_path: Path) -> None:
    """The compose config, with its mounted paths pointed at this checkout and stand-ins
    for the token secrets (promtool checks that referenced files exist). Every Probity job
    scrapes with a bearer token: the triage one with its metrics-scope API token, the
    workers, the sink, the coverage service and the intake with PROBITY_METRICS_TOKEN."""
    config = yaml.safe_load((PROM / "prometheus.yml").read_text())
    config["rule_files"] = [str(RULES)]
    token = tmp_path / "token"
    token.write_text("stand-in")
    expected = {"probity-triage": "/run/secrets/triage_metrics_token",
                "probity-worker": "/run/secrets/worker_metrics_token",
                "probity-sink": "/run/secrets/worker_metrics_token",
                "probity-coverage": "/run/secrets/worker_metrics_token",
                "probity-intake": "/run/secrets/worker_metrics_token"}  # fmt: skip
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert set(expected) <= set(jobs)
    for name, path in expected.items():
        assert jobs[name]["authorization"]["credentials_file"] == path
        jobs[name]["authorization"]["credentials_file"] = str(token)
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    done = _run(promtool, "check", "config", str(tmp_path / "prometheus.yml"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS: 1 rule files found" in done.stdout + done.stderr


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
    while set(by_source(prom_port, "probity_source_events_total")) != {"athena", "pnc"}:
        assert time.monotonic() < deadline, "Prometheus never scraped both sources"
        feed("athena", "pnc")
        time.sleep(0.3)
    # pnc stops; athena goes on
    feed("athena", "pnc")
    time.sleep(1.5)  # let a scrape take pnc's last value
    first = by_source(prom_port, age)
    for _ in range(10):
        feed("athena")
        time.sleep(0.3)
    time.sleep(1.5)
    second = by_source(prom_port, age)
    assert second["pnc"] - first["pnc"] >= 2.0, (first, second)
    assert second["pnc"] >= 4.0
    # athena kept sending: its age stays about one scrape interval, well below pnc's
    assert second["athena"] < second["pnc"] - 2.0, second
    counts = by_source(prom_port, "probity_source_events_total")
    assert counts["athena"] > counts["pnc"]

    # the live scrape is clean for promtool too
    req = urllib.request.Request(f"http://127.0.0.1:{metrics_port}/metrics",
                                 headers={"Authorization": f"Bearer {SCRAPE_TOKEN}"})  # fmt: skip
    with urllib.request.urlopen(req, timeout=5) as resp:
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
    while "pnc" not in by_source(prom_port, "probity:source_silence_threshold_seconds"):
        assert time.monotonic() < deadline, "recording rules never evaluated"
        time.sleep(0.5)
    assert by_source(prom_port, "probity:source_silence_threshold_seconds")["pnc"] == 1800
