"""``probity tune``: current and proposed settings side by side, per 1,000 staff per day."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from probity.cli import main

GOLDEN = Path(__file__).parents[1] / "detectors" / "data" / "access.self_family_colleague"


def test_tune_prints_current_and_proposed_side_by_side() -> None:
    events = GOLDEN / "colleague_household_repeated.events.jsonl"
    # the same colleague's household reached again 5 days later: an alert while repeats count
    # over 30 days (current), none when they count over 1 day (proposed)
    done = CliRunner().invoke(main, [
        "tune", "--replay", str(events), "--no-graph",
        "--set", "access.self_family_colleague.repeat_days=1",
    ])  # fmt: skip
    assert done.exit_code == 0, done.output
    lines = done.output.splitlines()
    assert lines[0] == "9 events, 5 staff, 5.2 days"
    assert lines[1].split() == ["detector", "current", "proposed", "change"]
    row = next(line.split() for line in lines if line.startswith("access.self_family"))
    assert row == ["access.self_family_colleague", "38.40", "0.00", "-38.40"]
    assert lines[-1].split()[0] == "total"


def test_tune_refuses_a_malformed_setting(tmp_path: Path) -> None:
    events = tmp_path / "e.jsonl"
    events.write_text("")
    done = CliRunner().invoke(main, ["tune", "--replay", str(events), "--set", "nodot=1"])
    assert done.exit_code != 0
    assert "detector.id.field=value" in done.output


def _rows(output: str) -> dict[str, list[float]]:
    return {p[0]: [float(x) for x in p[1:]] for line in output.splitlines()[2:]
            if len(p := line.split()) == 4}  # fmt: skip


def test_tune_shows_a_volume_change_side_by_side(tmp_path: Path) -> None:
    """On a small simulated force: ``more`` off-duty alerts proposed, the others unchanged;
    ``fewer`` barred-list matches (a near name no longer matches)."""
    made = CliRunner().invoke(main, ["simulate", "--staff", "40", "--days", "7", "--seed", "1",
                                     "--out", str(tmp_path)])  # fmt: skip
    assert made.exit_code == 0, made.output
    events = str(tmp_path / "events.jsonl")
    more = CliRunner().invoke(main, ["tune", "--replay", events, "--no-graph",
                                     "--volume", "access.off_duty=more"])  # fmt: skip
    assert more.exit_code == 0, more.output
    rows = _rows(more.output)
    current, proposed, change = rows["access.off_duty"]
    assert proposed > current and change == pytest.approx(proposed - current, abs=0.01)
    assert all(c == p for det, (c, p, _) in rows.items() if det not in ("access.off_duty", "total"))
    fewer = CliRunner().invoke(main, ["tune", "--replay", events, "--no-graph",
                                      "--volume", "vetting.barred_match=fewer"])  # fmt: skip
    assert fewer.exit_code == 0, fewer.output
    current, proposed, _ = _rows(fewer.output)["vetting.barred_match"]
    assert proposed < current


def test_tune_refuses_an_unknown_volume_naming_the_detector(tmp_path: Path) -> None:
    events = tmp_path / "e.jsonl"
    events.write_text("")
    done = CliRunner().invoke(main, ["tune", "--replay", str(events),
                                     "--volume", "access.off_duty=louder"])  # fmt: skip
    assert done.exit_code != 0
    assert "access.off_duty: unknown volume 'louder'" in done.output
    done = CliRunner().invoke(main, ["tune", "--replay", str(events), "--volume", "fewer"])
    assert done.exit_code != 0 and "detector.id=fewer|default|more" in done.output
