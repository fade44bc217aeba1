"""Replay: files through the real pipeline (broker, topics, a worker process) to alert files.

Answers "would we have caught this?": the alerts are those live processing of the files would
have given, because reference events take effect from their event time and detectors reason
on event time only. Replays use their own topics and consumer group, so a replay against a
shared broker never mixes with live traffic.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from kafka import KafkaConsumer, TopicPartition

from models.deadletters import DeadLetter, load_dead_letter
from probity.settings import Settings, Topics, to_env
from probity.transport import kafka_client_config
from streams.broker import broker_for, die_with_parent
from streams.exceptions import ReplayError
from streams.ingest import IngestSummary, ingest_paths
from streams.topics import agents_group, ensure_topics


@dataclass
class ReplaySummary:
    events: int = 0
    invalid: int = 0
    alerts: list[dict[str, Any]] = field(default_factory=list)
    dead_letters: list[DeadLetter] = field(default_factory=list)
    seconds: float = 0.0

    def by_detector(self) -> Counter[str]:
        return Counter(a["detector"] for a in self.alerts)

    def lines(self) -> list[str]:
        rate = self.events / self.seconds if self.seconds else 0.0
        out = [
            f"events {self.events}, invalid {self.invalid}, alerts {len(self.alerts)}, "
            f"{self.seconds:.1f} s ({rate:,.0f} events/s)"
        ]
        out += [f"  {det}: {n}" for det, n in sorted(self.by_detector().items())]
        return out


def replay_settings(settings: Settings, kafka_url: str) -> Settings:
    """Settings for one replay run: run-scoped topics and consumer group; no suppressions
    (a replay shows everything the detectors raise) and no web port."""
    run = uuid.uuid4().hex[:8]
    prefix = f"probity.replay.{run}"
    topics = Topics(
        activity=f"{prefix}.activity",
        reference=f"{prefix}.reference",
        dead_letters=f"{prefix}.dead-letters",
        alerts=f"{prefix}.alerts",
        edges=f"{prefix}.edges",
    )
    return settings.model_copy(
        update={
            "kafka": kafka_url, "topics": topics, "app_id": f"probity-replay-{run}",
            "honour_suppressions": False, "worker_web_port": 0,
        }
    )  # fmt: skip


class WorkerProcess:
    """``probity worker`` in a child process (so tests can SIGKILL it like a real crash)."""

    def __init__(self, settings: Settings, log_path: Path) -> None:
        self.settings = settings
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, held: bool = False) -> None:
        """Start the process. ``held``: it loads its code (imports, detectors: seconds),
        connects and joins its groups, but reads the reference data only after
        :meth:`release` (once that data is all on the broker)."""
        env = {**os.environ, **to_env(self.settings), "PROBITY_LOG_FORMAT": "text"}
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        out = self.log_path.open("ab")
        args = self._args(held)
        self.proc = subprocess.Popen(  # noqa: S603 - our own interpreter and entry point
            args, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            preexec_fn=die_with_parent, stdin=subprocess.PIPE if held else None,
        )  # fmt: skip

    def _args(self, held: bool) -> list[str]:
        return [sys.executable, "-m", "probity", "worker",
                *(["--reference-on-stdin"] if held else [])]  # fmt: skip

    def release(self) -> None:
        """Let a worker started ``held`` read the reference data and judge."""
        if self.proc is not None and self.proc.stdin is not None:
            self.proc.stdin.write(b"go\n")
            self.proc.stdin.close()

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL: no shutdown, no final commit; what a crash looks like."""
        if self.proc is not None and self.alive():
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self, timeout_s: float = 15.0) -> None:
        if self.proc is None or not self.alive():
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.kill()

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no worker log)"


