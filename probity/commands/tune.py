"""``probity tune``: what a proposed setting would raise, before anything is changed.

Replays history through the offline pipeline twice, with the current detector settings (the
``PROBITY_DETECTORS__...`` and ``PROBITY_DETECTOR_VOLUME__...`` environment) and with those plus
the proposed overrides and volumes, and prints alerts per detector per 1,000 staff per day side
by side.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import click


def parse_sets(values: Iterable[str]) -> dict[str, dict[str, Any]]:
    """``detector.id.field=value`` pairs as overrides keyed by detector id (a value is read as
    JSON where it parses, else kept as text for the field's own parsing).

    >>> parse_sets(["access.no_purpose.min_views=3", "a.b.on=false"])
    {'access.no_purpose': {'min_views': 3}, 'a.b': {'on': False}}
    """
    out: dict[str, dict[str, Any]] = {}
    for item in values:
        key, sep, raw = item.partition("=")
        det_id, dot, name = key.strip().rpartition(".")
        if not sep or not dot or not det_id or not name:
            raise click.BadParameter(f"{item!r}: expected detector.id.field=value")
        try:
            value: Any = json.loads(raw)
        except ValueError:
            value = raw
        out.setdefault(det_id, {})[name] = value
    return out


def parse_volumes(values: Iterable[str]) -> dict[str, str]:
    """``detector.id=volume`` pairs (checked against the detector when the pipeline is built).

    >>> parse_volumes(["access.no_purpose=fewer", "field.repeat_stop = more"])
    {'access.no_purpose': 'fewer', 'field.repeat_stop': 'more'}
    """
    out: dict[str, str] = {}
    for item in values:
        det_id, sep, level = item.partition("=")
        if not sep or not det_id.strip() or not level.strip():
            raise click.BadParameter(f"{item!r}: expected detector.id=fewer|default|more")
        out[det_id.strip()] = level.strip()
    return out


def rates(alerts: Sequence[Any], staff: int, days: float) -> dict[str, float]:
    """Alerts per detector per 1,000 staff per day."""
    counts = Counter(a.detector for a in alerts)
    scale = 1000.0 / max(1, staff) / max(days, 1e-9)
    return {det: n * scale for det, n in counts.items()}


def table(current: Mapping[str, float], proposed: Mapping[str, float]) -> str:
    """The two settings side by side, one line per detector and a total.

    >>> print(table({"a.b": 2.0}, {"a.b": 0.5, "c.d": 1.0}))
    detector  current  proposed  change
    a.b          2.00      0.50   -1.50
    c.d          0.00      1.00   +1.00
    total        2.00      1.50   -0.50
    """
    rows = [(d, current.get(d, 0.0), proposed.get(d, 0.0)) for d in sorted({*current, *proposed})]
    rows.append(("total", sum(current.values()), sum(proposed.values())))
    width = max(len("detector"), *(len(r[0]) for r in rows))
    lines = [f"{'detector':<{width}}  current  proposed  change"]
    lines += [f"{d:<{width}}  {c:7.2f}  {p:8.2f}  {p - c:+6.2f}" for d, c, p in rows]
    return "\n".join(lines)


@click.command("tune")
@click.option("--replay", "paths", multiple=True, required=True, type=click.Path(
    exists=True, dir_okay=False, path_type=Path), help="events (JSONL) to replay; repeatable")
@click.option("--set", "sets", multiple=True, metavar="DETECTOR.FIELD=VALUE",
              help="a proposed parameter (repeatable), e.g. access.no_purpose.min_views=3")
@click.option("--volume", "volumes", multiple=True, metavar="DETECTOR=fewer|default|more",
              help="a proposed volume (repeatable), e.g. access.no_purpose=fewer; --set wins")
@click.option("--disable", multiple=True, metavar="DETECTOR", help="a detector to switch off")
@click.option("--graph/--no-graph", default=True, help="judge the association graph too")
def tune(paths: tuple[Path, ...], sets: tuple[str, ...], volumes: tuple[str, ...],
         disable: tuple[str, ...], graph: bool) -> None:  # fmt: skip
    """Alerts per detector per 1,000 staff per day: current settings against proposed ones."""
    from detectors.exceptions import DetectorError
    from detectors.graph.association import AssociationGraph
    from detectors.registry import build
    from engine.pipeline import Pipeline
    from models.events import attr_or_none, decode_event
    from probity.settings import Settings

    settings = Settings()
    events = [decode_event(line) for path in paths
              for line in path.read_bytes().splitlines() if line.strip()]  # fmt: skip
    staff = {attr_or_none(e.attrs, "staff_id") for e in events if e.kind == "staff.upsert"}
    times = [e.time for e in events if not e.is_reference]
    days = (max(times) - min(times)).total_seconds() / 86400 if times else 0.0
    days = max(days, 1.0)
    current = {k: dict(v) for k, v in settings.detectors.items()}
    proposed = {k: dict(v) for k, v in current.items()}
    for det_id, values in parse_sets(sets).items():
        proposed.setdefault(det_id, {}).update(values)
    off = set(settings.disabled_detectors)
    volume_now = dict(settings.detector_volume)
    volume_then = {**volume_now, **parse_volumes(volumes)}
    try:  # settings that do not fit a detector stop here, before the long replay
        build(proposed, off | set(disable), volume_then)
    except DetectorError as exc:
        raise click.ClickException(f"proposed settings: {exc}") from exc

    def run(params: dict[str, dict[str, Any]], disabled: set[str],
            volume: dict[str, str]) -> dict[str, float]:  # fmt: skip
        pipeline = Pipeline(build(params, disabled, volume),
                            graph=AssociationGraph() if graph else None,
                            min_feed_share=settings.feed_min_share)  # fmt: skip
        return rates(pipeline.run(events), len(staff), days)

    click.echo(f"{len(events)} events, {len(staff)} staff, {days:.1f} days")
    click.echo(table(run(current, off, volume_now),
                     run(proposed, off | set(disable), volume_then)))  # fmt: skip
