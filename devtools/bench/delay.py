"""Event-to-alert delay at a fixed offered rate, against a bare relay offered the same load."""

from __future__ import annotations

import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from devtools.bench.harness import fresh_topics, start_worker
from devtools.bench.report import BenchResult
from probity.settings import Settings
from probity.transport import kafka_client_config
from streams.broker import embedded_broker


def _load_client_config(s: Settings) -> dict[str, Any]:
    """librdkafka settings for the delay measurement's own producer and consumer."""
    return {**kafka_client_config(s, "confluent"), "log_level": 3,  # errors only
            # the Java client's partitioner, as kafka-python's and aiokafka's: keys land on
            # the partitions ``streams.topics.partition_for`` names
            "partitioner": "murmur2_random"}  # fmt: skip


#: the delay baseline: the same clients and broker as the worker, no judging. A bare aiokafka
#: consumer (the worker's fetch wait) forwards each canary view as its alert with an aiokafka
#: producer (acks=all), in its own process as the worker is.


class _Relay:
    """:mod:`devtools.bench.relay` in a child process, started and stopped as a worker is."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        s, t = self.settings, self.settings.topics
        args = [s.bootstrap_servers, t.activity, t.alerts, str(s.fetch_max_wait_ms)]
        self.proc = subprocess.Popen(  # noqa: S603 - our interpreter, our code
            [sys.executable, "-m", "devtools.bench.relay", *args], stdout=subprocess.PIPE
        )
        assert self.proc.stdout is not None
        if self.proc.stdout.readline().strip() != b"ready":
            raise RuntimeError("the delay baseline's relay did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()


def bench_delay(
    settings: Settings, work: Path, rate: float, seconds: float,
    say: Callable[[str], None], result: BenchResult,
) -> None:  # fmt: skip
    """Live events at ``rate``/s, each stamped with the time it is due; a canary view every
    100: the delay from that time to its alert being read back. First through the relay (the
    baseline: broker and clients alone), then through a worker, each on a broker of its own:
    the embedded broker's fetches slow down as it holds more records (its bare relay's median
    delay grows from 16 ms to over a second in 40 s at 5,000/s), so neither may inherit the
    other's."""
    say(f"offering {rate:,.0f} events/s for {seconds:.0f} s to a bare relay, then a worker")
    with embedded_broker(log_dir=work / "delay-relay") as broker:
        s = fresh_topics(settings, broker.url)
        relay = _Relay(s)
        relay.start()
        _, delays = _offer(s, rate, seconds, stop=relay.stop)
    result.relay_p50_ms, result.relay_p99_ms = _percentiles(delays)
    result.relay_samples = len(delays)
    with embedded_broker(log_dir=work / "delay-worker") as broker:
        s = fresh_topics(settings, broker.url)
        _publish_canary(s)
        worker = start_worker(s, work / "delay.log")
        result.delay_rate_offered, delays = _offer(s, rate, seconds, stop=worker.stop)
    result.delay_p50_ms, result.delay_p99_ms = _percentiles(delays)
    result.delay_samples = len(delays)


def _percentiles(delays: list[float]) -> tuple[float, float]:
    if not delays:
        return 0.0, 0.0
    delays = sorted(delays)
    return statistics.median(delays), delays[min(len(delays) - 1, int(len(delays) * 0.99))]


def _publish_canary(s: Settings) -> None:
    """The watch list entry that makes every view of P-CANARY an alert."""
    from confluent_kafka import Producer

    producer = Producer({**_load_client_config(s), "acks": "all"})
    canary = {
        "id": "bench-canary", "time": "2020-01-01T00:00:00Z", "source": "intel",
        "kind": "watchlist.upsert", "attrs": {"list": "canary", "person": "P-CANARY"},
    }  # fmt: skip
    producer.produce(s.topics.reference, key=b"P-CANARY", value=orjson.dumps(canary))
    producer.flush(30)


def _offer(
    s: Settings, rate: float, seconds: float, stop: Callable[[], None]
) -> tuple[float, list[float]]:
    """Offer live views at ``rate``/s for ``seconds`` and read the canaries' alerts back;
    ``stop`` ends what judges them. Returns the rate offered and the delays in ms.

    The load and the reading use librdkafka (confluent-kafka), whose C client costs about
    1.5 us a record: kafka-python's ~60 us would have taken most of a core from the worker
    it measures on a 2-core machine. The reader asks for what has arrived every 5 ms: a
    longer wait for a full batch of the sparse alerts would add its own delay."""
    from confluent_kafka import Consumer, Producer
    from confluent_kafka import TopicPartition as CkPartition

    conf = _load_client_config(s)
    producer = Producer({**conf, "linger.ms": 2, "acks": "all"})
    consumer = Consumer({**conf, "group.id": f"{s.app_id}-delay", "enable.auto.commit": False,
                         "fetch.wait.max.ms": 10})  # fmt: skip
    parts = consumer.list_topics(s.topics.alerts, timeout=10).topics[s.topics.alerts].partitions
    consumer.assign([CkPartition(s.topics.alerts, p, 0) for p in parts])
    delays: list[float] = []
    done = threading.Event()

    def collect() -> None:
        while not done.is_set():
            for rec in consumer.consume(num_messages=500, timeout=0.005):
                value = rec.value()
                if rec.error() is not None or value is None:
                    continue
                now = time.time()
                alert = orjson.loads(value)
                if alert["detector"] == "access.canary":
                    t = datetime.fromisoformat(alert["time"]).timestamp()
                    delays.append((now - t) * 1000)

    reader = threading.Thread(target=collect, daemon=True)
    reader.start()
    interval, n = 1.0 / rate, 0
    t0, wall0 = time.perf_counter(), time.time()
    try:
        while (elapsed := time.perf_counter() - t0) < seconds:
            # every event due by now, each stamped with the moment it was due: a generator
            # that falls behind shows as delay, it does not hide it
            due_n = int(elapsed / interval) + 1
            while n < due_n:
                officer = f"S{n % 500}"
                person = "P-CANARY" if n % 100 == 0 else f"P-{n % 5000}"
                stamp = datetime.fromtimestamp(wall0 + n * interval, UTC).isoformat()
                ev = {"id": f"live-{n}", "time": stamp, "source": "athena",
                      "kind": "record.view", "actor": officer,
                      "record": {"type": "person", "id": person}}  # fmt: skip
                producer.produce(s.topics.activity, key=officer.encode(), value=orjson.dumps(ev))
                n += 1
            producer.poll(0)
            time.sleep(0.001)
        producer.flush(30)
        time.sleep(3)
    finally:
        done.set()
        reader.join(timeout=5)
        consumer.close()
        stop()
    return n / seconds, delays
