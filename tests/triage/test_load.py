"""``probity triage load``: a replay's alerts into a (shadow) store, idempotent, with bad
lines named and skipped."""

from __future__ import annotations

import orjson

from tests.triage.test_cli import run
from triage.load import load_alerts


def _lines(alert_factory, n: int) -> list[bytes]:
    out = []
    for _ in range(n):
        data = alert_factory().to_json()
        out.append(orjson.dumps(data))
    return out


def test_load_is_idempotent_and_names_bad_lines(store, alert_factory):
    lines = _lines(alert_factory, 3)
    bench = alert_factory().to_json()
    bench.pop("raised_at")  # the offline bench writes alerts without it
    lines += [orjson.dumps(bench), b"", b"not json", b'{"id": "x"}', b"[1]"]
    first = load_alerts(store, lines, source="replay.jsonl")
    assert (first.read, first.new, first.known) == (7, 4, 0)
    assert [n for n, _ in first.rejected] == [6, 7, 8]
    again = load_alerts(store, lines)
    assert (again.new, again.known) == (0, 4)
    loaded = [e for e in store.audit_entries() if e.action == "alerts.loaded"]
    assert loaded[0].detail == {"source": "replay.jsonl", "read": 7, "new": 4, "rejected": 3}


def test_the_command_loads_into_the_store_it_is_given(tmp_path, alert_factory):
    path = tmp_path / "alerts.jsonl"
    path.write_bytes(b"\n".join(_lines(alert_factory, 2)) + b"\n")
    shadow = f"sqlite:///{tmp_path}/shadow.db"
    live = f"sqlite:///{tmp_path}/live.db"
    done = run(["load", str(path), "--store-url", shadow], live)
    assert done.returncode == 0, done.stderr
    assert "2 alerts read: 2 new, 0 already there, 0 rejected" in done.stdout
    assert (tmp_path / "shadow.db").exists() and not (tmp_path / "live.db").exists()
    path.write_bytes(path.read_bytes() + b"oops\n")
    bad = run(["load", str(path), "--store-url", shadow], live)
    assert bad.returncode == 1 and "line 3" in bad.stderr
    assert "0 new, 2 already there, 1 rejected" in bad.stdout
