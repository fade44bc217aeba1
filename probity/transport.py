"""Kafka client configuration from the settings: one function, every library.

Probity talks to Kafka through four libraries (faust for the worker's app, aiokafka for its
consumers, kafka-python for the admin, ingest, sink and replays, confluent-kafka for the
benchmarks). Each spells TLS and SASL differently; :func:`kafka_client_config` spells
``settings.kafka_security`` for each, so no client is built with a broker address alone and a
new client cannot forget the credentials::

    KafkaConsumer(topic, **kafka_client_config(settings, "kafka-python"), group_id=...)

Building the configuration reads the CA, certificate and key files (an error names the file);
it never connects.
"""

from __future__ import annotations

import ssl
import time
from pathlib import Path
from typing import Any, Literal

from probity.errors import ProbityError
from probity.settings import KafkaSecurity, Settings

Library = Literal["kafka-python", "aiokafka", "faust", "confluent"]


class TransportError(ProbityError):
    """The Kafka transport settings cannot be turned into a client configuration."""


def ssl_context(
    security: KafkaSecurity, *, maximum: ssl.TLSVersion | None = None
) -> ssl.SSLContext:
    """A client TLS context: the CA bundle (or the system's), the client certificate if set,
    TLS 1.2 at least (at most ``maximum``), host names checked unless ``check_hostname`` is
    off."""
    try:
        ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=security.ca_file)
        if security.cert_file and security.key_file:
            password = security.key_password.get_secret_value() if security.key_password else None
            ctx.load_cert_chain(security.cert_file, security.key_file, password)
    except (OSError, ssl.SSLError) as exc:
        raise TransportError(f"Kafka TLS files: {exc}") from exc
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if maximum is not None:
        ctx.maximum_version = maximum
    if not security.check_hostname:
        ctx.check_hostname = False
    return ctx


class FileTokenProvider:
    """OAUTHBEARER token from a file, read afresh at each (re)authentication, so a token the
    platform rotates is picked up without a restart. Serves kafka-python (``token()``),
    aiokafka and faust (``await token()`` via :meth:`aiokafka_provider`) and confluent-kafka
    (:meth:`confluent_cb`)."""

    #: how long confluent-kafka may keep a token before asking again
    confluent_lifetime_s = 300.0

    def __init__(self, path: str) -> None:
        self.path = Path(path)

    def token(self) -> str:
        try:
            value = self.path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise TransportError(f"OAUTHBEARER token file: {exc}") from exc
        if not value:
            raise TransportError(f"OAUTHBEARER token file {self.path} is empty")
        return value

    def kafka_python_provider(self) -> Any:
        from kafka.sasl.oauth import AbstractTokenProvider

        outer = self

        class Provider(AbstractTokenProvider):  # type: ignore[misc]
            def token(self) -> str:
                return outer.token()

        return Provider()

    def aiokafka_provider(self) -> Any:
        from aiokafka.abc import AbstractTokenProvider

        outer = self

        class Provider(AbstractTokenProvider):  # type: ignore[misc]
            async def token(self) -> str:
                return outer.token()

        return Provider()

    def confluent_cb(self, _config: str | None = None) -> tuple[str, float]:
        return self.token(), time.time() + self.confluent_lifetime_s


def kafka_client_config(
    settings: Settings, library: Library, *, bootstrap: str | None = None
) -> dict[str, Any]:
    """The connection part of a client's configuration for ``library``: the brokers
    (``bootstrap``, else the settings'), protocol, TLS and SASL. Callers add their own
    options (group, client id, acks...) beside it.

    >>> from probity.settings import Settings
    >>> kafka_client_config(Settings(kafka="kafka://k:9092"), "kafka-python")
    {'bootstrap_servers': 'k:9092', 'security_protocol': 'PLAINTEXT'}
    """
    sec = settings.kafka_security
    servers = bootstrap if bootstrap is not None else settings.bootstrap_servers
    if library == "confluent":
        return _confluent(sec, servers)
    if library == "faust":
        return _faust(sec, servers)
    conf: dict[str, Any] = {"bootstrap_servers": servers, "security_protocol": sec.protocol}
    if sec.uses_tls:
        # kafka-python 2.3 closes a connection that turns readable before its first request
        # ("Socket EVENT_READ without in-flight-requests"): a TLS 1.3 server's session tickets,
        # sent just after the handshake (OpenSSL's default), do that to every connection made
        # after the bootstrap one. TLS 1.2 sends them inside the handshake.
        maximum = ssl.TLSVersion.TLSv1_2 if library == "kafka-python" else None
        conf["ssl_context"] = ssl_context(sec, maximum=maximum)
    if sec.uses_sasl:
        conf["sasl_mechanism"] = sec.sasl_mechanism
        if sec.sasl_mechanism == "OAUTHBEARER":
            provider = FileTokenProvider(str(sec.oauth_token_file))
            conf["sasl_oauth_token_provider"] = (
                provider.aiokafka_provider() if library == "aiokafka"
                else provider.kafka_python_provider()
            )  # fmt: skip
        else:
            conf["sasl_plain_username"] = sec.sasl_username
            conf["sasl_plain_password"] = _password(sec)
    return conf


def _password(sec: KafkaSecurity) -> str:
    return sec.sasl_password.get_secret_value() if sec.sasl_password is not None else ""


def _faust(sec: KafkaSecurity, servers: str) -> dict[str, Any]:
    """``faust.App`` keyword arguments: ``broker`` and ``broker_credentials`` (faust's
    credentials decide the protocol: SASL over TLS when they carry a TLS context)."""
    import faust

    conf: dict[str, Any] = {"broker": ";".join(f"kafka://{s}" for s in servers.split(",") if s)}
    ctx = ssl_context(sec) if sec.uses_tls else None
    if sec.uses_sasl:
        if sec.sasl_mechanism == "OAUTHBEARER":
            provider = FileTokenProvider(str(sec.oauth_token_file)).aiokafka_provider()
            conf["broker_credentials"] = faust.OAuthCredentials(oauth_cb=provider, ssl_context=ctx)
        else:
            conf["broker_credentials"] = faust.SASLCredentials(
                username=sec.sasl_username, password=_password(sec), ssl_context=ctx,
                mechanism=sec.sasl_mechanism,
            )  # fmt: skip
    elif ctx is not None:
        conf["broker_credentials"] = faust.SSLCredentials(ctx)
    return conf


def _confluent(sec: KafkaSecurity, servers: str) -> dict[str, Any]:
    """librdkafka properties (confluent-kafka takes files, not an SSL context)."""
    conf: dict[str, Any] = {"bootstrap.servers": servers, "security.protocol": sec.protocol}
    if sec.uses_tls:
        if sec.ca_file:
            conf["ssl.ca.location"] = sec.ca_file
        if sec.cert_file and sec.key_file:
            conf["ssl.certificate.location"] = sec.cert_file
            conf["ssl.key.location"] = sec.key_file
            if sec.key_password is not None:
                conf["ssl.key.password"] = sec.key_password.get_secret_value()
        conf["ssl.endpoint.identification.algorithm"] = "https" if sec.check_hostname else "none"
    if sec.uses_sasl:
        conf["sasl.mechanism"] = sec.sasl_mechanism
        if sec.sasl_mechanism == "OAUTHBEARER":
            conf["oauth_cb"] = FileTokenProvider(str(sec.oauth_token_file)).confluent_cb
        else:
            conf["sasl.username"] = sec.sasl_username
            conf["sasl.password"] = _password(sec)
    return conf
