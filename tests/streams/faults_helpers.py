"""Shared pieces of the fault tests: a synthetic force with known alerts, publishing it, and
watching the worker group's committed progress on the real broker."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from kafka import KafkaConsumer, TopicPartition

from detectors.registry import build
from engine.codec import seen_token, seen_tokens, unpack_state
from engine.pipeline import Pipeline
from models.events import decode_event
from probity.settings import Settings, to_env
from streams.broker import EmbeddedBroker
from streams.ingest import IngestSummary, ingest_paths
from streams.replay import (
    READER_MAX_FRAME,
    WorkerProcess,
    committed_offsets,
    replay_settings,
    unique_alerts,
)
from streams.topics import ensure_topics

TP = tuple[str, int]


def make_events(n_activity: int, seed: int, officers: int = 120) -> list[bytes]:
    """Canaries and covert subjects planted among ordinary record views of many officers."""
    rng = random.Random(seed)
    t0 = datetime(2026, 3, 1, 6, tzinfo=UTC)
    lines: list[dict[str, object]] = []
    for i in range(5):
        lines.append(
            {
                "id": f"w-c{i}",
                "time": t0.isoformat(),
                "source": "intel",
                "kind": "watchlist.upsert",
                "attrs": {"list": "canary", "person": f"P-C{i}"},
            }
        )
        lines.append({"id": f"w-v{i}", "time": t0.isoformat(), "source": "intel",
                      "kind": "watchlist.upsert",
                      "attrs": {"list": "covert_subject", "person": f"P-V{i}",
                                "authorised": [f"S{i}"]}})  # fmt: skip
    for j in range(n_activity):
        t = t0 + timedelta(seconds=30 * j)
        officer = f"S{rng.randrange(officers)}"
        roll = rng.random()
        person = (
            f"P-C{rng.randrange(5)}"
            if roll < 0.004
            else f"P-V{rng.randrange(5)}"
            if roll < 0.008
            else f"P-{rng.randrange(5000)}"
        )
        record = {"type": "person", "id": person}
        lines.append({"id": f"a-{j}", "time": t.isoformat(), "source": "athena",
                      "kind": "record.view", "actor": officer,
                      "record": record, "subjects": [person]})  # fmt: skip
    return [json.dumps(x).encode() for x in lines]


def expected_alert_ids(lines: list[bytes]) -> set[str]:
    """What the worker must raise: the offline pipeline over the same events."""
    return {a.id for a in Pipeline(build()).run(decode_event(x) for x in lines)}


Version = tuple[str, str, tuple[str, ...], str]


def version(alert: dict[str, Any]) -> Version:
    """What an alert says, beyond its id: detector, officer, evidence, severity."""
    return (alert["detector"], alert["officer"], tuple(alert["evidence"]), alert["severity"])


def expected_versions(lines: list[bytes]) -> dict[str, set[Version]]:
    """Every alert the offline pipeline emits, not de-duplicated: an alert with a ``dedup``
    key (risk accumulation) is raised again under the same id as its evidence grows."""
    pipe = Pipeline(build())
    events = [decode_event(x) for x in lines]
    out: dict[str, set[Version]] = {}
    for e in events:
        if e.is_reference:
            pipe.process_reference(e)
    for e in events:
        if not e.is_reference:
            for a in pipe.process_activity(e):
                out.setdefault(a.id, set()).add(version(a.to_json()))
    return out


def check_alerts(raw: list[bytes], lines: list[bytes]) -> list[dict[str, Any]]:
    """The worker's alerts topic against the offline pipeline: after de-duplication by id,
    every expected alert once and nothing else; and every copy on the topic (redeliveries
    after a crash or rebalance) says something the offline pipeline also said."""
    want = expected_versions(lines)
    assert set(want) == expected_alert_ids(lines)  # no tick-only alerts in this input
    alerts = unique_alerts(raw)
    got = [a["id"] for a in alerts]
    assert len(got) == len(set(got))
    missing, extra = set(want) - set(got), set(got) - set(want)
    assert not missing and not extra, f"missing {sorted(missing)}, unexpected {sorted(extra)}"
    for value in raw:
        a = orjson.loads(value)
        assert version(a) in want[a["id"]], (a["id"], version(a), want[a["id"]])
    return alerts


def publish(
    settings: Settings, lines: list[bytes], tmp_path: Path, name: str = "events"
) -> IngestSummary:
    path = tmp_path / f"{name}.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    return ingest_paths(settings, settings.bootstrap_servers, [str(path)])


def activity_targets(settings: Settings, summary: IngestSummary) -> dict[TP, int]:
    return {tp: off for tp, off in summary.end_offsets.items() if tp[0] == settings.topics.activity}


def progress(settings: Settings, targets: dict[TP, int]) -> int:
    """Events the group has committed, summed over ``targets``' partitions."""
    done = committed_offsets(settings, targets)
    return sum(min(done[tp], off) for tp, off in targets.items())


