"""Bad input straight onto the worker's topics (not through ingest, which would filter it):
hypothesis builds malformed JSON, wrong types, huge strings, deep nesting, control characters,
invalid UTF-8 and boundary timestamps. The worker must stay up, dead-letter every bad record
with its reason, exact bytes and position, process every good one, and keep its memory."""

from __future__ import annotations

import time
import urllib.request

import psutil
import pytest
from kafka import KafkaProducer
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from models.deadletters import MAX_ORIGINAL, DeadLetter, Origin, load_dead_letter
from models.events import decode_event
from models.exceptions import DecodeError
from streams.broker import free_port
from streams.replay import read_topic, unique_alerts, wait_processed
from tests.streams.faults_helpers import JsonLogWorker, wait_until
from tests.streams.fuzz_helpers import PAYLOADS, UPSERT, VIEW, dumps, generate

pytestmark = [pytest.mark.broker, pytest.mark.slow]

N_EXAMPLES = 150


#: the worker's ``metrics_token``
TOKEN = "fuzz-metrics-scrape-token"


def _metrics(port: int) -> dict[str, float]:
    """Sum of each sample name over its labels, scraped from the worker with its token."""
    req = urllib.request.Request(f"http://127.0.0.1:{port}/metrics",
                                 headers={"Authorization": f"Bearer {TOKEN}"})  # fmt: skip
    with urllib.request.urlopen(req, timeout=5) as r:
        text = r.read().decode()
    out: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[sample.name] = out.get(sample.name, 0.0) + sample.value
    return out


def _ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


