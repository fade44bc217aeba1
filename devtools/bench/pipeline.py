"""Throughput: a bare aiokafka consumer (the ceiling) against real worker processes over the
same pre-loaded activity topic, in events/s and in CPU microseconds per event.

The two sides run interleaved, each round on a broker of its own with the force ingested
afresh (raw, worker, raw, worker): a machine busy with something else shows as spread between
the rounds, not as a different verdict. CPU time per event is the quieter figure: another
process taking the core slows a run down but leaves its CPU time about the same. Each round
ends with ``probity replay`` of the same force (its own broker, publishing, the replay
judges' start-up, judging and reading the alerts back: file to alerts file), timed whole and
set against the raw consumer's rate (:mod:`devtools.bench.replay_rounds` does this alone).

Then the scale-out: one worker, then two workers in one consumer group, over the same
partitions of the same force, each on a fresh broker: their combined rate against the one
worker's.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psutil
from aiokafka import AIOKafkaConsumer
from aiokafka import TopicPartition as AioPartition
from kafka import KafkaConsumer, TopicPartition

from devtools.bench.harness import fresh_topics, progress_rate
from devtools.bench.report import BenchResult, Run
from probity.settings import Settings
from probity.transport import kafka_client_config
from streams.broker import embedded_broker
from streams.ingest import IngestSummary, ingest_paths
from streams.replay import WorkerProcess
from streams.replay import replay as replay_files

#: the checkpoint interval of the scale-out runs (see :func:`bench_throughput`)
SCALE_OUT_COMMIT_S = 1.0


async def raw_consume(bootstrap: str, topic: str, expected: int) -> Run:
    """A bare aiokafka consumer reading ``expected`` records of ``topic``: events/s and this
    process's CPU time per event."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                                auto_offset_reset="earliest")  # fmt: skip
    await consumer.start()
    try:
        parts = consumer.partitions_for_topic(topic) or set()
        tps = [AioPartition(topic, p) for p in parts]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        n, start, cpu = 0, time.perf_counter(), time.process_time()
        while n < expected:
            batch = await consumer.getmany(timeout_ms=1000, max_records=10_000)
            n += sum(len(v) for v in batch.values())
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
        return Run(eps=n / wall, cpu_us=cpu / n * 1e6)
    finally:
        await consumer.stop()


@dataclass
class _Sample:
    t: float  # perf_counter
    done: int  # activity events committed by the group
    cpu: float  # CPU seconds of the workers so far


def _cpu(procs: list[psutil.Process]) -> float:
    total = 0.0
    for proc in procs:
        try:
            times = proc.cpu_times()
        except psutil.Error:  # exited: its last reading stands in the sample before
            continue
        total += times.user + times.system
    return total


def _cpu_per_event(samples: list[_Sample]) -> float:
    """The workers' CPU microseconds per event over the window :func:`progress_rate` times
    (from the first commit that moved to the last)."""
    moving = [s for s in samples if s.done > 0]
    if len(moving) < 2 or moving[-1].done == moving[0].done:
        return 0.0
    first, last = moving[0], moving[-1]
    return (last.cpu - first.cpu) / (last.done - first.done) * 1e6


