"""``insider.exfiltration_channel``: the category list is data a force extends."""

from __future__ import annotations

from pathlib import Path

import pytest

from detectors.exceptions import ConfigError
from detectors.insider.exfiltration_channel import ExfiltrationChannel, load_channels
from engine.pipeline import Pipeline
from models.events import decode_obj


def _upload(domain: str) -> dict[str, object]:
    return {"id": f"px-{domain}", "time": "2026-03-02T10:00:00Z", "source": "proxy",
            "kind": "web.visited", "actor": "S1",
            "attrs": {"domain": domain, "action": "upload", "bytes_out": 5_000_000}}  # fmt: skip


def test_shipped_list_is_versioned_and_matches_subdomains() -> None:
    version, domains, personal = load_channels()
    assert version and domains["wetransfer.com"] == "file_hosting"
    assert "gmail.com" in personal
    assert ExfiltrationChannel().category_of("eu.wetransfer.com") == (
        "wetransfer.com",
        "file_hosting",
    )


def test_a_forces_extra_file_adds_domains_and_categories(tmp_path: Path) -> None:
    extra = tmp_path / "ours.toml"
    extra.write_text('version = "force-3"\n[categories.leak_site]\ndomains = ["leaks.example"]\n')
    event = decode_obj(_upload("files.leaks.example"))
    assert Pipeline([ExfiltrationChannel()]).run([event]) == []
    det = ExfiltrationChannel(extra_file=str(extra))
    [alert] = Pipeline([det]).run([event])
    assert "leak site" in alert.explanation and "force-3" in alert.explanation


def test_a_missing_extra_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="extra_file"):
        ExfiltrationChannel(extra_file=str(tmp_path / "absent.toml"))
