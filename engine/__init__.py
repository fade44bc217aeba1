"""The Kafka-free engine: events in, alerts out, with no broker in sight.

The worker (:mod:`streams.worker`), the offline runs (golden tests, ``probity bench
--offline``, replay checks) and the graph agent share it: :class:`engine.pipeline.Pipeline`
runs the detectors over events with per-officer state, :class:`engine.graph_judge.GraphJudge`
runs the graph detectors over edge records, :func:`engine.alerts.build_alert` turns findings
into alerts, :mod:`engine.codec` encodes officer state, and :class:`engine.hooks.PipelineHooks`
lets the runtime observe it all. Nothing here imports :mod:`streams`.
"""
