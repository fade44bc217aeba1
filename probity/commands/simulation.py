"""``probity simulate`` (write a simulated force, or feed one live) and ``probity evaluate``."""

from __future__ import annotations

import itertools
import signal
import sys
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import orjson
from tqdm import tqdm

from simulation.evaluate import evaluate as score
from simulation.evaluate import read_alerts, read_labels
from simulation.exceptions import SimulationError
from simulation.generator import DEFAULT_START, MIN_DAYS, MIN_STAFF, Force, history, live_events
from simulation.noise import PROFILES, NoiseProfile

if TYPE_CHECKING:
    from probity.settings import Settings
    from streams.ingest import IngestSummary


def publish_live(
    settings: Settings, events: Iterable[dict[str, Any]], count: int | None = None
) -> IngestSummary:
    """Publish a live feed (``simulation.generator.live_events``) through ``streams.ingest``,
    so events reach the topics exactly as ``probity ingest`` would send them; ``count`` stops
    after that many events (default: until interrupted)."""
    from models.deadletters import Origin
    from streams.ingest import Ingestor, make_producer
    from streams.topics import ensure_topics

    ensure_topics(settings, settings.bootstrap_servers)
    producer = make_producer(settings, client_id="probity-simulate-live")
    ingestor = Ingestor(settings, producer)
    try:
        for n, ev in enumerate(itertools.islice(events, count), start=1):
            ingestor.publish_line(orjson.dumps(ev), Origin(file="simulate --live", line=n))
    except KeyboardInterrupt:
        pass
    finally:
        summary = ingestor.flush()
        producer.close()
    return summary


@click.command()
@click.option(
    "--staff",
    type=click.IntRange(min=MIN_STAFF),
    default=300,
    show_default=True,
    help="Members of staff in the force.",
)
@click.option(
    "--days",
    type=click.IntRange(min=MIN_DAYS),
    default=21,
    show_default=True,
    help="Days of activity.",
)
@click.option(
    "--seed",
    type=int,
    default=1,
    show_default=True,
    help="Random seed: the same seed writes the same force.",
)
@click.option(
    "--repeats",
    type=click.IntRange(1, 10),
    default=1,
    show_default=True,
    help="Inject each scenario this many times (other officers, other figures).",
)
@click.option(
    "--start",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help=f"First day (UTC) [default: {DEFAULT_START.isoformat()}].",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory for events.jsonl and labels.json (required unless --live).",
)
@click.option(
    "--live", is_flag=True, help="Feed the configured broker (PROBITY_KAFKA) continuously instead."
)
@click.option(
    "--rate",
    type=click.FloatRange(min=0, min_open=True),
    default=20.0,
    show_default=True,
    help="With --live: events per second.",
)
@click.option(
    "--count",
    type=click.IntRange(min=1),
    default=None,
    help="With --live: stop after this many events [default: until Ctrl-C].",
)
@click.option(
    "--noise",
    type=click.Choice(PROFILES),
    default="clean",
    show_default=True,
    help="realistic: chance address and phone matches with the public, systems without "
    "purpose fields, units without rosters, late and duplicated events, a vetting feed "
    "that starts days late (rates: simulation/noise.py).",
)
@click.option(
    "--it",
    "it_life",
    is_flag=True,
    help="Add benign IT life (logons, removable media, uploads, mail, admin tools) and the "
    "insider scenarios (simulation/it_life.py).",
)
@click.option(
    "--history-days",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help=f"With --live: first publish, at full speed, a force of this many days (0: none; at "
    f"least {MIN_DAYS}) ending before now, so its scenarios' alerts reach the queue at once.",
)
@click.option("--quiet", is_flag=True, help="No progress bar or summary on stderr.")
def simulate(
    staff: int, days: int, seed: int, repeats: int, start: object, out_dir: Path | None,
    live: bool, rate: float, count: int | None, noise: NoiseProfile, it_life: bool,
    history_days: int, quiet: bool,
) -> None:  # fmt: skip
    """Write a simulated force: DIR/events.jsonl (contract v1, in time order) and
    DIR/labels.json (each injected scenario and look-alike, for ``probity evaluate``).

    With --live, play a force on a compressed clock to the broker at --rate events a second,
    each event stamped with the current time, so alerts arrive while you watch.
    """
    if live:
        if 0 < history_days < MIN_DAYS:
            raise click.UsageError(f"--history-days is 0 or at least {MIN_DAYS}")
        _live(staff=staff, seed=seed, rate=rate, count=count, history_days=history_days,
              quiet=quiet)  # fmt: skip
        return
    if out_dir is None:
        raise click.UsageError("--out DIR is required (or --live)")
    first = start.date() if hasattr(start, "date") else DEFAULT_START
    assert isinstance(first, date)
    bar = tqdm(total=days, desc="simulating", unit="day", file=sys.stderr,
               disable=quiet or staff * days < 2000, leave=False)  # fmt: skip
    try:
        force = Force(staff=staff, days=days, seed=seed, start=first, repeats=repeats,
                      noise=noise, it=it_life, progress=lambda _day: bar.update(1))  # fmt: skip
        events = force.events()
        labels = force.labels()
    except SimulationError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        bar.close()
    out_dir.mkdir(parents=True, exist_ok=True)
    with (out_dir / "events.jsonl").open("wb") as fh:
        for ev in events:
            fh.write(orjson.dumps(ev))
            fh.write(b"\n")
    (out_dir / "labels.json").write_bytes(orjson.dumps(labels, option=orjson.OPT_INDENT_2))
    if not quiet:
        click.echo(
            f"wrote {len(events)} events, {len(labels['scenarios'])} scenarios and "
            f"{len(labels['lookalikes'])} look-alikes to {out_dir} "
            f"({labels['metadata']['staff']} staff, {days} days, seed {seed}"
            f"{', realistic noise' if noise == 'realistic' else ''})",
            err=True,
        )