class JudgeProcess(WorkerProcess):
    """A replay's judge (:mod:`streams.replay_judge`), ``index`` of ``count``, in a child
    process, always started held: it learns on stdin where the topics end."""

    def __init__(self, settings: Settings, log_path: Path, index: int = 0, count: int = 1):
        super().__init__(settings, log_path)
        self.index, self.count = index, count

    def _args(self, held: bool) -> list[str]:
        return [sys.executable, "-m", "streams.replay_judge", str(self.ends_path),
                str(self.index), str(self.count)]  # fmt: skip

    @property
    def ends_path(self) -> Path:
        return self.log_path.with_suffix(".ends.json")

    def sent(self) -> dict[tuple[str, int], int]:
        """Where each partition it sent to ends (once it has finished)."""
        rows = orjson.loads(self.ends_path.read_bytes())
        return {(t, int(p)): int(o) for t, p, o in rows}

    def tell(self, line: bytes) -> None:
        if self.proc is not None and self.proc.stdin is not None:
            try:
                self.proc.stdin.write(line)
                self.proc.stdin.flush()
            except BrokenPipeError:
                pass  # it stopped: wait() says why

    def wait(self, timeout_s: float) -> None:
        """Until it has judged everything and exited; raises :class:`ReplayError` if it
        failed or the time is up."""
        if self.proc is None:
            raise ReplayError("the replay judge was not started")
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            code = self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired as exc:
            raise ReplayError(f"replay timed out after {timeout_s:.0f} s") from exc
        if code != 0:
            raise ReplayError(f"the replay judge failed ({code}):\n{self.log_tail()}")


def _offsets_client(settings: Settings, group: str | None) -> KafkaConsumer:
    return KafkaConsumer(
        **kafka_client_config(settings, "kafka-python"), group_id=group or settings.app_id,
        enable_auto_commit=False, client_id="probity-replay-progress",
    )  # fmt: skip


def _committed(
    consumer: KafkaConsumer, tps: Iterable[tuple[str, int]]
) -> dict[tuple[str, int], int]:
    return {tp: consumer.committed(TopicPartition(*tp)) or 0 for tp in tps}


def committed_offsets(
    settings: Settings, tps: Iterable[tuple[str, int]], group: str | None = None
) -> dict[tuple[str, int], int]:
    """A group's committed offsets (0 where nothing is committed yet): by default the
    worker's event consumer group."""
    consumer = _offsets_client(settings, group)
    try:
        return _committed(consumer, tps)
    finally:
        consumer.close()


def wait_processed(
    settings: Settings,
    targets: dict[tuple[str, int], int],
    worker: WorkerProcess | None,
    *,
    timeout_s: float = 1800.0,
    on_progress: Callable[[int, int], None] | None = None,
    poll_s: float = 0.5,
) -> None:
    """Block until the worker group has committed past every produced offset."""
    wanted = {tp: off for tp, off in targets.items() if tp[0] in (
        settings.topics.activity, settings.topics.reference)}  # fmt: skip
    deadline = time.monotonic() + timeout_s
    _wait_committed(settings, wanted, None, worker, deadline, on_progress, poll_s, timeout_s)
    # the edge records of those events were sent before they were committed: now the graph
    # agent must have taken them all
    ends = log_ends(settings, settings.topics.edges)
    _wait_committed(
        settings, ends, agents_group(settings), worker, deadline, None, poll_s, timeout_s
    )


def _wait_committed(
    settings: Settings,
    targets: dict[tuple[str, int], int],
    group: str | None,
    worker: WorkerProcess | None,
    deadline: float,
    on_progress: Callable[[int, int], None] | None,
    poll_s: float,
    timeout_s: float,
) -> None:
    """Poll ``group``'s committed offsets until each reaches its target; fail when the
    worker dies or the deadline passes."""
    total = sum(targets.values())
    # one client for every poll: a new one per poll costs a connection and a coordinator
    # look-up each time, on the cores the worker and the broker need
    consumer = _offsets_client(settings, group)
    try:
        while True:
            done = _committed(consumer, targets)
            progress = sum(min(done[tp], off) for tp, off in targets.items())
            if on_progress:
                on_progress(progress, total)
            if all(done[tp] >= off for tp, off in targets.items()):
                return
            if worker is not None and not worker.alive():
                raise ReplayError(f"the worker stopped before finishing:\n{worker.log_tail()}")
            if time.monotonic() > deadline:
                who = f" ({group})" if group else ""
                raise ReplayError(
                    f"replay timed out after {timeout_s:.0f} s{who} ({progress}/{total})"
                )
            time.sleep(poll_s)
    finally:
        consumer.close()


