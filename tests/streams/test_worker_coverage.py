"""Reference coverage gating across a worker restart, on the real broker: a worker stopped
while the vetting feed is missing, restarted after it arrived, says once that judging resumed
(it remembers, in its state changelog, the stretch it raised), and never says so again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from engine.pipeline import COVERAGE_DETECTOR
from streams.ingest import ingest_paths
from streams.replay import read_topic, wait_processed

pytestmark = pytest.mark.broker

T0 = datetime(2026, 3, 2, tzinfo=UTC)
STAFF = [f"S{i}" for i in range(1, 9)]


def _ev(eid: str, kind: str, t: datetime, **kw: Any) -> dict[str, Any]:
    return {"id": eid, "time": t.isoformat(), "source": "x", "kind": kind, **kw}


def _logins(days: range) -> list[dict[str, Any]]:
    return [_ev(f"in-{s}-{d}", "auth.login", T0 + timedelta(days=d, hours=8), actor=s)
            for d in days for s in STAFF]  # fmt: skip


def _feed(settings: Any, tmp_path: Path, name: str, rows: list[dict[str, Any]]) -> Any:
    path = tmp_path / f"{name}.jsonl"
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    return ingest_paths(settings, settings.bootstrap_servers, [str(path)]).end_offsets


def _coverage_alerts(settings: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The engine.coverage records on the alerts topic (every record, not de-duplicated):
    the "inactive" ones and the "resumed" ones."""
    ops = [a for raw in read_topic(settings, settings.topics.alerts)
           if (a := orjson.loads(raw))["detector"] == COVERAGE_DETECTOR]  # fmt: skip
    return ([a for a in ops if "resumed_at" not in a["facts"]],
            [a for a in ops if "resumed_at" in a["facts"]])  # fmt: skip


def test_a_worker_restarted_mid_stretch_says_once_that_judging_resumed(
    stream_settings, worker_factory, tmp_path
):
    s = stream_settings
    year_ago = T0 - timedelta(days=365)
    staff = [_ev(f"hr-{x}", "staff.upsert", year_ago, attrs={"staff_id": x, "status": "active"})
             for x in STAFF]  # fmt: skip
    # days 0-1: no vetting feed connected; the worker says its detectors are inactive
    ends = _feed(s, tmp_path, "before", staff + _logins(range(2)))
    worker = worker_factory(s)
    worker.start()
    wait_processed(s, ends, worker, timeout_s=120)
    inactive, resumed = _coverage_alerts(s)
    assert [a["facts"]["feed"] for a in inactive] == ["vetting"] and resumed == []
    worker.stop()

    # while it is down the vetting feed arrives (day 2), then staff log in on days 3-4
    arrived = T0 + timedelta(days=2, hours=9)
    vetting = [_ev(f"vet-{x}", "vetting.changed", arrived,
                   attrs={"staff_id": x, "level": "RV", "status": "granted"})
               for x in STAFF]  # fmt: skip
    ends = _feed(s, tmp_path, "after", vetting + _logins(range(3, 5)))
    worker.start()
    wait_processed(s, ends, worker, timeout_s=120)
    inactive, resumed = _coverage_alerts(s)
    assert len(inactive) == 1
    assert len(resumed) == 1, "the restarted worker never said judging resumed"
    assert resumed[0]["facts"]["since"] == inactive[0]["facts"]["since"]
    assert resumed[0]["facts"]["resumed_at"] == arrived.isoformat()
    worker.stop()

    # restarted again later: it remembers that it said so, and says nothing more
    ends = _feed(s, tmp_path, "later", _logins(range(5, 6)))
    worker.start()
    wait_processed(s, ends, worker, timeout_s=120)
    inactive, resumed = _coverage_alerts(s)
    assert (len(inactive), len(resumed)) == (1, 1)
