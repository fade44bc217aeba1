"""``probity graph``: export an officer's neighbourhood for link-analysis tools
(:mod:`engine.graph_export`), and measure the association graph at force scale
(:mod:`devtools.graph_bench`, with the ``bench`` extra)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from probity.commands import require_extra


@click.group()
def graph() -> None:
    """The association graph: export for link analysis, benchmark at force scale."""


@graph.command()
@click.option(
    "--events",
    "events_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="JSONL events file to build the graph from.",
)
@click.option("--officer", required=True, help="Staff id at the centre.")
@click.option("--hops", type=click.IntRange(1, 6), default=2, show_default=True)
@click.option(
    "--format", "fmt", type=click.Choice(["graphml", "csv"]), default="graphml", show_default=True
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="GraphML file, or the stem of the CSV pair (<out>_entities.csv, _links.csv).",
)
def export(events_path: Path, officer: str, hops: int, fmt: str, out: Path) -> None:
    """Write an officer's neighbourhood within --hops links for link-analysis tools."""
    from detectors.graph.model import node
    from engine.graph_export import build_graph, read_events, write_csv, write_graphml

    events, invalid = read_events(events_path)
    g = build_graph(events)
    start = node("staff", officer)
    if start not in g.g:
        raise click.ClickException(f"{officer} has no links in the graph built from {events_path}")
    sub = g.neighbourhood(start, hops)
    written = write_csv(g, sub, out) if fmt == "csv" else write_graphml(g, sub, out)
    click.echo(
        f"{sub.number_of_nodes()} entities, {sub.number_of_edges()} links within {hops} of "
        f"{officer} -> {', '.join(map(str, written))}"
        + (f" ({invalid} invalid lines skipped)" if invalid else "")
    )


@graph.command()
@click.option("--edges", type=click.IntRange(1000), default=1_000_000, show_default=True)
@click.option("--checks", type=click.IntRange(1), default=300, show_default=True)
@click.option("--hops", "k", type=click.IntRange(1, 6), default=3, show_default=True)
@click.option("--seed", type=int, default=7, show_default=True)
@click.option(
    "--json",
    "json_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("graph-bench.json"),
    show_default=True,
)
@click.option(
    "--gc-freeze/--no-gc-freeze",
    default=False,
    show_default=True,
    help="gc.freeze() the built graph before timing (as a worker should).",
)
def bench(edges: int, checks: int, k: int, seed: int, json_path: Path, gc_freeze: bool) -> None:
    """Build a synthetic force graph and time new-edge path checks against networkx."""
    require_extra("bench", "psutil")
    from devtools.graph_bench import run_bench

    report = run_bench(edges, checks, k, seed, gc_freeze=gc_freeze)
    click.echo(
        f"graph: {report['nodes']:,} nodes, {report['edges']:,} edges, built in "
        f"{report['build_s']} s, RSS +{report['rss_growth_mb']} MB "
        f"({report['bytes_per_edge']} B/edge); {report['hubs_over_cap']} hubs over "
        f"{report['hub_degree_cap']} links (max degree {report['max_degree']:,})"
    )
    click.echo(
        f"{'k=' + str(k) + ', ' + str(checks) + ' checks (wall | cpu)':<40}"
        f"{'median ms':>11}{'p99 ms':>10}{'max ms':>10} |"
        f"{'median ms':>11}{'p99 ms':>10}"
    )
    for name, key in (
        ("path check near the new edge", "path_check"),
        ("networkx sssp(u, cutoff=k)", "networkx_sssp_cutoff_k"),
    ):
        row, cpu = report[key], report[key + "_cpu"]
        click.echo(
            f"{name:<40}{row['median_ms']:>11.3f}{row['p99_ms']:>10.3f}"
            f"{row['max_ms']:>10.3f} |{cpu['median_ms']:>11.3f}{cpu['p99_ms']:>10.3f}"
        )
    click.echo(f"load average {report['load_average_1m']} on {os.cpu_count()} CPUs")
    json_path.write_text(json.dumps(report, indent=2) + "\n")
    click.echo(f"report -> {json_path}")
