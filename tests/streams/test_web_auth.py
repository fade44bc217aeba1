"""The worker's (and the sink's) /metrics behind a bearer token; the probes stay open.

The per-detector alert counts on /metrics would tell an insider whether their look-ups trip a
detector, so only Prometheus, holding ``metrics_token``, reads them; without a token set
nobody does (closed by default, not open).
"""

from __future__ import annotations

import logging
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from prometheus_client import CollectorRegistry

from streams.metrics import WorkerMetrics, start_web_server

TOKEN = "a-long-random-scrape-token"
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _get(url: str, authorization: str | None = None) -> tuple[int, dict[str, str], str]:
    req = urllib.request.Request(url)
    if authorization is not None:
        req.add_header("Authorization", authorization)
    try:
        with _DIRECT.open(req, timeout=5) as resp:
            return int(resp.status), dict(resp.headers), resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read().decode()


@pytest.fixture
def base() -> Iterator[str]:
    registry = CollectorRegistry()
    WorkerMetrics(registry)
    server, thread = start_web_server(registry, "127.0.0.1", 0, ready=lambda: True, token=TOKEN)
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_metrics_need_the_bearer_token(base: str) -> None:
    status, headers, body = _get(base + "/metrics")
    assert status == 401 and headers["WWW-Authenticate"].startswith("Bearer")
    assert "probity_" not in body
    for wrong in (f"Bearer {TOKEN}x", f"Bearer {TOKEN[:-1]}", TOKEN, f"Basic {TOKEN}", "Bearer "):
        assert _get(base + "/metrics", wrong)[0] == 401, wrong
    status, _, body = _get(base + "/metrics", f"Bearer {TOKEN}")
    assert status == 200 and "probity_worker_up" in body


def test_probes_stay_open(base: str) -> None:
    assert _get(base + "/healthz")[0] == 200
    assert _get(base + "/readyz")[0] == 200


@pytest.mark.parametrize("token", [None, ""])
def test_no_token_configured_closes_metrics_and_warns(
    token: str | None, caplog: pytest.LogCaptureFixture
) -> None:
    registry = CollectorRegistry()
    WorkerMetrics(registry)
    with caplog.at_level(logging.WARNING, logger="streams.metrics"):
        server, thread = start_web_server(registry, "127.0.0.1", 0, ready=lambda: True, token=token)
    warnings = [r for r in caplog.records if "PROBITY_METRICS_TOKEN" in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].levelno == logging.WARNING
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        for given in (None, "Bearer ", "Bearer None", "Bearer anything"):
            status, _, body = _get(base + "/metrics", given)
            assert status == 401 and "probity_" not in body, given
        assert _get(base + "/healthz")[0] == 200 and _get(base + "/readyz")[0] == 200
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_a_token_configured_logs_no_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="streams.metrics"):
        server, thread = start_web_server(
            CollectorRegistry(), "127.0.0.1", 0, ready=lambda: True, token=TOKEN
        )
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)
    assert not [r for r in caplog.records if "PROBITY_METRICS_TOKEN" in r.getMessage()]
