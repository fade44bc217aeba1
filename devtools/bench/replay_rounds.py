"""Replay against the raw consumer, rounds in turn: ``python -m devtools.bench.replay_rounds``.

What ``probity bench`` measures for the replay (each round: the raw consumer over the force on
a fresh broker, then ``probity replay`` of the same force file), without the rest of the
bench; ``--sides`` replays in turn with N judge processes (``judges-N``) and through the
worker (``worker``: ``via_worker``, the path replays took before the judges), so they compare
in the same run. Prints every run and the min/median/max of each side's ratio to its round's
raw consumer.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
from pathlib import Path

from devtools.bench.force import write_force
from devtools.bench.harness import fresh_topics
from devtools.bench.pipeline import raw_consume
from probity.settings import Settings
from streams.broker import embedded_broker
from streams.ingest import ingest_paths
from streams.replay import replay


def _spread(values: list[float]) -> str:
    return (f"median {statistics.median(values):.2%} "
            f"(min {min(values):.2%}, max {max(values):.2%})")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--staff", type=int, default=340)
    ap.add_argument("--days", type=int, default=21)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--sides", default="judges-2",
                    help="comma-separated, each judges-N (N judge processes) or worker")
    args = ap.parse_args()
    sides = args.sides.split(",")
    ratios: dict[str, list[float]] = {side: [] for side in sides}
    with tempfile.TemporaryDirectory(prefix="probity-replay-bench-") as tmp:
        work = Path(tmp)
        force = work / "force.jsonl"
        events = write_force(args.staff, args.days, args.seed, force)
        settings = Settings(kafka=None, data_dir=str(work))
        print(f"force: {args.staff} staff, {args.days} days, seed {args.seed}: {events:,} events")
        for i in range(1, args.rounds + 1):
            with embedded_broker(log_dir=work / f"raw-{i}") as broker:
                s = fresh_topics(settings, broker.url)
                ingest = ingest_paths(s, s.bootstrap_servers, [str(force)])
                total = sum(o for tp, o in ingest.end_offsets.items() if tp[0] == s.topics.activity)
                raw = asyncio.run(raw_consume(s.bootstrap_servers, s.topics.activity, total))
            print(f"round {i}: raw consumer {raw.eps:,.0f} events/s", flush=True)
            for side in sides:
                summary = replay(
                    settings, [str(force)], alerts_out=work / f"{side}-{i}.jsonl",
                    work_dir=work / f"{side}-{i}", via_worker=side == "worker",
                    judges=int(side.split("-")[1]) if side.startswith("judges-") else None,
                )  # fmt: skip
                ratio = summary.events / summary.seconds / raw.eps
                ratios[side].append(ratio)
                print(f"round {i}: replay ({side}) {summary.seconds:.1f} s, "
                      f"{summary.events / summary.seconds:,.0f} events/s, {ratio:.2%} of the raw "
                      f"consumer, {len(summary.alerts)} alerts", flush=True)  # fmt: skip
    for side in sides:
        print(f"replay ({side}): {_spread(ratios[side])} of the raw consumer")


if __name__ == "__main__":
    main()
