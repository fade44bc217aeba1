"""Kafka over mutual TLS, end to end: every Probity client through its real code path.

The embedded broker cannot serve TLS (tests/tls_helpers.py says why), so it listens plain on
one port and advertises another, where a TLS terminator demands a client certificate signed by
the test CA and relays to the broker: every connection a client makes (bootstrap, then the
broker metadata names) crosses it. The clients are built from ``PROBITY_KAFKA_SECURITY__*``
settings only, as in production.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
from kafka import KafkaProducer
from sqlalchemy import text

from detectors.registry import registered
from models.deadletters import load_dead_letter
from probity.settings import KafkaSecurity, Settings
from probity.transport import kafka_client_config
from streams.broker import EmbeddedBroker, free_port, start_broker
from streams.ingest import ingest_paths
from streams.replay import (
    WorkerProcess,
    read_topic,
    replay_settings,
    unique_alerts,
    wait_processed,
)
from streams.sink import AlertSink
from streams.topics import ensure_topics
from tests.tls_helpers import CLIENT_CN, KEY_PASSWORD, Pki, TlsTerminator, make_pki
from triage.store import Store

pytestmark = pytest.mark.broker

#: what the contract examples give with only these three detectors on (tests/streams/test_replay)
FIRST_THREE = {
    ("access.canary", "S1001", ("ath-4",), "critical"),
    ("access.covert_unauthorised", "S1001", ("int-6",), "high"),
    ("audit.monitoring_disabled", "S1002", ("aud-1",), "critical"),
}


@dataclass
class TlsBroker:
    """The embedded broker behind a mutual-TLS terminator."""

    broker: EmbeddedBroker
    terminator: TlsTerminator
    pki: Pki

    @property
    def url(self) -> str:
        return f"kafka://127.0.0.1:{self.terminator.port}"

    def security(self, **overrides: Any) -> KafkaSecurity:
        """Production-like settings: TLS, the test CA, the client certificate."""
        base: dict[str, Any] = {
            "protocol": "SSL", "ca_file": str(self.pki.ca),
            "cert_file": str(self.pki.client_cert), "key_file": str(self.pki.client_key),
        }  # fmt: skip
        return KafkaSecurity(**{**base, **overrides})

    def terminator_for(self, **kw: Any) -> TlsTerminator:
        """Another terminator in front of the same broker (a test's own counters)."""
        args: dict[str, Any] = {"cert": self.pki.server_cert, "key": self.pki.server_key,
                                "client_ca": self.pki.ca}  # fmt: skip
        return TlsTerminator(("127.0.0.1", self.broker.port), **{**args, **kw})


@pytest.fixture(scope="module")
def tls_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsBroker]:
    pki = make_pki(tmp_path_factory.mktemp("pki"))
    port = free_port()
    broker = start_broker(advertised_port=port, log_dir=tmp_path_factory.mktemp("tls-broker"))
    terminator = TlsTerminator(("127.0.0.1", broker.port), pki.server_cert, pki.server_key,
                               client_ca=pki.ca, port=port)  # fmt: skip
    try:
        with terminator:
            yield TlsBroker(broker, terminator, pki)
    finally:
        broker.stop()


def test_ingest_worker_and_sink_over_mutual_tls(
    tls_broker: TlsBroker, contract_examples: Path, tmp_path: Path
) -> None:
    """The contract examples through topic creation (kafka-python admin), ingest
    (confluent-kafka), the worker process (faust app and aiokafka consumers and producer),
    progress and topic reads (kafka-python) and the alerts sink (kafka-python consumer and,
    for a bad record, producer) into the queue: the same alerts and dead letters as over
    plaintext (tests/streams/test_replay.py), and every connection made over TLS with the
    client certificate."""
    only_first = frozenset(registered()) - {d for d, *_ in FIRST_THREE}
    base = Settings(
        kafka=tls_broker.url, kafka_security=tls_broker.security(), partitions=4,
        data_dir=str(tmp_path), disabled_detectors=only_first, join_before_reference=True,
    )  # fmt: skip
    s = replay_settings(base, tls_broker.url)
    before = len(tls_broker.terminator.accepted)
    ensure_topics(s, s.bootstrap_servers)
    worker = WorkerProcess(s, tmp_path / "worker.log")
    worker.start(held=True)
    try:
        files = [str(contract_examples / "valid.jsonl"), str(contract_examples / "invalid.jsonl")]
        ingest = ingest_paths(s, s.bootstrap_servers, files,
                              on_reference_published=lambda _so_far: worker.release())
        assert not ingest.failed and ingest.published_total == 30 and ingest.invalid_total == 12
        wait_processed(s, ingest.end_offsets, worker, timeout_s=120)
        raw_alerts = read_topic(s, s.topics.alerts)
        dead = [load_dead_letter(v) for v in read_topic(s, s.topics.dead_letters)]
    finally:
        worker.kill()
    alerts = unique_alerts(raw_alerts)
    got = {(a["detector"], a["officer"], tuple(a["evidence"]), a["severity"]) for a in alerts}
    assert got == FIRST_THREE, worker.log_tail()
    assert len(dead) == 12

    # the sink takes the alerts into the queue; a bad record goes to the dead letters
    producer = KafkaProducer(**kafka_client_config(s, "kafka-python"), acks="all")
    producer.send(s.topics.alerts, value=b"not an alert").get(timeout=10)
    producer.close()
    store = Store(f"sqlite:///{tmp_path}/queue.db")
    store.migrate()
    try:
        AlertSink(s, store).run(until_idle_s=2)
        with store.engine.connect() as conn:
            stored = {row[0] for row in conn.execute(text("select id from alerts"))}
    finally:
        store.dispose()
    assert stored == {a["id"] for a in alerts}
    reasons = [load_dead_letter(v).reason for v in read_topic(s, s.topics.dead_letters)]
    assert sum(r.startswith("not a contract-v1 alert") for r in reasons) == 1

    accepted = tls_broker.terminator.accepted[before:]
    # admin, ingest, worker (faust and aiokafka), readers, sink: dozens of connections
    assert len(accepted) >= 10 and set(accepted) == {CLIENT_CN}


