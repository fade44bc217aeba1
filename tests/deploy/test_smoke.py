"""Deployment smoke tests: the compose file and the Kubernetes manifests, run as they are.

There is no container engine here, so each Probity service of a deployment is started as a
local process with the manifest's own command and environment. What is rewritten, and why:

- ``PROBITY_KAFKA`` -> the embedded broker (``streams.broker``), with ``PROBITY_MODE=embedded``
  (its group timeouts) and replication factor 1 (one broker);
- ``PROBITY_KAFKA_SECURITY__*`` dropped: the embedded broker listens in plaintext
  (``tests/probity/test_transport.py`` checks the clients' TLS and SASL configuration);
- ``PROBITY_STORE_URL`` -> a fresh database on the local PostgreSQL, ``PROBITY_STORE_SSL*``
  dropped (the local server has no TLS); the manifest's login roles -> roles made for the
  test (``probity_app`` -> ``probity_app_<random>``, as the roles are the server's, not the
  database's), the migration owner -> ``postgres``; the one-shot ``migrate`` runs first, as
  the owner, and the services then connect as the roles it granted;
- ``PROBITY_TRIAGE__AUDIT_CHECKPOINT_DIR`` -> one temporary directory (the shared volume);
- ``PROBITY_INTAKE__TOKENS_PATH`` -> a file in the intake's data directory, where a source's
  token is made with ``probity intake token create`` before the intake starts;
- web ports -> free ports, ``PROBITY_DATA_DIR`` -> a temporary directory, placeholders of
  secrets (``${VAR:?...}``, ``CHANGE-ME``) -> random values, one per variable name.

Everything else (commands, bind addresses, tokens, topics, partitions, group ids) is the
manifest's. A canary look-up is then fed in with ``probity ingest`` and its alert must reach
the queue store: through the workers, the alerts topic and the sink. The scheduled audit
checkpoint must have written a signed checkpoint and sent it to its topic, and the runtime
role must be unable to rewrite the audit log. One event is posted through the intake with
the source's token and must be accepted and on the activity topic; the intake's /metrics
wants the metrics token and its /admin the admin token (not the source's).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shlex
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml

from streams.broker import embedded_broker, free_port
from tests.deploy.conftest import DEPLOY, ROOT

pytestmark = pytest.mark.slow

PG = "postgresql://postgres@127.0.0.1:5432/test"
_INTERP = re.compile(r"\$\{([A-Z0-9_]+)(:?[?-][^}]*)?\}")
#: the order a deployment comes up in: the schema first, as its owner
_ORDER = {"migrate": 0, "triage": 1, "sink": 2, "worker": 3, "checkpoint": 4, "coverage": 5,
          "intake": 6}  # fmt: skip
#: the role of a command, by its first words
_ROLES = {("triage", "db", "migrate"): "migrate", ("triage", "audit", "checkpoint"): "checkpoint",
          ("triage", "serve"): "triage", ("sink",): "sink", ("worker",): "worker",
          ("coverage",): "coverage", ("intake",): "intake"}  # fmt: skip
#: each serving role's bind address and web port settings, and the path its probe reads
_WEB = {"triage": ("PROBITY_TRIAGE__HOST", "PROBITY_TRIAGE__PORT", "/healthz"),
        "sink": ("PROBITY_WEB_HOST", "PROBITY_SINK_WEB_PORT", "/readyz"),
        "worker": ("PROBITY_WEB_HOST", "PROBITY_WORKER_WEB_PORT", "/readyz"),
        "coverage": ("PROBITY_COVERAGE__HOST", "PROBITY_COVERAGE__PORT", "/healthz"),
        "intake": ("PROBITY_INTAKE__HOST", "PROBITY_INTAKE__PORT", "/healthz")}  # fmt: skip
_DATA = ROOT / "tests" / "detectors" / "data" / "access.canary" / "events.jsonl"


@dataclass
class Service:
    """One process of a deployment: its command and environment, as the manifest says."""

    name: str
    args: list[str]
    env: dict[str, str]
    #: the port its probe or healthcheck dials (the manifest's)
    probe_port: int | None = None
    role: str = field(init=False)

    def __post_init__(self) -> None:
        [self.role] = [r for words, r in _ROLES.items() if tuple(self.args[:len(words)]) == words]


class _Secrets(dict[str, str]):
    """One random value per variable name, so services sharing a secret get the same one."""

    def __missing__(self, name: str) -> str:
        self[name] = secrets.token_urlsafe(36)
        return self[name]


def _fill(value: str, name: str, made: _Secrets) -> str:
    value = _INTERP.sub(lambda m: made[m.group(1)], value)
    return value.replace("CHANGE-ME", made[name])  # a URL keeps its user and host


def compose_services(made: _Secrets) -> list[Service]:
    services = yaml.safe_load((DEPLOY / "compose" / "compose.yaml").read_text())["services"]
    out = []
    for name, svc in services.items():
        if not str(svc.get("image", "")).startswith("probity:"):
            continue
        cmd = svc["command"]
        args = shlex.split(cmd) if isinstance(cmd, str) else [str(c) for c in cmd]
        env = {k: _fill(str(v), k, made) for k, v in svc["environment"].items()}
        probe = " ".join(map(str, svc.get("healthcheck", {}).get("test", [])))
        port = re.search(r"http://127\.0\.0\.1:(\d+)/healthz", probe)
        out.append(Service(name, args, env, int(port.group(1)) if port else None))
    return out


def _k8s_docs() -> list[dict[str, Any]]:
    k8s = DEPLOY / "k8s"
    names = yaml.safe_load((k8s / "kustomization.yaml").read_text())["resources"]
    return [d for n in names for d in yaml.safe_load_all((k8s / n).read_text()) if d]


def k8s_services(made: _Secrets) -> list[Service]:
    docs = _k8s_docs()
    maps = {d["metadata"]["name"]: d.get("data", {}) for d in docs if d["kind"] == "ConfigMap"}
    keys = {d["metadata"]["name"]: d["stringData"] for d in docs if d["kind"] == "Secret"}
    out = []
    for dep, container in ((d, c) for d in docs if d["kind"] == "Deployment"
                           for c in (d["spec"]["template"]["spec"].get("initContainers", [])
                                     + d["spec"]["template"]["spec"]["containers"])):  # fmt: skip
        env: dict[str, str] = {}
        for source in container.get("envFrom", []):
            if "configMapRef" in source:
                env.update(maps[source["configMapRef"]["name"]])
            else:
                env.update(keys[source["secretRef"]["name"]])
        for item in container.get("env", []):
            if "value" in item:
                env[item["name"]] = item["value"]
            else:
                ref = item["valueFrom"]["secretKeyRef"]
                env[item["name"]] = keys[ref["name"]][ref["key"]]
        env = {k: _fill(str(v), k, made) for k, v in env.items()}
        ports = {p["name"]: p["containerPort"] for p in container.get("ports", [])}
        probe = container.get("readinessProbe", {}).get("httpGet", {}).get("port")
        for i in range(dep["spec"]["replicas"]):
            name = f"{dep['metadata']['name']}-{container['name']}-{i}"
            out.append(Service(name, list(container["args"]), env, ports.get(probe, probe)))
    return out


def _outward_address() -> str:
    """This machine's non-loopback address (no packet is sent), else 127.0.0.1: a service
    bound to 127.0.0.1 does not answer on it, as a pod's probes would not reach it."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("10.254.254.254", 1))
            return str(s.getsockname()[0])
        except OSError:
            return "127.0.0.1"


