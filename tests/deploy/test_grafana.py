"""The Grafana dashboard parses, shows what ops need, and asks only for metrics that exist;
every expression runs on a real Prometheus."""

from __future__ import annotations

import json
import re
from typing import Any

import yaml
from prometheus_client import CollectorRegistry

from streams.metrics import WorkerMetrics
from tests.deploy.conftest import DEPLOY, query

GRAFANA = DEPLOY / "grafana"
DASHBOARD = GRAFANA / "dashboards" / "probity.json"
# defined by the triage service (issue 6)
TRIAGE_METRICS = frozenset({"probity_queue_alerts", "probity_queue_oldest_unassigned_age_seconds"})
_NAME = re.compile(r"\bprobity_[a-zA-Z0-9_]+")
_SUFFIX = re.compile(r"_(total|bucket|sum|count|created)$")


def _worker_metric_names() -> set[str]:
    registry = CollectorRegistry()
    WorkerMetrics(registry)
    return {family.name for family in registry.collect()}


def _panels() -> list[dict[str, Any]]:
    dash = json.loads(DASHBOARD.read_text())
    return [p for p in dash["panels"] if p["type"] != "row"]


def _exprs() -> list[str]:
    return [t["expr"] for p in _panels() for t in p["targets"]]


def test_dashboard_parses_and_every_panel_has_a_query() -> None:
    dash = json.loads(DASHBOARD.read_text())
    assert dash["uid"] == "probity-overview" and dash["title"]
    panels = _panels()
    assert panels
    ids = [p["id"] for p in dash["panels"]]
    assert len(ids) == len(set(ids))
    for panel in panels:
        assert panel["targets"], panel["title"]
        assert panel["datasource"]["uid"] == "prometheus"


def test_every_expression_references_a_defined_metric() -> None:
    known = _worker_metric_names() | TRIAGE_METRICS
    for expr in _exprs():
        names = {_SUFFIX.sub("", n) for n in _NAME.findall(expr)}
        assert names, f"no probity metric in {expr!r}"
        assert names <= known, f"{expr!r} asks for {names - known}"


def test_dashboard_covers_what_ops_watch() -> None:
    used = {_SUFFIX.sub("", n) for e in _exprs() for n in _NAME.findall(e)}
    assert {
        "probity_events",  # throughput
        "probity_consumer_lag",
        "probity_dead_letters",
        "probity_detector_seconds",
        "probity_alerts",
        "probity_source_last_seen_timestamp_seconds",  # source coverage
        "probity_queue_alerts",
        "probity_queue_oldest_unassigned_age_seconds",
    } <= used
    assert any("category" in e and "probity_alerts" in e for e in _exprs())


def test_provisioning_points_at_the_dashboard_and_datasource() -> None:
    ds = yaml.safe_load((GRAFANA / "provisioning" / "datasources" / "prometheus.yml").read_text())
    assert [d["uid"] for d in ds["datasources"]] == ["prometheus"]
    boards = yaml.safe_load((GRAFANA / "provisioning" / "dashboards" / "probity.yml").read_text())
    assert boards["providers"][0]["options"]["path"] == "/etc/grafana/dashboards"


def test_every_expression_runs_on_prometheus(prometheus: tuple[int, int, WorkerMetrics]) -> None:
    prom_port, _, _ = prometheus
    exprs = _exprs()
    assert exprs, "the dashboard has no expressions"
    for expr in exprs:
        query(prom_port, expr.replace("$__rate_interval", "1m"))  # asserts status success
