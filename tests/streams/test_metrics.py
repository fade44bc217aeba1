"""Worker metrics: names, labels, values read back with ``get_sample_value``, and a clean
``promtool check metrics`` on the exposition text."""

from __future__ import annotations

import doctest
import os
import shutil
import subprocess
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import CollectorRegistry

import streams.metrics
from engine.alerts import build_alert
from engine.pipeline import Pipeline
from models.alerts import Category, Finding
from streams.metrics import (
    INVALID_REASONS,
    OVERFLOW_SOURCE,
    WorkerMetrics,
    invalid_reason_class,
    render,
    start_metrics_server,
    start_web_server,
    web_app,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TOKEN = "scrape-token-for-the-tests"


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
def metrics(registry: CollectorRegistry) -> WorkerMetrics:
    return WorkerMetrics(registry)


def _finding(detector: str = "access.canary", **kw: object) -> Finding:
    fields: dict[str, object] = {
        "detector": detector,
        "category": Category.MISUSE_OF_SYSTEMS,
        "officer": "S1",
        "time": T0,
        "severity": "high",
        "score": 90,
        "title": "t",
        "explanation": "x",
        "evidence": ["e1"],
    }
    fields.update(kw)
    return Finding.model_validate(fields)


def test_doctests() -> None:
    result = doctest.testmod(streams.metrics)
    assert result.attempted > 0 and result.failed == 0


def test_worker_up_from_the_start_and_down_when_stopping(
    registry: CollectorRegistry, metrics: WorkerMetrics
) -> None:
    assert registry.get_sample_value("probity_worker_up") == 1.0
    metrics.stopping()
    assert registry.get_sample_value("probity_worker_up") == 0.0


def test_events_counted_by_source_and_kind(
    registry: CollectorRegistry, metrics: WorkerMetrics, event_factory
) -> None:
    metrics.event_consumed(event_factory("auth.login", actor="S1", source="pnc"), now=100.0)
    metrics.event_consumed(event_factory("auth.login", actor="S2", source="pnc"), now=101.0)
    metrics.event_consumed(event_factory("auth.login", actor="S1", source="niche"), now=102.0)
    get = registry.get_sample_value
    assert get("probity_events_total", {"source": "pnc", "kind": "auth.login"}) == 2.0
    assert get("probity_events_total", {"source": "niche", "kind": "auth.login"}) == 1.0
    assert get("probity_source_events_total", {"source": "pnc"}) == 2.0
    assert get("probity_source_last_seen_timestamp_seconds", {"source": "pnc"}) == 101.0
    assert get("probity_source_last_seen_timestamp_seconds", {"source": "niche"}) == 102.0


def test_unknown_kinds_share_one_label(
    registry: CollectorRegistry, metrics: WorkerMetrics, event_factory
) -> None:
    metrics.event_consumed(event_factory("x.made-up-1"))
    metrics.event_consumed(event_factory("x.made-up-2"))
    assert (
        registry.get_sample_value("probity_events_total", {"source": "athena", "kind": "unknown"})
        == 2.0
    )


def test_last_event_time_never_goes_back_but_last_seen_does_move(
    registry: CollectorRegistry, metrics: WorkerMetrics, event_factory
) -> None:
    late = T0 - timedelta(hours=3)
    metrics.event_consumed(event_factory("auth.login", actor="S1", time=T0.isoformat()), now=10.0)
    metrics.event_consumed(event_factory("auth.login", actor="S1", time=late.isoformat()), now=20.0)
    labels = {"source": "athena"}
    assert (
        registry.get_sample_value("probity_source_last_event_timestamp_seconds", labels)
        == T0.timestamp()
    )
    assert registry.get_sample_value("probity_source_last_seen_timestamp_seconds", labels) == 20.0


def test_last_seen_uses_the_wall_clock_by_default(
    registry: CollectorRegistry, metrics: WorkerMetrics, event_factory
) -> None:
    before = datetime.now(UTC).timestamp()
    metrics.event_consumed(event_factory("auth.login", actor="S1"))
    seen = registry.get_sample_value(
        "probity_source_last_seen_timestamp_seconds", {"source": "athena"}
    )
    assert seen is not None and before <= seen <= datetime.now(UTC).timestamp()


def test_sources_beyond_the_cap_are_pooled(registry: CollectorRegistry, event_factory) -> None:
    m = WorkerMetrics(registry, max_sources=2)
    for source in ("a", "b", "c", "d", "a"):
        m.event_consumed(event_factory("auth.login", actor="S1", source=source), now=1.0)
    get = registry.get_sample_value
    assert get("probity_source_events_total", {"source": "a"}) == 2.0
    assert get("probity_source_events_total", {"source": "b"}) == 1.0
    assert get("probity_source_events_total", {"source": "c"}) is None
    assert get("probity_source_events_total", {"source": OVERFLOW_SOURCE}) == 2.0
    assert get("probity_events_total", {"source": OVERFLOW_SOURCE, "kind": "auth.login"}) == 2.0


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        ("not valid JSON: unexpected end of data: line 1 column 2 (char 1)", "json"),
        ("not a JSON object (got list)", "not_object"),
        ("time: Field required; source: Field required; kind: Field required", "missing_field"),
        ("record: required for kind record.view", "missing_field"),
        (
            "time: must be an RFC 3339 timestamp with an offset, e.g. 2026-03-02T09:15:02Z",
            "bad_time",
        ),
        ("time: Input should be a valid datetime or date, month value is outside", "bad_time"),
        ("attrs.dob: must be a date YYYY-MM-DD", "bad_time"),
        ("attrs.results: Input should be a valid integer", "wrong_type"),
        ("id: Input should be a valid string", "wrong_type"),
        (
            "id: String should have at least 1 character; attrs: attrs must be an object",
            "bad_value",
        ),
        ("attrs: attrs must be an object", "wrong_type"),
        ("source: String should match pattern '^[a-z0-9_.-]{1,64}$'", "bad_value"),
        ("attrs.status: Input should be 'active', 'suspended' or 'left'", "bad_value"),
        ("attrs: a watchlist entry needs a person, or a name and dob", "other"),
        ("invalid event: RecursionError", "other"),
        ("", "other"),
    ],
)
def test_invalid_reason_classes(reason: str, expected: str) -> None:
    assert invalid_reason_class(reason) == expected


