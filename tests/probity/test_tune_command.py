"""``probity tune``: current and proposed settings side by side, per 1,000 staff per day."""

from __future__ import annotations

from pathlib import Path

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
