"""A real worker process serves /metrics, /healthz and /readyz: after it has judged events
from two sources and bad bytes straight onto its topic, the live scrape says exactly what
happened, promtool finds nothing to complain about in it, and its log is JSON lines that
carry identifiers but not the content of events."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from kafka import KafkaProducer
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from probity.settings import Settings, to_env
from streams.broker import EmbeddedBroker, free_port
from streams.ingest import ingest_paths
from streams.replay import (
    WorkerProcess,
    read_topic,
    replay_settings,
    unique_alerts,
    wait_processed,
)
from streams.topics import ensure_topics

pytestmark = pytest.mark.broker

Labels = frozenset[tuple[str, str]]


def _event(eid: str, when: str, source: str, kind: str, **fields: Any) -> dict[str, Any]:
    return {"id": eid, "time": when, "source": source, "kind": kind, **fields}


#: intel (reference): one canary entry, one OCG nominal; athena: four views, one of the
#: canary, one of the nominal (an edge record for the graph agent, as is the listing); pnc:
#: two searches and one kind outside the contract (valid, counted as ``unknown``).
EVENTS = [
    _event("w1", "2026-03-01T06:00:00Z", "intel", "watchlist.upsert",
           attrs={"list": "canary", "person": "P-9"}),
    _event("w2", "2026-03-01T06:00:00Z", "intel", "watchlist.upsert",
           attrs={"list": "ocg_nominal", "person": "P-5", "group": "OCG-X"}),
    _event("a4", "2026-03-02T09:30:00Z", "athena", "record.view", actor="S8",
           record={"type": "person", "id": "P-5"}, purpose="INC-1"),
    _event("a1", "2026-03-02T09:00:00Z", "athena", "record.view", actor="S7",
           record={"type": "person", "id": "P-1"}),
    _event("a2", "2026-03-02T09:05:00Z", "athena", "record.view", actor="S7",
           record={"type": "person", "id": "P-9"}),
    _event("a3", "2026-03-02T10:30:00Z", "athena", "record.view", actor="S8",
           record={"type": "person", "id": "P-2"}),
    _event("p1", "2026-03-02T08:00:00Z", "pnc", "record.search", actor="S8",
           record={"type": "vehicle", "id": "AB12"}, attrs={"query": "VRM AB12", "results": 1}),
    _event("p2", "2026-03-02T11:15:00Z", "pnc", "record.search", actor="S7",
           record={"type": "vehicle", "id": "CD34"}, attrs={"query": "VRM CD34", "results": 0}),
    _event("p3", "2026-03-02T11:00:00Z", "pnc", "pnc.heartbeat", actor="S7"),
]  # fmt: skip

#: bytes published straight to the activity topic, and the reason class each must count as
INVALID = [
    (b"{", "json"),
    (b"[1,2]", "not_object"),
    (b'{"id":"x1","time":"nope","source":"pnc","kind":"record.search","actor":"S7"}', "bad_time"),
    (b'{"id":"x2","time":"2026-03-02T09:00:00Z","kind":"record.view","actor":"S7"}',
     "missing_field"),
    (b'{"id":"x3","time":"2026-03-02T09:00:00Z","source":"pnc","kind":"record.search",'
     b'"actor":"S7","attrs":{"results":"many"}}', "wrong_type"),
]  # fmt: skip


def _ts(when: str) -> float:
    return datetime.fromisoformat(when).timestamp()


#: the worker's ``metrics_token``: Prometheus's bearer token for /metrics
TOKEN = "worker-metrics-scrape-token"


def _get(url: str, authorization: str | None = None) -> tuple[int, bytes]:
    req = urllib.request.Request(url)
    if authorization is not None:
        req.add_header("Authorization", authorization)
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return int(resp.status), resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _wait_for(url: str, status: int, timeout_s: float, worker: WorkerProcess) -> None:
    deadline = time.monotonic() + timeout_s
    got: int | str = "nothing"
    while time.monotonic() < deadline:
        assert worker.alive(), worker.log_tail()
        try:
            got = _get(url)[0]
        except OSError as exc:  # not listening yet
            got = repr(exc)
        if got == status:
            return
        time.sleep(0.2)
    pytest.fail(f"{url} answered {got}, not {status}, within {timeout_s} s:\n{worker.log_tail()}")


def scrape(port: int) -> tuple[str, dict[str, dict[Labels, float]]]:
    """The exposition text of a live ``/metrics`` and its samples by name and label set."""
    assert _get(f"http://127.0.0.1:{port}/metrics")[0] == 401
    status, body = _get(f"http://127.0.0.1:{port}/metrics", f"Bearer {TOKEN}")
    assert status == 200
    text = body.decode()
    samples: dict[str, dict[Labels, float]] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            samples.setdefault(s.name, {})[frozenset(s.labels.items())] = s.value
    return text, samples


def by(samples: dict[str, dict[Labels, float]], name: str, *keys: str) -> dict[Any, float]:
    """One metric's values keyed by the given labels' values (a tuple when several)."""
    out: dict[Any, float] = {}
    for labels, value in samples.get(name, {}).items():
        d = dict(labels)
        key = tuple(d.get(k, "") for k in keys)
        out[key[0] if len(keys) == 1 else key] = value
    return out


class JsonLogWorker(WorkerProcess):
    """``probity worker`` with JSON logs, as deployed (:class:`WorkerProcess` asks for text)."""

    def start(self) -> None:
        env = {**os.environ, **to_env(self.settings), "PROBITY_LOG_FORMAT": "json"}
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "probity", "worker"],
                env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip


@dataclass
class Live:
    settings: Settings
    port: int
    worker: WorkerProcess
    alerts: list[dict[str, Any]]


@pytest.fixture(scope="module")
def live(broker: EmbeddedBroker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """One worker process, serving its web port, that has processed :data:`EVENTS` (two
    activity sources and a reference one) and :data:`INVALID` published straight to its topic."""
    tmp = tmp_path_factory.mktemp("live-worker")
    port = free_port()
    s = replay_settings(Settings(partitions=4, data_dir=str(tmp)), broker.url)
    s = s.model_copy(update={"worker_web_port": port, "metrics_token": SecretStr(TOKEN)})
    ensure_topics(s, s.bootstrap_servers)
    events_file = tmp / "events.jsonl"
    events_file.write_text("".join(json.dumps(e) + "\n" for e in EVENTS))
    summary = ingest_paths(s, s.bootstrap_servers, [str(events_file)])
    assert summary.invalid_total == 0
    offsets = dict(summary.end_offsets)
    producer = KafkaProducer(bootstrap_servers=s.bootstrap_servers, acks="all")
    try:
        for raw, _ in INVALID:
            meta = producer.send(s.topics.activity, key=b"S7", value=raw).get(timeout=10)
            tp = (meta.topic, meta.partition)
            offsets[tp] = max(offsets.get(tp, 0), meta.offset + 1)
    finally:
        producer.close()

    worker = JsonLogWorker(s, tmp / "worker.log")
    worker.start()
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_for(f"{base}/healthz", 200, 60, worker)
        _wait_for(f"{base}/readyz", 200, 60, worker)
        wait_processed(s, offsets, worker, timeout_s=120)
        alerts = unique_alerts(read_topic(s, s.topics.alerts))
        yield Live(s, port, worker, alerts)
    finally:
        worker.kill()


def test_live_worker_metrics_and_probes(live: Live) -> None:
    s, port, worker, alerts = live.settings, live.port, live.worker, live.alerts
    base = f"http://127.0.0.1:{port}"
    assert _get(f"{base}/healthz")[0] == 200
    assert _get(f"{base}/readyz")[0] == 200
    assert _get(f"{base}/nothing-here")[0] == 404
    assert {(a["detector"], a["officer"]) for a in alerts} >= {("access.canary", "S7")}

    # lag is read every 2 s from committed offsets: wait for the reading after the commits
    deadline = time.monotonic() + 15
    while True:
        text, samples = scrape(port)
        lag = by(samples, "probity_consumer_lag", "topic", "partition")
        if len(lag) == 2 * s.partitions + 1 and not any(lag.values()):
            break
        assert time.monotonic() < deadline, f"lag never 0: {lag}"
        time.sleep(0.5)
    # one worker owns every partition of both input topics, and the edges topic's one
    assert {topic for topic, _ in lag} == {s.topics.activity, s.topics.reference, s.topics.edges}

    expected_kinds = Counter(
        (e["source"], e["kind"] if e["kind"] != "pnc.heartbeat" else "unknown") for e in EVENTS
    )
    assert by(samples, "probity_events_total", "source", "kind") == dict(expected_kinds)
    assert by(samples, "probity_source_events_total", "source") == dict(
        Counter(e["source"] for e in EVENTS)
    )
    # the newest event time per source, whatever the order the events came in
    newest: dict[str, float] = {}
    for e in EVENTS:
        newest[e["source"]] = max(newest.get(e["source"], 0.0), _ts(e["time"]))
    assert by(samples, "probity_source_last_event_timestamp_seconds", "source") == newest
    seen = by(samples, "probity_source_last_seen_timestamp_seconds", "source")
    assert set(seen) == {"intel", "athena", "pnc"}
    assert all(time.time() - 300 < v <= time.time() for v in seen.values()), seen

    invalid = by(samples, "probity_events_invalid_total", "reason")
    assert {r: n for r, n in invalid.items() if n} == dict(Counter(c for _, c in INVALID))
    assert set(invalid) >= {"json", "other"}  # the closed set exists at zero
    dead = by(samples, "probity_dead_letters_total", "topic")
    assert dead == {s.topics.activity: len(INVALID), s.topics.reference: 0, s.topics.edges: 0}

    # the graph agent: the listing and the look-up of the nominal, nothing else
    assert samples["probity_edge_records_published_total"] == {frozenset(): 2.0}
    graph = by(samples, "probity_graph_records_total", "mode", "kind")
    assert {k: n for k, n in graph.items() if n} == {("judged", "reference"): 1.0,
                                                     ("judged", "lookup"): 1.0}
    deadline = time.monotonic() + 15  # the size gauges are refreshed every 5 s
    while samples["probity_graph_nodes"] != {frozenset(): 2.0}:  # P-5 and OCG-X
        assert time.monotonic() < deadline, samples["probity_graph_nodes"]
        time.sleep(0.5)
        _text, samples = scrape(port)
    assert samples["probity_graph_edges"] == {frozenset(): 1.0}

    raised = Counter((a["detector"], a["category"], a["severity"]) for a in alerts)
    assert by(samples, "probity_alerts_total", "detector", "category", "severity") == dict(raised)
    delays = samples["probity_event_to_alert_seconds_count"]
    assert sum(delays.values()) == len(alerts)
    evaluated = by(samples, "probity_detector_seconds_count", "detector")
    assert evaluated["access.canary"] >= 3  # it reads every record.view
    assert "probity_detector_seconds_bucket" in samples
    assert by(samples, "probity_findings_total", "detector")["access.canary"] >= 1

    # checkpoints: at least the one after the events, each officer's state written with it
    assert sum(samples["probity_checkpoint_seconds_count"].values()) >= 1
    officers = {e["actor"] for e in EVENTS if e.get("actor")}
    assert samples["probity_officer_states_written_total"][frozenset()] >= len(officers)

    assert samples["probity_partitions_assigned"] == {frozenset(): float(s.partitions)}
    assert samples["probity_worker_up"] == {frozenset(): 1.0}
    assert worker.alive()

    promtool = shutil.which("promtool")
    if promtool is None:
        if os.environ.get("CI") == "true":
            pytest.fail("promtool missing in CI: `make test` installs deploy/system-packages.txt")
        pytest.skip("promtool not installed (`make system-deps` installs it)")
    done = subprocess.run(
        [promtool, "check", "metrics"], input=text.encode(), capture_output=True, timeout=30,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0 and not (done.stdout + done.stderr).strip(), done


def test_live_worker_logs_json_lines_without_event_content(live: Live) -> None:
    """Every line the worker writes, faust's own included, is one JSON object; identifiers
    are there, the content of events is not."""
    time.sleep(2.5)  # a lag reading and more faust chatter after the processing
    text = live.worker.log_path.read_text(errors="replace")
    records = []
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            pytest.fail(f"not a JSON log line: {line[:200]!r}\n{live.worker.log_tail()}")
        assert isinstance(record, dict) and {"time", "level", "logger", "message"} <= set(record)
        records.append(record)
    by_message: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        by_message.setdefault(record["message"], []).append(record)
    assert {r["logger"] for r in records} >= {"streams.worker"}
    assert by_message["metrics served"][0]["port"] == live.port
    assert sorted(by_message["partitions assigned"][-1]["partitions"]) == [0, 1, 2, 3]
    dead = by_message["invalid event dead-lettered"]
    assert len(dead) == len(INVALID)
    assert {r["topic"] for r in dead} == {live.settings.topics.activity}
    assert {r["event_id"] for r in dead} == {None, "x1", "x2", "x3"}
    assert all(isinstance(r["offset"], int) and r["level"] == "WARNING" for r in dead)
    # never the content of an event or of the bad bytes
    for content in ("VRM AB12", "VRM CD34", "P-9", "many", "nope"):
        assert content not in text, content
