"""The link chart: an association chain (or an officer's network as the queue knows it)
laid out for a server-drawn SVG, and the same links as the i2 import files.

The input is :func:`triage.present.path_links` rows, so people are already pseudonymised.
Layout: the officer at the top, each node one row below the nearest node before it
(breadth-first layers from the officer, :func:`networkx.bfs_layers`); a chain reads top to
bottom with each link's relation, systems and dates beside it. The shapes here are plain
numbers and strings: ``templates/_chart.html`` draws them, and Jinja escapes every label.
Colours are SVG presentation attributes, not ``style``: the CSP allows them, and the PDF
renderer draws them the same.
"""

from __future__ import annotations

import io
import math
import re
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import networkx as nx

from models.i2 import ENTITY_COLUMNS, LINK_COLUMNS, write_rows

NODE_W, NODE_H = 190, 40
ROW_H, COL_W = 110, 260
LABEL_W = 170  # the text beside a vertical link
MAX_CHARS = 28  # longer labels are cut (the full one is the node's <title>)
MAX_NODES = 60  # a chart past this is unreadable: the export holds the rest

#: (fill, stroke) per i2 entity type
COLOURS = {
    "Staff": ("#fde8e8", "#8b0000"),
    "Person": ("#eef3f8", "#0b5394"),
    "Address": ("#eef7ee", "#3b6e3b"),
    "Phone": ("#f3eefa", "#5b3b8c"),
    "Vehicle": ("#f4f4f4", "#57606a"),
    "OCG": ("#fbe3d2", "#b35900"),
}
OTHER = ("#ffffff", "#57606a")


@dataclass(frozen=True)
class ChartNode:
    x: int  # centre
    y: int
    kind: str
    label: str  # as drawn (cut)
    full: str  # as given
    fill: str
    stroke: str
    officer: bool


@dataclass(frozen=True)
class ChartEdge:
    x1: int
    y1: int
    x2: int
    y2: int
    arrow: str  # the arrowhead polygon's points, at the ``to`` end
    lx: int  # where the text block is centred
    ly: int
    lines: tuple[str, ...]  # relation, systems, dates
    box: tuple[int, int, int, int]  # x, y, width, height of the white behind the text


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    nodes: tuple[ChartNode, ...]
    edges: tuple[ChartEdge, ...]
    left_out: int  # nodes not drawn (past MAX_NODES)


def _cut(text: str, n: int = MAX_CHARS) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _dates(first: str, last: str) -> str:
    a, b = first[:10], last[:10]
    return a if a == b else f"{a} to {b}"


def merge_links(rows: Iterable[Mapping[str, str]]) -> list[dict[str, str]]:
    """One row per (from, relation, to): systems and evidence joined, dates widened, in
    first-seen order (the same link on several alerts is one link of the network)."""
    merged: dict[tuple[str, str, str], dict[str, str]] = {}
    for r in rows:
        key = (r["from"], r["relation"], r["to"])
        have = merged.get(key)
        if have is None:
            merged[key] = dict(r)
            continue
        have["sources"] = ", ".join(sorted({*_split(have["sources"], ","),
                                             *_split(r["sources"], ",")}))  # fmt: skip
        have["evidence"] = "; ".join(dict.fromkeys([*_split(have["evidence"], ";"),
                                                    *_split(r["evidence"], ";")]))  # fmt: skip
        firsts = [t for t in (have["first_seen"], r["first_seen"]) if t]
        lasts = [t for t in (have["last_seen"], r["last_seen"]) if t]
        have["first_seen"] = min(firsts) if firsts else ""
        have["last_seen"] = max(lasts) if lasts else ""
    return sorted(merged.values(), key=lambda r: (r["first_seen"] or "~", r["from"], r["to"]))


def _split(text: str, sep: str) -> list[str]:
    return [p.strip() for p in text.split(sep) if p.strip()]


