"""``probity run`` end to end: broker, worker, sink, ACU queue and live feed come up, alerts
from the simulated force reach the queue store, and Ctrl-C stops every child."""

from __future__ import annotations

import time
import urllib.request

import pytest
from sqlalchemy import create_engine, text

from probity.settings import Settings, TriageSettings
from streams.broker import free_port
from streams.run import run_all

pytestmark = [pytest.mark.broker, pytest.mark.slow]


def _alerts_in(db_url: str) -> int:
    try:
        with create_engine(db_url).connect() as c:
            return int(c.execute(text("select count(*) from alerts")).scalar_one())
    except Exception:
        return 0


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return int(r.status)
    except Exception:
        return 0


@pytest.mark.timeout(240)
def test_run_brings_up_everything_and_alerts_reach_the_queue(tmp_path):
    db = f"sqlite:///{tmp_path}/queue.db"
    settings = Settings(
        data_dir=str(tmp_path), store_url=db, worker_web_port=free_port(), partitions=4,
        triage=TriageSettings(port=free_port()),
    )  # fmt: skip
    said: list[str] = []
    seen = {"healthy": False, "ready": False}
    deadline = time.monotonic() + 180

    def until() -> bool:
        if not seen["healthy"]:
            seen["healthy"] = _get(f"http://127.0.0.1:{settings.triage.port}/healthz") == 200
        if not seen["ready"]:
            seen["ready"] = _get(f"http://127.0.0.1:{settings.worker_web_port}/readyz") == 200
        return (all(seen.values()) and _alerts_in(db) > 0) or time.monotonic() > deadline

    code = run_all(settings, rate=400, live=True, say=said.append, until=until)
    assert code == 0, "\n".join(said)
    assert seen == {"healthy": True, "ready": True}
    assert _alerts_in(db) > 0
    assert any("ACU queue" in line for line in said)
    assert (tmp_path / "secret-key").stat().st_mode & 0o777 == 0o600
