"""``make quality``: one small force through the same steps, its row and the bar's misses."""

from __future__ import annotations

from pathlib import Path

from devtools.quality import HEADER, QualityRun, misses, row, score


def test_a_small_force_scores_into_one_table_row(tmp_path: Path) -> None:
    run = QualityRun("tiny", 60, 10, 11, "clean")
    r, events, seconds = score(run, tmp_path)
    assert events > 0 and seconds > 0
    assert {p.name for p in tmp_path.iterdir()} == {"events.jsonl", "labels.json", "alerts.jsonl"}
    cells = row(run, r, events).strip("|").split("|")
    assert len(cells) == HEADER.splitlines()[0].count("|") - 1
    n = len(r.scenarios)
    assert cells[2].strip() == f"{sum(s.found for s in r.scenarios)}/{n}"
    assert cells[3].strip().startswith(f"{r.found_within_budget}/{n} (top 1 a day)")
    # the bar names what missed: every scenario outside the budget when it is held to it
    outside = [s.id for s in r.scenarios if s.found and not s.within_budget]
    held = misses(r, budget=True)
    assert [m for m in held if "budget" in m] == [
        f"outside the daily budget: {s.id} {s.kind}" for s in r.scenarios if s.id in outside
    ]
    assert not [m for m in misses(r, budget=False) if "budget" in m]
