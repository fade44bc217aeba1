"""The graph agent on the real broker: two workers in one group, officers on different
workers' partitions, one graph fed by the derived edge stream. Convergence across workers and
a path through another worker's officer's call are found, with the alerts of one worker and
of the offline pipeline; a restarted worker rebuilds the graph from the edges topic."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaConsumer, KafkaProducer
from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient

from detectors.graph.association import AssociationGraph
from detectors.registry import build
from engine.pipeline import Pipeline
from models.deadletters import load_dead_letter
from models.edges import decode_edge
from models.events import decode_event
from probity.settings import Settings
from streams.ingest import IngestSummary
from streams.replay import read_topic, unique_alerts, wait_processed
from streams.topics import partition_for
from tests.streams.faults_helpers import JsonLogWorker, fresh_settings, publish, wait_until

pytestmark = [pytest.mark.broker, pytest.mark.slow]

ALL = [0, 1, 2, 3]  # four partitions


def _officers(partitions: list[int], n: int, prefix: str) -> list[str]:
    """``n`` officer ids whose activity lands on ``partitions``."""
    out = []
    i = 0
    while len(out) < n:
        name = f"{prefix}{i}"
        if partition_for(name, 4) in partitions:
            out.append(name)
        i += 1
    return out


SOURCES = {"staff.upsert": "hr", "watchlist.upsert": "intel", "call.made": "switch",
           "record.view": "athena"}


def _ev(i: str, t: str, kind: str, **kw: Any) -> bytes:
    return json.dumps({"id": i, "time": t, "source": SOURCES[kind], "kind": kind, **kw}).encode()


def force(on_a: list[str], on_b: list[str]) -> tuple[list[bytes], list[bytes]]:
    """Reference data, then activity. ``p`` (on worker A) calls the phone of ``q`` (on
    worker B) and looks up a nominal of OCG-A three times with no purpose: ``q`` is three
    links from OCG-A through ``p``'s call. ``c1`` (A), ``c2`` and ``c3`` (B) each look up a
    nominal of OCG-B within hours: a convergence only the whole force's look-ups show."""
    p, c1 = on_a
    q, c2, c3 = on_b
    reference = [
        _ev("w1", "2026-03-01T00:00:00Z", "watchlist.upsert",
            attrs={"list": "ocg_nominal", "person": "P-N1", "group": "OCG-A"}),
        _ev("w2", "2026-03-01T00:00:00Z", "watchlist.upsert",
            attrs={"list": "ocg_nominal", "person": "P-N2", "group": "OCG-B"}),
        _ev("hr-q", "2026-03-01T00:00:00Z", "staff.upsert",
            attrs={"staff_id": q, "phones": ["07700 900555"], "addresses": ["3 Elm Row"]}),
        _ev("hr-p", "2026-03-01T00:00:00Z", "staff.upsert",
            attrs={"staff_id": p, "addresses": ["8 Oak Road"]}),
    ]
    activity = [
        _ev("call-1", "2026-03-02T09:00:00Z", "call.made", actor=p,
            attrs={"number": "+447700900555"}),
        *[_ev(f"look-{n}", f"2026-03-0{n + 3}T10:00:00Z", "record.view", actor=p,
              record={"type": "person", "id": "P-N1"}) for n in range(3)],
        *[_ev(f"conv-{o}", f"2026-03-04T1{n}:00:00Z", "record.view", actor=o,
              record={"type": "person", "id": "P-N2"}, purpose="INC-77")
          for n, o in enumerate((c1, c2, c3))],
    ]  # fmt: skip
    return reference, activity


