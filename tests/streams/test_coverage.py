"""``probity coverage``'s runtime on the real embedded broker: the feed reads every partition
of the event topics into the tracker, and /metrics and /coverage show the figures."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request

import orjson
import pytest
from prometheus_client import CollectorRegistry

from intake.coverage import CoverageTracker
from intake.sources import parse_sources
from streams.coverage import CoverageFeed, CoverageUnprotected, serve
from streams.ingest import ingest_paths

SOURCES = """
[[source]]
name = "athena"
owner = "Records"
expected_daily = 10
longest_silence = "1h"

[[source]]
name = "pnc"
owner = "PNC bureau"
expected_daily = 5
longest_silence = "1h"
"""


def _events() -> list[dict]:
    staff = [f"S{i}" for i in range(1, 9)]
    out: list[dict] = []
    for s in staff:
        out.append({"id": f"hr-{s}", "time": "2026-03-01T00:00:00Z", "source": "hr",
                    "kind": "staff.upsert", "attrs": {"staff_id": s}})
        out.append({"id": f"ro-{s}", "time": "2026-03-01T00:00:00Z", "source": "roster",
                    "kind": "shift.rostered", "attrs": {"staff_id": s,
                    "start": "2026-03-02T07:00:00Z", "end": "2026-03-02T15:00:00Z"}})
    # on 2 March athena shows S1-S6 (12 events), pnc none: S7 and S8 are seen by no source
    for i in range(12):
        out.append({"id": f"ath-{i}", "time": f"2026-03-02T{8 + i % 6:02d}:00:00Z",
                    "source": "athena", "kind": "record.view", "actor": staff[i % 6],
                    "record": {"type": "person", "id": "P1"}})
    out.append({"id": "ath-next", "time": "2026-03-03T08:00:00Z", "source": "athena",
                "kind": "auth.login", "actor": "S1"})
    return out  # fmt: skip


@pytest.mark.broker
@pytest.mark.timeout(120)
def test_feed_reads_all_partitions_and_serves_the_figures(stream_settings, tmp_path) -> None:
    s = stream_settings
    events = _events()
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in events))
    with path.open("ab") as fh:
        fh.write(b"not json\n")  # dead-lettered by ingest, never reaches the feed
    summary = ingest_paths(s, s.bootstrap_servers, [str(path)])
    assert summary.published_total == len(events) and not summary.failed

    registry = CollectorRegistry()
    tracker = CoverageTracker(parse_sources(SOURCES, "test"), registry)
    feed = CoverageFeed(s, tracker)
    runner = threading.Thread(target=feed.run, daemon=True)
    runner.start()
    server = serve(tracker, registry, "127.0.0.1", 0, token="cov", metrics_token="scrape")
    port = server.server_address[1]
    try:
        deadline = time.monotonic() + 60
        while feed.records < len(events):
            assert runner.is_alive() and time.monotonic() < deadline, feed.records
            time.sleep(0.2)
        with urllib.request.urlopen(_bearer(f"http://127.0.0.1:{port}/coverage", "cov"),
                                    timeout=5) as r:  # fmt: skip
            report = json.load(r)
        with urllib.request.urlopen(_bearer(f"http://127.0.0.1:{port}/metrics", "scrape"),
                                    timeout=5) as r:  # fmt: skip
            metrics = r.read().decode()
    finally:
        feed.stop()
        runner.join(10)
        server.shutdown()
        server.server_close()
    assert not runner.is_alive()
    assert report["day"] == "2026-03-02"
    assert report["staff"] == {"day": "2026-03-02", "known": 8, "rostered": 8, "seen": 6,
                               "unseen": 2, "coverage": 0.75,
                               "unseen_staff": ["S7", "S8"]}  # fmt: skip
    rows = {r["source"]: r for r in report["sources"]}
    assert rows["athena"]["events_on_day"] == 12 and rows["athena"]["volume_ratio"] == 1.2
    assert rows["athena"]["resolved_ratio"] == 1.0 and not rows["athena"]["silent"]
    assert rows["pnc"]["events"] == 0 and rows["pnc"]["silent"]
    assert rows["hr"]["declared"] is False and rows["hr"]["events"] == 8
    assert 'probity_coverage_rostered_staff_ratio 0.75' in metrics
    assert 'probity_coverage_source_volume_ratio{source="athena"} 1.2' in metrics


def _bearer(url: str, token: str) -> urllib.request.Request:
    return urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})


def test_coverage_asks_for_its_tokens() -> None:
    """/coverage names staff and accounts: it answers only the bearer of coverage.token
    (the ACU queue); /metrics only the bearer of the metrics token (Prometheus), not the
    other's; the probes stay open."""
    tracker = CoverageTracker(parse_sources(SOURCES, "test"), CollectorRegistry())
    server = serve(tracker, CollectorRegistry(), "127.0.0.1", 0, token="s3cret-token",
                   metrics_token="scrape-token")  # fmt: skip
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        for path, right, other in (("/coverage", "s3cret-token", "scrape-token"),
                                   ("/metrics", "scrape-token", "s3cret-token")):  # fmt: skip
            for headers in ({}, {"Authorization": "Bearer wrong"},
                            {"Authorization": f"Bearer {other}"}):  # fmt: skip
                with pytest.raises(urllib.error.HTTPError) as denied:
                    urllib.request.urlopen(urllib.request.Request(f"{url}{path}",
                                                                  headers=headers), timeout=5)
                assert denied.value.code == 401, (path, headers)
            with urllib.request.urlopen(_bearer(f"{url}{path}", right), timeout=5) as r:
                assert r.status == 200
        with urllib.request.urlopen(_bearer(f"{url}/coverage", "s3cret-token"), timeout=5) as r:
            assert json.load(r)["staff"]["known"] == 0
        with urllib.request.urlopen(f"{url}/healthz", timeout=5) as r:
            assert r.status == 200
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("unset", ["PROBITY_METRICS_TOKEN", "PROBITY_COVERAGE__TOKEN"])
def test_coverage_refuses_to_start_with_an_open_endpoint(unset: str, tmp_path) -> None:
    """No endpoint without authentication: without either token `probity coverage` exits
    at once, naming what to set (before it reads the sources or dials the broker)."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("PROBITY_")}
    env.update(PROBITY_KAFKA="kafka://127.0.0.1:1", PROBITY_DATA_DIR=str(tmp_path),
               PROBITY_METRICS_TOKEN="scrape-token", PROBITY_COVERAGE__TOKEN="s3cret-token")
    del env[unset]
    done = subprocess.run([sys.executable, "-m", "probity", "coverage"], env=env, text=True,
                          capture_output=True, timeout=60, check=False)  # fmt: skip
    assert done.returncode == 1 and f"set {unset}" in done.stderr, done.stderr
    with pytest.raises(CoverageUnprotected):
        serve(CoverageTracker(parse_sources(SOURCES, "test"), CollectorRegistry()),
              CollectorRegistry(), "127.0.0.1", 0, token="x", metrics_token="")
