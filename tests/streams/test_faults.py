"""Faults under a running replay: a worker SIGKILLed again and again, the queue database
stopped under the sink. Nothing may be lost and, once de-duplicated by id, nothing doubled."""

from __future__ import annotations

import random
import subprocess
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from kafka import KafkaProducer
from sqlalchemy import text

from models.alerts import Alert, Category, alert_id
from models.deadletters import Origin
from streams.ingest import Ingestor, IngestSummary, make_producer
from streams.replay import committed_offsets, read_topic, wait_processed
from streams.sink import AlertSink
from tests.streams.faults_helpers import (
    activity_targets,
    check_alerts,
    make_events,
    progress,
    publish,
    unjudged,
    wait_until,
)
from tests.triage.conftest import make_store, pg_schema  # noqa: F401  (fixture)

pytestmark = [pytest.mark.broker, pytest.mark.slow]

KILLS = 10
N_EVENTS = 30_000
SLOW_RATE = 100  # activity events a second while the kills happen


class Feed(threading.Thread):
    """Activity published as a force's systems would: steadily (``SLOW_RATE`` a second) so a
    kill finds the worker busy at any point of the stream, then, once ``hurry`` is set, the
    rest at once."""

    def __init__(self, settings, lines: list[bytes]) -> None:
        super().__init__(name="feed", daemon=True)
        self.lines = lines
        self.ingestor = Ingestor(settings, make_producer(settings))
        self.hurry = threading.Event()
        self.summary: IngestSummary | None = None

    def run(self) -> None:
        start = time.monotonic()
        for i, raw in enumerate(self.lines):
            if not self.hurry.is_set():
                self.hurry.wait(max(0.0, start + i / SLOW_RATE - time.monotonic()))
            self.ingestor.publish_line(raw, Origin(file="feed", line=i + 1))
        self.summary = self.ingestor.flush()
        self.ingestor.producer.close()


@pytest.mark.timeout(420)
def test_ten_sigkills_at_random_points_lose_and_double_nothing(
    stream_settings, worker_factory, tmp_path
):
    s = stream_settings
    lines = make_events(N_EVENTS, seed=11, officers=150)  # < 256 events per officer
    reference = [x for x in lines if b'"watchlist.' in x]
    summary = publish(s, reference, tmp_path, "reference")
    everything = {(s.topics.activity, p): 10**9 for p in range(s.partitions)}

    rng = random.Random(2026)
    # seeded kill points over the committed progress, while events keep arriving; each
    # restarted worker must first commit work of its own (so every kill hits a worker that is
    # processing, not one still starting), and a random delay lands the kill anywhere in a
    # batch: judged, alerts sent, state changelogged, offsets not yet committed
    points = sorted(rng.uniform(200, 12_000) for _ in range(KILLS))
    worker = worker_factory(s)
    worker.start()
    feed = Feed(s, [x for x in lines if b'"watchlist.' not in x])
    feed.start()
    killed_at = [0]
    try:
        for point in points:
            floor = max(point, killed_at[-1] + 1)

            def past(p: float = floor) -> bool:
                return progress(s, everything) >= p

            wait_until(past, 120, f"progress past {floor:.0f} (kills at {killed_at[1:]})",
                       poll_s=0.05)  # fmt: skip
            time.sleep(rng.uniform(0.0, 0.5))
            assert worker.alive(), worker.log_tail()
            worker.kill()
            killed_at.append(progress(s, everything))
            worker.start()
    finally:
        feed.hurry.set()
        feed.join(timeout=120)
    assert feed.summary is not None
    summary.merge(feed.summary)
    assert sum(activity_targets(s, summary).values()) == N_EVENTS
    assert killed_at[-1] < N_EVENTS, f"finished before the last kill: {killed_at[1:]}"
    assert len(set(killed_at)) == KILLS + 1  # every kill after fresh progress

    wait_processed(s, summary.end_offsets, worker, timeout_s=180)
    committed = committed_offsets(s, summary.end_offsets)
    for tp, end in summary.end_offsets.items():
        if tp[0] in (s.topics.activity, s.topics.reference):
            assert committed[tp] == end, (tp, committed[tp], end)

    alerts = check_alerts(read_topic(s, s.topics.alerts), lines)
    assert len(alerts) > 50
    # every event judged by some worker: each officer's state names the events it has seen
    assert not (problem := unjudged(s, {f"a-{j}" for j in range(N_EVENTS)})), problem
    assert worker.alive(), worker.log_tail()


