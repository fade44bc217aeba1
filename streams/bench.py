"""``probity bench``: speed and memory measured against a baseline in the same run.

Everything runs on the embedded broker on this machine, all detectors registered:

1. **raw baseline**: a bare aiokafka consumer reads the pre-loaded activity topic of a
   simulated force (the ceiling: no decoding, no detectors);
2. **pipeline**: a real worker process (faust, every detector) consumes the same topic;
   events/s from the group's committed offsets, and its ratio to the baseline;
3. **replay**: the whole force (reference + activity) through ingest and that worker, the
   time ``probity replay`` needs (broker start excluded);
4. **delay**: event time → alert received, p50/p99, with live events offered at a fixed rate
   (below saturation) and a canary view in every 100 events; its baseline is a bare relay
   (the worker's clients and fetch wait, no judging) offered the same load in the same run;
5. **memory**: resident memory of a worker's pipeline state (reference data, officer state,
   association graph) after a synthetic history of many staff over 21 days, in a child
   process, against the same child's memory before loading (the baseline).

Results print as one table and are written as JSON. Targets are those of issue 8; a missed
target shows how far off it is.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from probity.settings import Settings
from streams.broker import embedded_broker, free_port
from streams.ingest import ingest_paths
from streams.replay import WorkerProcess, committed_offsets, replay_settings
from streams.topics import ensure_topics

TARGETS = {
    "pipeline_ratio": 0.04,
    "delay_p99_ms": 250.0,
    "worker_rss_mb": 250.0,
    "replay_s": 60.0,
}


@dataclass
class BenchResult:
    machine: dict[str, Any]
    events: int
    raw_eps: float = 0.0
    pipeline_eps: float = 0.0
    replay_s: float = 0.0
    replay_events: int = 0
    delay_rate_offered: float = 0.0
    delay_p50_ms: float = 0.0
    delay_p99_ms: float = 0.0
    delay_samples: int = 0
    relay_p50_ms: float = 0.0
    relay_p99_ms: float = 0.0
    relay_samples: int = 0
    memory_staff: int = 0
    memory_events: int = 0
    worker_rss_mb: float = 0.0
    baseline_rss_mb: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        return self.pipeline_eps / self.raw_eps if self.raw_eps else 0.0

    def table(self) -> str:
        def verdict(ok: bool) -> str:
            return "met" if ok else "MISSED"

        rows = [
            ("raw aiokafka consumer (baseline)", f"{self.raw_eps:,.0f} events/s", "", ""),
            ("pipeline, all detectors, 1 worker", f"{self.pipeline_eps:,.0f} events/s",
             f"{self.ratio:.2%} of baseline",
             f">= 4%: {verdict(self.ratio >= TARGETS['pipeline_ratio'])}"),
            (f"replay of {self.replay_events:,} events", f"{self.replay_s:.1f} s", "",
             f"< 60 s: {verdict(self.replay_s < TARGETS['replay_s'])}"),
            (f"event-to-alert delay at {self.delay_rate_offered:,.0f}/s offered",
             f"p50 {self.delay_p50_ms:.0f} ms, p99 {self.delay_p99_ms:.0f} ms",
             f"relay p50 {self.relay_p50_ms:.0f}, p99 {self.relay_p99_ms:.0f} ms",
             f"p99 < 250 ms: {verdict(0 < self.delay_p99_ms < TARGETS['delay_p99_ms'])}"),
            (f"worker memory, {self.memory_staff:,} staff, 21 days",
             f"{self.worker_rss_mb:.0f} MB resident",
             f"baseline {self.baseline_rss_mb:.0f} MB, {self.memory_events:,} events",
             f"< 250 MB: {verdict(self.worker_rss_mb < TARGETS['worker_rss_mb'])}"),
        ]  # fmt: skip
        widths = [max(len(r[i]) for r in rows) for i in range(4)]
        lines = [
            f"Probity bench on {self.machine['cpus']} CPUs, {self.machine['python']}, "
            f"{self.machine.get('build', '?')} build, {self.events:,}-event simulated force"
        ]
        for r in rows:
            lines.append("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["ratio"] = self.ratio
        data["targets"] = TARGETS
        return data


def build_kind() -> str:
    """Which build runs: ``native`` (``make native``: detectors compiled with mypyc) or
    ``pure`` Python (an editable development install)."""
    import importlib.machinery

    import detectors.access.no_purpose

    compiled = str(detectors.access.no_purpose.__file__).endswith(
        tuple(importlib.machinery.EXTENSION_SUFFIXES)
    )
    return "native" if compiled else "pure"


def _machine() -> dict[str, Any]:
    import platform

    return {
        "cpus": os.cpu_count(),
        "build": build_kind(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def write_force(staff: int, days: int, seed: int, path: Path) -> int:
    from simulation.generator import Force

    events = Force(staff=staff, days=days, seed=seed).events()
    with path.open("wb") as fh:
        for ev in events:
            fh.write(orjson.dumps(ev) + b"\n")
    return len(events)


async def _raw_consume(bootstrap: str, topic: str, expected: int) -> float:
    """Events/s of a bare aiokafka consumer reading ``expected`` records of ``topic``."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                                auto_offset_reset="earliest")  # fmt: skip
    await consumer.start()
    try:
        parts = consumer.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in parts]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        n, start = 0, time.perf_counter()
        while n < expected:
            batch = await consumer.getmany(timeout_ms=1000, max_records=10_000)
            n += sum(len(v) for v in batch.values())
        return n / (time.perf_counter() - start)
    finally:
        await consumer.stop()