def test_an_encrypted_client_key_with_its_password(tls_broker: TlsBroker) -> None:
    """``key_password`` opens an encrypted client key for kafka-python and confluent-kafka."""
    confluent = pytest.importorskip("confluent_kafka")
    from pydantic import SecretStr

    sec = tls_broker.security(key_file=str(tls_broker.pki.client_key_encrypted),
                              key_password=SecretStr(KEY_PASSWORD))  # fmt: skip
    s = Settings(kafka=tls_broker.url, kafka_security=sec)
    ensure_topics(s, s.bootstrap_servers, timeout_s=10)
    topics = confluent.Producer(kafka_client_config(s, "confluent")).list_topics(timeout=10)
    assert s.topics.activity in topics.topics


def test_the_intake_over_mutual_tls(tls_broker: TlsBroker, tmp_path: Path) -> None:
    """``POST /v1/events`` to the intake: its identity follower (kafka-python) reads the
    reference topic and its publisher (aiokafka) writes the events, both over TLS."""
    import httpx

    from intake.server import RunningIntake
    from intake.tokens import TokenStore, tokens_path
    from probity.settings import IntakeSettings

    base = Settings(kafka_security=tls_broker.security(), data_dir=str(tmp_path),
                    intake=IntakeSettings(port=0))  # fmt: skip
    s = replay_settings(base, tls_broker.url)
    ensure_topics(s, s.bootstrap_servers)
    token = TokenStore(tokens_path(s)).create("athena")[1]
    events = [{"id": f"ev-{i}", "time": "2026-03-02T09:00:00Z", "source": "athena",
               "kind": "record.view", "actor": "S1", "record": {"type": "person", "id": "P-1"}}
              for i in range(5)]  # fmt: skip
    before = len(tls_broker.terminator.accepted)
    intake = RunningIntake(s).start()
    try:
        r = httpx.post(f"{intake.url}/v1/events", headers={"Authorization": f"Bearer {token}"},
                       content=b"\n".join(orjson.dumps(e) for e in events), timeout=30)  # fmt: skip
    finally:
        intake.stop()
    assert r.status_code == 200, r.text
    got = sorted(orjson.loads(v)["id"] for v in read_topic(s, s.topics.activity))
    assert got == [e["id"] for e in events]
    assert set(tls_broker.terminator.accepted[before:]) == {CLIENT_CN}


# -- refusals ----------------------------------------------------------------------------

TIMEOUT_S = 3.0


def _kafka_python(s: Settings) -> None:
    ensure_topics(s, s.bootstrap_servers, timeout_s=TIMEOUT_S)


def _aiokafka(s: Settings) -> None:
    from aiokafka import AIOKafkaProducer

    async def start() -> None:
        producer = AIOKafkaProducer(**kafka_client_config(s, "aiokafka"),
                                    request_timeout_ms=int(TIMEOUT_S * 1000))  # fmt: skip
        try:
            await asyncio.wait_for(producer.start(), TIMEOUT_S * 2)
        finally:
            await producer.stop()

    asyncio.run(start())


def _confluent(s: Settings) -> None:
    confluent = pytest.importorskip("confluent_kafka")
    # librdkafka's log lines go to Python logging, where the test reads why it failed
    conf = {**kafka_client_config(s, "confluent"), "logger": logging.getLogger("librdkafka")}
    confluent.Producer(conf).list_topics(timeout=TIMEOUT_S)


