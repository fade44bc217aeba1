"""Scale-out on the real broker: two workers in one consumer group split the partitions and
raise the same alerts as one; a worker joining and leaving mid-replay loses and doubles
nothing."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from probity.settings import Settings
from streams.ingest import IngestSummary
from streams.replay import (
    committed_offsets,
    read_topic,
    unique_alerts,
    wait_processed,
)
from tests.streams.faults_helpers import (
    JsonLogWorker,
    activity_targets,
    check_alerts,
    fresh_settings,
    make_events,
    progress,
    publish,
    unjudged,
    wait_until,
)

pytestmark = [pytest.mark.broker, pytest.mark.slow]

ALL = [0, 1, 2, 3]  # stream_settings has four partitions


def _split(a: JsonLogWorker, b: JsonLogWorker) -> bool:
    """Both hold partitions, none twice, all held."""
    for w in (a, b):
        assert w.alive(), w.log_tail()
    pa, pb = a.owned(), b.owned()
    return bool(pa) and bool(pb) and not set(pa) & set(pb) and sorted(pa + pb) == ALL


def _publish_staged(s: Settings, lines: list[bytes], tmp_path: Path) -> IngestSummary:
    """Reference data first, then (once the workers' followers have it) the activity: in a
    live force the watch lists exist well before the look-ups they catch."""
    reference = [x for x in lines if b'"watchlist.' in x]
    activity = [x for x in lines if b'"watchlist.' not in x]
    summary = publish(s, reference, tmp_path, "reference")
    time.sleep(1.5)
    summary.merge(publish(s, activity, tmp_path, "activity"))
    return summary


def _finish(s: Settings, summary: IngestSummary, worker: JsonLogWorker) -> None:
    wait_processed(s, summary.end_offsets, worker, timeout_s=180)
    committed = committed_offsets(s, summary.end_offsets)
    for tp, end in summary.end_offsets.items():
        if tp[0] in (s.topics.activity, s.topics.reference):
            assert committed[tp] == end, (tp, committed[tp], end)


@pytest.mark.timeout(300)
def test_two_workers_split_the_partitions_and_raise_what_one_raises(
    broker, stream_settings, workers, tmp_path
):
    lines = make_events(6_000, seed=5)

    # one worker
    one = fresh_settings(broker, tmp_path / "one")
    solo = workers(one, "solo")
    solo.start()
    wait_until(lambda: solo.owned() == ALL or not solo.alive(), 60, "the lone worker")
    assert solo.alive(), solo.log_tail()
    summary = _publish_staged(one, lines, tmp_path / "one")
    _finish(one, summary, solo)
    alone = {a["id"] for a in check_alerts(read_topic(one, one.topics.alerts), lines)}
    solo.stop()

    # two workers in one group, on their own topics
    s = stream_settings
    a, b = workers(s, "a"), workers(s, "b")
    a.start()
    b.start()
    wait_until(lambda: _split(a, b), 90, "the two workers to split the partitions", poll_s=0.2)
    held = (a.owned(), b.owned())
    summary = _publish_staged(s, lines, tmp_path)
    _finish(s, summary, a)
    assert b.alive(), b.log_tail()
    assert (a.owned(), b.owned()) == held, "a rebalance happened during the run"
    pair = {x["id"] for x in check_alerts(read_topic(s, s.topics.alerts), lines)}
    assert pair == alone
    assert len(pair) > 20


@pytest.mark.timeout(300)
def test_a_worker_joining_and_leaving_mid_replay_loses_and_doubles_nothing(
    stream_settings, workers, tmp_path
):
    s = stream_settings
    # enough to feed the join for ~15 s and leave a backlog at the leave
    n = 150_000
    lines = make_events(n, seed=17, officers=1_000)  # < 256 events per officer
    reference = [x for x in lines if b'"watchlist.' in x]
    activity = [x for x in lines if b'"watchlist.' not in x]
    chunks = [activity[i : i + n // 3] for i in range(0, n, n // 3)]

    summary = publish(s, reference + chunks[0], tmp_path, "first")
    a = workers(s, "a")
    a.start()
    targets = activity_targets(s, summary)
    wait_until(lambda: progress(s, targets) >= 2_000, 90, "the first worker's progress")

    # events keep arriving through the join, so the rebalance strikes a busy worker however
    # fast it is (a backlog published beforehand was judged before a join completed)
    rest, joined, fed = chunks[1] + chunks[2], threading.Event(), []

    def feed() -> None:
        for k in range(0, len(rest), 2_000):
            fed.append(publish(s, rest[k : k + 2_000], tmp_path, f"feed-{k}"))
            if joined.is_set():
                return  # one slice after the join was seen
            time.sleep(0.3)

    feeder = threading.Thread(target=feed)
    feeder.start()
    b = workers(s, "b")
    b.start()  # joins while the first worker is being fed: a rebalance under load
    wait_until(lambda: _split(a, b), 90, "the joining worker to take partitions", poll_s=0.2)
    joined.set()
    feeder.join()
    assert len(fed) * 2_000 < len(rest), "everything fed before the join: feed longer"
    for part in fed:
        summary.merge(part)
    targets = activity_targets(s, summary)
    total = sum(targets.values())
    wait_until(lambda: progress(s, targets) >= total, 120, "the pair to judge what was fed")

    summary.merge(publish(s, rest[len(fed) * 2_000 :], tmp_path, "third"))
    b.stop()  # leaves (SIGTERM) with work outstanding: another rebalance under load
    assert not b.alive()
    targets = activity_targets(s, summary)
    assert progress(s, targets) < sum(targets.values()), "all done before the leave"
    wait_until(lambda: a.owned() == ALL or not a.alive(), 90, "the remaining worker alone")
    assert a.alive(), a.log_tail()

    _finish(s, summary, a)
    raw = read_topic(s, s.topics.alerts)
    alerts = check_alerts(raw, lines)
    assert len(alerts) > 100
    assert len(unique_alerts(raw)) == len(alerts)
    assert len(a.assignments()) >= 3  # alone, shared, alone again
    assert not (problem := unjudged(s, {f"a-{j}" for j in range(n)})), problem
