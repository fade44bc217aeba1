"""Deployment smoke tests: the compose file and the Kubernetes manifests, run as they are.

There is no container engine here, so each Probity service of a deployment is started as a
local process with the manifest's own command and environment. What is rewritten, and why:

- ``PROBITY_KAFKA`` -> the embedded broker (``streams.broker``), with ``PROBITY_MODE=embedded``
  (its group timeouts) and replication factor 1 (one broker);
- ``PROBITY_KAFKA_SECURITY__*`` dropped: the embedded broker listens in plaintext
  (``tests/probity/test_transport.py`` checks the clients' TLS and SASL configuration);
- ``PROBITY_STORE_URL`` -> a fresh database on the local PostgreSQL, ``PROBITY_STORE_SSL*``
  dropped (the local server has no TLS);
- web ports -> free ports, ``PROBITY_DATA_DIR`` -> a temporary directory, placeholders of
  secrets (``${VAR:?...}``, ``CHANGE-ME``) -> random values, one per variable name.

Everything else (commands, bind addresses, tokens, topics, partitions, group ids) is the
manifest's. A canary look-up is then fed in with ``probity ingest`` and its alert must reach
the queue store: through the workers, the alerts topic and the sink.
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
#: the order a deployment comes up in: the triage service migrates the schema first
_ORDER = {"triage": 0, "sink": 1, "worker": 2}
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
        self.role = "worker" if self.args[0] == "worker" else self.args[0]


class _Secrets(dict[str, str]):
    """One random value per variable name, so services sharing a secret get the same one."""

    def __missing__(self, name: str) -> str:
        self[name] = secrets.token_urlsafe(36)
        return self[name]


def _fill(value: str, name: str, made: _Secrets) -> str:
    value = _INTERP.sub(lambda m: made[m.group(1)], value)
    return made[name] if "CHANGE-ME" in value else value


def compose_services(made: _Secrets) -> list[Service]:
    services = yaml.safe_load((DEPLOY / "compose" / "compose.yaml").read_text())["services"]
    out = []
    for name, svc in services.items():
        if not str(svc.get("image", "")).startswith("probity:"):
            continue
        cmd = svc["command"]
        args = shlex.split(cmd) if isinstance(cmd, str) else [str(c) for c in cmd]
        env = {k: _fill(str(v), k, made) for k, v in svc["environment"].items()}
        probe = " ".join(map(str, svc["healthcheck"]["test"]))
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
    for dep in (d for d in docs if d["kind"] == "Deployment"):
        [container] = dep["spec"]["template"]["spec"]["containers"]
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
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        probe = container["readinessProbe"]["httpGet"]["port"]
        for i in range(dep["spec"]["replicas"]):
            name = f"{dep['metadata']['name']}-{i}"
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


@pytest.fixture
def fresh_store() -> Iterator[str]:
    """A fresh database on the local PostgreSQL; dropped afterwards."""
    name = f"probity_smoke_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(PG, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        pytest.skip(f"no PostgreSQL at 127.0.0.1:5432: {exc}")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _local_env(svc: Service, kafka: str, store: str, data: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROBITY_")}
    for key, value in svc.env.items():
        if key.startswith("PROBITY_KAFKA_SECURITY__") or key.startswith("PROBITY_STORE_SSL"):
            continue
        env[key] = value
    env.update(PROBITY_KAFKA=kafka, PROBITY_MODE="embedded", PROBITY_REPLICATION_FACTOR="1",
               PROBITY_STORE_URL=store, PROBITY_DATA_DIR=str(data))  # fmt: skip
    for key in ("PROBITY_WORKER_WEB_PORT", "PROBITY_SINK_WEB_PORT", "PROBITY_TRIAGE__PORT"):
        if key in env:
            env[key] = str(port)
    return env


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


def _alerts(store: str) -> list[tuple[str, str]]:
    try:
        with psycopg.connect(store.replace("+psycopg", ""), connect_timeout=3) as conn:
            return list(conn.execute("SELECT detector, officer FROM alerts").fetchall())
    except psycopg.Error:
        return []  # not migrated yet


def _run_deployment(services: list[Service], store: str, work: Path) -> None:
    """Start ``services`` against the embedded broker and ``store``; feed a canary look-up;
    its alert must reach the queue. Also: every service answers its probe on a non-loopback
    address, and the workers' and sink's /metrics need the bearer token."""
    assert {s.role for s in services} >= {"worker", "sink", "triage"}, "a service is missing"
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
            for svc in sorted(services, key=lambda s: _ORDER[s.role]):
                # bound where a probe from outside the pod or container reaches it
                bind = svc.env.get("PROBITY_TRIAGE__HOST" if svc.role == "triage"
                                   else "PROBITY_WEB_HOST")  # fmt: skip
                assert bind == "0.0.0.0", f"{svc.name} binds {bind}"
                web = {"worker": "PROBITY_WORKER_WEB_PORT", "sink": "PROBITY_SINK_WEB_PORT",
                       "triage": "PROBITY_TRIAGE__PORT"}[svc.role]  # fmt: skip
                assert str(svc.probe_port) == svc.env[web], f"{svc.name}: probe on another port"
                port = ports[svc.name] = free_port()
                env = _local_env(svc, broker.url, store, work / svc.name, port)
                procs.append(_probity(svc.args, env, logs / f"{svc.name}.log", work / svc.name))
                path = "/healthz" if svc.role == "triage" else "/readyz"
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
            for svc in services:
                if svc.role == "triage":
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


def test_compose_deployment_puts_an_alert_in_the_queue(fresh_store: str, tmp_path: Path) -> None:
    made = _Secrets()
    services = compose_services(made)
    assert sorted(s.name for s in services) == ["sink", "triage", "worker-1", "worker-2"]
    _run_deployment(services, fresh_store, tmp_path)


def test_k8s_deployment_puts_an_alert_in_the_queue(fresh_store: str, tmp_path: Path) -> None:
    made = _Secrets()
    services = k8s_services(made)
    assert sorted(s.role for s in services) == ["sink", "triage", "worker", "worker"]
    _run_deployment(services, fresh_store, tmp_path)
