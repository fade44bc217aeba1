"""Throughput: a bare aiokafka consumer (the ceiling) against a real worker process over the
same pre-loaded activity topic; the worker's whole run is the replay time."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import psutil
from aiokafka import AIOKafkaConsumer, TopicPartition

from devtools.bench.harness import fresh_topics, progress_rate
from devtools.bench.report import BenchResult
from probity.settings import Settings
from streams.ingest import ingest_paths
from streams.replay import WorkerProcess, committed_offsets


async def raw_consume(bootstrap: str, topic: str, expected: int) -> float:
    """Events/s of a bare aiokafka consumer reading ``expected`` records of ``topic``."""
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


def bench_pipeline(
    settings: Settings, bootstrap_url: str, force_path: Path, work: Path,
    say: Callable[[str], None], result: BenchResult,
) -> None:  # fmt: skip
    s = fresh_topics(settings, bootstrap_url)
    t_start = time.perf_counter()
    ingest = ingest_paths(s, s.bootstrap_servers, [str(force_path)])
    ingest_s = time.perf_counter() - t_start
    activity = {tp: off for tp, off in ingest.end_offsets.items() if tp[0] == s.topics.activity}
    total = sum(activity.values())
    say(f"raw consumer over {total:,} activity events")
    result.raw_eps = asyncio.run(raw_consume(s.bootstrap_servers, s.topics.activity, total))
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
        result.pipeline_eps = progress_rate(samples)
        # replay = ingest + the worker's whole run, start-up included (not the raw read)
        result.replay_s = ingest_s + (time.perf_counter() - t_worker)
        result.replay_events = ingest.published_total
        rss = psutil.Process(worker.proc.pid).memory_info().rss if worker.proc else 0
        result.notes.append(
            f"the pipeline worker held {rss / 2**20:.0f} MB resident after the "
            f"{ingest.published_total:,}-event force"
        )
    finally:
        worker.stop()