def _progress_rate(samples: list[tuple[float, int]]) -> float:
    """Events/s between the first and the last commit that moved (start-up excluded)."""
    moving = [(t, n) for t, n in samples if n > 0]
    if len(moving) < 2:
        return 0.0
    (t0, n0), (t1, n1) = moving[0], moving[-1]
    return (n1 - n0) / (t1 - t0) if t1 > t0 else 0.0


def bench_pipeline(
    settings: Settings, bootstrap_url: str, force_path: Path, work: Path,
    say: Callable[[str], None], result: BenchResult,
) -> None:  # fmt: skip
    s = _fresh_topics(settings, bootstrap_url)
    t_start = time.perf_counter()
    ingest = ingest_paths(s, s.bootstrap_servers, [str(force_path)])
    ingest_s = time.perf_counter() - t_start
    activity = {tp: off for tp, off in ingest.end_offsets.items() if tp[0] == s.topics.activity}
    total = sum(activity.values())
    say(f"raw consumer over {total:,} activity events")
    result.raw_eps = asyncio.run(_raw_consume(s.bootstrap_servers, s.topics.activity, total))
    say("pipeline worker (every detector)")
    worker = WorkerProcess(s, work / "bench-worker.log")
    t_worker = time.perf_counter()
    worker.start()
    samples: list[tuple[float, int]] = []
    wanted = {tp: off for tp, off in ingest.end_offsets.items()
              if tp[0] in (s.topics.activity, s.topics.reference)}  # fmt: skip
    try:
        while True:
            done = committed_offsets(s, wanted)
            samples.append((time.perf_counter(), sum(done[tp] for tp in activity)))
            if all(done[tp] >= off for tp, off in wanted.items()):
                break
            if not worker.alive():
                raise RuntimeError(f"bench worker died:\n{worker.log_tail()}")
            time.sleep(0.25)
        result.pipeline_eps = _progress_rate(samples)
        # replay = ingest + the worker's whole run, start-up included (not the raw read)
        result.replay_s = ingest_s + (time.perf_counter() - t_worker)
        result.replay_events = ingest.published_total
        import psutil

        rss = psutil.Process(worker.proc.pid).memory_info().rss if worker.proc else 0
        result.notes.append(
            f"the pipeline worker held {rss / 2**20:.0f} MB resident after the "
            f"{ingest.published_total:,}-event force"
        )
    finally:
        worker.stop()


def _load_client_config(bootstrap: str) -> dict[str, Any]:
    """librdkafka settings for the delay measurement's own producer and consumer."""
    return {"bootstrap.servers": bootstrap, "log_level": 3,  # errors only
            # the Java client's partitioner, as kafka-python's and aiokafka's: keys land on
            # the partitions ``streams.topics.partition_for`` names
            "partitioner": "murmur2_random"}  # fmt: skip