def test_invalid_reason_labels_are_a_closed_set(
    registry: CollectorRegistry, metrics: WorkerMetrics
) -> None:
    metrics.event_invalid("S1 looked up John Smith: some free text nobody planned for")
    metrics.event_invalid("not valid JSON: x")
    assert registry.get_sample_value("probity_events_invalid_total", {"reason": "other"}) == 1.0
    assert registry.get_sample_value("probity_events_invalid_total", {"reason": "json"}) == 1.0
    text = render(registry)[0].decode()
    assert "John Smith" not in text
    reasons = {
        line.split('reason="')[1].split('"')[0]
        for line in text.splitlines()
        if line.startswith("probity_events_invalid_total{")
    }
    assert reasons == set(INVALID_REASONS)


def test_known_detectors_and_topics_start_at_zero(registry: CollectorRegistry) -> None:
    WorkerMetrics(registry, detectors=["access.canary"], topics=["probity.events.activity"])
    get = registry.get_sample_value
    assert get("probity_detector_errors_total", {"detector": "access.canary"}) == 0.0
    assert get("probity_findings_total", {"detector": "access.canary"}) == 0.0
    assert get("probity_dead_letters_total", {"topic": "probity.events.activity"}) == 0.0


def test_dead_letters_and_detector_metrics(
    registry: CollectorRegistry, metrics: WorkerMetrics
) -> None:
    metrics.dead_letter("probity.events.activity")
    metrics.dead_letter("probity.events.activity")
    metrics.detector_time("access.canary", 0.0003)
    metrics.detector_error("access.canary")
    metrics.finding(_finding())
    get = registry.get_sample_value
    assert get("probity_dead_letters_total", {"topic": "probity.events.activity"}) == 2.0
    assert get("probity_detector_seconds_count", {"detector": "access.canary"}) == 1.0
    assert get("probity_detector_seconds_sum", {"detector": "access.canary"}) == pytest.approx(
        0.0003
    )
    assert (
        get("probity_detector_seconds_bucket", {"detector": "access.canary", "le": "0.0005"}) == 1.0
    )
    assert get("probity_detector_errors_total", {"detector": "access.canary"}) == 1.0
    assert get("probity_findings_total", {"detector": "access.canary"}) == 1.0


def test_alert_counted_and_delay_observed(
    registry: CollectorRegistry, metrics: WorkerMetrics
) -> None:
    alert = build_alert(_finding(time=T0), clock=lambda: T0 + timedelta(seconds=42))
    metrics.alert(alert)
    get = registry.get_sample_value
    labels = {"detector": "access.canary", "category": "misuse_of_systems", "severity": "high"}
    assert get("probity_alerts_total", labels) == 1.0
    assert get("probity_event_to_alert_seconds_sum") == 42.0
    assert get("probity_event_to_alert_seconds_bucket", {"le": "30.0"}) == 0.0
    assert get("probity_event_to_alert_seconds_bucket", {"le": "60.0"}) == 1.0