def _get(url: str, token: str | None = None) -> tuple[int, str]:
    req = urllib.request.Request(url)
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with _DIRECT.open(req, timeout=3) as resp:
            return int(resp.status), resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, ""
    except OSError:
        return 0, ""  # not listening (yet)


#: no proxy from the environment for local addresses
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass(frozen=True)
class Store:
    """A fresh database on the local PostgreSQL and login roles made for the test."""

    db: str
    roles: dict[str, str]  # the manifests' role name -> the test's

    def url(self, user: str = "postgres") -> str:
        return f"postgresql+psycopg://{user}@127.0.0.1:5432/{self.db}"

    def as_manifest(self, manifest_url: str) -> str:
        """The manifest's store URL here: its runtime roles the test's, its owner postgres."""
        user = manifest_url.split("//", 1)[1].split(":", 1)[0].split("@", 1)[0]
        return self.url(self.roles.get(user, "postgres"))


@pytest.fixture
def fresh_store() -> Iterator[Store]:
    """A fresh database on the local PostgreSQL, and the roles ``probity_app`` and
    ``probity_reader`` under names of the test's own; all dropped afterwards."""
    tag = uuid.uuid4().hex[:12]
    store = Store(f"probity_smoke_{tag}", {r: f"{r}_{tag}" for r in ("probity_app",
                                                                  "probity_reader")})  # fmt: skip
    try:
        admin = psycopg.connect(PG, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        pytest.skip(f"no PostgreSQL at 127.0.0.1:5432: {exc}")
    with admin:
        admin.execute(f'CREATE DATABASE "{store.db}"')
        for role in store.roles.values():
            admin.execute(f"CREATE ROLE {role} LOGIN")
        try:
            yield store
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{store.db}" WITH (FORCE)')
            for role in store.roles.values():
                admin.execute(f"DROP ROLE IF EXISTS {role}")


def _local_env(svc: Service, kafka: str, store: Store, data: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROBITY_")}
    for key, value in svc.env.items():
        if key.startswith("PROBITY_KAFKA_SECURITY__") or key.startswith("PROBITY_STORE_SSL"):
            continue
        env[key] = value
    env.update(PROBITY_KAFKA=kafka, PROBITY_MODE="embedded", PROBITY_REPLICATION_FACTOR="1",
               PROBITY_DATA_DIR=str(data))  # fmt: skip
    if "PROBITY_STORE_URL" in svc.env:  # the coverage service has no store
        env["PROBITY_STORE_URL"] = store.as_manifest(svc.env["PROBITY_STORE_URL"])
    if "PROBITY_TRIAGE__AUDIT_CHECKPOINT_DIR" in env:  # one volume, shared
        env["PROBITY_TRIAGE__AUDIT_CHECKPOINT_DIR"] = str(data.parent / "checkpoints")
    for key in ("PROBITY_WORKER_WEB_PORT", "PROBITY_SINK_WEB_PORT", "PROBITY_TRIAGE__PORT",
                "PROBITY_COVERAGE__PORT", "PROBITY_INTAKE__PORT"):
        if key in env:
            env[key] = str(port)
    if "PROBITY_INTAKE__TOKENS_PATH" in env:  # the volume, or the Secret mounted as a file
        env["PROBITY_INTAKE__TOKENS_PATH"] = str(data / "intake-tokens.json")
    return env


def _local_args(svc: Service, store: Store) -> list[str]:
    """The command, with the manifest's role names (``--grant-to`` and the like) the test's."""
    return [store.roles.get(a, a) for a in svc.args]


def _probity(args: list[str], env: dict[str, str], log: Path, cwd: Path) -> subprocess.Popen[bytes]:
    cwd.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(
        [sys.executable, "-m", "probity", *args], env=env, cwd=cwd,
        stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip


def _wait(what: str, check: Any, timeout_s: float, logs: Path) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(0.5)
    tails = "\n".join(f"--- {p.name}\n" + p.read_text(errors="replace")[-3000:]
                      for p in sorted(logs.glob("*.log")))  # fmt: skip
    pytest.fail(f"{what} not within {timeout_s}s\n{tails}")


def _alerts(store: Store) -> list[tuple[str, str]]:
    try:
        with psycopg.connect(store.url().replace("+psycopg", ""), connect_timeout=3) as conn:
            return list(conn.execute("SELECT detector, officer FROM alerts").fetchall())
    except psycopg.Error:
        return []  # not migrated yet


def _run_deployment(services: list[Service], store: Store, work: Path) -> None:
    """Start ``services`` against the embedded broker and ``store``; feed a canary look-up;
    its alert must reach the queue. Also: every service answers its probe on a non-loopback
    address, the workers', the sink's and the coverage service's /metrics need the bearer
    token, and the coverage report its own."""
    assert {s.role for s in services} >= {"migrate", "worker", "sink", "triage", "checkpoint",
                                          "coverage", "intake"}, "a service is missing"  # fmt: skip
    logs = work / "logs"
    logs.mkdir(parents=True)
    events = [json.loads(line) for line in _DATA.read_text().splitlines() if line.strip()]
    (work / "reference.jsonl").write_text(json.dumps(events[0]) + "\n")
    (work / "activity.jsonl").write_text(json.dumps(events[1]) + "\n")
    host = _outward_address()
    procs: list[subprocess.Popen[bytes]] = []
    with embedded_broker(log_dir=logs) as broker:
        try:
            worker = next(s for s in services if s.role == "worker")
            feed_env = _local_env(worker, broker.url, store, work / "feed", free_port())
            done = subprocess.run(
                [sys.executable, "-m", "probity", "ingest", str(work / "reference.jsonl")],
                env=feed_env, capture_output=True, text=True, timeout=120, check=False,
            )  # fmt: skip
            assert done.returncode == 0, done.stdout + done.stderr
            ports: dict[str, int] = {}
            source_tokens: dict[str, str] = {}
            for svc in sorted(services, key=lambda s: _ORDER[s.role]):
                env = _local_env(svc, broker.url, store, work / svc.name, free_port())
                if svc.role == "migrate":  # one-shot, as the owner: must succeed first
                    done = subprocess.run(
                        [sys.executable, "-m", "probity", *_local_args(svc, store)], env=env,
                        capture_output=True, text=True, timeout=180, check=False,
                    )  # fmt: skip
                    assert done.returncode == 0, done.stdout + done.stderr
                    continue
                if svc.role == "checkpoint":  # no web port: it must keep running
                    procs.append(_probity(_local_args(svc, store), env,
                                          logs / f"{svc.name}.log", work / svc.name))  # fmt: skip
                    continue
                # bound where a probe from outside the pod or container reaches it
                host_key, web, path = _WEB[svc.role]
                bind = svc.env.get(host_key)
                assert bind == "0.0.0.0", f"{svc.name} binds {bind}"
                assert str(svc.probe_port) == svc.env[web], f"{svc.name}: probe on another port"
                port = ports[svc.name] = free_port()
                env = _local_env(svc, broker.url, store, work / svc.name, port)
                if svc.role == "intake":
                    source_tokens[svc.name] = _intake_token(env)
                procs.append(_probity(svc.args, env, logs / f"{svc.name}.log", work / svc.name))
                _wait(f"{svc.name} {path} on {host}",
                      lambda port=port, path=path: _get(f"http://{host}:{port}{path}")[0] == 200
                      or any(p.poll() is not None for p in procs), 180, logs)  # fmt: skip
                dead = [p.args for p in procs if p.poll() is not None]
                assert not dead, f"exited: {dead}"
            done = subprocess.run(
                [sys.executable, "-m", "probity", "ingest", str(work / "activity.jsonl")],
                env=feed_env, capture_output=True, text=True, timeout=120, check=False,
            )  # fmt: skip
            assert done.returncode == 0, done.stdout + done.stderr
            found = _wait("the canary alert in the queue store",
                          lambda: [a for a in _alerts(store) if a[0] == "access.canary"],
                          120, logs)  # fmt: skip
            assert found == [("access.canary", "S1001")]
            _check_audit_trail(store, work / "checkpoints", broker.url, logs)
            for svc in services:
                if svc.role == "intake":
                    _check_intake(svc, f"http://{host}:{ports[svc.name]}",
                                  source_tokens[svc.name], broker.url)  # fmt: skip
            for svc in services:
                if svc.role == "coverage":  # its report: the token the triage service sends
                    url = f"http://{host}:{ports[svc.name]}/coverage"
                    assert _get(url)[0] == 401, f"{svc.name}: /coverage open"
                    assert _get(url, svc.env["PROBITY_METRICS_TOKEN"])[0] == 401
                    assert _get(url, svc.env["PROBITY_COVERAGE__TOKEN"])[0] == 200
                if svc.role not in ("worker", "sink", "coverage", "intake"):
                    continue
                url = f"http://{host}:{ports[svc.name]}/metrics"
                token = svc.env["PROBITY_METRICS_TOKEN"]
                assert _get(url)[0] == 401, f"{svc.name}: /metrics open"
                assert _get(url, "wrong")[0] == 401
                status, body = _get(url, token)
                assert status == 200 and "probity_" in body
                assert _get(f"http://{host}:{ports[svc.name]}/healthz")[0] == 200
        finally:
            for p in reversed(procs):
                if p.poll() is None:
                    p.terminate()
            for p in reversed(procs):
                try:
                    p.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()


_SMOKE_SOURCE = "smoke-proxy"


def _intake_token(env: dict[str, str]) -> str:
    """A token of the source ``smoke-proxy`` in the intake's token file, made as an operator
    would (``probity intake token create``)."""
    done = subprocess.run(
        [sys.executable, "-m", "probity", "intake", "token", "create", "--source", _SMOKE_SOURCE],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout.strip()


def _request(url: str, token: str | None = None, body: bytes | None = None) -> tuple[int, str]:
    req = urllib.request.Request(url, data=body, method="POST" if body is not None else "GET")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with _DIRECT.open(req, timeout=30) as resp:
            return int(resp.status), resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")


def _check_intake(svc: Service, base: str, source_token: str, kafka: str) -> None:
    """One event posted with the source's token is accepted (after the broker's ack) and on
    the activity topic; /admin opens to the admin token only; OpenAPI to a token."""
    from kafka import KafkaConsumer

    from probity.settings import Topics

    event = {"id": f"smoke-intake-{uuid.uuid4().hex[:8]}", "time": "2026-03-02T09:00:00Z",
             "source": _SMOKE_SOURCE, "kind": "record.view", "actor": "S1001",
             "record": {"type": "person", "id": "P-SMOKE"}}  # fmt: skip
    line = json.dumps(event).encode() + b"\n"
    assert _request(f"{base}/v1/events", None, line)[0] == 401
    status, text = _request(f"{base}/v1/events", source_token, line)
    assert status == 200, text
    answer = json.loads(text)
    assert answer["accepted"] == 1, answer
    consumer = KafkaConsumer(Topics().activity, bootstrap_servers=kafka.split("//")[-1],
                             auto_offset_reset="earliest", consumer_timeout_ms=15_000)  # fmt: skip
    try:
        ids = [json.loads(m.value)["id"] for m in consumer]
    finally:
        consumer.close()
    assert event["id"] in ids
    admin = svc.env["PROBITY_INTAKE__ADMIN_TOKEN"]
    unresolved = f"{base}/admin/accounts/unresolved"
    assert _request(unresolved)[0] == 401, f"{svc.name}: /admin open"
    assert _request(unresolved, source_token)[0] in (401, 403)
    assert _request(unresolved, svc.env["PROBITY_METRICS_TOKEN"])[0] == 401
    assert _request(unresolved, admin)[0] == 200
    assert _request(f"{base}/openapi.json")[0] == 401
    assert _request(f"{base}/openapi.json", source_token)[0] == 200


def _check_audit_trail(store: Store, checkpoints: Path, kafka: str, logs: Path) -> None:
    """The scheduled checkpoint wrote a signed checkpoint and sent it to its topic; the
    services' role cannot rewrite, delete or truncate the audit log."""
    from kafka import KafkaConsumer

    from probity.settings import Topics

    written = _wait("a signed audit checkpoint", lambda: sorted(checkpoints.glob(
        "audit-checkpoint-*.json")), 60, logs)  # fmt: skip
    body = json.loads(written[-1].read_text())
    assert set(body) == {"checkpoint", "signature"} and len(body["signature"]) == 64
    consumer = KafkaConsumer(Topics().audit_checkpoints, bootstrap_servers=kafka.split("//")[-1],
                             auto_offset_reset="earliest", consumer_timeout_ms=15_000)  # fmt: skip
    try:
        sent = [json.loads(m.value) for m in consumer]
    finally:
        consumer.close()
    assert body in sent
    runtime = store.url(store.roles["probity_app"]).replace("+psycopg", "")
    for statement in ("DELETE FROM audit_log", "TRUNCATE audit_log",
                      "UPDATE audit_log SET username = 'x'"):  # fmt: skip
        with (pytest.raises(psycopg.Error, match="permission denied"),
              psycopg.connect(runtime, connect_timeout=3) as conn):  # fmt: skip
            conn.execute(statement)


def test_compose_deployment_puts_an_alert_in_the_queue(fresh_store: Store, tmp_path: Path) -> None:
    made = _Secrets()
    services = compose_services(made)
    assert sorted(s.name for s in services) == [
        "audit-checkpoint", "coverage", "intake", "migrate", "sink", "triage", "worker-1",
        "worker-2"]  # fmt: skip
    _run_deployment(services, fresh_store, tmp_path)


def test_k8s_deployment_puts_an_alert_in_the_queue(fresh_store: Store, tmp_path: Path) -> None:
    made = _Secrets()
    services = k8s_services(made)
    assert sorted(s.role for s in services) == [
        "checkpoint", "coverage", "intake", "intake", "migrate", "sink", "triage", "worker",
        "worker"]  # fmt: skip
    _run_deployment(services, fresh_store, tmp_path)