def _workers_run(
    s: Settings, ingest: IngestSummary, work: Path, name: str, count: int
) -> tuple[Run, float, int]:
    """``count`` worker processes in one group over the ingested force, until the group has
    committed all of it. Returns the run, its wall time from start to end, and the first
    worker's resident memory at the end."""
    activity = {tp: off for tp, off in ingest.end_offsets.items() if tp[0] == s.topics.activity}
    wanted = {tp: off for tp, off in ingest.end_offsets.items()
              if tp[0] in (s.topics.activity, s.topics.reference)}  # fmt: skip
    workers = [
        WorkerProcess(s.model_copy(update={"data_dir": str(work / f"{name}-{k}")}),
                      work / f"{name}-{k}.log")
        for k in range(count)
    ]  # fmt: skip
    for w in workers:
        Path(w.settings.data_dir).mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    for w in workers:
        w.start()
    procs = [psutil.Process(w.proc.pid) for w in workers if w.proc is not None]
    samples: list[_Sample] = []
    # one client for every poll: a new one per poll would cost a connection each time
    progress = KafkaConsumer(**kafka_client_config(s, "kafka-python"), group_id=s.app_id,
                             enable_auto_commit=False, client_id="probity-bench-progress")
    try:
        while True:
            done = {tp: progress.committed(TopicPartition(*tp)) or 0 for tp in wanted}
            samples.append(_Sample(time.perf_counter(), sum(done[tp] for tp in activity),
                                   _cpu(procs)))  # fmt: skip
            if all(done[tp] >= off for tp, off in wanted.items()):
                break
            for w in workers:
                if not w.alive():
                    raise RuntimeError(f"bench worker died:\n{w.log_tail()}")
            time.sleep(0.1)
        wall = time.perf_counter() - began
        rss = procs[0].memory_info().rss if procs else 0
    finally:
        progress.close()
        for w in workers:
            w.stop()
    rate = progress_rate([(x.t, x.done) for x in samples])
    return Run(eps=rate, cpu_us=_cpu_per_event(samples)), wall, rss


def bench_throughput(
    settings: Settings, force_path: Path, work: Path, say: Callable[[str], None],
    result: BenchResult, *, rounds: int = 2, scale_out: int = 2, replay: bool = True,
) -> None:  # fmt: skip
    """``rounds`` rounds of raw consumer, one worker, then (``replay``) ``probity replay``
    of the force, each on a fresh broker; then one worker and ``scale_out`` workers together
    (0 or 1: no scale-out). Fills the result's runs and medians."""
    for i in range(1, rounds + 1):
        with embedded_broker(log_dir=work / f"throughput-{i}") as broker:
            s = fresh_topics(settings, broker.url)
            ingest = ingest_paths(s, s.bootstrap_servers, [str(force_path)])
            total = sum(off for tp, off in ingest.end_offsets.items()
                        if tp[0] == s.topics.activity)  # fmt: skip
            say(f"round {i}: raw consumer over {total:,} activity events")
            raw = asyncio.run(raw_consume(s.bootstrap_servers, s.topics.activity, total))
            result.raw_runs.append(raw)
            say(f"round {i}: pipeline worker (every detector)")
            run, _wall, rss = _workers_run(s, ingest, work, f"worker-{i}", 1)
            result.pipeline_runs.append(run)
        if i == 1:
            result.notes.append(
                f"the pipeline worker held {rss / 2**20:.0f} MB resident after the "
                f"{ingest.published_total:,}-event force"
            )
        if replay:
            say(f"round {i}: probity replay of the force, file to alerts file")
            summary = replay_files(
                settings.model_copy(update={"kafka": None}), [str(force_path)],
                alerts_out=work / f"replay-{i}.alerts.jsonl", work_dir=work / f"replay-{i}",
            )  # fmt: skip
            result.replay_runs.append(summary.seconds)
            result.replay_events = summary.events
    result.raw_eps = statistics.median(r.eps for r in result.raw_runs)
    if result.replay_runs:
        result.replay_s = statistics.median(result.replay_runs)
    result.pipeline_eps = statistics.median(r.eps for r in result.pipeline_runs)
    result.partitions = settings.partitions
    if scale_out < 2:
        return
    # one worker, then ``scale_out`` together, with checkpoints every second for both: at the
    # default interval a worker commits a short run's progress in one or two steps, too few
    # to time the group's combined rate between
    timed = settings.model_copy(update={"commit_interval_s": min(settings.commit_interval_s,
                                                                  SCALE_OUT_COMMIT_S)})
    runs = []
    for count in (1, scale_out):
        with embedded_broker(log_dir=work / f"scale-out-{count}") as broker:
            s = fresh_topics(timed, broker.url)
            ingest = ingest_paths(s, s.bootstrap_servers, [str(force_path)])
            say(f"scale-out: {count} worker(s) in one group over {s.partitions} partitions")
            runs.append(_workers_run(s, ingest, work, f"scale-out-{count}", count)[0])
    result.scaleout_workers = scale_out
    result.scaleout_single, result.scaleout = runs