#: the delay baseline: the same clients and broker as the worker, no judging. A bare aiokafka
#: consumer (the worker's fetch wait) forwards each canary view as its alert with an aiokafka
#: producer (acks=all), in its own process as the worker is.
_RELAY_CHILD = r"""
import asyncio, sys, orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
bootstrap, activity, alerts, wait_ms = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
async def main():
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                                fetch_max_wait_ms=wait_ms)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await consumer.start(); await producer.start()
    tps = [TopicPartition(activity, p) for p in sorted(consumer.partitions_for_topic(activity))]
    consumer.assign(tps); await consumer.seek_to_end(*tps)
    for tp in tps:
        await consumer.position(tp)
    print("ready", flush=True)
    while True:
        got = await consumer.getmany(timeout_ms=wait_ms, max_records=5000)
        for records in got.values():
            for r in records:
                event = orjson.loads(r.value)
                if event["record"]["id"] == "P-CANARY":
                    alert = {"detector": "access.canary", "time": event["time"]}
                    await producer.send(alerts, orjson.dumps(alert), key=r.key)
asyncio.run(main())
"""


class _Relay:
    """:data:`_RELAY_CHILD` in a child process, started and stopped as a worker is."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        s, t = self.settings, self.settings.topics
        args = [s.bootstrap_servers, t.activity, t.alerts, str(s.fetch_max_wait_ms)]
        self.proc = subprocess.Popen(  # noqa: S603 - our interpreter, our code
            [sys.executable, "-c", _RELAY_CHILD, *args], stdout=subprocess.PIPE
        )
        assert self.proc.stdout is not None
        if self.proc.stdout.readline().strip() != b"ready":
            raise RuntimeError("the delay baseline's relay did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()


def _start_worker(settings: Settings, log: Path) -> WorkerProcess:
    """A worker process, once its /readyz says so (at most 90 s)."""
    import urllib.request

    port = free_port()
    worker = WorkerProcess(settings.model_copy(update={"worker_web_port": port}), log)
    worker.start()
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as r:
                if r.status == 200:
                    break
        except OSError:
            time.sleep(0.3)
    return worker


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
        s = _fresh_topics(settings, broker.url)
        relay = _Relay(s)
        relay.start()
        _, delays = _offer(s, rate, seconds, stop=relay.stop)
    result.relay_p50_ms, result.relay_p99_ms = _percentiles(delays)
    result.relay_samples = len(delays)
    with embedded_broker(log_dir=work / "delay-worker") as broker:
        s = _fresh_topics(settings, broker.url)
        _publish_canary(s)
        worker = _start_worker(s, work / "delay.log")
        result.delay_rate_offered, delays = _offer(s, rate, seconds, stop=worker.stop)
    result.delay_p50_ms, result.delay_p99_ms = _percentiles(delays)
    result.delay_samples = len(delays)


def _fresh_topics(settings: Settings, bootstrap_url: str) -> Settings:
    """Run-scoped topics on ``bootstrap_url``, created."""
    s = replay_settings(settings, bootstrap_url)
    ensure_topics(s, s.bootstrap_servers)
    return s


def _percentiles(delays: list[float]) -> tuple[float, float]:
    if not delays:
        return 0.0, 0.0
    delays = sorted(delays)
    return statistics.median(delays), delays[min(len(delays) - 1, int(len(delays) * 0.99))]


def _publish_canary(s: Settings) -> None:
    """The watch list entry that makes every view of P-CANARY an alert."""
    from confluent_kafka import Producer

    producer = Producer({**_load_client_config(s.bootstrap_servers), "acks": "all"})
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

    conf = _load_client_config(s.bootstrap_servers)
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


_MEMORY_CHILD = r"""
import gc, json, sys, psutil
from streams.bench import synthetic_history
from streams.officer_state import OfficerStore
from detectors.graph.association import AssociationGraph
from detectors.registry import build
from models.events import decode_obj
from streams.pipeline import Pipeline
from probity.runtime import tune_gc
from probity.settings import Settings
proc = psutil.Process()
staff, days, graph = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "graph"
settings = Settings()
# the worker's own store, without its changelog, packed and trimmed at checkpoints as the
# worker's is when it is busy for whole commit intervals: only when it is full after a batch
# (the most it keeps decoded)
officers = OfficerStore("memory-child", "", cache_size=settings.officer_cache_size)
p = Pipeline(build(), officers=officers, graph=AssociationGraph() if graph else None)
tune_gc(settings)
gc.collect(); base = proc.memory_info().rss
n, touched = 0, {}
for ev in synthetic_history(staff, days):
    event = decode_obj(ev)
    p.process(event); n += 1
    if event.actor is not None and not event.is_reference:
        touched[event.actor] = 0
    if n % settings.batch_size == 0 and officers.full():
        officers.pack(touched); touched.clear()
