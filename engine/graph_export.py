"""An officer's neighbourhood in the association graph, for link-analysis tools (``probity
graph export``).

The graph is built from an events file (the live worker's graph lives in another process),
exactly as the pipeline does (reference events first, then activity); the officer's
neighbourhood within some hops is written as:

- ``--format graphml``: GraphML (networkx), node keys ``kind``, ``label``, ``nominal``,
  ``groups``; edge keys ``relation``, ``source`` (the relation's subject), ``first_seen``,
  ``last_seen``, ``count``, ``evidence``.
- ``--format csv``: an entity file and a link file for i2 Analyst's Notebook
  (:mod:`models.i2`: its columns, the formula guard), written as ``<out>_entities.csv`` and
  ``<out>_links.csv``.

Output files are created readable by their owner only: they hold personal data.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import networkx as nx

from detectors.graph.association import AssociationGraph
from detectors.graph.model import kind_of
from engine.pipeline import Pipeline
from models.events import Event, decode_event
from models.exceptions import DecodeError
from models.i2 import ENTITY_COLUMNS, ENTITY_TYPES, LINK_COLUMNS, write_rows

__all__ = ["ENTITY_COLUMNS", "LINK_COLUMNS", "build_graph", "read_events", "write_csv",
           "write_graphml"]  # fmt: skip


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
            write_rows(fh, columns, rows)
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