@click.command()
@click.option(
    "--labels",
    "labels_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="labels.json written by probity simulate.",
)
@click.option(
    "--alerts",
    "alerts_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="Alerts (JSONL) from probity replay.",
)
@click.option(
    "--staff",
    type=click.IntRange(min=1),
    default=None,
    help="Staff in the force [default: from labels.json].",
)
@click.option(
    "--days",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Days covered [default: from labels.json].",
)
@click.option(
    "--budget",
    type=click.FloatRange(min=0, min_open=True),
    default=10.0,
    show_default=True,
    help="Alerts an ACU reads each day per 1,000 staff (the top ones by severity, then score).",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def evaluate(labels_path: Path, alerts_path: Path, staff: int | None, days: float | None,
             budget: float, as_json: bool) -> None:  # fmt: skip
    """Score alerts against a simulated force's labels: recall per scenario, time to detection,
    whether each scenario is among the alerts read within the daily budget, the share of
    alerts that are true, false positives per 1,000 staff per day."""
    try:
        result = score(
            read_labels(labels_path.read_bytes()),
            read_alerts(alerts_path.read_bytes()),
            staff=staff,
            days=days,
            budget_per_1000=budget,
        )
    except SimulationError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(orjson.dumps(result.to_json(), option=orjson.OPT_INDENT_2).decode())
    else:
        click.echo(result.table())


def _stop_on_sigterm(_signum: int, _frame: object) -> None:
    """``probity run`` stops its children with SIGTERM: stop like Ctrl-C, flushing first."""
    raise KeyboardInterrupt


def _live(
    *, staff: int, seed: int, rate: float, count: int | None, history_days: int, quiet: bool
) -> None:
    from datetime import UTC, datetime

    from probity.settings import get_settings

    settings = get_settings()
    if not settings.kafka:
        raise click.UsageError(
            "--live needs a running broker: set PROBITY_KAFKA=kafka://host:port "
            "(probity run starts one and feeds it)"
        )
    if not quiet:
        click.echo(f"feeding {settings.bootstrap_servers} at {rate:g} events/s "
                   f"({staff} staff, seed {seed}); Ctrl-C to stop", err=True)  # fmt: skip
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    past: list[dict[str, Any]] = []
    if history_days:
        past, labels = history(staff=staff, seed=seed, days=history_days,
                               now=datetime.now(UTC))  # fmt: skip
        if not quiet:
            scenarios = len(labels["scenarios"])
            click.echo(f"first a history of {history_days} days from "
                       f"{labels['metadata']['start'][:10]}: {len(past)} events, "
                       f"{scenarios} scenarios, at full speed", err=True)  # fmt: skip
    # live_events starts its clock at its first event: after the history is published
    feed = itertools.chain(past, live_events(staff=staff, seed=seed, rate=rate))
    summary = publish_live(settings, feed, count)
    if not quiet:
        for line in summary.lines():
            click.echo(line, err=True)