def _reader(settings: Settings) -> KafkaConsumer:
    return KafkaConsumer(
        **kafka_client_config(settings, "kafka-python"), enable_auto_commit=False,
        client_id="probity-replay-reader", consumer_timeout_ms=1000,
        # a dead letter of a record near the 1 MB limit is over 1 MB (base64): kafka-python's
        # default frame limit (1,000,000 bytes) would drop the connection and lose it silently
        receive_message_max_bytes=READER_MAX_FRAME,
    )  # fmt: skip


def _read_to_end(
    consumer: KafkaConsumer, topic: str, idle_polls: int, take: Callable[[Any, list[Any]], None]
) -> None:
    """Every record of ``topic`` from the beginning, handed to ``take`` batch by batch, until
    each partition's position reaches its fetch high watermark (Tansu's ListOffsets is not
    the log end, so ``end_offsets()`` is not used): at once when every partition has answered
    a fetch, else after ``idle_polls`` empty polls with nothing behind."""
    tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
    consumer.assign(tps)
    consumer.seek_to_beginning(*tps)
    quiet = 0
    while quiet < idle_polls:
        batch = consumer.poll(timeout_ms=300, max_records=10_000)
        for tp, records in batch.items():
            take(tp, records)
        highs = [consumer.highwater(tp) for tp in tps]
        if all(h is not None for h in highs) and all(
            consumer.position(tp) >= h for tp, h in zip(tps, highs, strict=True)
        ):
            return
        if batch:
            quiet = 0
            continue
        behind = [tp for tp, h in zip(tps, highs, strict=True) if (h or 0) > consumer.position(tp)]
        quiet = 0 if behind else quiet + 1


def log_ends(settings: Settings, topic: str) -> dict[tuple[str, int], int]:
    """Each partition's next offset, from the records themselves (read to the fetch high
    watermark: Tansu's ListOffsets is not the log end)."""
    consumer = _reader(settings)
    try:
        ends = {(topic, p): 0 for p in consumer.partitions_for_topic(topic) or ()}

        def take(tp: Any, records: list[Any]) -> None:
            if records:
                ends[(tp.topic, tp.partition)] = records[-1].offset + 1

        _read_to_end(consumer, topic, 2, take)
        return ends
    finally:
        consumer.close()


#: largest response frame the topic reader accepts (kafka-python's own default is 1,000,000)
READER_MAX_FRAME = 100 * 2**20


def read_topic(settings: Settings, topic: str, idle_polls: int = 2) -> list[bytes]:
    """Every record value in ``topic`` (all partitions, from the beginning to the end)."""
    consumer = _reader(settings)
    try:
        values: list[bytes] = []

        def take(_tp: Any, records: list[Any]) -> None:
            values.extend(r.value for r in records if r.value is not None)

        _read_to_end(consumer, topic, idle_polls, take)
        return values
    finally:
        consumer.close()


