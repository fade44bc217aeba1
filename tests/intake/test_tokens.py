"""Tokens: created, listed and revoked from the command line; stored hashed; bound to a
source."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from intake.exceptions import TokenStoreError
from intake.tokens import TokenStore
from probity.cli import main
from probity.settings import get_settings


@pytest.fixture
def token_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    path = tmp_path / "tokens.json"
    monkeypatch.setenv("PROBITY_INTAKE__TOKENS_PATH", str(path))
    get_settings.cache_clear()
    yield path
    get_settings.cache_clear()


def test_create_list_revoke(token_file: Path) -> None:
    runner = CliRunner()
    made = runner.invoke(main, ["intake", "token", "create", "--source", "athena"])
    assert made.exit_code == 0, made.output
    token = made.stdout.strip().splitlines()[-1]
    assert token.startswith("pit_")
    stored = token_file.read_text()
    assert token.split("_", 2)[2] not in stored  # only the hash is kept
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    store = TokenStore(token_file)
    record = store.verify(token)
    assert record is not None and record.source == "athena"

    again = runner.invoke(main, ["intake", "token", "create", "--source", "athena"])
    assert again.exit_code != 0 and "already has token" in again.output
    replaced = runner.invoke(
        main, ["intake", "token", "create", "--source", "athena", "--format", "m365", "--replace"]
    )
    assert replaced.exit_code == 0
    new = replaced.stdout.strip().splitlines()[-1]
    assert store.verify(token) is None
    assert store.verify(new) is not None and store.verify(new).format == "m365"  # type: ignore[union-attr]

    listed = runner.invoke(main, ["intake", "token", "list"])
    assert listed.output.count("athena") == 1 and "m365" in listed.output
    assert runner.invoke(main, ["intake", "token", "list", "--all"]).output.count("athena") == 2
    revoked = runner.invoke(main, ["intake", "token", "revoke", "--source", "athena"])
    assert revoked.exit_code == 0 and "revoked" in revoked.output
    assert store.verify(new) is None
    assert runner.invoke(main, ["intake", "token", "revoke", "--source", "athena"]).exit_code != 0
    bad = runner.invoke(main, ["intake", "token", "create", "--source", "A B"])
    assert bad.exit_code != 0
    unknown = runner.invoke(main, ["intake", "token", "create", "--source", "x", "--format", "?"])
    assert unknown.exit_code == 2


def test_verify_refuses_malformed_and_forged(tmp_path: Path) -> None:
    store = TokenStore(tmp_path / "t.json")
    _, token = store.create("pnc")
    _, prefix_id, secret = token.split("_", 2)
    assert store.verify(token) is not None
    for bad in (
        "",
        "Bearer x",
        f"pit_{prefix_id}_{'A' * len(secret)}",
        token + "x",
        f"pit_ffffffffffff_{secret}",
    ):
        assert store.verify(bad) is None
    with pytest.raises(TokenStoreError):
        store.revoke()
    (tmp_path / "broken.json").write_text("{not json")
    with pytest.raises(TokenStoreError):
        TokenStore(tmp_path / "broken.json").tokens()
