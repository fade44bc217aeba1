"""The one settings object. Environment variables (``PROBITY_*``) are read here and nowhere else.

Nested groups use a double underscore: ``PROBITY_TOPICS__ALERTS=acu.alerts`` or
``PROBITY_DETECTORS__ACCESS_CANARY__SCORE=95``.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Topics(BaseModel):
    """Kafka topic names; the defaults suit a dedicated cluster or the embedded broker."""

    model_config = ConfigDict(frozen=True)

    activity: str = "probity.events.activity"
    reference: str = "probity.events.reference"
    dead_letters: str = "probity.dead-letters"
    alerts: str = "probity.alerts"
    #: derived edge records for the graph agent (one partition: the graph is one)
    edges: str = "probity.edges"
    #: signed checkpoints of the queue's audit chain (``probity triage audit checkpoint
    #: --publish``): a copy of each off the database's host, kept for ever
    audit_checkpoints: str = "probity.audit-checkpoints"


class OidcSettings(BaseModel):
    """OpenID Connect login with the force's identity provider (off while ``issuer`` is unset).

    The provider is found by discovery (``<issuer>/.well-known/openid-configuration``); the
    ID token's signature, ``iss``, ``aud``, ``exp`` and ``nonce`` are checked by authlib. A
    login is refused unless the token says the provider used a second factor: ``amr``
    holding one of ``mfa_amr``, or ``acr`` one of ``mfa_acr``.
    """

    model_config = ConfigDict(frozen=True)

    issuer: str | None = Field(
        default=None, description="the provider's issuer URL (https); unset = no OIDC login"
    )
    client_id: str = Field(default="", max_length=256)
    client_secret: SecretStr | None = Field(
        default=None, description="from the environment or a secret store only"
    )
    scopes: str = Field(default="openid profile email", pattern=r"^openid( [\x21-\x7e]+)*$")
    username_claim: str = Field(
        default="preferred_username", description="the claim naming the local account"
    )
    mfa_amr: tuple[str, ...] = Field(
        default=("mfa", "otp", "hwk", "swk", "sc", "fpt", "face", "iris", "retina", "pop"),
        description="amr values (RFC 8176) any one of which shows a second factor",
    )
    mfa_acr: tuple[str, ...] = Field(
        default=(), description="acr values that show a second factor (the provider's own)"
    )
    create_analysts: bool = Field(
        default=False,
        description="create an analyst account for an unknown name (never a privileged one)",
    )
    staff_id_claim: str = Field(
        default="employee_id", description="the staff id of an account created on first login"
    )
    redirect_uri: str | None = Field(
        default=None, description="the callback URL registered at the provider "
        "(https://<queue>/login/oidc/callback); unset = from the request",
    )  # fmt: skip
    display_name: str = Field(default="the force's sign-in", max_length=64)
    timeout_s: float = Field(default=10.0, gt=0, le=60, description="calls to the provider")

    @field_validator("issuer")
    @classmethod
    def _https(cls, value: str | None) -> str | None:
        """The provider's keys and tokens travel from the issuer: TLS, except on loopback
        (a provider started by the tests)."""
        if value is None:
            return None
        host = value.split("://", 1)[-1].split("/", 1)[0].rsplit(":", 1)[0]
        if not value.startswith("https://") and host not in ("127.0.0.1", "localhost", "[::1]"):
            raise ValueError("the issuer must be an https:// URL")
        return value

    @property
    def enabled(self) -> bool:
        return bool(self.issuer and self.client_id)


class TriageSettings(BaseModel):
    """The ACU queue service (``probity triage serve``). Keys derive from ``secret_key``.

    Conflict of interest: an alert whose officer is in ``acu_staff_ids`` or whose unit (from
    staff reference data: the alert's ``officer_unit``) is in ``acu_units`` is about a member
    of the ACU and is seen by the outside reviewer role alone. The worker refuses to start
    until one of the two is set (:attr:`acu_configured`).
    """

    model_config = ConfigDict(frozen=True)

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    session_max_age_s: int = Field(
        default=8 * 3600, ge=60, description="longest a session lives, however active"
    )
    session_idle_s: int = Field(
        default=30 * 60, ge=60, description="a session unused this long ends (idle timeout)"
    )
    cookie_name: str = Field(
        default="probity_session",
        description="with cookie_secure the cookie is named __Host-<this> (Secure, Path=/, "
        "no Domain: a sibling host cannot set or shadow it)",
    )
    cookie_secure: bool = Field(
        default=True,
        description="Secure cookies, the __Host- prefix and HSTS: the service is behind HTTPS. "
        "Turn off only for a local demo over plain HTTP",
    )
    hsts_max_age_s: int = Field(default=365 * 24 * 3600, ge=0)
    max_body_bytes: int = Field(
        default=1_000_000, ge=1024, description="larger request bodies get 413, before login"
    )
    login_client_free_failures: int = Field(
        default=5, ge=1, description="failed logins from one client address before back-off"
    )
    login_global_free_failures: int = Field(
        default=200, ge=1, description="failed logins from everywhere before a global back-off"
    )
    login_backoff_base_s: float = Field(default=1.0, gt=0, description="the first back-off")
    login_backoff_max_s: float = Field(
        default=900.0, gt=0, description="longest back-off; doubles per failure up to it"
    )
    login_global_backoff_max_s: float = Field(
        default=30.0, gt=0, description="longest global back-off (it delays everyone)"
    )
    max_concurrent_hashes: int = Field(
        default=4, ge=1, le=64,
        description="argon2 runs at once (64 MiB each): bounds memory under a login flood",
    )  # fmt: skip
    acu_units: frozenset[str] = Field(
        default=frozenset({"acu"}),
        description="units (as staff reference data names them) whose members are the ACU: "
        "alerts about them go to the outside reviewer alone. Set it, or acu_staff_ids, "
        "explicitly: the worker refuses to start until one names the ACU",
    )
    acu_staff_ids: frozenset[str] = Field(
        default=frozenset(), description="staff ids of the ACU (its head included)"
    )
    page_size: int = Field(default=50, ge=1, le=500)
    coverage_url: str | None = Field(
        default=None, pattern=r"^https?://",
        description="the coverage service's report (`probity coverage`: "
        "http://host:6067/coverage), sent coverage.token; unset = the queue's coverage page "
        "says it is not connected",
    )  # fmt: skip
    coverage_timeout_s: float = Field(
        default=2.0, gt=0, le=30, description="longest wait for the coverage service"
    )
    staff_count: int | None = Field(
        default=None, ge=1,
        description="the force's headcount, for the share of staff a detector alerts about "
        "when the coverage service (which counts the HR feed's staff) does not answer",
    )  # fmt: skip
    reveal_reason_min_chars: int = Field(default=10, ge=1)
    reveal_daily_quota: int = Field(
        default=25, ge=1, description="reveals (and refused tries) one user may make a UTC day"
    )
    rationale_min_chars: int = Field(
        default=20, ge=1, description="shortest rationale for closing an alert (three words too)"
    )
    suppression_max_days: int = Field(
        default=90, ge=1, le=3650, description="longest a suppression may last"
    )
    token_max_days: int = Field(
        default=90, ge=1, le=3650, description="longest (and default) life of an API token"
    )
    service_token_max_days: int = Field(
        default=30, ge=1, le=3650,
        description="longest (and default) life of a service account's token (a machine's "
        "credential, kept in another system: rotate it often)",
    )  # fmt: skip
    audit_key: SecretStr | None = Field(
        default=None,
        description="keys the audit chain (HMAC) and signs its checkpoints; unset = derived "
        "from secret_key. Keep it from the database's administrators",
    )
    audit_checkpoint_dir: str = Field(
        default="var/audit-checkpoints",
        description="where `probity triage audit checkpoint` writes signed checkpoints; "
        "somewhere the database's administrators cannot write",
    )
    audit_verify_interval_s: int = Field(
        default=300, ge=1, description="how often /metrics re-verifies the audit chain at most"
    )
    login_max_failures: int = Field(
        default=10, ge=1,
        description="wrong current passwords on the change form (a session's own user) within "
        "login_window_s before the form refuses for the rest of the window",
    )  # fmt: skip
    login_window_s: int = Field(default=900, ge=1)
    mfa_roles: tuple[
        Literal["analyst", "supervisor", "head_of_unit", "auditor", "admin"], ...
    ] = Field(
        default=("admin", "head_of_unit"),
        description="roles that cannot use the queue before a second factor (TOTP or the "
        "identity provider's) is in the session",
    )
    mfa_key: SecretStr | None = Field(
        default=None,
        description="encrypts the TOTP secrets in the store; unset = derived from secret_key "
        "(changing either then needs every user to enrol again)",
    )
    mfa_fresh_s: int = Field(
        default=15 * 60, ge=30, description="how recent the second factor must be for a "
        "sensitive reveal (older: the user confirms a code again)",
    )  # fmt: skip
    totp_issuer: str = Field(
        default="Probity ACU", max_length=64, description="the name authenticator apps show"
    )
    oidc: OidcSettings = Field(default_factory=OidcSettings)

    @property
    def acu_configured(self) -> bool:
        """The operator named the ACU (its staff list or a unit that marks it): set
        explicitly and not empty. The default unit ``acu`` is a guess, not a configuration."""
        named = {"acu_units", "acu_staff_ids"} & self.model_fields_set
        return bool(named) and bool(self.acu_units or self.acu_staff_ids)

    @property
    def session_cookie(self) -> str:
        """The session cookie's name: ``__Host-`` prefixed when it is Secure."""
        return f"__Host-{self.cookie_name}" if self.cookie_secure else self.cookie_name


class SyslogListener(BaseModel):
    """One TCP syslog port of the intake, bound to the source that sends on it (RFC 6587:
    octet-counted or newline framing), its lines converted by the ``syslog`` or ``cef``
    adapter."""

    model_config = ConfigDict(frozen=True)

    port: int = Field(ge=0, le=65535, description="0 = a free port (tests)")
    source: str = Field(pattern=r"^[a-z0-9_.-]{1,64}$")
    format: Literal["syslog", "cef"] = "syslog"


class IntakeSettings(BaseModel):
    """The HTTP intake (``probity intake``): its own process and port; see docs/intake.md."""

    model_config = ConfigDict(frozen=True)

    host: str = "127.0.0.1"
    port: int = Field(default=8090, ge=0, le=65535)
    tokens_path: str | None = Field(
        default=None,
        description="the sources' hashed tokens; unset = <data_dir>/intake-tokens.json",
    )
    max_body_bytes: int = Field(default=16 * 1024 * 1024, ge=1024)
    max_line_bytes: int = Field(
        default=1_000_000, ge=256, description="longest NDJSON line or syslog message"
    )
    max_in_flight: int = Field(
        default=20_000,
        ge=1,
        description="records handed to the producer and not yet acknowledged by the broker "
        "above which a request is answered 429 (and a syslog port stops reading)",
    )
    retry_after_s: int = Field(default=1, ge=1, description="the 429's Retry-After")
    ack_timeout_s: float = Field(
        default=30.0, gt=0, description="longest wait for the broker's acknowledgement"
    )
    recent_ids_per_source: int = Field(
        default=100_000,
        ge=1,
        description="event ids remembered per source to answer a "
        "repeated event as a duplicate without publishing it again",
    )
    syslog: tuple[SyslogListener, ...] = ()
    resolve_identities: bool = Field(
        default=True,
        description="resolve the accounts adapter formats name to staff ids, from the "
        "staff.upsert events of the reference topic (read from the start, then followed)",
    )
    admin_token: SecretStr | None = Field(
        default=None,
        description="bearer token of the intake's /admin endpoints (the unresolved accounts) "
        "and of `probity intake accounts`; unset = /admin answers 401 to everyone",
    )


class KafkaSecurity(BaseModel):
    """How every Kafka client of Probity authenticates and encrypts (``PROBITY_KAFKA_SECURITY__*``).

    One place for faust, aiokafka, kafka-python and confluent-kafka: :mod:`probity.transport`
    turns it into each library's own configuration. ``PLAINTEXT`` (the default) suits the
    embedded broker and tests only; production is ``SASL_SSL`` (or ``SSL`` with client
    certificates).
    """

    model_config = ConfigDict(frozen=True)

    protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    ca_file: str | None = Field(
        default=None, description="PEM CA bundle the broker's certificate is checked against; "
        "unset = the system's trust store",
    )  # fmt: skip
    cert_file: str | None = Field(default=None, description="client certificate (PEM), mTLS")
    key_file: str | None = Field(default=None, description="the client certificate's key (PEM)")
    key_password: SecretStr | None = None
    check_hostname: bool = Field(
        default=True, description="check the broker's certificate names the host dialled"
    )
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER"] | None = None
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    oauth_token_file: str | None = Field(
        default=None,
        description="OAUTHBEARER: a file holding the current access token, re-read at every "
        "(re)authentication (a sidecar or the platform keeps it fresh)",
    )

    @property
    def uses_tls(self) -> bool:
        return self.protocol in ("SSL", "SASL_SSL")

    @property
    def uses_sasl(self) -> bool:
        return self.protocol in ("SASL_PLAINTEXT", "SASL_SSL")

    @model_validator(mode="after")
    def _consistent(self) -> KafkaSecurity:
        if self.uses_sasl:
            if self.sasl_mechanism is None:
                raise ValueError(f"{self.protocol} needs sasl_mechanism")
            if self.sasl_mechanism == "OAUTHBEARER":
                if not self.oauth_token_file:
                    raise ValueError("OAUTHBEARER needs oauth_token_file")
            elif not self.sasl_username or self.sasl_password is None:
                raise ValueError(f"{self.sasl_mechanism} needs sasl_username and sasl_password")
        elif self.sasl_mechanism is not None:
            raise ValueError(f"sasl_mechanism is set but protocol {self.protocol} has no SASL")
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("cert_file and key_file go together")
        if not self.uses_tls and (self.ca_file or self.cert_file):
            raise ValueError(f"TLS files are set but protocol {self.protocol} has no TLS")
        return self


class CoverageSettings(BaseModel):
    """Source coverage (``probity coverage``): the systems that should feed Probity, how much,
    and whom they show at work; see docs/operations.md."""

    model_config = ConfigDict(frozen=True)

    sources_path: str | None = Field(
        default=None,
        description="the sources file (TOML: name, owner, format, expected daily volume, "
        "longest silence of each feeding system); unset = the example shipped for the "
        "simulated force (intake/sources.toml)",
    )
    host: str = "127.0.0.1"
    port: int = Field(default=6067, ge=0, le=65535, description="/metrics and /coverage")
    token: SecretStr | None = Field(
        default=None,
        description="bearer token /coverage asks for (it names staff); the ACU queue sends "
        "it. Required: `probity coverage` refuses to start without it (and without "
        "metrics_token, which its /metrics asks for)",
    )
    days: int = Field(default=35, ge=2, le=400, description="days of per-day counts kept")


class Settings(BaseSettings):
    """Everything an operator can set. Frozen: pass it around, never mutate it."""

    model_config = SettingsConfigDict(
        env_prefix="PROBITY_", env_nested_delimiter="__", frozen=True, extra="ignore"
    )

    mode: Literal["embedded", "external"] = "embedded"
    kafka: str | None = Field(
        default=None,
        description="kafka://host:port[,host:port]; unset = start the embedded Tansu broker",
    )
    kafka_security: KafkaSecurity = KafkaSecurity()
    topics: Topics = Topics()
    partitions: int = Field(default=8, ge=1, le=1024)
    replication_factor: int = Field(default=1, ge=1)
    app_id: str = "probity-worker"
    data_dir: str = "var"
    store_url: str = Field(
        default="sqlite:///var/probity-queue.db",
        description="the ACU queue's database (SQLAlchemy URL); for PostgreSQL see "
        "store_sslmode: libpq options in the URL's query pass through too",
    )
    store_sslmode: (
        Literal["disable", "allow", "prefer", "require", "verify-ca", "verify-full"] | None
    ) = Field(
        default=None,
        description="PostgreSQL only: libpq sslmode added to store_url (verify-full in "
        "production: TLS and the server's certificate checked against store_sslrootcert)",
    )
    store_sslrootcert: str | None = Field(
        default=None,
        description="PostgreSQL only: the CA file that signed the server's certificate",
    )
    worker_web_port: int = Field(default=6066, ge=0, le=65535)
    sink_web_port: int = Field(
        default=0,
        ge=0,
        le=65535,
        description="where `probity sink` serves /metrics, /healthz and /readyz (on web_host); "
        "0 = not served (`probity run` leaves it off: one host, one worker port)",
    )
    batch_size: int = Field(
        default=5000, ge=1, description="most records a worker takes from one fetch"
    )
    commit_interval_s: float = Field(
        default=5.0,
        gt=0,
        le=60,
        description="how often a busy worker checkpoints: awaits its alerts, writes the state "
        "of the officers it touched and commits its offsets (an idle worker does at once); "
        "after a crash at most this much is judged again. Each checkpoint writes every touched "
        "officer's whole state: at 1 s the embedded broker's work on those writes took CPU "
        "from the worker on a 2-core machine",
    )
    fetch_max_wait_ms: int = Field(
        default=100,
        ge=1,
        le=5000,
        description="longest a worker's fetch waits for data: bounds the event-to-alert delay",
    )
    max_record_bytes: int = Field(
        default=1_000_000,
        ge=1024,
        description="largest record Probity writes to Kafka (a default broker's "
        "message.max.bytes is about 1 MB): ingest dead-letters a longer line; a worker does not "
        "write an officer state or edge record over it (logged, counted) rather than fail",
    )
    join_before_reference: bool = Field(
        default=False,
        description="a worker joins the event consumer group while it loads the reference "
        "data (judging still waits for it): right for a lone worker (`probity replay` sets "
        "it), which saves the broker's join wait; in a group of workers a restarted one would "
        "hold partitions back from the others while it loads",
    )
    seen_ids_per_officer: int = Field(default=256, ge=16)
    feed_min_share: float = Field(
        default=0.5,
        ge=0.0,
        le=1.0,
        description="share of staff a reference feed (vetting) must have records for before "
        "the detectors that need it judge anyone; below it, one operational alert instead",
    )
    detector_timing_every: int = Field(
        default=10,
        ge=1,
        description="a busy worker (batches of 100 records or more) times its detectors on one "
        "batch in this many (timing every call costs about as much as a fast detector); "
        "1 = every batch",
    )
    officer_cache_size: int = Field(
        default=1024,
        ge=16,
        description="most officers whose state a worker keeps decoded (the rest stay as bytes): "
        "reaching it brings the next checkpoint forward, after which at most half stay decoded",
    )
    gc_thresholds: tuple[int, int, int] | tuple[()] = Field(
        default=(50_000, 20, 100),
        description="the garbage collector's generation thresholds for the processing core "
        "(probity.runtime.tune_gc); () keeps CPython's (700, 10, 10)",
    )
    gc_freeze: bool = Field(
        default=True,
        description="tune_gc freezes what is alive after start-up so collections skip it",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["json", "text"] = "json"
    secret_key: SecretStr | None = None
    detectors: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="per-detector parameters keyed by detector id with '.' as '_', "
        "e.g. {'access_canary': {'score': 95}}; empty = the detectors' own defaults. Validated "
        "at start-up against each detector's Params (probity detectors lists them): an unknown "
        "detector or parameter, or a value of the wrong type, stops the worker naming both",
    )
    detector_volume: dict[str, str] = Field(
        default_factory=dict,
        description="per-detector volume keyed by detector id ('.' as '_'): fewer, default or "
        "more, e.g. PROBITY_DETECTOR_VOLUME__ACCESS_NO_PURPOSE=fewer; sets the fields of the "
        "detector's preset (probity detectors lists them), under any parameter given in "
        "detectors, which wins. Checked at start-up: an unknown detector or volume stops the "
        "worker naming both",
    )
    disabled_detectors: frozenset[str] = Field(
        default=frozenset(),
        description="ids of detectors not to run (checked at start-up like detectors); a "
        "detector another reads the state of (depends_on) cannot be disabled alone",
    )
    honour_suppressions: bool = Field(
        default=True,
        description="the worker drops findings covered by analysts' suppressions (read from "
        "the queue store); replays turn this off so they show everything",
    )
    web_host: str = Field(
        default="127.0.0.1",
        description="the address the worker's web port (/metrics, /healthz, /readyz) binds: "
        "0.0.0.0 in a container, so probes and scrapes reach it",
    )
    metrics_token: SecretStr | None = Field(
        default=None,
        description="bearer token the /metrics of the workers, the sink, the intake and the "
        "coverage service ask for (the probes stay open); unset = those /metrics answer 401 "
        "to everyone (the coverage service does not start); probity run generates one",
    )
    triage: TriageSettings = TriageSettings()
    intake: IntakeSettings = IntakeSettings()
    coverage: CoverageSettings = CoverageSettings()

    @field_validator("kafka")
    @classmethod
    def _kafka_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not value.startswith("kafka://") or len(value) <= len("kafka://"):
            raise ValueError("PROBITY_KAFKA must look like kafka://host:port[,host:port]")
        return value

    @property
    def bootstrap_servers(self) -> str:
        """``host:port,...`` for Kafka clients; only valid once a broker is known."""
        if self.kafka is None:
            raise ValueError("no broker configured and the embedded broker is not started")
        return self.kafka.removeprefix("kafka://")

    @property
    def store_connect_url(self) -> str:
        """``store_url`` with ``store_sslmode`` and ``store_sslrootcert`` added to its query
        (PostgreSQL; psycopg hands them to libpq). Values already in the URL are kept."""
        if not self.store_url.startswith("postgresql"):
            return self.store_url
        from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

        parts = urlsplit(self.store_url)
        query = dict(parse_qsl(parts.query))
        if self.store_sslmode is not None:
            query.setdefault("sslmode", self.store_sslmode)
        if self.store_sslrootcert is not None:
            query.setdefault("sslrootcert", self.store_sslrootcert)
        return urlunsplit(parts._replace(query=urlencode(query)))

    def detector_params(self, detector_id: str) -> dict[str, Any]:
        """Parameters an operator set for one detector (may be empty)."""
        return dict(self.detectors.get(detector_id.replace(".", "_"), {}))


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()


def to_env(settings: Settings) -> dict[str, str]:
    """``PROBITY_*`` variables that reproduce ``settings`` in a child process (secrets included,
    at any depth: pass them only to processes you start yourself)."""
    import json

    env: dict[str, str] = {}
    for name in type(settings).model_fields:
        value = _plain(getattr(settings, name))
        if value is None:
            continue
        env[f"PROBITY_{name.upper()}"] = value if isinstance(value, str) else json.dumps(value)
    return env


def _plain(value: Any) -> Any:
    """A settings value as JSON-able data with its secrets revealed (``model_dump`` would
    write ``SecretStr`` as stars, and a child process would then get a wrong key)."""
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, BaseModel):
        return {name: _plain(getattr(value, name)) for name in type(value).model_fields}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, frozenset | set):
        return sorted(_plain(v) for v in value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
