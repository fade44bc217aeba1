"""``probity graph``: export an officer's neighbourhood for link-analysis tools, and measure
the association graph at force scale.

``export`` builds the graph from an events file (the live worker's graph lives in another
process), exactly as the pipeline does (reference events first, then activity), and writes
the officer's neighbourhood within ``--hops`` links:

- ``--format graphml``: GraphML (networkx), node keys ``kind``, ``label``, ``nominal``,
  ``groups``; edge keys ``relation``, ``source`` (the relation's subject), ``first_seen``,
  ``last_seen``, ``count``, ``evidence``.
- ``--format csv``: an entity file and a link file for i2 Analyst's Notebook (import them
  with an import specification mapping the columns below), written as ``<out>_entities.csv``
  and ``<out>_links.csv``:

  entities: ``entity_id`` (identity), ``entity_type`` (Staff, Person, Address, Phone,
  Vehicle, OCG, Other: the icon), ``label``, ``nominal`` (yes/no), ``ocg_groups`` (``;``
  separated);
  links: ``link_id``, ``from_id`` and ``to_id`` (the relation reads from -> to), ``relation``
  (the link type), ``first_seen``, ``last_seen`` (RFC 3339), ``count``, ``evidence`` (event
  ids, ``;`` separated).

  Cells that a spreadsheet would run as a formula are prefixed with ``'``.

Output files are created readable by their owner only: they hold personal data.

``bench`` builds a synthetic force (people, staff, addresses, phones, vehicles, OCG nominals,
switchboard and hostel hubs) to ``--edges`` links, then times the path check for new edges
against networkx's own ``single_source_shortest_path_length(G, u, cutoff=k)`` on the same
graph in the same run, and the memory the graph takes (process RSS growth while building).
"""

from __future__ import annotations

import csv
import gc
import json
import os
import random
import statistics
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import click
import networkx as nx
import psutil

from detectors.graph.association import AssociationGraph
from detectors.graph.model import is_staff, kind_of, node
from models.events import Event, decode_event
from models.exceptions import DecodeError
from streams.pipeline import Pipeline

ENTITY_TYPES = {
    "staff": "Staff",
    "person": "Person",
    "address": "Address",
    "phone": "Phone",
    "vehicle": "Vehicle",
    "ocg": "OCG",
}
ENTITY_COLUMNS = ("entity_id", "entity_type", "label", "nominal", "ocg_groups")
LINK_COLUMNS = (
    "link_id",
    "from_id",
    "to_id",
    "relation",
    "first_seen",
    "last_seen",
    "count",
    "evidence",
)


@click.group()
def graph() -> None:
    """The association graph: export for link analysis, benchmark at force scale."""


def read_events(path: Path) -> tuple[list[Event], int]:
    """Decoded events of a JSONL file, and how many lines were invalid (skipped)."""
    events, invalid = [], 0
    with path.open("rb") as fh:
        for line in fh:
            if not line.strip():
                continue
            try:
                events.append(decode_event(line))
            except DecodeError:
                invalid += 1
    return events, invalid


def build_graph(events: list[Event]) -> AssociationGraph:
    """The graph the worker would hold after these events (no detectors run)."""
    g = AssociationGraph()
    Pipeline([], graph=g).run(events)
    return g