# -- the queue database goes away under the sink ---------------------------------------------


def _pg_ctl(action: str) -> None:
    """Stop or start the machine's PostgreSQL cluster (a system service here)."""
    version = sorted(p.name for p in Path("/etc/postgresql").iterdir())[-1]
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", action],
        check=True, timeout=60, capture_output=True,
    )  # fmt: skip


def _sink_alerts(start: int, n: int) -> list[Alert]:
    t0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
    out = []
    for i in range(start, start + n):
        ev = [f"e-{i}"]
        out.append(Alert(
            id=alert_id("access.canary", f"S{i % 7}", ev), detector="access.canary",
            category=Category.MISUSE_OF_SYSTEMS, officer=f"S{i % 7}",
            time=t0 + timedelta(minutes=i), raised_at=t0, severity="critical", score=95,
            title=f"Canary opened ({i})", explanation="x", evidence=ev, subjects=["P-1"],
        ))  # fmt: skip
    return out


def _publish_alerts(settings, alerts: list[Alert]) -> None:
    producer = KafkaProducer(bootstrap_servers=settings.bootstrap_servers, acks="all")
    for a in alerts:
        producer.send(settings.topics.alerts, key=a.officer.encode(),
                      value=orjson.dumps(a.to_json()))  # fmt: skip
    producer.flush()
    producer.close()


def _rows(store) -> tuple[int, set[str]]:
    with store.engine.connect() as c:
        ids = [row[0] for row in c.execute(text("select id from alerts"))]
    return len(ids), set(ids)


@pytest.fixture
def pg_store(request, tmp_path):
    store = make_store("postgres", tmp_path, request)
    yield store
    store.dispose()


@pytest.mark.postgres
@pytest.mark.timeout(180)
def test_postgres_stopped_under_the_sink_loses_and_doubles_nothing(stream_settings, pg_store):
    s = stream_settings
    before, during = _sink_alerts(0, 200), _sink_alerts(200, 150)
    _publish_alerts(s, before)
    sink = AlertSink(s, pg_store, max_backoff_s=0.5)
    thread = threading.Thread(target=sink.run, name="alert-sink", daemon=True)
    thread.start()
    try:
        wait_until(lambda: _rows(pg_store)[0] == len(before), 60, "the first alerts stored")

        def sample(name: str) -> float:
            return sink.registry.get_sample_value(name) or 0.0

        assert sample("probity_sink_store_up") == 1
        assert sample("probity_sink_store_errors_total") == 0
        outage_started = time.monotonic()
        _pg_ctl("stop")
        try:
            # new alerts and redeliveries of old ones arrive while the database is down
            _publish_alerts(s, during + before[:40])
            wait_until(
                lambda: sample("probity_sink_store_up") == 0
                and sample("probity_sink_store_errors_total") > 0,
                10, "the sink to see the outage",
            )  # fmt: skip
            errors_during = sample("probity_sink_store_errors_total")
            stored_during = sample("probity_sink_alerts_stored_total")
            time.sleep(1.0)  # a few retries, nothing committed meanwhile
            assert sample("probity_sink_alerts_stored_total") == stored_during
        finally:
            _pg_ctl("start")
        outage_s = time.monotonic() - outage_started
        wait_until(lambda: sample("probity_sink_store_up") == 1, 60, "the sink to recover")
        wait_until(lambda: _rows(pg_store)[0] >= len(before) + len(during), 60, "all alerts")
        time.sleep(1.0)  # anything doubled would land now
    finally:
        sink.stop()
        thread.join(timeout=30)
    assert not thread.is_alive()

    count, ids = _rows(pg_store)
    assert ids == {a.id for a in before + during}
    assert count == len(ids)  # no alert twice in the queue
    assert sample("probity_sink_store_errors_total") >= errors_during > 0
    assert sample("probity_sink_alerts_stored_total") == len(before) + len(during)
    assert sample("probity_sink_alerts_redelivered_total") >= 40
    assert outage_s < 30, f"the database was down {outage_s:.0f} s"