@pytest.mark.timeout(300)
def test_fuzzed_records_on_the_topics_are_dead_lettered_and_the_worker_holds(
    stream_settings, tmp_path
):
    # and one that is valid but whose officer state is keyed by a 1.2 MB actor id: a state
    # record over PROBITY_MAX_RECORD_BYTES, once a send that failed and stopped the worker
    nobody = {"type": "person", "id": "P-NOBODY"}  # on no list: no alert to send
    huge_actor = dumps({**VIEW, "id": "fz-huge", "actor": "S" * 1_200_000, "record": nobody,
                        "subjects": []})  # fmt: skip
    payloads = [*generate(PAYLOADS, N_EXAMPLES), huge_actor]
    assert len(payloads) >= 100
    port = free_port()
    s = stream_settings.model_copy(update={"worker_web_port": port,
                                           "metrics_token": SecretStr(TOKEN)})  # fmt: skip
    worker = JsonLogWorker(s, tmp_path / "worker.log")
    worker.start()
    try:
        wait_until(lambda: _ready(port) or not worker.alive(), 90, "the worker to be ready")
        assert worker.alive(), worker.log_tail()
        rss_before = psutil.Process(worker.proc.pid).memory_info().rss

        producer = KafkaProducer(
            bootstrap_servers=s.bootstrap_servers, acks="all", max_request_size=8 * 2**20,
            linger_ms=20,
        )  # fmt: skip
        sent: list[tuple[bytes, object]] = []
        canary = {**UPSERT, "id": "ok-w", "attrs": {"list": "canary", "person": "P-OK"}}
        sent.append((dumps(canary), producer.send(s.topics.reference, key=b"P-OK",
                                                   value=dumps(canary))))  # fmt: skip
        producer.flush()
        time.sleep(1.5)  # the reference follower polls every 200 ms
        bad: list[tuple[bytes, object]] = []
        valid = 0
        topics = (s.topics.activity, s.topics.reference)
        for i, raw in enumerate(payloads):
            try:
                event = decode_event(raw)  # the contract's own verdict is the oracle
            except DecodeError:
                future = producer.send(topics[i % 2], key=f"fuzz-{i}".encode(), value=raw)
                bad.append((raw, future))
                continue
            valid += 1
            topic = s.topics.reference if event.is_reference else s.topics.activity
            sent.append((raw, producer.send(topic, key=event.key.encode(), value=raw)))
        # good events after the garbage, on the same topics: processing must go on. (The
        # canary was listed first: a live worker judges a look-up against the reference data
        # it has read by then, so a list entry published a moment later would not count.)
        views = [
            {**VIEW, "id": f"ok-{i}", "actor": f"S-OK{i}", "time": f"2026-03-03T1{i}:00:00Z",
             "record": {"type": "person", "id": "P-OK"}, "subjects": ["P-OK"]}
            for i in range(8)
        ]  # fmt: skip
        for v in views:
            sent.append((dumps(v), producer.send(s.topics.activity, key=v["actor"].encode(),
                                                  value=dumps(v))))  # fmt: skip
        producer.flush()
        producer.close()
        ends: dict[tuple[str, int], int] = {}
        origin: dict[tuple[str, int, int], bytes] = {}
        good: set[tuple[str, int, int]] = set()
        for i, (raw, future) in enumerate(sent + bad):
            meta = future.get(timeout=30)
            tp = (meta.topic, meta.partition)
            ends[tp] = max(ends.get(tp, 0), meta.offset + 1)
            if i < len(sent):
                good.add((meta.topic, meta.partition, meta.offset))
            else:
                origin[(meta.topic, meta.partition, meta.offset)] = raw
        assert len(bad) >= 60, "the strategies should make mostly bad records"

        wait_processed(s, ends, worker, timeout_s=180)
        assert worker.alive(), worker.log_tail()

        # every bad record dead-lettered once, with a reason, its bytes and its position
        dead = [load_dead_letter(v) for v in read_topic(s, s.topics.dead_letters)]
        by_origin = {}
        for d in dead:
            key = (d.origin.topic, d.origin.partition, d.origin.offset)
            assert key not in by_origin, f"dead-lettered twice: {key}"
            by_origin[key] = d
        missing = sorted(set(origin) - set(by_origin))
        assert not missing, f"{len(missing)} bad records not dead-lettered, e.g. {missing[:3]}"
        for key, raw in origin.items():
            d = by_origin[key]
            assert d.reason.strip()
            if len(raw) > MAX_ORIGINAL:  # kept as a prefix: the dead letter must be sendable
                assert d.original_bytes == raw[:MAX_ORIGINAL]
                assert d.original_size == len(raw)
            else:
                assert d.original_bytes == raw
                assert d.original_size is None
        # a good record is dead-lettered only if judging it failed (a bug, kept, not lost)
        failed = {k: by_origin[k].reason for k in set(by_origin) - set(origin)}
        assert set(failed) <= good
        assert all(r.startswith("processing failed") for r in failed.values()), failed

        # every good record processed, the trailing canary views judged
        def judged() -> bool:
            alerts = unique_alerts(read_topic(s, s.topics.alerts))
            return {a["evidence"][0] for a in alerts if a["detector"] == "access.canary"} >= {
                v["id"] for v in views
            }

        wait_until(judged, 120, "the canary views after the garbage to raise alerts", poll_s=0.5)
        m = _metrics(port)
        assert m["probity_events_total"] == valid + 1 + len(views)
        assert m["probity_events_invalid_total"] == len(bad) + len(failed)
        assert m["probity_dead_letters_total"] == len(bad) + len(failed)
        assert m["probity_records_too_large_total"] >= 1  # the huge actor's state, not written

        rss_after = psutil.Process(worker.proc.pid).memory_info().rss
        grown = (rss_after - rss_before) / 2**20
        assert grown < 250, f"worker grew {grown:.0f} MB on {N_EXAMPLES} records"
    finally:
        worker.kill()


def test_a_dead_letter_of_a_huge_record_stays_sendable():
    """Base64 makes a 900 KB record 1.2 MB: over the 1 MB producer limit, the worker's send
    failed and the agent crashed, losing the rest of its batch. Now the dead letter keeps a
    prefix and the full size; the record itself stays at its origin."""
    raw = b'{"id":"' + b"\xff" * 900_000
    dl = DeadLetter.of(raw, "not valid JSON", Origin(topic="t", partition=0, offset=7), "x" * 900)
    assert len(dl.dumps()) < 1_000_000
    assert dl.original_bytes == raw[:MAX_ORIGINAL] and dl.original_size == len(raw)
    assert dl.event_id == "x" * 128
    small = DeadLetter.of(b"{", "not valid JSON", Origin(topic="t", partition=0, offset=8))
    assert small.original_bytes == b"{" and small.original_size is None
    assert b"original_size" not in small.dumps()