officers.pack(touched)
gc.collect()
print(json.dumps({"base": base, "rss": proc.memory_info().rss, "events": n,
                  "decoded": len(officers.cache), "packed": len(officers.data)}))
"""


def synthetic_history(staff: int, days: int, seed: int = 9) -> Iterator[dict[str, Any]]:
    """A large force's history, generated lazily (nothing kept): for every member of staff a
    record, vetting, one rostered shift a day, a task every other day, and each day a login,
    a look-up of a subject (task-linked or not) and a logout; watchlists of 1% of subjects."""
    import random
    from datetime import timedelta

    rng = random.Random(seed)  # noqa: S311 - synthetic data, not security
    t0 = datetime(2026, 3, 2, tzinfo=UTC)
    persons = staff * 20
    n = 0

    def ev(t: datetime, kind: str, **kw: Any) -> dict[str, Any]:
        nonlocal n
        n += 1
        return {"id": f"h{n}", "time": t.isoformat(), "source": "hist", "kind": kind, **kw}

    for i in range(0, persons, 100):
        lst = ("vip", "ocg_nominal", "vulnerable_victim", "covert_subject")[i // 100 % 4]
        yield ev(t0, "watchlist.upsert",
                 attrs={"list": lst, "person": f"P{i}", "group": f"G{i % 50}"})  # fmt: skip
    for s in range(staff):
        sid = f"S{s}"
        yield ev(t0, "staff.upsert", attrs={
            "staff_id": sid, "name": f"Officer {s}", "dob": "1985-01-01", "role": "response",
            "unit": f"U{s % 40}", "addresses": [f"{s} High St"], "phones": [f"+4477{s:08d}"],
            "status": "active"})  # fmt: skip
        yield ev(t0, "vetting.changed",
                 attrs={"staff_id": sid, "level": "RV", "status": "granted"})  # fmt: skip
    for d in range(days):
        day = t0 + timedelta(days=d)
        for s in range(staff):
            sid = f"S{s}"
            start = day + timedelta(hours=7 if s % 3 else 22)
            yield ev(day, "shift.rostered", attrs={
                "staff_id": sid, "start": start.isoformat(),
                "end": (start + timedelta(hours=9)).isoformat()})  # fmt: skip
            subject = f"P{rng.randrange(persons)}"
            purpose = None
            if (s + d) % 2 == 0:
                purpose = f"T{d}-{s}"
                yield ev(
                    start,
                    "task.assigned",
                    attrs={"ref": purpose, "staff_ids": [sid], "subjects": [subject]},
                )
            yield ev(start + timedelta(minutes=5), "auth.login", actor=sid)
            yield ev(start + timedelta(hours=2), "record.view", actor=sid, purpose=purpose,
                     record={"type": "person", "id": subject}, subjects=[subject])  # fmt: skip
            yield ev(start + timedelta(hours=8), "auth.logout", actor=sid)


def bench_memory(staff: int, days: int, result: BenchResult, *, graph: bool = True) -> None:
    """Resident memory of a worker's pipeline state after a large force's history, in a child
    process; the child's memory before loading is the baseline. ``graph=False`` leaves out
    the association graph (it lives in the one graph agent, not in every worker)."""
    out = subprocess.run(  # noqa: S603 - our interpreter, our code
        [sys.executable, "-c", _MEMORY_CHILD, str(staff), str(days),
         "graph" if graph else "nograph"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    data = json.loads(out.stdout.strip().splitlines()[-1])
    result.memory_staff = staff
    result.memory_events = data["events"]
    result.worker_rss_mb = data["rss"] / 2**20
    result.baseline_rss_mb = data["base"] / 2**20


def run_bench(
    settings: Settings, *, staff: int = 340, days: int = 21, rate: float = 5000.0,
    delay_seconds: float = 20.0, memory_staff: int = 10_000, memory_days: int = 21,
    say: Callable[[str], None] = print,
) -> BenchResult:  # fmt: skip
    """Run every measurement; see the module docstring."""
    result = BenchResult(machine=_machine(), events=0)
    with tempfile.TemporaryDirectory(prefix="probity-bench-") as tmp:
        work = Path(tmp)
        force = work / "force.jsonl"
        say(f"simulating {staff} staff over {days} days")
        result.events = write_force(staff, days, 1, force)
        s = settings.model_copy(update={"data_dir": str(work)})
        with embedded_broker(log_dir=work) as broker:
            bench_pipeline(s, broker.url, force, work, say, result)
        offered = rate
        if result.pipeline_eps and rate > 0.7 * result.pipeline_eps:
            offered = max(50.0, round(0.5 * result.pipeline_eps, -1))
            result.notes.append(
                f"delay measured at {offered:,.0f}/s offered, not {rate:,.0f}/s: the "
                f"pipeline saturates at about {result.pipeline_eps:,.0f}/s"
            )
        bench_delay(s, work, offered, delay_seconds, say, result)
        if result.relay_p99_ms >= TARGETS["delay_p99_ms"]:
            result.notes.append(
                f"the delay's baseline, a bare relay (no judging) offered the same load on a "
                f"broker of its own, has p99 {result.relay_p99_ms:,.0f} ms itself: the broker's "
                f"tail, not the worker's"
            )
    say(f"memory: {memory_staff:,} staff, {memory_days} days of history")
    bench_memory(memory_staff, memory_days, result)
    return result


@dataclass
class OfflineResult:
    """The processing core without Kafka, against a raw ``orjson.loads`` loop in the same run."""

    events: int
    alerts: int
    loads_eps: float
    decode_eps: float
    pipeline_eps: float
    graph: bool

    def line(self) -> str:
        return (
            f"offline core, {build_kind()} build ({'with' if self.graph else 'without'} graph): "
            f"{self.pipeline_eps:,.0f} events/s decoded and judged, {self.alerts} alerts; "
            f"decode alone {self.decode_eps:,.0f}/s; raw orjson.loads {self.loads_eps:,.0f}/s "
            f"({self.pipeline_eps / self.loads_eps:.2%} of it)"
        )


def bench_offline(
    events_path: Path, *, graph: bool = True, alerts_out: Path | None = None,
    settings: Settings | None = None,
) -> OfflineResult:  # fmt: skip
    """Decode and judge a force's events with every detector as the worker would, no Kafka.

    Timed in CPU seconds of this process (other processes on the machine disturb it less than
    wall-clock time): decoding (the bytes as read from the topic) plus :meth:`Pipeline.run`.
    The baseline is ``orjson.loads`` over the same lines. ``alerts_out`` gets every alert as
    sorted JSON lines without the wall-clock ``raised_at``, to compare two versions. The
    collector is tuned as the worker tunes it (:func:`probity.runtime.tune_gc` with
    ``settings``) for the run and restored afterwards."""
    import gc

    thresholds = gc.get_threshold()
    try:
        return _offline(events_path, graph, alerts_out, settings or Settings())
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)


def _offline(
    events_path: Path, graph: bool, alerts_out: Path | None, settings: Settings
) -> OfflineResult:
    from detectors.graph.association import AssociationGraph
    from detectors.registry import build
    from models.events import decode_event
    from probity.runtime import tune_gc
    from streams.pipeline import Pipeline

    lines = events_path.read_bytes().splitlines()
    t0 = time.process_time()
    for raw in lines:
        orjson.loads(raw)
    loads_s = time.process_time() - t0
    t0 = time.process_time()
    events = [decode_event(raw) for raw in lines]
    decode_s = time.process_time() - t0
    del events
    pipeline = Pipeline(build(), graph=AssociationGraph() if graph else None)
    tune_gc(settings)
    t0 = time.process_time()
    alerts = pipeline.run(decode_event(raw) for raw in lines)
    run_s = time.process_time() - t0
    if alerts_out is not None:
        rows = []
        for a in alerts:
            data = a.to_json()
            data.pop("raised_at", None)
            rows.append(orjson.dumps(data, option=orjson.OPT_SORT_KEYS))
        alerts_out.write_bytes(b"\n".join(sorted(rows)) + b"\n")
    n = len(lines)
    return OfflineResult(events=n, alerts=len(alerts), loads_eps=n / loads_s,
                         decode_eps=n / decode_s, pipeline_eps=n / run_s, graph=graph)  # fmt: skip
