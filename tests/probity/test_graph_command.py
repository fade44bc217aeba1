"""``probity graph``: export for link-analysis tools and the benchmark (small, fast)."""

from __future__ import annotations

import csv
import json
import stat
from pathlib import Path

import networkx as nx
import pytest
from click.testing import CliRunner

from engine.graph_export import ENTITY_COLUMNS, LINK_COLUMNS
from models.i2 import cell as _cell
from probity.cli import main

EVENTS = (
    Path(__file__).resolve().parents[1] / "detectors" / "data" / "association.ocg_path"
    / "events.jsonl"
)


@pytest.fixture
def events_file(tmp_path: Path) -> Path:
    """The ocg_path golden events plus one invalid line and a formula-looking address."""
    path = tmp_path / "events.jsonl"
    extra = (
        b'{"id":"x1","time":"2026-03-04T11:00:00Z","source":"intel","kind":"person.link",'
        b'"attrs":{"person":"P-7001","link":"vehicle","value":"=HYPERLINK(\\"evil\\")"}}\n'
        b"not json\n"
    )
    path.write_bytes(EVENTS.read_bytes() + extra)
    return path


def test_export_graphml_holds_the_neighbourhood(events_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "s1001.graphml"
    result = CliRunner().invoke(main, ["graph", "export", "--events", str(events_file),
                                       "--officer", "S1001", "--hops", "3", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "1 invalid lines skipped" in result.output
    g = nx.read_graphml(out)
    assert {"staff:S1001", "address:14milllaneworcester", "person:P-7001",
            "person:P-9001"} <= set(g)
    assert "ocg:OCG-RIVERSIDE" not in g  # 4 links away
    assert g.nodes["person:P-9001"]["nominal"] is True
    edge = g.edges["person:P-7001", "person:P-9001"]
    assert (edge["relation"], edge["evidence"]) == ("associate_of", "int-11")
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


def test_export_csv_pair_for_i2(events_file: Path, tmp_path: Path) -> None:
    stem = tmp_path / "s1001"
    result = CliRunner().invoke(main, ["graph", "export", "--events", str(events_file),
                                       "--officer", "S1001", "--hops", "2", "--format", "csv",
                                       "--out", str(stem)])
    assert result.exit_code == 0, result.output
    with (tmp_path / "s1001_entities.csv").open() as fh:
        entities = list(csv.DictReader(fh))
    with (tmp_path / "s1001_links.csv").open() as fh:
        links = list(csv.DictReader(fh))
    assert tuple(entities[0]) == ENTITY_COLUMNS and tuple(links[0]) == LINK_COLUMNS
    by_id = {e["entity_id"]: e for e in entities}
    assert by_id["phone:07700900123"]["label"] == "+447700900123"  # a number, left alone
    assert by_id["staff:S1001"]["entity_type"] == "Staff"
    assert "person:P-9001" not in by_id  # 3 links away, hops=2
    assert {(x["from_id"], x["to_id"], x["relation"]) for x in links} >= {
        ("staff:S1001", "address:14milllaneworcester", "lives_at"),
        ("person:P-7001", "address:14milllaneworcester", "lives_at"),
    }
    assert all(x["evidence"] and x["first_seen"].endswith("+00:00") for x in links)


def test_exported_formula_text_is_neutralised(events_file: Path, tmp_path: Path) -> None:
    stem = tmp_path / "wide"
    result = CliRunner().invoke(main, ["graph", "export", "--events", str(events_file),
                                       "--officer", "S1001", "--hops", "3", "--format", "csv",
                                       "--out", str(stem)])
    assert result.exit_code == 0, result.output
    with (tmp_path / "wide_entities.csv").open() as fh:
        vehicles = [e for e in csv.DictReader(fh) if e["entity_type"] == "Vehicle"]
    assert [v["label"] for v in vehicles] == ["'=HYPERLINK(\"evil\")"]


def test_formula_cells_are_neutralised() -> None:
    assert _cell('=HYPERLINK("x")') == "'=HYPERLINK(\"x\")"
    assert _cell("@SUM(A1)") == "'@SUM(A1)"
    assert _cell("-2+3") == "'-2+3"
    assert _cell("+44 7700 900123") == "+44 7700 900123"
    assert _cell("14 Mill Lane") == "14 Mill Lane"


def test_export_of_an_unknown_officer_fails_cleanly(events_file: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["graph", "export", "--events", str(events_file),
                                       "--officer", "S9999", "--out", str(tmp_path / "x")])
    assert result.exit_code != 0 and "S9999 has no links" in result.output


def test_bench_small_graph_reports_both_timings(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    result = CliRunner().invoke(main, ["graph", "bench", "--edges", "20000", "--checks", "50",
                                       "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert "networkx sssp(u, cutoff=k)" in result.output
    report = json.loads(out.read_text())
    assert report["edges"] == 20000 and report["checks"] == 50 and report["k"] == 3
    for key in ("path_check", "networkx_sssp_cutoff_k", "path_check_cpu",
                "networkx_sssp_cutoff_k_cpu"):
        row = report[key]
        assert 0 < row["median_ms"] <= row["p99_ms"] <= row["max_ms"]
    # RSS growth of a small graph can round to nothing (pages already held): only its presence
    assert report["bytes_per_edge"] >= 0 and report["build_s"] > 0