def wait_until(check: Callable[[], bool], timeout_s: float, what: str, poll_s: float = 0.1) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")
        time.sleep(poll_s)


class JsonLogWorker(WorkerProcess):
    """``probity worker`` with JSON logs (as deployed), so tests can read the structured
    ``partitions assigned`` records (:class:`WorkerProcess` asks for text logs)."""

    def start(self) -> None:
        env = {**os.environ, **to_env(self.settings), "PROBITY_LOG_FORMAT": "json"}
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "probity", "worker"],
                env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip

    def assignments(self) -> list[list[int]]:
        """Each ``partitions assigned`` record of this worker's log, in order."""
        out = []
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return []
        for line in text.splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(record, dict) and record.get("message") == "partitions assigned":
                out.append(sorted(record["partitions"]))
        return out

    def owned(self) -> list[int] | None:
        """The partitions this worker holds now (its last assignment), None before any."""
        got = self.assignments()
        return got[-1] if got else None


def unjudged(settings: Settings, ids: set[str]) -> str:
    """Which of ``ids`` no officer's last changelogged state has seen (the worker keeps the
    most recent ``seen_ids_per_officer`` ids of each officer to skip redeliveries), told
    apart: judged once but the state that saw them was later overwritten, or never judged.
    Empty when all were judged."""
    latest: dict[bytes, bytes] = {}
    ever: set[str] = set()
    for key, value in read_records(settings, f"{settings.app_id}-officer-state-changelog"):
        latest[key] = value
        ever.update(seen_tokens(unpack_state(value)))
    final: set[str] = set()
    for value in latest.values():
        final.update(seen_tokens(unpack_state(value)))
    # states keep a token per event id (a hash), not the id
    missing = {i for i in ids if seen_token(i) not in final}
    if not missing:
        return ""
    lost_state = sorted(i for i in missing if seen_token(i) in ever)
    never = sorted(i for i in missing if seen_token(i) not in ever)
    return (
        f"{len(never)} events committed but never judged {never[:5]}; "
        f"{len(lost_state)} judged but missing from the officer's final state {lost_state[:5]}"
    )


def read_records(settings: Settings, topic: str) -> list[tuple[bytes, bytes]]:
    """(key, value) of every record in ``topic``, in partition order."""
    consumer = KafkaConsumer(
        bootstrap_servers=settings.bootstrap_servers, enable_auto_commit=False,
        consumer_timeout_ms=2000, receive_message_max_bytes=READER_MAX_FRAME,
    )  # fmt: skip
    try:
        tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        return [(r.key, r.value) for r in consumer if r.value is not None]
    finally:
        consumer.close()


def fresh_settings(broker: EmbeddedBroker, tmp_path: Path) -> Settings:
    """Settings with run-scoped topics and group on ``broker`` (topics created), four
    partitions, data under ``tmp_path``; batches of 500 records and checkpoints every 0.3 s
    (not 5,000 and 5 s), so that the crash and rebalance tests strike between checkpoints of
    inputs a fast worker judges in seconds."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    base = Settings(partitions=4, data_dir=str(tmp_path), commit_interval_s=0.3, batch_size=500)
    s = replay_settings(base, broker.url)
    ensure_topics(s, s.bootstrap_servers)
    return s