def _private(path: Path) -> IO[str]:
    """A new text file only its owner may read (personal data)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    return os.fdopen(fd, "w", encoding="utf-8", newline="")


def _cell(value: str) -> str:
    """Neutralise spreadsheet formulas; keep phone numbers such as ``+447700900999`` as is."""
    if value[:1] in ("=", "@", "\t", "\r") or (
        value[:1] in ("+", "-") and not value[1:].replace(" ", "").isdigit()
    ):
        return "'" + value
    return value


def _node_rows(g: AssociationGraph, sub: nx.Graph) -> Iterator[dict[str, str]]:
    for n in sorted(sub):
        kind = kind_of(n)
        label = g.label(n)
        if label.startswith(kind + " "):
            label = label[len(kind) + 1 :]
        yield {
            "entity_id": n,
            "entity_type": ENTITY_TYPES.get(kind, "Other"),
            "label": label,
            "nominal": "yes" if kind == "person" and g.is_target(n) else "no",
            "ocg_groups": ";".join(g.groups_of(n)) if g.is_target(n) else "",
        }


def _link_rows(g: AssociationGraph, sub: nx.Graph) -> Iterator[dict[str, str]]:
    i = 0
    for u, v in sorted(tuple(sorted(e)) for e in sub.edges()):
        for link in g.links(u, v):
            i += 1
            yield {
                "link_id": f"L{i}",
                "from_id": link.src,
                "to_id": v if link.src == u else u,
                "relation": link.relation,
                "first_seen": link.first.isoformat(),
                "last_seen": link.last.isoformat(),
                "count": str(link.count),
                "evidence": ";".join(link.evidence),
            }


def write_csv(g: AssociationGraph, sub: nx.Graph, stem: Path) -> list[Path]:
    paths = [stem.with_name(stem.name + "_entities.csv"), stem.with_name(stem.name + "_links.csv")]
    for path, columns, rows in (
        (paths[0], ENTITY_COLUMNS, _node_rows(g, sub)),
        (paths[1], LINK_COLUMNS, _link_rows(g, sub)),
    ):
        with _private(path) as fh:
            writer = csv.DictWriter(fh, fieldnames=columns)
            writer.writeheader()
            for row in rows:
                writer.writerow({k: _cell(v) for k, v in row.items()})
    return paths


def write_graphml(g: AssociationGraph, sub: nx.Graph, path: Path) -> list[Path]:
    out = nx.Graph()
    for row in _node_rows(g, sub):
        out.add_node(
            row["entity_id"],
            kind=kind_of(row["entity_id"]),
            label=row["label"],
            nominal=row["nominal"] == "yes",
            groups=row["ocg_groups"],
        )
    for u, v in sub.edges():
        links = g.links(u, v)
        out.add_edge(
            u,
            v,
            relation="+".join(x.relation for x in links),
            source=";".join(x.src for x in links),
            first_seen=min(x.first for x in links).isoformat(),
            last_seen=max(x.last for x in links).isoformat(),
            count=sum(x.count for x in links),
            evidence=";".join(e for x in links for e in x.evidence),
        )
    with _private(path) as fh:
        fh.write("\n".join(nx.generate_graphml(out)) + "\n")
    return [path]


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


# -- benchmark ------------------------------------------------------------------------------


def synthetic_force(edges: int, seed: int = 7) -> AssociationGraph:
    """A deterministic synthetic force of about ``edges`` links: 10 links per person, staff
    5% of people, 1% of people OCG nominals in 50 groups, 5 switchboard numbers taking 10% of
    calls and 10 hostel addresses taking 5% of residences (the hubs)."""
    rnd = random.Random(seed)  # noqa: S311  (synthetic data, not security)
    people = max(50, edges // 10)
    staff = max(5, people // 20)
    g = AssociationGraph()
    t = datetime(2026, 3, 1, tzinfo=UTC)
    for i in range(0, people, 100):
        p = f"person:P{i}"
        g.mark_nominal(p)
        g.add_link(p, f"ocg:OCG-{i % 50}", "member_of", f"w{i}", t)

    def pick(prefix: str, n: int) -> str:
        return f"{prefix}{rnd.randrange(n)}"

    n = made = g.g.number_of_edges()  # number_of_edges() is O(nodes): count as we go
    adj = g.g.adj
    while made < edges:
        n += 1
        r = rnd.random()
        if r < 0.2:
            addr = pick("address:h", 10) if rnd.random() < 0.05 else pick("address:a", people // 2)
            u, v, rel = pick("person:P", people), addr, "lives_at"
        elif r < 0.45:
            u, v, rel = pick("person:P", people), pick("phone:", people), "uses_phone"
        elif r < 0.65:
            u, v, rel = pick("person:P", people), pick("person:P", people), "associate_of"
        elif r < 0.9:
            phone = pick("phone:sw", 5) if rnd.random() < 0.1 else pick("phone:", people)
            u, v, rel = pick("staff:S", staff), phone, "called"
        else:
            u, v, rel = pick("person:P", people), pick("vehicle:", people // 4), "uses_vehicle"
        if u != v and v not in adj.get(u, ()):
            made += 1
        g.add_link(u, v, rel, f"e{n}", t)
    return g


def _rss() -> int:
    gc.collect()
    return int(psutil.Process().memory_info().rss)


def _summary(seconds: list[float]) -> dict[str, float]:
    ms = sorted(s * 1000 for s in seconds)
    p99 = ms[min(len(ms) - 1, round(0.99 * (len(ms) - 1)))]
    return {
        "median_ms": statistics.median(ms),
        "p99_ms": p99,
        "mean_ms": statistics.fmean(ms),
        "max_ms": ms[-1],
    }


def run_bench(
    edges: int, checks: int, k: int, seed: int = 7, *, gc_freeze: bool = False
) -> dict[str, Any]:
    """Build, then time ``checks`` new-edge path checks both ways; a JSON-able report.

    With a million-edge graph in memory, a full cyclic-GC pass takes tens of milliseconds
    and lands on whichever check is running; ``gc_freeze`` moves the built graph out of the
    collector's reach (:func:`gc.freeze`), as a worker holding the graph should do.
    """
    before = _rss()
    start = time.perf_counter()
    g = synthetic_force(edges, seed)
    build_s = time.perf_counter() - start
    grown = _rss() - before
    if gc_freeze:
        gc.freeze()
    built_edges = g.g.number_of_edges()
    rnd = random.Random(seed + 1)  # noqa: S311
    nodes = sorted(g.g)
    persons = [n for n in nodes if n.startswith("person:")]
    mine: list[float] = []
    theirs: list[float] = []
    mine_cpu: list[float] = []
    theirs_cpu: list[float] = []
    found = visited = 0
    t = datetime(2026, 3, 2, tzinfo=UTC)
    for i in range(checks):
        u = rnd.choice(persons)
        v = rnd.choice(nodes)
        g.add_link(u, v, "associate_of", f"new{i}", t)
        s, c = time.perf_counter(), time.thread_time()
        paths = g.paths_through(u, v, k=k, source=is_staff, target=g.is_target)
        mine.append(time.perf_counter() - s)
        mine_cpu.append(time.thread_time() - c)
        found += len(paths)
        s, c = time.perf_counter(), time.thread_time()
        reach = nx.single_source_shortest_path_length(g.g, u, cutoff=k)
        theirs.append(time.perf_counter() - s)
        theirs_cpu.append(time.thread_time() - c)
        visited += len(reach)
    degrees = sorted((d for _, d in g.g.degree()), reverse=True)
    return {
        "edges": built_edges,
        "nodes": g.g.number_of_nodes(),
        "k": k,
        "hub_degree_cap": g.hub_degree,
        "hubs_over_cap": sum(1 for d in degrees if d > g.hub_degree),
        "max_degree": degrees[0],
        "build_s": round(build_s, 2),
        "rss_growth_mb": round(grown / 2**20, 1),
        "bytes_per_edge": round(grown / max(1, built_edges)),
        "checks": checks,
        "path_check": _summary(mine),
        "networkx_sssp_cutoff_k": _summary(theirs),
        "path_check_cpu": _summary(mine_cpu),
        "networkx_sssp_cutoff_k_cpu": _summary(theirs_cpu),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "paths_found": found,
        "nodes_reached_by_networkx_mean": round(visited / max(1, checks)),
        "nominals": g.stats()["nominals"],
        "seed": seed,
        "gc_frozen": gc_freeze,
    }


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


__all__ = ["build_graph", "graph", "read_events", "run_bench", "synthetic_force"]
