"""``probity`` commands of the Kafka runtime: worker, broker, topics, ingest, replay, sink,
coverage, run."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from probity.commands import say, setup_logging
from probity.commands.adapters import adapter_options
from probity.settings import Settings, get_settings


def _check_detectors(settings: Settings) -> None:
    """Build the detectors as the worker will: operator parameters that do not fit a
    detector's ``Params`` stop the command here, with the detector and field named."""
    from detectors.exceptions import DetectorError
    from detectors.registry import build

    try:
        build(settings.detectors, settings.disabled_detectors, settings.detector_volume)
    except DetectorError as exc:
        raise click.ClickException(f"detector settings: {exc}") from exc


def _check_acu(settings: Settings) -> None:
    """Who watches the ACU: alerts about its members must reach the outside reviewer only,
    which needs the queue to know who they are. Without the ACU's staff list or a unit that
    marks it, the worker does not start."""
    if not settings.triage.acu_configured:
        raise click.ClickException(
            "the ACU is not configured: set PROBITY_TRIAGE__ACU_STAFF_IDS (the ACU's staff "
            'ids, e.g. \'["S1042","S1043"]\') or PROBITY_TRIAGE__ACU_UNITS (the unit names '
            "staff reference data gives its members, e.g. '[\"acu\"]'); alerts about ACU "
            "staff are shown to the outside reviewer alone (docs/security.md)"
        )


@click.command()
@click.option(
    "--reference-on-stdin", is_flag=True, hidden=True,
    help="start and connect at once, but read the reference data only after a line on stdin "
    "(a replay starts its worker while it publishes the reference data)",
)  # fmt: skip
def worker(reference_on_stdin: bool) -> None:
    """Run one worker (joins the consumer group; start several to scale out)."""
    from faust.worker import Worker as FaustWorker

    from streams.broker import broker_for
    from streams.topics import ensure_topics
    from streams.worker import create_worker

    settings = get_settings()
    setup_logging(settings)
    _check_detectors(settings)
    _check_acu(settings)
    with broker_for(settings.kafka, log_dir=Path(settings.data_dir)) as url:
        if not settings.kafka:
            say(f"no PROBITY_KAFKA set: started the embedded broker at {url}")
        s = settings.model_copy(update={"kafka": url})
        ensure_topics(s, s.bootstrap_servers)
        w = create_worker(s)
        if reference_on_stdin:
            w.reference_gate = _line_on_stdin
        fw = FaustWorker(
            w.app, loglevel=s.log_level.lower(), quiet=True, override_logging=False
        )  # keep probity.logging's JSON handler
        fw.spinner = None  # no terminal escape codes between JSON lines
        fw.execute_from_commandline()


async def _line_on_stdin() -> None:
    """Wait for a line on stdin (a daemon thread reads it: an executor's thread blocked on
    stdin would hold the worker's exit)."""
    import asyncio
    import threading

    loop = asyncio.get_running_loop()
    line: asyncio.Future[str] = loop.create_future()

    def read() -> None:
        loop.call_soon_threadsafe(line.set_result, sys.stdin.readline())

    threading.Thread(target=read, name="reference-gate", daemon=True).start()
    if not await line:
        raise click.ClickException("stdin closed before the reference data was published")


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
        say(f"embedded broker on {b.url} (memory-only); Ctrl-C to stop")
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
    from probity.commands.adapters import build_adapter
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
@click.option(
    "--via-worker", is_flag=True,
    help="judge with `probity worker` (consumer groups, checkpoints, graph agent) instead of "
    "the replay's own judge: slower, the deployed worker's path",
)  # fmt: skip
def replay(
    files: tuple[str, ...], alerts_out: str, dead_letters_out: str | None, timeout_s: float,
    via_worker: bool,
) -> None:  # fmt: skip
    """Run event files through the real pipeline and write every alert (contract v1)."""
    from streams.replay import replay as run_replay

    settings = get_settings()
    setup_logging(settings)
    summary = run_replay(
        settings, list(files), alerts_out=alerts_out, dead_letters_out=dead_letters_out,
        progress=say, timeout_s=timeout_s, via_worker=via_worker,
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
@click.option(
    "--history-days",
    type=click.IntRange(min=7),
    default=7,
    show_default=True,
    help="days of the simulated force's past published at once before the live feed",
)
@click.option(
    "--no-history", is_flag=True, help="start the live feed at once, with no past to replay"
)
def run(rate: float, no_feed: bool, history_days: int, no_history: bool) -> None:
    """Everything on this machine: broker, worker, alerts sink, ACU queue, and a simulated
    force: a compressed history first (its scenarios' alerts reach the queue within a
    minute), then live events."""
    from streams.run import run_all

    settings = get_settings()
    setup_logging(settings)
    _check_detectors(settings)
    sys.exit(run_all(settings, rate=rate, live=not no_feed, say=click.echo,
                     history_days=0 if no_history else history_days))  # fmt: skip


@click.command()
def sink() -> None:
    """Store alerts from the alerts topic in the ACU queue, and publish the queue's audit
    trail back onto the events (run one or more; they share a consumer group). Serves
    /metrics, /healthz and /readyz on PROBITY_SINK_WEB_PORT (0 = none), like a worker."""
    import threading

    from prometheus_client import CollectorRegistry

    from streams.audit_feed import AuditFeed
    from streams.metrics import start_web_server
    from streams.sink import AlertSink
    from triage.store import store_from_settings

    settings = get_settings()
    setup_logging(settings)
    if not settings.kafka:
        raise click.UsageError("set PROBITY_KAFKA=kafka://host:port (probity run sets it)")
    store = store_from_settings(settings)
    store.migrate()
    feed = AuditFeed(settings, store)
    threading.Thread(target=feed.run, name="audit-feed", daemon=True).start()
    registry = CollectorRegistry()
    alert_sink = AlertSink(settings, store, registry=registry)
    web = None
    if settings.sink_web_port:
        # /metrics (behind metrics_token), /healthz and /readyz, as a worker's
        token = settings.metrics_token
        web, _thread = start_web_server(
            registry, settings.web_host, settings.sink_web_port, ready=lambda: True,
            token=token.get_secret_value() if token is not None else None,
        )  # fmt: skip
    import signal as _signal

    _signal.signal(_signal.SIGTERM, lambda *_: alert_sink.stop())
    try:
        alert_sink.run()
    except KeyboardInterrupt:
        pass
    finally:
        feed.stop()
        if web is not None:
            web.shutdown()
            web.server_close()


@click.command()
def coverage() -> None:
    """Source coverage: which declared sources (PROBITY_COVERAGE__SOURCES_PATH) are silent or
    below volume, and which rostered staff no source shows at work; /metrics and /coverage
    (JSON) on PROBITY_COVERAGE__PORT, behind PROBITY_METRICS_TOKEN and PROBITY_COVERAGE__TOKEN
    (it refuses to start without them)."""
    import signal
    import threading

    from intake.exceptions import SourcesError
    from streams.coverage import CoverageUnprotected, run_coverage

    settings = get_settings()
    setup_logging(settings)
    if not settings.kafka:
        raise click.UsageError("set PROBITY_KAFKA=kafka://host:port (probity run sets it)")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        run_coverage(settings, stop)
    except (SourcesError, CoverageUnprotected) as exc:
        raise click.ClickException(str(exc)) from exc
    except KeyboardInterrupt:
        pass
