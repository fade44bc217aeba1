"""``probity run`` end to end: broker, worker, sink, ACU queue, intake, coverage and live feed
come up, alerts from the simulated force reach the queue store, the intake takes an event
with the demo token (as the README's ``curl`` does), and Ctrl-C stops every child."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import pytest
from sqlalchemy import create_engine, text

from probity.settings import CoverageSettings, IntakeSettings, Settings, TriageSettings
from streams.broker import free_port
from streams.run import run_all

pytestmark = [pytest.mark.broker, pytest.mark.slow]


def _alerts_in(db_url: str) -> int:
    try:
        with create_engine(db_url).connect() as c:
            return int(c.execute(text("select count(*) from alerts")).scalar_one())
    except Exception:
        return 0


def _post_demo_event(port: int, token: str) -> dict:
    """What the README's curl sends: one contract event, no source (the token's is used)."""
    body = (b'{"id":"demo-1","time":"2026-03-02T09:00:00Z","kind":"record.view",'
            b'"actor":"S1001","record":{"type":"person","id":"P1"}}\n')  # fmt: skip
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}/v1/events", data=body, method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/x-ndjson"},
    )  # fmt: skip
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.load(r)


def _get(url: str, token: str | None = None) -> int:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=2) as r:
            return int(r.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except Exception:
        return 0


def _run_settings(tmp_path, db: str) -> Settings:
    """A `probity run` of its own: data under ``tmp_path``, the queue in ``db``, free ports."""
    return Settings(
        data_dir=str(tmp_path), store_url=db, worker_web_port=free_port(), partitions=4,
        triage=TriageSettings(port=free_port()), intake=IntakeSettings(port=free_port()),
        coverage=CoverageSettings(port=free_port()),
    )  # fmt: skip


@pytest.mark.timeout(240)
def test_run_brings_up_everything_and_alerts_reach_the_queue(tmp_path):
    db = f"sqlite:///{tmp_path}/queue.db"
    settings = _run_settings(tmp_path, db)
    said: list[str] = []
    seen = {"healthy": False, "ready": False, "intake": False, "coverage": False}
    posted: list[dict] = []
    scrapes: dict[str, tuple[int, int]] = {}
    deadline = time.monotonic() + 180

    def until() -> bool:
        if not seen["healthy"]:
            seen["healthy"] = _get(f"http://127.0.0.1:{settings.triage.port}/healthz") == 200
        if not seen["ready"]:
            seen["ready"] = _get(f"http://127.0.0.1:{settings.worker_web_port}/readyz") == 200
        if not seen["intake"]:
            seen["intake"] = _get(f"http://127.0.0.1:{settings.intake.port}/healthz") == 200
            if seen["intake"]:
                token = (tmp_path / "intake-demo.token").read_text().strip()
                posted.append(_post_demo_event(settings.intake.port, token))
        if not seen["coverage"]:
            seen["coverage"] = _get(f"http://127.0.0.1:{settings.coverage.port}/healthz") == 200
        if all(seen.values()) and not scrapes:
            # the intake's /metrics asks for the generated metrics token, as the worker's
            scrape = (tmp_path / "metrics.token").read_text().strip()
            for who, port in (
                ("intake", settings.intake.port),
                ("worker", settings.worker_web_port),
            ):
                url = f"http://127.0.0.1:{port}/metrics"
                scrapes[who] = (_get(url), _get(url, scrape))  # fmt: skip
        return (all(seen.values()) and _alerts_in(db) > 0) or time.monotonic() > deadline

    code = run_all(settings, rate=400, live=True, say=said.append, until=until)
    assert code == 0, "\n".join(said)
    assert seen == {"healthy": True, "ready": True, "intake": True, "coverage": True}
    assert posted[0]["accepted"] == 1 and posted[0]["source"] == "demo", posted
    assert scrapes == {"intake": (401, 200), "worker": (401, 200)}, scrapes
    assert _alerts_in(db) > 0
    assert any("ACU queue" in line for line in said)
    assert (tmp_path / "secret-key").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "intake-demo.token").stat().st_mode & 0o777 == 0o600
    assert any("intake-demo.token" in line for line in said)
    for name in ("metrics.token", "coverage.token", "intake-admin.token"):  # no endpoint open
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o600
        assert any(name in line for line in said), name


def test_the_demo_generates_the_web_tokens_once_unless_they_are_set(tmp_path):
    from pydantic import SecretStr

    from streams.run import web_tokens_for

    made = web_tokens_for(Settings(data_dir=str(tmp_path)))
    assert made.metrics_token is not None and made.coverage.token is not None
    again = web_tokens_for(Settings(data_dir=str(tmp_path)))  # a second `probity run`
    assert again.metrics_token == made.metrics_token and again.coverage.token == made.coverage.token
    assert made.metrics_token.get_secret_value() != made.coverage.token.get_secret_value()
    assert made.intake.admin_token is not None
    assert again.intake.admin_token == made.intake.admin_token
    assert made.intake.admin_token.get_secret_value() not in (
        made.metrics_token.get_secret_value(), made.coverage.token.get_secret_value())  # fmt: skip
    assert (tmp_path / "metrics.token").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "intake-admin.token").stat().st_mode & 0o777 == 0o600
    given = Settings(data_dir=str(tmp_path / "other"), metrics_token=SecretStr("m" * 32),
                     coverage=CoverageSettings(token=SecretStr("c" * 32)),
                     intake=IntakeSettings(admin_token=SecretStr("a" * 32)))  # fmt: skip
    assert web_tokens_for(given) == given and not (tmp_path / "other").exists()


def test_the_demo_token_is_kept_while_active_and_replaced_when_revoked(tmp_path):
    from intake.tokens import TokenStore, tokens_path
    from streams.run import demo_token

    settings = Settings(data_dir=str(tmp_path))
    path = demo_token(settings)
    first = path.read_text()
    assert demo_token(settings).read_text() == first  # a second `probity run`: same token
    store = TokenStore(tokens_path(settings))
    assert store.verify(first.strip()).source == "demo"
    store.revoke(source="demo")
    second = demo_token(settings).read_text()
    assert second != first and store.verify(second.strip()) is not None
    assert path.stat().st_mode & 0o777 == 0o600


def _scenario_alerts(db_url: str, scenarios: list[dict]) -> set[str]:
    """The scenarios (ids) with an alert in the queue by one of their detectors about one of
    their officers."""
    try:
        with create_engine(db_url).connect() as c:
            rows = set(c.execute(text("select detector, officer from alerts")).all())
    except Exception:
        return set()
    return {
        s["id"] for s in scenarios
        if any((d, o) in rows for d in s["detectors"] for o in s["officers"])
    }  # fmt: skip


#: ``make run`` promises the scenarios' alerts in the queue within a minute of starting
HISTORY_BOUND_S = 60.0


@pytest.mark.timeout(300)
def test_run_replays_a_history_first_so_the_queue_holds_scenario_alerts_within_a_minute(
    tmp_path,
):
    from datetime import UTC, datetime

    from simulation.generator import history

    db = f"sqlite:///{tmp_path}/queue.db"
    settings = _run_settings(tmp_path, db)
    _, labels = history(days=7, now=datetime.now(UTC))  # what the feed publishes first
    scenarios = labels["scenarios"]
    want = len(scenarios) * 3 // 4  # 27 of 28 within the minute when measured
    said: list[str] = []
    started = time.monotonic()
    found: dict[str, float] = {}

    def until() -> bool:
        elapsed = time.monotonic() - started
        for sc in _scenario_alerts(db, scenarios):
            found.setdefault(sc, elapsed)
        return len(found) >= want or elapsed > 3 * HISTORY_BOUND_S

    code = run_all(settings, rate=20, live=True, history_days=7, say=said.append, until=until)
    assert code == 0, "\n".join(said)
    assert any("7-day history" in line for line in said)
    times = sorted(found.values())
    print(f"{len(found)} of {len(scenarios)} scenarios alerted; first {times[0]:.1f} s, "
          f"{want}th {times[want - 1]:.1f} s" if len(found) >= want else found)  # fmt: skip
    assert len(found) >= want, (sorted(found), [s["id"] for s in scenarios])
    assert times[want - 1] <= HISTORY_BOUND_S, f"{want} scenarios took {times[want - 1]:.0f} s"
