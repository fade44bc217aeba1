"""SIGKILL the worker mid-replay, start it again: every expected alert exactly once."""

from __future__ import annotations

import time

import pytest

from detectors.registry import build
from engine.pipeline import Pipeline
from models.events import decode_event
from streams.ingest import ingest_paths
from streams.replay import committed_offsets, read_topic, unique_alerts, wait_processed
from tests.streams.faults_helpers import make_events

pytestmark = [pytest.mark.broker, pytest.mark.slow]


def test_sigkill_mid_replay_loses_and_duplicates_nothing(stream_settings, worker_factory, tmp_path):
    s = stream_settings
    # enough that a fast worker is still busy at the kill (it judged 6,000 between two polls),
    # with < 256 events per officer (the ids each remembers)
    lines = make_events(40_000, seed=7, officers=400)
    expected = {a.id for a in Pipeline(build()).run(decode_event(x) for x in lines)}
    assert len(expected) > 10

    path = tmp_path / "events.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    summary = ingest_paths(s, s.bootstrap_servers, [str(path)])
    targets = {tp: off for tp, off in summary.end_offsets.items() if tp[0] == s.topics.activity}
    total = sum(targets.values())

    worker = worker_factory(s)
    worker.start()
    deadline = time.monotonic() + 120
    while True:  # kill once part of the work is committed, well before the end
        done = sum(committed_offsets(s, targets).values())
        if done > total * 0.15:
            break
        assert time.monotonic() < deadline, "worker made no progress"
        time.sleep(0.05)
    worker.kill()
    assert done < total, "finished before the kill: make the input larger"

    worker.start()
    wait_processed(s, summary.end_offsets, worker, timeout_s=240)
    raw = read_topic(s, s.topics.alerts)
    alerts = unique_alerts(raw)
    assert {a["id"] for a in alerts} == expected
    assert len(alerts) == len(expected)
