"""``probity bench``: speed and memory measured against a baseline in the same run.

Everything runs on the embedded broker on this machine, all detectors registered:

1. **raw baseline**: a bare aiokafka consumer reads the pre-loaded activity topic of a
   simulated force (the ceiling: no decoding, no detectors);
2. **pipeline**: a real worker process (faust, every detector) consumes the same topic;
   events/s from the group's committed offsets, and its ratio to the baseline. Both sides
   also in CPU microseconds per event, and each twice, interleaved (raw, worker, raw,
   worker, each round on a fresh broker), every run reported so that a noisy machine shows
   as spread; then two workers in one consumer group over the same partitions, their
   combined rate against one worker's (the scale-out ratio) (:mod:`devtools.bench.pipeline`);
3. **replay**: ``probity replay`` of the whole force (reference + activity) in every round
   after its raw consumer, file to alerts file, timed whole (its own broker's start
   included), its rate against the raw consumer's: the issue's "end to end" ratio;
4. **delay**: event time → alert received, p50/p99, with live events offered at a fixed rate
   (below saturation) and a canary view in every 100 events; its baseline is a bare relay
   (:mod:`devtools.bench.relay`: the worker's clients and fetch wait, no judging) offered the
   same load in the same run (:mod:`devtools.bench.delay`);
5. **convert**: ``probity convert`` of ECS JSON against ``orjson.loads`` of the same file,
   in CPU time, rounds in turn (:func:`adapters.bench.bench_ecs`);
6. **memory**: resident memory of a worker's pipeline state (reference data, officer state,
   association graph) after a synthetic history of many staff over 21 days with IT life, in
   a child process (:mod:`devtools.bench.memory`), against the same child's memory before
   loading; its peak is held to the target;
7. **a family's cost**: the Kafka-free pipeline over the benchmark force with IT life, and
   over the plain benchmark force (no IT events: did the family slow what was there before?),
   with every detector and without one family's (``insider`` by default), in turns in the same
   run, in CPU time (:mod:`devtools.bench.family`);
8. **versus a commit** (run by hand, not by ``probity bench``): this checkout's Kafka-free
   pipeline against an earlier commit's (checked out in a temporary ``git worktree``) over
   the plain benchmark force, one child process per side in alternating order each round,
   in CPU time, both sides required to give as many alerts
   (``python -m devtools.bench.versus --ref 7a38570``; :mod:`devtools.bench.versus`).

:func:`devtools.bench.run.run_bench` runs them all; results print as one table
(:mod:`devtools.bench.report`) and are written as JSON. ``--offline``
(:mod:`devtools.bench.offline`) measures the Kafka-free engine alone. Child programs are
modules of this package, run with ``python -m``.

Needs the ``bench`` extra (``pip install 'probity[bench]'``: psutil; confluent-kafka is a
runtime dependency).
"""