def read_up_to(settings: Settings, ends: dict[tuple[str, int], int]) -> dict[str, list[bytes]]:
    """Per topic, the record values of each (topic, partition) in ``ends`` from offset 0 up
    to its end (where the writer's acknowledgements said it ends), in partition order: one
    client, no waiting for the end to show."""
    from confluent_kafka import Consumer
    from confluent_kafka import TopicPartition as Partition

    from streams.replay_protocol import where

    wanted = {tp: end for tp, end in ends.items() if end > 0}
    out: dict[str, dict[int, list[bytes]]] = {}
    if not wanted:
        return {}
    consumer = Consumer({
        **kafka_client_config(settings, "confluent"), "group.id": f"{settings.app_id}-reader",
        "enable.auto.commit": False, "fetch.wait.max.ms": 50, "log_level": 3,
    })  # fmt: skip
    try:
        consumer.assign([Partition(t, p, 0) for t, p in wanted])
        left = dict(wanted)
        deadline = time.monotonic() + 60
        while left:
            if time.monotonic() > deadline:
                raise ReplayError(f"records missing from the broker: {sorted(left)}")
            for msg in consumer.consume(10_000, 0.2):
                if msg.error() is not None:
                    continue
                topic, partition, offset = where(msg)
                tp = (topic, partition)
                if tp in left and offset < left[tp]:
                    out.setdefault(topic, {}).setdefault(partition, []).append(msg.value() or b"")
                    if offset + 1 >= left[tp]:
                        del left[tp]
    finally:
        consumer.close()
    return {t: [v for _p, vs in sorted(parts.items()) for v in vs] for t, parts in out.items()}


def unique_alerts(values: Iterable[bytes]) -> list[dict[str, Any]]:
    """Alerts de-duplicated by id (first kept), ordered by time then id."""
    seen: dict[str, dict[str, Any]] = {}
    for raw in values:
        alert = orjson.loads(raw)
        seen.setdefault(alert["id"], alert)
    return sorted(seen.values(), key=lambda a: (a["time"], a["id"]))


def write_jsonl(path: str | Path, rows: Iterable[dict[str, Any]]) -> None:
    with open(path, "wb") as fh:
        for row in rows:
            fh.write(orjson.dumps(row) + b"\n")


def replay(
    settings: Settings,
    files: list[str],
    *,
    alerts_out: str | Path,
    dead_letters_out: str | Path | None = None,
    work_dir: Path | None = None,
    progress: Callable[[str], None] | None = None,
    timeout_s: float = 1800.0,
    via_worker: bool = False,
    judges: int | None = None,
) -> ReplaySummary:
    """Run ``files`` through broker + judges; write the alerts (and dead letters).

    The judges are :mod:`streams.replay_judge` processes (the engine on hand-assigned
    partitions), ``judges`` of them (default :func:`default_judges`);
    ``via_worker`` runs ``probity worker`` instead (its consumer groups, checkpoints and graph
    agent: slower, but the deployed worker's own path)."""
    say = progress or (lambda _msg: None)
    work_dir = work_dir or Path(settings.data_dir) / "replay"
    start = time.monotonic()
    with broker_for(settings.kafka, log_dir=work_dir) as url:
        s = replay_settings(settings, url)
        if not via_worker:  # finer shares for the judges (the topics are this run's own)
            s = s.model_copy(update={"partitions": max(s.partitions, JUDGE_PARTITIONS)})
        ensure_topics(s, s.bootstrap_servers)
        say(f"broker {url}; publishing {len(files)} file(s)")
        if via_worker:
            ingest, alerts, dead = _replay_via_worker(s, files, work_dir, say, timeout_s)
        else:
            count = judges or default_judges()
            ingest, alerts, dead = _replay_via_judge(s, files, work_dir, say, timeout_s, count)
    summary = ReplaySummary(
        events=ingest.published_total, invalid=len(dead), alerts=alerts,
        dead_letters=dead, seconds=time.monotonic() - start,
    )  # fmt: skip
    write_jsonl(alerts_out, alerts)
    if dead_letters_out is not None:
        with open(dead_letters_out, "wb") as fh:
            fh.writelines(dl.dumps() + b"\n" for dl in dead)
    return summary


_Outcome = tuple[IngestSummary, list[dict[str, Any]], list[DeadLetter]]


#: the fewest partitions a replay's topics have with judges: each judge takes whole
#: partitions (judge 0 fewer, as it also judges the graph), so more of them split the work
#: more evenly (with 8, one judge of two had 64% of the bench force's activity)
JUDGE_PARTITIONS = 16


def default_judges() -> int:
    """One judge per core, at most two (a replay's broker and publisher share the cores)."""
    return max(1, min(2, os.cpu_count() or 1))


