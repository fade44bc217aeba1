"""Kafka transport settings reach every client library: each client is built (never
connected) from :func:`probity.transport.kafka_client_config` and the configuration it holds
is read back. End to end over TLS: tests/streams/test_tls.py (Kafka) and
tests/triage/test_store_tls.py (PostgreSQL)."""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr, ValidationError

from probity.settings import KafkaSecurity, Settings
from probity.transport import FileTokenProvider, TransportError, kafka_client_config
from tests.tls_helpers import make_pki

BOOTSTRAP = "127.0.0.1:1"  # nothing listens: nothing may connect


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A CA and a client certificate signed by it."""
    made = make_pki(tmp_path_factory.mktemp("pki"))
    return {"ca": made.ca, "cert": made.client_cert, "key": made.client_key}


def _settings(**security: Any) -> Settings:
    return Settings(kafka=f"kafka://{BOOTSTRAP}", kafka_security=KafkaSecurity(**security))


def _scram(pki: dict[str, Path]) -> Settings:
    return _settings(
        protocol="SASL_SSL", ca_file=str(pki["ca"]), cert_file=str(pki["cert"]),
        key_file=str(pki["key"]), sasl_mechanism="SCRAM-SHA-512",
        sasl_username="probity-worker", sasl_password=SecretStr("s3cret-pw"),
    )  # fmt: skip


def _oauth(tmp_path: Path) -> Settings:
    token = tmp_path / "token"
    token.write_text("eyJ.token.sig\n")
    return _settings(protocol="SASL_PLAINTEXT", sasl_mechanism="OAUTHBEARER",
                     oauth_token_file=str(token))  # fmt: skip


# -- settings ----------------------------------------------------------------------------


def test_settings_read_the_transport_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PROBITY_KAFKA_SECURITY__PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("PROBITY_KAFKA_SECURITY__SASL_MECHANISM", "PLAIN")
    monkeypatch.setenv("PROBITY_KAFKA_SECURITY__SASL_USERNAME", "probity-sink")
    monkeypatch.setenv("PROBITY_KAFKA_SECURITY__SASL_PASSWORD", "pw")
    monkeypatch.setenv("PROBITY_METRICS_TOKEN", "scrape-me")
    s = Settings()
    assert s.kafka_security.protocol == "SASL_SSL"
    assert s.kafka_security.sasl_username == "probity-sink"
    assert "pw" not in repr(s) and "scrape-me" not in repr(s)  # SecretStr
    assert s.metrics_token is not None and s.metrics_token.get_secret_value() == "scrape-me"


@pytest.mark.parametrize(
    ("security", "problem"),
    [
        ({"protocol": "SASL_SSL"}, "needs sasl_mechanism"),
        ({"protocol": "SASL_SSL", "sasl_mechanism": "PLAIN", "sasl_username": "u"},
         "needs sasl_username and sasl_password"),
        ({"protocol": "SASL_SSL", "sasl_mechanism": "OAUTHBEARER"}, "needs oauth_token_file"),
        ({"protocol": "PLAINTEXT", "sasl_mechanism": "PLAIN"}, "has no SASL"),
        ({"protocol": "SSL", "cert_file": "c.pem"}, "go together"),
        ({"protocol": "SASL_PLAINTEXT", "sasl_mechanism": "PLAIN", "sasl_username": "u",
          "sasl_password": "p", "ca_file": "ca.pem"}, "has no TLS"),
    ],
)  # fmt: skip
def test_inconsistent_transport_settings_are_refused(
    security: dict[str, Any], problem: str
) -> None:
    with pytest.raises(ValidationError, match=problem):
        KafkaSecurity(**security)


def test_unreadable_tls_files_name_the_problem(tmp_path: Path) -> None:
    s = _settings(protocol="SSL", ca_file=str(tmp_path / "missing.crt"))
    with pytest.raises(TransportError, match="Kafka TLS files"):
        kafka_client_config(s, "kafka-python")


def test_plaintext_is_the_default_for_every_library() -> None:
    s = _settings()
    assert kafka_client_config(s, "kafka-python") == {
        "bootstrap_servers": BOOTSTRAP, "security_protocol": "PLAINTEXT"}  # fmt: skip
    assert kafka_client_config(s, "aiokafka") == kafka_client_config(s, "kafka-python")
    assert kafka_client_config(s, "confluent") == {
        "bootstrap.servers": BOOTSTRAP, "security.protocol": "PLAINTEXT"}  # fmt: skip
    assert kafka_client_config(s, "faust") == {"broker": f"kafka://{BOOTSTRAP}"}


def test_faust_gets_every_bootstrap_server() -> None:
    import faust

    s = Settings(kafka="kafka://k1:9093,k2:9093,k3:9093")
    app = faust.App("probity-transport-brokers", **kafka_client_config(s, "faust"))
    assert [str(u) for u in app.conf.broker] == ["kafka://k1:9093", "kafka://k2:9093",
                                                 "kafka://k3:9093"]  # fmt: skip
    assert kafka_client_config(s, "kafka-python")["bootstrap_servers"] == "k1:9093,k2:9093,k3:9093"


# -- each library's client, built from the settings -------------------------------------


def _check_context(ctx: ssl.SSLContext) -> None:
    assert isinstance(ctx, ssl.SSLContext)
    assert ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname
    assert ctx.minimum_version >= ssl.TLSVersion.TLSv1_2
    assert any("probity-test-ca" in str(c.get("subject")) for c in ctx.get_ca_certs())


def test_kafka_python_clients_get_tls_and_scram(pki: dict[str, Path]) -> None:
    from kafka import KafkaConsumer, KafkaProducer

    conf = kafka_client_config(_scram(pki), "kafka-python")
    # api_version given: no version probe, so building the client connects to nothing
    consumer = KafkaConsumer(**conf, api_version=(2, 8), group_id="g")
    producer = KafkaProducer(**conf, api_version=(2, 8))
    try:
        for client in (consumer, producer):
            got = client.config
            assert got["security_protocol"] == "SASL_SSL"
            assert got["sasl_mechanism"] == "SCRAM-SHA-512"
            assert got["sasl_plain_username"] == "probity-worker"
            assert got["sasl_plain_password"] == "s3cret-pw"
            _check_context(got["ssl_context"])
            # kafka-python cannot take TLS 1.3 session tickets (probity/transport.py)
            assert got["ssl_context"].maximum_version == ssl.TLSVersion.TLSv1_2
    finally:
        consumer.close()
        producer.close(timeout=0)


def test_aiokafka_clients_get_tls_and_scram(pki: dict[str, Path]) -> None:
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

    async def build() -> list[Any]:
        conf = kafka_client_config(_scram(pki), "aiokafka")
        consumer, producer = AIOKafkaConsumer(**conf), AIOKafkaProducer(**conf)
        clients = [consumer._client, producer.client]
        await consumer.stop()  # never started: only releases it
        await producer.stop()
        return clients

    for client in asyncio.run(build()):
        assert client._security_protocol == "SASL_SSL"
        assert client._sasl_mechanism == "SCRAM-SHA-512"
        assert client._sasl_plain_username == "probity-worker"
        assert client._sasl_plain_password == "s3cret-pw"
        _check_context(client._ssl_context)
        assert client._ssl_context.maximum_version == ssl.TLSVersion.MAXIMUM_SUPPORTED


def test_faust_app_gets_tls_and_scram_through_its_aiokafka_driver(pki: dict[str, Path]) -> None:
    import faust
    from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth

    app = faust.App("probity-transport-test", **kafka_client_config(_scram(pki), "faust"))
    assert [str(u) for u in app.conf.broker] == [f"kafka://{BOOTSTRAP}"]
    auth = credentials_to_aiokafka_auth(app.conf.broker_credentials)
    assert auth["security_protocol"] == "SASL_SSL"
    assert auth["sasl_mechanism"] == "SCRAM-SHA-512"
    assert (auth["sasl_plain_username"], auth["sasl_plain_password"]) == (
        "probity-worker", "s3cret-pw")  # fmt: skip
    _check_context(auth["ssl_context"])


def test_faust_tls_without_sasl(pki: dict[str, Path]) -> None:
    import faust
    from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth

    s = _settings(protocol="SSL", ca_file=str(pki["ca"]))
    app = faust.App("probity-transport-tls", **kafka_client_config(s, "faust"))
    auth = credentials_to_aiokafka_auth(app.conf.broker_credentials)
    assert auth["security_protocol"] == "SSL"
    _check_context(auth["ssl_context"])


def test_confluent_client_accepts_the_properties(pki: dict[str, Path]) -> None:
    confluent = pytest.importorskip("confluent_kafka")
    conf = kafka_client_config(_scram(pki), "confluent")
    assert conf == {
        "bootstrap.servers": BOOTSTRAP, "security.protocol": "SASL_SSL",
        "ssl.ca.location": str(pki["ca"]), "ssl.certificate.location": str(pki["cert"]),
        "ssl.key.location": str(pki["key"]), "ssl.endpoint.identification.algorithm": "https",
        "sasl.mechanism": "SCRAM-SHA-512", "sasl.username": "probity-worker",
        "sasl.password": "s3cret-pw",
    }  # fmt: skip
    # librdkafka checks every property, and loads the CA and key, when the client is built
    producer = confluent.Producer(conf)
    assert producer.flush(0) == 0
    with pytest.raises(confluent.KafkaException):
        confluent.Producer({**conf, "ssl.ca.location": str(pki["ca"]) + ".missing"})


def test_oauthbearer_reads_the_token_file_for_every_library(tmp_path: Path) -> None:
    import faust
    from aiokafka import AIOKafkaConsumer
    from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth
    from kafka import KafkaProducer

    s = _oauth(tmp_path)
    producer = KafkaProducer(**kafka_client_config(s, "kafka-python"), api_version=(2, 8))
    try:
        assert producer.config["sasl_mechanism"] == "OAUTHBEARER"
        assert producer.config["sasl_oauth_token_provider"].token() == "eyJ.token.sig"
    finally:
        producer.close(timeout=0)

    async def aio_token() -> str:
        consumer = AIOKafkaConsumer(**kafka_client_config(s, "aiokafka"))
        client = consumer._client
        await consumer.stop()
        assert client._sasl_mechanism == "OAUTHBEARER"
        return str(await client._sasl_oauth_token_provider.token())

    assert asyncio.run(aio_token()) == "eyJ.token.sig"
    app = faust.App("probity-transport-oauth", **kafka_client_config(s, "faust"))
    auth = credentials_to_aiokafka_auth(app.conf.broker_credentials)
    assert (auth["security_protocol"], auth["sasl_mechanism"]) == ("SASL_PLAINTEXT",
                                                                   "OAUTHBEARER")  # fmt: skip
    confluent = kafka_client_config(s, "confluent")
    token, expires = confluent["oauth_cb"](None)
    assert token == "eyJ.token.sig" and expires > 0
    # a rotated token is read at the next authentication
    (tmp_path / "token").write_text("rotated")
    assert FileTokenProvider(str(tmp_path / "token")).token() == "rotated"
    (tmp_path / "token").write_text("")
    with pytest.raises(TransportError, match="empty"):
        confluent["oauth_cb"](None)


# -- PostgreSQL ---------------------------------------------------------------------------


def test_store_url_carries_sslmode_and_root_cert() -> None:
    s = Settings(
        store_url="postgresql+psycopg://app:pw@db.example:5432/probity",
        store_sslmode="verify-full", store_sslrootcert="/etc/probity/tls/pg.crt",
    )  # fmt: skip
    assert s.store_connect_url == (
        "postgresql+psycopg://app:pw@db.example:5432/probity"
        "?sslmode=verify-full&sslrootcert=%2Fetc%2Fprobity%2Ftls%2Fpg.crt"
    )
    # what the URL says already wins; SQLite is left alone
    s = Settings(store_url="postgresql+psycopg://db/p?sslmode=require", store_sslmode="disable")
    assert s.store_connect_url == "postgresql+psycopg://db/p?sslmode=require"
    assert Settings(store_sslmode="verify-full").store_connect_url == Settings().store_url


def test_verify_full_reaches_libpq_through_the_store(tmp_path: Path) -> None:
    """The local server has no TLS: verify-full must make the store's connection fail for
    that reason (so sslmode really reached libpq), where the same URL without it works."""
    from sqlalchemy import text

    from triage.store import store_from_settings

    url = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    plain = store_from_settings(Settings(store_url=url))
    try:
        with plain.engine.connect() as conn:
            assert conn.execute(text("select 1")).scalar() == 1
    except Exception as exc:
        pytest.skip(f"no PostgreSQL at 127.0.0.1:5432: {exc}")
    strict = store_from_settings(Settings(store_url=url, store_sslmode="verify-full",
                                          store_sslrootcert=str(tmp_path / "ca.crt")))  # fmt: skip
    with pytest.raises(Exception, match=r"(?i)ssl|root certificate"), strict.engine.connect():
        pass


# -- child processes ----------------------------------------------------------------------


def test_to_env_hands_every_secret_to_a_child_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """``probity run`` and replays start children from ``to_env``: a secret written as stars
    would give them a wrong audit key or Kafka password."""
    from probity.settings import TriageSettings, to_env

    s = Settings(
        kafka="kafka://k:9093", secret_key=SecretStr("k" * 40), metrics_token=SecretStr("m-tok"),
        kafka_security=KafkaSecurity(protocol="SASL_SSL", sasl_mechanism="SCRAM-SHA-512",
                                     sasl_username="probity-worker",
                                     sasl_password=SecretStr("kafka-pw")),
        triage=TriageSettings(audit_key=SecretStr("audit-k"), acu_units=frozenset({"acu", "psd"})),
        store_sslmode="verify-full",
    )  # fmt: skip
    env = to_env(s)
    assert "**" not in "".join(env.values())
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    again = Settings()
    assert again == s
    assert again.kafka_security.sasl_password is not None
    assert again.kafka_security.sasl_password.get_secret_value() == "kafka-pw"
    assert again.triage.audit_key is not None
    assert again.triage.audit_key.get_secret_value() == "audit-k"


# -- no client without the shared configuration ------------------------------------------

#: benchmark baselines run against the embedded broker only, in child programs given a bare
#: address on their command line
_BARE_ALLOWED = {"devtools/bench/relay.py", "devtools/bench/pipeline.py"}


def test_no_kafka_client_is_built_from_a_bare_broker_address() -> None:
    """Every ``bootstrap_servers=``/``broker=`` keyword or ``bootstrap.servers`` key in the
    project's code comes from :func:`kafka_client_config`: a client built from an address
    alone would connect without the operator's TLS and SASL settings."""
    import ast

    root = Path(__file__).resolve().parents[2]
    found = []
    for package in ("probity", "streams", "intake", "triage", "devtools", "simulation",
                    "adapters", "engine"):  # fmt: skip
        for path in sorted((root / package).rglob("*.py")):
            rel = path.relative_to(root).as_posix()
            if rel == "probity/transport.py" or rel in _BARE_ALLOWED:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Call):
                    found += [f"{rel}:{node.lineno} {k.arg}=" for k in node.keywords
                              if k.arg in ("bootstrap_servers", "broker")]  # fmt: skip
                if isinstance(node, ast.Dict):
                    keys = [k.value for k in node.keys if isinstance(k, ast.Constant)]
                    found += [f"{rel}:{node.lineno} bootstrap.servers"
                              for k in keys if k == "bootstrap.servers"]  # fmt: skip
    assert found == []
