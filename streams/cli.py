"""Command-line entry points of the streaming side: broker, topics, worker, ingest, replay, run."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from adapters.cli import adapter_options  # issue 15: `ingest --format` (helper C)
from probity.settings import Settings, get_settings

log = logging.getLogger(__name__)


def _setup_logging(settings: Settings) -> None:
    try:
        from probity.logging import configure_logging
    except ImportError:  # pragma: no cover - before the logging module lands
        logging.basicConfig(level=settings.log_level)
        logging.getLogger("kafka").setLevel(logging.WARNING)
        return
    configure_logging(settings)


def _say(msg: str) -> None:
    click.echo(msg, err=True)


@click.command()
def worker() -> None:
    """Run one worker (joins the consumer group; start several to scale out)."""
    from faust.worker import Worker as FaustWorker

    from streams.broker import broker_for
    from streams.topics import ensure_topics
    from streams.worker import create_worker

    settings = get_settings()
    _setup_logging(settings)
    with broker_for(settings.kafka, log_dir=Path(settings.data_dir)) as url:
        if not settings.kafka:
            _say(f"no PROBITY_KAFKA set: started the embedded broker at {url}")
        s = settings.model_copy(update={"kafka": url})
        ensure_topics(s, s.bootstrap_servers)
        w = create_worker(s)
        fw = FaustWorker(
            w.app, loglevel=s.log_level.lower(), quiet=True, override_logging=False
        )  # keep probity.logging's JSON handler
        fw.spinner = None  # no terminal escape codes between JSON lines
        fw.execute_from_commandline()


@click.command()
@click.option("--port", type=int, default=9092, show_default=True)
def broker(port: int) -> None:
    """Run the embedded broker alone (for development), until Ctrl-C."""
    import signal
    import time

    from streams.broker import embedded_broker
    from streams.topics import ensure_topics

    def _interrupt(*_: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _interrupt)  # SIGTERM stops the broker like Ctrl-C
    settings = get_settings()
    with embedded_broker(port=port) as b:
        ensure_topics(settings, b.bootstrap)
        _say(f"embedded broker on {b.url} (memory-only); Ctrl-C to stop")
        try:
            while b.process.poll() is None:
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass


@click.command()
def topics() -> None:
    """Create the topics (partitions from PROBITY_PARTITIONS) on the configured broker."""
    from streams.topics import ensure_topics, topic_specs

    settings = get_settings()
    if not settings.kafka:
        raise click.UsageError("set PROBITY_KAFKA=kafka://host:port")
    ensure_topics(settings, settings.bootstrap_servers)
    for name, parts in topic_specs(settings).items():
        click.echo(f"{name}\t{parts} partitions")


@click.command()
@adapter_options(required=False)
@click.argument("files", nargs=-1, required=True)
def ingest(
    files: tuple[str, ...],
    format_name: str | None,
    source: str | None,
    mapping: Path | None,
    tz: str,
    staff: tuple[Path, ...],
) -> None:
    """Publish JSONL events (FILE ... or - for stdin) to the configured broker; with
    --format, files in that format, converted first (rejects go to the dead letters)."""
    from adapters.cli import build_adapter
    from streams.ingest import ingest_paths
    from streams.topics import ensure_topics

    adapter = build_adapter(format_name, source, mapping, tz, staff) if format_name else None

    settings = get_settings()
    if not settings.kafka:
        raise click.UsageError(
            "ingest needs a running broker: set PROBITY_KAFKA=kafka://host:port "
            "(or use `probity replay` to run files through an embedded broker)"
        )
    ensure_topics(settings, settings.bootstrap_servers)
    summary = ingest_paths(
        settings, settings.bootstrap_servers, files, progress=True, adapter=adapter
    )
    for line in summary.lines():
        click.echo(line)
    if summary.failed:
        raise click.ClickException(
            f"the broker did not accept {summary.failed_total} records: publish again"
        )


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--alerts-out", required=True, type=click.Path(dir_okay=False))
@click.option("--dead-letters-out", type=click.Path(dir_okay=False))
@click.option("--timeout", "timeout_s", type=float, default=1800.0, show_default=True)
def replay(
    files: tuple[str, ...], alerts_out: str, dead_letters_out: str | None, timeout_s: float
) -> None:
    """Run event files through the real pipeline and write every alert (contract v1)."""
    from streams.replay import replay as run_replay

    settings = get_settings()
    _setup_logging(settings)
    summary = run_replay(
        settings, list(files), alerts_out=alerts_out, dead_letters_out=dead_letters_out,
        progress=_say, timeout_s=timeout_s,
    )  # fmt: skip
    for line in summary.lines():
        click.echo(line)
    click.echo(f"alerts written to {alerts_out}")
    if dead_letters_out:
        click.echo(f"dead letters ({summary.invalid}) written to {dead_letters_out}")


@click.command()
@click.option(
    "--rate",
    type=float,
    default=20.0,
    show_default=True,
    help="events per second of the simulated force",
)
@click.option("--no-feed", is_flag=True, help="do not start the simulated live feed")
def run(rate: float, no_feed: bool) -> None:
    """Everything on this machine: broker, worker, alerts sink, ACU queue, a live feed."""
    from streams.run import run_all

    settings = get_settings()
    _setup_logging(settings)
    sys.exit(run_all(settings, rate=rate, live=not no_feed, say=click.echo))


@click.command()
def sink() -> None:
    """Store alerts from the alerts topic in the ACU queue, and publish the queue's audit
    trail back onto the events (run one or more; they share a consumer group)."""
    import threading

    from streams.audit_feed import AuditFeed
    from streams.sink import AlertSink
    from triage.store import store_from_settings

    settings = get_settings()
    _setup_logging(settings)
    if not settings.kafka:
        raise click.UsageError("set PROBITY_KAFKA=kafka://host:port (probity run sets it)")
    store = store_from_settings(settings)
    store.migrate()
    feed = AuditFeed(settings, store)
    threading.Thread(target=feed.run, name="audit-feed", daemon=True).start()
    alert_sink = AlertSink(settings, store)
    import signal as _signal

    _signal.signal(_signal.SIGTERM, lambda *_: alert_sink.stop())
    try:
        alert_sink.run()
    except KeyboardInterrupt:
        pass
    finally:
        feed.stop()


@click.command()
@click.option(
    "--staff",
    type=int,
    default=340,
    show_default=True,
    help="staff of the simulated force (340 x 21 days is about 120,000 events)",
)
@click.option(
    "--rate",
    type=float,
    default=5000.0,
    show_default=True,
    help="events/s offered for the delay measurement (capped below saturation)",
)
@click.option("--delay-seconds", type=float, default=20.0, show_default=True)
@click.option("--memory-staff", type=int, default=10_000, show_default=True)
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    default="bench-results.json",
    show_default=True,
    help="where to write the results as JSON",
)
@click.option(
    "--offline",
    is_flag=True,
    help="only the processing core, no Kafka: decode and judge the simulated force's events "
    "with and without the association graph, in CPU time, against orjson.loads",
)
def bench(
    staff: int, rate: float, delay_seconds: float, memory_staff: int, out: str, offline: bool
) -> None:
    """Measure throughput (vs a raw consumer), delay, memory and replay time."""
    import json

    from streams.bench import bench_offline, run_bench, write_force

    if offline:
        import tempfile

        with tempfile.TemporaryDirectory(prefix="probity-bench-") as tmp:
            force = Path(tmp) / "force.jsonl"
            write_force(staff, 21, 1, force)
            for graph in (False, True):
                click.echo(bench_offline(force, graph=graph).line())
        return

    settings = get_settings()
    _setup_logging(settings.model_copy(update={"log_level": "WARNING"}))
    result = run_bench(settings, staff=staff, rate=rate, delay_seconds=delay_seconds,
                       memory_staff=memory_staff, say=_say)  # fmt: skip
    click.echo(result.table())
    Path(out).write_text(json.dumps(result.to_json(), indent=2))
    click.echo(f"written to {out}")


@click.command("detectors")
def detectors_cmd() -> None:
    """List the registered detectors with their kinds and parameters."""
    from detectors.registry import registered

    for det_id, cls in registered().items():
        click.echo(f"{det_id}  [{cls.category.value}]  {cls.description}")
        click.echo(f"    reads: {', '.join(sorted(cls.kinds))}")
        params = ", ".join(f"{k}={v!r}" for k, v in cls.parameters().items())
        if params:
            click.echo(f"    parameters: {params}")


if __name__ == "__main__":  # ``python -m streams.cli worker`` (used by replay and tests)
    group = click.Group(commands={"worker": worker, "replay": replay, "ingest": ingest})
    group(sys.argv[1:])
