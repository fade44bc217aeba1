"""``probity graph bench``: the association graph at force scale.

Builds a synthetic force (people, staff, addresses, phones, vehicles, OCG nominals,
switchboard and hostel hubs) to a number of links, then times the path check for new edges
against networkx's own ``single_source_shortest_path_length(G, u, cutoff=k)`` on the same
graph in the same run, and the memory the graph takes (process RSS growth while building).
Needs the ``bench`` extra (psutil).
"""

from __future__ import annotations

import gc
import os
import random
import statistics
import time
from datetime import UTC, datetime
from typing import Any

import networkx as nx
import psutil

from detectors.graph.association import AssociationGraph
from detectors.graph.model import is_staff


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
