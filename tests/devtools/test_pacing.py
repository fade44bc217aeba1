"""No cliffs (docs/pacing.md): each multi-event detector's behaviour paced at several
speeds, and the table in the docs is what the detectors do now (so the docs cannot drift).
Regenerate the tables with ``python -m devtools.pacing --write``."""

from __future__ import annotations

import pytest

from devtools.pacing import DOC, PACINGS, rewrite, tables_in

DOCUMENTED = tables_in(DOC.read_text())


def test_every_pacing_has_its_section_in_the_docs() -> None:
    assert set(PACINGS) <= set(DOCUMENTED), sorted(set(PACINGS) - set(DOCUMENTED))


@pytest.mark.parametrize("detector", sorted(PACINGS))
def test_the_table_in_the_docs_is_what_the_detector_does(detector: str) -> None:
    assert DOCUMENTED[detector] == PACINGS[detector].table(), (
        f"{detector}'s pacing changed: run python -m devtools.pacing --write and explain "
        "the change in docs/pacing.md"
    )


def test_detection_stops_somewhere_and_starts_somewhere() -> None:
    """Each table shows both: a behaviour seen at one pace and missed at another (a table
    of one answer says nothing about where the cliff is)."""
    for detector, table in DOCUMENTED.items():
        cells = [c.strip() for row in table.splitlines()[2:] for c in row.split("|")[2:-1]]
        assert "no" in cells and any(c != "no" for c in cells), detector


def test_rewrite_replaces_only_the_tables() -> None:
    text = "# P\n\n## `a.b`: x\n\nprose\n\n| h |\n|---|\n| 1 |\n\nwhy\n\n## `c.d`\n\n| h |\n"
    out = rewrite(text, {"a.b": "| new |"})
    assert out == "# P\n\n## `a.b`: x\n\nprose\n\n| new |\n\nwhy\n\n## `c.d`\n\n| h |\n"
    assert tables_in(out) == {"a.b": "| new |", "c.d": "| h |"}
