"""``probity convert``: events on stdout, rejects with their original line in --rejects, a
summary on stderr; non-zero only for usage errors."""

from __future__ import annotations

import orjson
from click.testing import CliRunner

from models.events import decode_event
from probity.commands.adapters import convert
from tests.adapters.conftest import DATA, ROOT


def _run(*args: str):
    return CliRunner().invoke(convert, list(args))


def test_events_on_stdout_rejects_to_file_summary_on_stderr(tmp_path):
    rejects = tmp_path / "rejects.jsonl"
    source = DATA / "ecs" / "security.ndjson"
    result = _run("--format", "ecs", "--source", "win-hq", "--rejects", str(rejects), str(source))
    assert result.exit_code == 0, result.output
    events = [decode_event(line) for line in result.stdout.splitlines()]
    assert len(events) == 11 and {e.source for e in events} == {"win-hq"}
    lines = source.read_text().splitlines()
    got = [orjson.loads(line) for line in rejects.read_bytes().splitlines()]
    assert len(got) == 8
    for r in got:
        assert r["file"] == str(source)
        assert r["original"] == lines[r["line"] - 1]  # the original line, byte for byte
        assert ": " in r["reason"]
    assert "ecs: read 19, events 11, rejects 8" in result.stderr


def test_usage_errors_exit_non_zero(tmp_path):
    ecs = str(DATA / "ecs" / "security.ndjson")
    assert _run("--format", "nope", ecs).exit_code == 2
    assert _run("--format", "csv", str(DATA / "csv" / "audit_trail.csv")).exit_code == 2
    assert _run("--format", "ecs", "--tz", "Mars/Olympus", ecs).exit_code == 2
    assert _run("--format", "ecs", "--source", "Bad Name", ecs).exit_code == 2
    assert _run("--format", "ecs", str(tmp_path / "missing.json")).exit_code == 2
    bad = tmp_path / "bad.toml"
    bad.write_text('source = "x"\n[time]\ncolumn = "t"\ntimezone = "Nowhere/Land"\n')
    result = _run("--format", "csv", "--mapping", str(bad), ecs)
    assert result.exit_code == 2 and "Nowhere/Land" in result.output


def test_csv_header_not_matching_the_mapping_is_a_usage_error(tmp_path):
    export = tmp_path / "export.csv"
    export.write_text("When,Who\n02/03/2026 09:00:00,S1\n")
    mapping = ROOT / "adapters" / "mappings" / "records_audit.toml"
    result = _run("--format", "csv", "--mapping", str(mapping), str(export))
    assert result.exit_code == 2 and "not in the header" in result.output


def test_only_rejects_is_still_success(tmp_path):
    junk = tmp_path / "junk.log"
    junk.write_text("hello\nworld\n")
    result = _run("--format", "syslog", str(junk))
    assert result.exit_code == 0 and result.stdout == ""
    assert "rejects 2" in result.stderr


def test_registered_as_a_probity_subcommand():
    from probity.cli import main

    result = CliRunner().invoke(main, ["convert", "--help"])
    assert (
        result.exit_code == 0 and "--rejects" in result.output and "windows-json" in result.output
    )