def link_chart(links: Sequence[Mapping[str, str]], officer: str) -> Chart | None:
    """The chart of ``links`` (path_links rows) around ``officer``; None without links."""
    if not links:
        return None
    g = nx.MultiDiGraph()
    kinds: dict[str, str] = {}
    for r in links:
        kinds.setdefault(r["from"], r["from_kind"])
        kinds.setdefault(r["to"], r["to_kind"])
        g.add_edge(r["from"], r["to"], row=r)
    root = officer if officer in g else str(links[0]["from"])
    layers = [list(layer) for layer in nx.bfs_layers(g.to_undirected(as_view=True), [root])]
    placed = {n for layer in layers for n in layer}
    layers += [[n] for n in g if n not in placed]  # not reachable from the officer
    drawn = 0
    pos: dict[str, tuple[int, int]] = {}
    widest = max(len(layer) for layer in layers)
    width = max(widest * COL_W, NODE_W + 2 * LABEL_W + 40)
    und = g.to_undirected(as_view=True)
    slot: dict[str, float] = {}
    for row, layer in enumerate(layers):
        # each node under the mean place of its links in the row above (fewer crossings)
        def above(n: str) -> float:
            xs = [slot[m] for m in und[n] if m in slot]
            return sum(xs) / len(xs) if xs else math.inf

        layer = sorted(layer, key=lambda n: (above(n), kinds.get(n, ""), n))
        slot.update((n, float(i)) for i, n in enumerate(layer))
        offset = (width - len(layer) * COL_W) // 2
        for i, n in enumerate(layer):
            if drawn == MAX_NODES:
                break
            pos[n] = (offset + i * COL_W + COL_W // 2, 30 + row * ROW_H + NODE_H // 2)
            drawn += 1
    nodes = tuple(
        ChartNode(x, y, kinds.get(n, "Other"), _cut(n), n, *COLOURS.get(kinds.get(n, ""), OTHER),
                  officer=n == officer)
        for n, (x, y) in pos.items()
    )  # fmt: skip
    edges = tuple(
        _edge(pos[u], pos[v], data["row"], k)
        for u, v, k, data in g.edges(keys=True, data=True)
        if u in pos and v in pos
    )
    height = max(y for _, y in pos.values()) + NODE_H // 2 + 30
    return Chart(width, height, nodes, edges, left_out=g.number_of_nodes() - drawn)


def _edge(a: tuple[int, int], b: tuple[int, int], row: Mapping[str, str], k: int) -> ChartEdge:
    """A link from box ``a`` to box ``b``, cut at the boxes' edges, with its text block."""
    (x1, y1), (x2, y2) = a, b
    dx, dy = x2 - x1, y2 - y1
    length = math.hypot(dx, dy) or 1.0
    ux, uy = dx / length, dy / length
    # leave each box where the line crosses its border
    t = min(
        (NODE_W / 2) / abs(ux) if ux else math.inf, (NODE_H / 2) / abs(uy) if uy else math.inf
    )
    sx, sy = x1 + ux * t, y1 + uy * t
    ex, ey = x2 - ux * t, y2 - uy * t
    px, py = -uy, ux  # the arrowhead's half-width direction
    arrow = " ".join(
        f"{round(x)},{round(y)}"
        for x, y in ((ex, ey), (ex - 9 * ux + 4 * px, ey - 9 * uy + 4 * py),
                     (ex - 9 * ux - 4 * px, ey - 9 * uy - 4 * py))
    )  # fmt: skip
    lines = [row["relation"].replace("_", " ").replace("+", " + ")]
    if row.get("sources"):
        lines.append(_cut(row["sources"], 30))
    if row.get("first_seen"):
        lines.append(_dates(row["first_seen"], row["last_seen"] or row["first_seen"]))
    mx, my = (sx + ex) / 2, (sy + ey) / 2
    # in a chain (a vertical link) the text stands beside the line
    lx = mx + 12 + LABEL_W // 2 + k * LABEL_W if abs(dx) < 1 else mx
    ly = my - 6 * (len(lines) - 1) + (14 * k if abs(dx) >= 1 else 0)
    w = 6 * max(len(line) for line in lines) + 8  # about 6 px a character at 10-11 px
    box = (round(lx - w / 2), round(ly - 11), w, 13 * len(lines) + 3)
    return ChartEdge(round(sx), round(sy), round(ex), round(ey), arrow, round(lx), round(ly),
                     tuple(lines), box)  # fmt: skip


# ------------------------------------------------------------------ i2 files
Rows = list[dict[str, str]]


def i2_rows(links: Sequence[Mapping[str, str]]) -> tuple[Rows, Rows]:
    """Entities and links (``models.i2`` columns) of merged path_links rows. A person is
    nominal when they are linked to an OCG (``member_of``), which names their groups."""
    kinds: dict[str, str] = {}
    groups: dict[str, set[str]] = {}
    for r in links:
        kinds.setdefault(r["from"], r["from_kind"])
        kinds.setdefault(r["to"], r["to_kind"])
        if r["to_kind"] == "OCG" and r["from_kind"] == "Person":
            groups.setdefault(r["from"], set()).add(r["to"])
    entities = [
        {"entity_id": n, "entity_type": kind, "label": n, "nominal": "yes" if n in groups else "no",
         "ocg_groups": ";".join(sorted(groups.get(n, ())))}
        for n, kind in sorted(kinds.items())
    ]  # fmt: skip
    rows = []
    for i, r in enumerate(links, start=1):
        evidence = _split(r["evidence"], ";")
        rows.append({
            "link_id": f"L{i}", "from_id": r["from"], "to_id": r["to"],
            "relation": r["relation"], "first_seen": r["first_seen"], "last_seen": r["last_seen"],
            "count": str(len(evidence)), "evidence": ";".join(evidence),
        })  # fmt: skip
    return entities, rows


def file_stem(name: str) -> str:
    """A file name part from an id: letters, digits, ``-`` and ``_`` only (no path in a zip).

    >>> file_stem("S1/../x y")
    'S1____x_y'
    """
    return re.sub(r"[^A-Za-z0-9_-]", "_", name)[:64] or "network"


def i2_zip(links: Sequence[Mapping[str, str]], stem: str) -> bytes:
    """``<stem>_entities.csv`` and ``<stem>_links.csv`` (as ``probity graph export --format
    csv`` writes them) in one zip."""
    entities, rows = i2_rows(links)
    stem = file_stem(stem)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, columns, data in (("entities", ENTITY_COLUMNS, entities),
                                    ("links", LINK_COLUMNS, rows)):  # fmt: skip
            text = io.StringIO()
            write_rows(text, columns, data)
            z.writestr(f"{stem}_{name}.csv", text.getvalue().encode("utf-8"))
    return buf.getvalue()
