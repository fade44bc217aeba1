"""A real Prometheus, with the project's rules, scrapes a running worker process: when one of
two sources goes quiet its last-seen age grows while the other's stays small, and the event
counts Prometheus holds are what was ingested."""

from __future__ import annotations

import itertools
import json
import time
import urllib.request
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from kafka import KafkaProducer
from pydantic import SecretStr

from probity.settings import Settings
from streams.broker import free_port
from streams.replay import WorkerProcess, wait_processed
from tests.deploy.conftest import SCRAPE_TOKEN, by_source, query, running_prometheus
from tests.streams.conftest import broker, stream_settings, worker_factory  # noqa: F401

# about 18 s (a broker, a worker process and Prometheus start; 8 s of one source alone)
pytestmark = [pytest.mark.broker, pytest.mark.slow]

#: the project's recording rule, as the ProbitySourceSilent alert reads it
AGE = "time() - probity:source_last_seen_timestamp_seconds"


def wait_until(
    what: str, check: Callable[[], bool], timeout_s: float, worker: WorkerProcess
) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert worker.alive(), worker.log_tail()
        if time.monotonic() > deadline:
            pytest.fail(f"{what} not within {timeout_s} s\n{worker.log_tail()}")
        time.sleep(0.3)


def test_prometheus_sees_a_silent_source_age_grow_on_a_live_worker(
    stream_settings: Settings,  # noqa: F811
    worker_factory: Callable[[Settings], WorkerProcess],  # noqa: F811
    prometheus_bin: str,
    tmp_path: Path,
) -> None:
    web_port = free_port()
    s = stream_settings.model_copy(
        update={"worker_web_port": web_port, "metrics_token": SecretStr(SCRAPE_TOKEN)}
    )
    producer = KafkaProducer(bootstrap_servers=s.bootstrap_servers, acks="all", linger_ms=0)
    sent: Counter[str] = Counter()
    offsets: dict[tuple[str, int], int] = {}
    ids = itertools.count(1)
    officers = itertools.cycle(["S1", "S2", "S3", "S4", "S5"])

    def feed(*sources: str) -> None:
        for source in sources:
            n, actor = next(ids), next(officers)
            event = {
                "id": f"{source}-{n}", "time": f"2026-03-02T09:{n // 60:02d}:{n % 60:02d}Z",
                "source": source, "kind": "auth.login", "actor": actor,
            }  # fmt: skip
            meta = producer.send(
                s.topics.activity, key=actor.encode(), value=json.dumps(event).encode()
            ).get(timeout=10)
            tp = (meta.topic, meta.partition)
            offsets[tp] = max(offsets.get(tp, 0), meta.offset + 1)
            sent[source] += 1

    worker = worker_factory(s)
    worker.start()
    try:
        with running_prometheus(prometheus_bin, f"127.0.0.1:{web_port}", tmp_path) as prom:
            wait_until(
                "the worker scraped and ready",
                lambda: (
                    bool(query(prom, 'up{job="probity-worker"} == 1'))
                    and bool(query(prom, "probity_partitions_assigned > 0"))
                ),
                60,
                worker,
            )

            # both sources send until Prometheus has seen both
            def both_seen() -> bool:
                feed("athena", "pnc")
                return set(by_source(prom, AGE)) >= {"athena", "pnc"}

            wait_until("both sources in Prometheus", both_seen, 30, worker)
            # pnc stops; athena goes on
            time.sleep(1.5)  # a scrape and a rule evaluation after pnc's last event
            first = by_source(prom, AGE)
            for _ in range(20):
                feed("athena")
                time.sleep(0.4)
            second = by_source(prom, AGE)
            assert second["pnc"] - first["pnc"] >= 6.0, (first, second)
            # athena kept sending: its age stays about a scrape plus a rule evaluation
            assert second["athena"] < 5.0, second
            assert second["pnc"] - second["athena"] >= 4.0, second

            # every event ingested is counted once, by source and in total
            wait_processed(s, offsets, worker, timeout_s=60)
            total = float(sum(sent.values()))

            def counted() -> bool:
                result = query(prom, "sum(probity_events_total)")
                return bool(result) and float(result[0]["value"][1]) == total

            wait_until(f"sum(probity_events_total) == {total}", counted, 10, worker)
            by_src = by_source(prom, "sum by (source) (probity_events_total)")
            assert by_src == {src: float(n) for src, n in sent.items()}
            assert by_source(prom, "probity_source_events_total") == by_src
            assert query(prom, 'probity_events_total{source="pnc", kind="auth.login"}')

            # the rules loaded and evaluate (no rule in error on live data)
            url = f"http://127.0.0.1:{prom}/api/v1/rules"
            with urllib.request.urlopen(url, timeout=5) as resp:
                groups = json.load(resp)["data"]["groups"]
            health = {r["name"]: r["health"] for g in groups for r in g["rules"]}
            assert health and all(h in ("ok", "unknown") for h in health.values()), health
            # both seen sources are within their expected interval: nothing pending
            alerts = query(prom, 'ALERTS{alertname="ProbitySourceSilent"}')
            assert alerts == []
    finally:
        producer.close()