def _replay_via_judge(
    s: Settings, files: list[str], work_dir: Path, say: Callable[[str], None], timeout_s: float,
    count: int,
) -> _Outcome:  # fmt: skip
    """The judges load their code while the reference data is published, read it as it
    comes, judge it once it is all there and then the activity while it is published; with
    several, judge 0 (the graph's) finishes the edge records once the others are done."""
    from streams.replay_protocol import encode_ends

    judges = [JudgeProcess(s, work_dir / f"{s.app_id}-{k}.log", k, count) for k in range(count)]
    for judge in judges:
        judge.start(held=True)
    t = s.topics

    def tell(line: bytes) -> None:
        for judge in judges:
            judge.tell(line)

    try:
        ingest: IngestSummary = ingest_paths(
            s, s.bootstrap_servers, files, progress=True,
            on_reference_published=lambda so_far: tell(
                encode_ends("reference", so_far.end_offsets, t.reference)),
        )  # fmt: skip
        say(ingest.lines()[0])
        if ingest.failed:  # a replay that judged only part of its input would mislead
            raise ReplayError("\n".join(ingest.lines()))
        tell(encode_ends("activity", ingest.end_offsets, t.activity))
        ends: dict[tuple[str, int], int] = {}
        for judge in judges[1:]:
            judge.wait(timeout_s)
            for tp, end in judge.sent().items():
                ends[tp] = max(end, ends.get(tp, 0))
        edges = {tp: o for tp, o in ends.items() if tp[0] == t.edges} or {(t.edges, 0): 0}
        judges[0].tell(encode_ends("edges", edges, t.edges))
        judges[0].wait(timeout_s)
        say("judged; reading the alerts back")
        # the judges' alerts and dead letters, and ingest's dead letters
        for tp, end in [*judges[0].sent().items(), *ingest.end_offsets.items()]:
            if tp[0] in (t.alerts, t.dead_letters):
                ends[tp] = max(end, ends.get(tp, 0))
        got = read_up_to(s, {tp: o for tp, o in ends.items()
                             if tp[0] in (t.alerts, t.dead_letters)})  # fmt: skip
        alerts = unique_alerts(got.get(t.alerts, []))
        dead = [load_dead_letter(v) for v in got.get(t.dead_letters, [])]
    finally:
        for judge in judges:
            judge.kill()
    return ingest, alerts, dead


def _replay_via_worker(
    s: Settings, files: list[str], work_dir: Path, say: Callable[[str], None], timeout_s: float
) -> _Outcome:
    # one worker: it may join its group while it loads the reference data
    s = s.model_copy(update={"join_before_reference": True})
    worker = WorkerProcess(s, work_dir / f"{s.app_id}.log")
    # the worker loads its code and joins its groups while the reference data is
    # published, reads that data once it is all on the broker (all of it before judging
    # any activity) and judges while the activity is published
    worker.start(held=True)
    try:
        ingest: IngestSummary = ingest_paths(
            s, s.bootstrap_servers, files, progress=True,
            on_reference_published=lambda _so_far: worker.release(),
        )  # fmt: skip
        say(ingest.lines()[0])
        if ingest.failed:  # a replay that judged only part of its input would mislead
            raise ReplayError("\n".join(ingest.lines()))
        last = [0.0]

        def report(done: int, total: int) -> None:
            if time.monotonic() - last[0] > 5:
                last[0] = time.monotonic()
                say(f"processed {done}/{total}")

        wait_processed(s, ingest.end_offsets, worker, timeout_s=timeout_s, on_progress=report)
        alerts = unique_alerts(read_topic(s, s.topics.alerts))
        dead = [load_dead_letter(v) for v in read_topic(s, s.topics.dead_letters)]
        # everything it did is read: its state, topics and group belong to this run only,
        # so the worker's orderly shutdown (seconds) would be waited for in vain
        worker.kill()
    finally:
        worker.stop()
    return ingest, alerts, dead