def _run(s: Settings, reference: list[bytes], activity: list[bytes], tmp_path: Path,
         worker: JsonLogWorker) -> dict[str, dict[str, Any]]:
    """Publish reference data, then (once the workers' followers have it) the activity; wait
    until everything, edge records included, is processed; the alerts by id."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    summary = IngestSummary()
    if reference:
        summary.merge(publish(s, reference, tmp_path, "reference"))
        time.sleep(1.5)
    summary.merge(publish(s, activity, tmp_path, "activity"))
    wait_processed(s, summary.end_offsets, worker, timeout_s=120)
    return {a["id"]: a for a in unique_alerts(read_topic(s, s.topics.alerts))}


def _offline(lines: list[bytes]) -> set[str]:
    events = [decode_event(x) for x in lines]
    return {a.id for a in Pipeline(build(), graph=AssociationGraph()).run(events)}


def _split(a: JsonLogWorker, b: JsonLogWorker) -> bool:
    for w in (a, b):
        assert w.alive(), w.log_tail()
    pa, pb = a.owned(), b.owned()
    return bool(pa) and bool(pb) and not set(pa) & set(pb) and sorted(pa + pb) == ALL


@pytest.mark.timeout(300)
def test_two_workers_find_what_crosses_their_partitions_as_one_worker_does(
    broker, workers, tmp_path
):
    pair = fresh_settings(broker, tmp_path / "pair")
    a, b = workers(pair, "a"), workers(pair, "b")
    a.start()
    b.start()
    wait_until(lambda: _split(a, b), 90, "the two workers to split the partitions", poll_s=0.2)
    on_a, on_b = _officers(a.owned() or [], 2, "SA"), _officers(b.owned() or [], 3, "SB")
    reference, activity = force(on_a, on_b)
    held = (a.owned(), b.owned())
    got = _run(pair, reference, activity, tmp_path / "pair", a)
    assert b.alive(), b.log_tail()
    assert (a.owned(), b.owned()) == held, "a rebalance happened during the run"

    association = {(x["detector"], x["officer"]) for x in got.values()
                   if x["detector"].startswith("association.")}  # fmt: skip
    p, c1 = on_a
    q, c2, c3 = on_b
    assert ("association.ocg_path", q) in association  # through p's call, on the other worker
    assert ("association.ocg_path", p) in association
    assert ("association.convergence", c3) in association  # c1's look-up is on the other worker
    path = next(x for x in got.values() if x["detector"] == "association.ocg_path"
                and x["officer"] == q)  # fmt: skip
    assert "call-1" in path["evidence"] and path["facts"]["hops"] == 3
    assert set(got) == _offline(reference + activity)

    # the edges topic holds derived records only: the graph-relevant reference events once,
    # the call, the look-up that reached the threshold and the look-ups of the nominals
    records = [decode_edge(v) for v in read_topic(pair, pair.topics.edges)]
    assert sorted(r.id for r in records) == sorted(
        ["w1", "w2", "hr-q", "hr-p", "call-1", "look-0", "look-1", "look-2",
         "conv-" + c1, "conv-" + c2, "conv-" + c3])  # fmt: skip
    crossing = next(r for r in records if r.looked_up)
    assert crossing.id == "look-2" and len(crossing.looked_up[0].evidence) == 3

    # one worker, the same events: the same alerts
    solo_s = fresh_settings(broker, tmp_path / "solo")
    solo = workers(solo_s, "solo")
    solo.start()
    wait_until(lambda: solo.owned() == ALL or not solo.alive(), 60, "the lone worker")
    assert set(_run(solo_s, reference, activity, tmp_path / "solo", solo)) == set(got)


@pytest.mark.timeout(300)
def test_a_restarted_worker_rebuilds_the_graph_from_the_edges_topic(
    broker, workers, tmp_path
):
    """What the graph learnt before the restart (q's phone, p's call) is applied again
    without being judged again; a look-up after the restart closes the path through it."""
    s = fresh_settings(broker, tmp_path)
    first = workers(s, "first")
    first.start()
    wait_until(lambda: first.owned() == ALL or not first.alive(), 60, "the worker")
    (p, c1), (q, c2, c3) = _officers(ALL, 2, "SA"), _officers(ALL, 3, "SB")
    reference, activity = force([p, c1], [q, c2, c3])
    before, after = activity[:3], activity[3:4]  # the call and two look-ups; the third
    # garbage on the edges topic is dead-lettered once (not again by the rebuild)
    producer = KafkaProducer(bootstrap_servers=s.bootstrap_servers, acks="all")
    bad = producer.send(s.topics.edges, key=b"S0", value=b'{"event": 1}').get(timeout=10)
    producer.close()
    got = _run(s, reference, before, tmp_path / "1", first)
    assert not [x for x in got.values() if x["detector"] == "association.ocg_path"]
    first.stop()

    again = workers(s, "again")
    again.start()
    wait_until(lambda: again.owned() == ALL or not again.alive(), 60, "the restarted worker")
    got = _run(s, [], after, tmp_path / "2", again)
    paths = {x["officer"] for x in got.values() if x["detector"] == "association.ocg_path"}
    assert paths == {p, q}
    assert set(got) == _offline(reference + before + after)
    raw = [json.loads(v) for v in read_topic(s, s.topics.alerts)]
    assert len([x for x in raw if x["detector"] == "association.ocg_path"]) == 2  # not rejudged
    (rebuilt,) = [r for r in _json_lines(again.log_path)
                  if r.get("message") == "graph caught up from the edges topic"]
    # the records before the restart (the garbage; w1, w2, hr-q, hr-p, the call, the two
    # look-ups of a nominal) read again, none judged again
    assert (rebuilt["from_offset"], rebuilt["applied"], rebuilt["judged"]) == (0, 8, 0)
    assert rebuilt["edges"] >= 4
    dead = [load_dead_letter(v) for v in read_topic(s, s.topics.dead_letters)]
    assert [(d.origin.topic, d.origin.offset) for d in dead] == [(s.topics.edges, bad.offset)]
    assert dead[0].reason.startswith("event")


def _json_lines(path: Path) -> list[dict[str, Any]]:
    out = []
    for line in path.read_text(errors="replace").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict):
            out.append(record)
    return out


def _runs_graph(w: JsonLogWorker) -> bool | None:
    said = [r["message"] for r in _json_lines(w.log_path)
            if r.get("message", "").startswith("graph agent ")]
    return said[-1] == "graph agent runs here" if said else None


@pytest.mark.timeout(300)
def test_the_graph_moves_with_its_partition_and_is_rebuilt_there(broker, workers, tmp_path):
    """The worker running the graph agent leaves: the other takes the edges partition,
    rebuilds the graph from the topic (nothing judged twice) and finds the path that the
    records after the move close through the records before it."""
    s = fresh_settings(broker, tmp_path)
    a, b = workers(s, "a"), workers(s, "b")
    a.start()
    b.start()
    wait_until(lambda: _split(a, b), 90, "the two workers to split the partitions", poll_s=0.2)
    wait_until(lambda: {_runs_graph(a), _runs_graph(b)} == {True, False}, 30, "one graph agent")
    holder, other = (a, b) if _runs_graph(a) else (b, a)
    (p, c1), (q, c2, c3) = _officers(ALL, 2, "SA"), _officers(ALL, 3, "SB")
    reference, activity = force([p, c1], [q, c2, c3])
    before, after = activity[:3], activity[3:4]
    _run(s, reference, before, tmp_path / "1", holder)
    holder.stop()
    wait_until(lambda: other.owned() == ALL and _runs_graph(other), 60, "the move")
    got = _run(s, [], after, tmp_path / "2", other)
    assert {x["officer"] for x in got.values() if x["detector"] == "association.ocg_path"} == {
        p, q}
    assert set(got) == _offline(reference + before + after)
    (rebuilt,) = [r for r in _json_lines(other.log_path)
                  if r.get("message") == "graph caught up from the edges topic"]
    assert (rebuilt["from_offset"], rebuilt["applied"], rebuilt["judged"]) == (0, 7, 0)


def test_the_edges_topic_is_one_partition_kept_forever(stream_settings):
    """The graph is rebuilt from the whole topic, by one agent (:func:`ensure_topics`)."""
    s = stream_settings
    admin = KafkaAdminClient(bootstrap_servers=s.bootstrap_servers)
    consumer = KafkaConsumer(bootstrap_servers=s.bootstrap_servers)
    try:
        partitions = consumer.partitions_for_topic(s.topics.edges)
        (response,) = admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, s.topics.edges)])
    finally:
        consumer.close()
        admin.close()
    assert partitions == {0}
    (configs,) = [r[4] for r in response.resources]
    assert ("retention.ms", "-1") in [(c[0], c[1]) for c in configs]
