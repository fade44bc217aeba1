"""The alerts sink through the real alerts topic into SQLite and the real PostgreSQL: every
alert exactly once, through a crash between store commit and offset commit, and through a
store outage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
import pytest
from kafka import KafkaProducer

from models.alerts import Alert, Category, alert_id
from streams.sink import AlertSink
from tests.triage.conftest import make_store, pg_schema  # noqa: F401  (fixture)

pytestmark = pytest.mark.broker


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request, tmp_path):
    s = make_store(request.param, tmp_path, request)
    yield s
    s.dispose()


def _alerts(n: int) -> list[Alert]:
    t0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
    out = []
    for i in range(n):
        ev = [f"e-{i}"]
        out.append(Alert(
            id=alert_id("access.canary", f"S{i % 7}", ev), detector="access.canary",
            category=Category.MISUSE_OF_SYSTEMS, officer=f"S{i % 7}",
            time=t0 + timedelta(minutes=i),
            raised_at=t0, severity="critical", score=95, title=f"Canary opened ({i})",
            explanation="x", evidence=ev, subjects=["P-1"],
        ))  # fmt: skip
    return out


def _publish(settings, alerts, extra: list[bytes] = ()) -> None:
    producer = KafkaProducer(bootstrap_servers=settings.bootstrap_servers, acks="all")
    for a in alerts:
        producer.send(
            settings.topics.alerts, key=a.officer.encode(), value=orjson.dumps(a.to_json())
        )
    for raw in extra:
        producer.send(settings.topics.alerts, value=raw)
    producer.flush()
    producer.close()


def _stored_ids(store) -> set[str]:
    from sqlalchemy import text

    with store.engine.connect() as c:
        return {row[0] for row in c.execute(text("select id from alerts"))}


def test_every_alert_once_even_when_delivered_twice(stream_settings, store):
    alerts = _alerts(120)
    _publish(stream_settings, alerts + alerts[:30], extra=[b"not json", b'{"id":"x"}'])
    sink = AlertSink(stream_settings, store)
    sink.run(until_idle_s=2)
    assert _stored_ids(store) == {a.id for a in alerts}
    reg = sink.registry
    assert reg.get_sample_value("probity_sink_alerts_stored_total") == 120
    assert reg.get_sample_value("probity_sink_alerts_redelivered_total") == 30
    assert reg.get_sample_value("probity_sink_alerts_invalid_total") == 2


def test_crash_between_store_and_offset_commit_loses_and_duplicates_nothing(stream_settings, store):
    alerts = _alerts(1200)  # more than one poll (500 records)
    _publish(stream_settings, alerts)

    class Crash(Exception):
        pass

    def crash(_batch):
        raise Crash

    with pytest.raises(Crash):
        AlertSink(stream_settings, store, after_store=crash).run(until_idle_s=2)
    stored_before = _stored_ids(store)
    assert 0 < len(stored_before) < 1200  # the first batch reached the store, its offsets did not

    again = AlertSink(stream_settings, store)
    again.run(until_idle_s=2)
    assert _stored_ids(store) == {a.id for a in alerts}
    assert again.registry.get_sample_value("probity_sink_alerts_redelivered_total") == len(
        stored_before
    )


def test_store_outage_is_retried_and_visible(stream_settings, store):
    alerts = _alerts(50)
    _publish(stream_settings, alerts)

    class Flaky:
        """The real store behind a connection that fails three times."""

        def __init__(self, inner):
            self.inner, self.failures = inner, 3

        def upsert_alerts(self, batch):
            if self.failures:
                self.failures -= 1
                raise ConnectionError("database is down")
            return self.inner.upsert_alerts(batch)

    flaky = Flaky(store)
    sink = AlertSink(stream_settings, flaky, max_backoff_s=0.2)
    down_during_outage = []
    real = flaky.upsert_alerts

    def watched(batch):
        down_during_outage.append(sink.registry.get_sample_value("probity_sink_store_up"))
        return real(batch)

    flaky.upsert_alerts = watched
    sink.run(until_idle_s=2)
    assert down_during_outage[:4] == [1.0, 0.0, 0.0, 0.0]
    assert _stored_ids(store) == {a.id for a in alerts}
    assert sink.registry.get_sample_value("probity_sink_store_errors_total") == 3
    assert sink.registry.get_sample_value("probity_sink_store_up") == 1