CLIENTS: dict[str, Callable[[Settings], None]] = {
    "kafka-python": _kafka_python, "aiokafka": _aiokafka, "confluent": _confluent,
}  # fmt: skip


def _via(terminator: TlsTerminator, security: KafkaSecurity) -> Settings:
    return Settings(kafka=f"kafka://127.0.0.1:{terminator.port}", kafka_security=security)


def assert_refused(
    terminator: TlsTerminator, client: str, s: Settings, caplog: pytest.LogCaptureFixture,
    why: str,
) -> None:  # fmt: skip
    """``client`` fails to reach the broker through ``terminator``, no connection gets
    through, and ``why`` (a regular expression) is in the client's log or the terminator's
    reasons."""
    with caplog.at_level(logging.DEBUG), terminator, pytest.raises(Exception):  # noqa: B017
        CLIENTS[client](s)
    assert terminator.accepted == [], "a connection got through"
    said = caplog.text + "\n".join(terminator.refused)
    assert re.search(why, said, re.IGNORECASE), f"no /{why}/ in:\n{said[-3000:]}"


@pytest.mark.parametrize("client", CLIENTS)
def test_the_broker_certificate_from_another_ca_is_refused(
    tls_broker: TlsBroker, client: str, caplog: pytest.LogCaptureFixture
) -> None:
    terminator = tls_broker.terminator_for()
    s = _via(terminator, tls_broker.security(ca_file=str(tls_broker.pki.other_ca)))
    # the client's log says why, or its TLS alert reached the terminator
    assert_refused(terminator, client, s, caplog, "certificate verify failed|alert unknown ca")


@pytest.mark.parametrize("client", CLIENTS)
def test_a_client_without_a_certificate_is_refused(
    tls_broker: TlsBroker, client: str, caplog: pytest.LogCaptureFixture
) -> None:
    terminator = tls_broker.terminator_for()
    s = _via(terminator, KafkaSecurity(protocol="SSL", ca_file=str(tls_broker.pki.ca)))
    assert_refused(terminator, client, s, caplog, "peer did not return a certificate")


@pytest.mark.parametrize("client", CLIENTS)
def test_a_client_certificate_from_another_ca_is_refused(
    tls_broker: TlsBroker, client: str, caplog: pytest.LogCaptureFixture
) -> None:
    terminator = tls_broker.terminator_for()
    pki = tls_broker.pki
    s = _via(terminator, tls_broker.security(cert_file=str(pki.other_client_cert),
                                             key_file=str(pki.other_client_key)))  # fmt: skip
    assert_refused(terminator, client, s, caplog, "certificate verify failed")


@pytest.mark.parametrize("client", CLIENTS)
def test_plaintext_to_the_tls_port_fails(
    tls_broker: TlsBroker, client: str, caplog: pytest.LogCaptureFixture
) -> None:
    terminator = tls_broker.terminator_for()
    s = _via(terminator, KafkaSecurity())  # PLAINTEXT, the default
    assert_refused(terminator, client, s, caplog, "wrong version number|http request|record layer")


@pytest.mark.parametrize("client", CLIENTS)
def test_a_certificate_for_another_host_is_refused_unless_host_checks_are_off(
    tls_broker: TlsBroker, client: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The broker's certificate is signed by the trusted CA but names another host: refused
    while ``check_hostname`` is on (the default); accepted with it off."""
    pki = tls_broker.pki
    terminator = tls_broker.terminator_for(cert=pki.elsewhere_cert, key=pki.elsewhere_key)
    assert_refused(terminator, client, _via(terminator, tls_broker.security()), caplog,
             "mismatch|alert bad certificate")  # fmt: skip
    again = tls_broker.terminator_for(cert=pki.elsewhere_cert, key=pki.elsewhere_key)
    lax = _via(again, tls_broker.security(check_hostname=False))
    with again:
        CLIENTS[client](lax)
    assert again.accepted and set(again.accepted) == {CLIENT_CN}


def test_large_records_cross_tls_intact(tls_broker: TlsBroker) -> None:
    """Records of up to 60 kB (several TLS records each) read back byte for byte."""
    s = replay_settings(Settings(kafka_security=tls_broker.security()), tls_broker.url)
    ensure_topics(s, s.bootstrap_servers)
    values = [orjson.dumps({"n": i, "pad": "x" * (i * 997 % 70_000)}) for i in range(60)]
    producer = KafkaProducer(**kafka_client_config(s, "kafka-python"), acks="all",
                             max_request_size=2**21)  # fmt: skip
    for v in values:
        producer.send(s.topics.dead_letters, value=v)
    producer.flush()
    producer.close()
    assert sorted(read_topic(s, s.topics.dead_letters)) == sorted(values)
