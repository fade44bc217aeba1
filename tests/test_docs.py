"""The docs name real things: every repository path a page cites in backticks exists, so a
move or a rename shows up here instead of in an auditor's hands."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: a backticked path: a known top-level folder, then a file or folder name
_PATH = re.compile(r"`((?:\.\./shared|triage|probity|streams|engine|detectors|models|adapters|"
                   r"intake|simulation|devtools|deploy|tests|docs)/[\w./-]+?)`")  # fmt: skip
PAGES = ["docs/asvs-l2.md"]


@pytest.mark.parametrize("page", PAGES)
def test_every_cited_path_exists(page: str) -> None:
    text = (ROOT / page).read_text()
    cited = set(_PATH.findall(text))
    assert cited, "the page cites no path"
    missing = sorted(c for c in cited if not (ROOT / c).exists())
    assert not missing, f"{page} cites missing paths: {missing}"


def test_the_asvs_page_covers_every_chapter_and_links_to_the_security_page() -> None:
    text = (ROOT / "docs" / "asvs-l2.md").read_text()
    chapters = {int(n) for n in re.findall(r"^## V(\d+) ", text, re.M)}
    assert chapters == set(range(1, 15))
    assert "(security.md)" in text
    assert "asvs-l2.md" in (ROOT / "docs" / "security.md").read_text()