def test_lag_and_assignment(registry: CollectorRegistry, metrics: WorkerMetrics) -> None:
    metrics.set_assigned(4)
    metrics.set_lag("probity.events.activity", 0, 120)
    metrics.set_lag("probity.events.activity", 1, -3)  # a stale watermark: never negative
    get = registry.get_sample_value

    def lag(partition: str) -> float | None:
        return get(
            "probity_consumer_lag", {"topic": "probity.events.activity", "partition": partition}
        )

    assert get("probity_partitions_assigned") == 4.0
    assert lag("0") == 120
    assert lag("1") == 0
    metrics.partitions_revoked([("probity.events.activity", 0), ("other", 9)])
    assert lag("0") is None
    metrics.set_lag("probity.events.activity", 0, 5)
    assert lag("0") == 5


def test_pipeline_hooks_feed_the_metrics(
    registry: CollectorRegistry, metrics: WorkerMetrics, event_factory
) -> None:
    from detectors.access.canary import CanaryAccess

    pipeline = Pipeline([CanaryAccess()], hooks=metrics.pipeline_hooks())
    pipeline.process(
        event_factory("record.view", actor="S1", record={"type": "person", "id": "P1"})
    )
    assert (
        registry.get_sample_value("probity_detector_seconds_count", {"detector": CanaryAccess.id})
        == 1.0
    )


def test_metrics_server_serves_the_registry(
    registry: CollectorRegistry, metrics: WorkerMetrics
) -> None:
    metrics.set_assigned(2)
    server, thread = start_metrics_server(registry, "127.0.0.1", 0, token=TOKEN)
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/metrics"
        assert _get(url)[0] == 401
        status, body = _get(url, f"Bearer {TOKEN}")
        assert status == 200 and "probity_partitions_assigned 2.0" in body
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _promtool() -> str | None:
    path = shutil.which("promtool")
    if path is None and os.environ.get("CI") == "true":
        pytest.fail("promtool missing in CI: `make test` installs Debian's prometheus package")
    return path


def test_promtool_check_metrics_finds_nothing(
    registry: CollectorRegistry, metrics: WorkerMetrics, event_factory
) -> None:
    promtool = _promtool()
    if promtool is None:
        pytest.skip("promtool not installed (make system-deps installs it)")
    metrics.event_consumed(event_factory("auth.login", actor="S1", source="pnc"))
    metrics.event_invalid("not valid JSON")
    metrics.dead_letter("probity.events.activity")
    metrics.detector_time("access.canary", 0.001)
    metrics.detector_error("access.canary")
    metrics.finding(_finding())
    metrics.alert(build_alert(_finding()))
    metrics.set_lag("probity.events.activity", 3, 7)
    metrics.set_assigned(1)
    body, _ = render(registry)
    done = subprocess.run(
        [promtool, "check", "metrics"], input=body, capture_output=True, timeout=30, check=False
    )
    assert done.returncode == 0, done.stdout.decode() + done.stderr.decode()
    assert done.stdout.decode().strip() == "" and done.stderr.decode().strip() == ""


def _get(url: str, authorization: str | None = None) -> tuple[int, str]:
    req = urllib.request.Request(url)
    if authorization is not None:
        req.add_header("Authorization", authorization)
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_web_server_answers_metrics_and_probes(
    registry: CollectorRegistry, metrics: WorkerMetrics
) -> None:
    state = {"ready": False, "alive": True}

    def broken() -> bool:
        raise RuntimeError("boom")

    server, thread = start_web_server(
        registry, "127.0.0.1", 0, ready=lambda: state["ready"], alive=lambda: state["alive"],
        token=TOKEN,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        assert _get(base + "/healthz") == (200, "ok\n")
        assert _get(base + "/readyz")[0] == 503
        state["ready"] = True
        assert _get(base + "/readyz") == (200, "ok\n")
        state["alive"] = False
        assert _get(base + "/healthz")[0] == 503
        assert _get(base + "/metrics")[0] == 401
        status, body = _get(base + "/metrics", f"Bearer {TOKEN}")
        assert status == 200 and "probity_worker_up 1.0" in body
        assert _get(base + "/nope")[0] == 404
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    app = web_app(registry, ready=broken, token=TOKEN)
    seen: list[str] = []
    body = app({"PATH_INFO": "/readyz"}, lambda status, headers: seen.append(status))
    assert seen == ["503 Service Unavailable"] and list(body) == [b"not ready\n"]
