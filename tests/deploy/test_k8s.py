"""Kubernetes manifests: schema-valid (kubernetes-validate, offline schemas from PyPI) and
wired as the workers and the triage service need."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from probity.cli import _COMMANDS
from probity.settings import Settings
from tests.deploy.conftest import DEPLOY, settings_field_exists

K8S = DEPLOY / "k8s"


def _validator() -> str:
    exe = Path(sys.executable).parent / "kubernetes-validate"
    found = str(exe) if exe.exists() else shutil.which("kubernetes-validate")
    if found is None:
        pytest.fail(
            "kubernetes-validate missing: it is in the dev extras (pip install -e '.[dev]')"
        )
    return found


def _resource_files() -> list[Path]:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    return [K8S / name for name in kustomization["resources"]]


def _docs() -> list[dict[str, Any]]:
    return [d for f in _resource_files() for d in yaml.safe_load_all(f.read_text()) if d]


def _one(kind: str, name: str) -> dict[str, Any]:
    [doc] = [d for d in _docs() if d["kind"] == kind and d["metadata"]["name"] == name]
    return doc


def _validate(*files: Path, version: str | None = None) -> subprocess.CompletedProcess[str]:
    args = [_validator(), "--strict", "--quiet"]
    if version:
        args += ["-k", version]
    return subprocess.run(
        [*args, *map(str, files)], capture_output=True, text=True, timeout=120, check=False
    )


def test_kustomization_lists_existing_files() -> None:
    files = _resource_files()
    assert files and all(f.is_file() for f in files)


@pytest.mark.parametrize("version", [None, "1.29.0"])
def test_manifests_pass_strict_schema_validation(version: str | None) -> None:
    done = _validate(*_resource_files(), version=version)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("breakage", ["wrong_type", "unknown_field"])
def test_the_validator_rejects_a_broken_manifest(tmp_path: Path, breakage: str) -> None:
    bad = next(yaml.safe_load_all((K8S / "worker.yaml").read_text()))
    if breakage == "wrong_type":
        bad["spec"]["replicas"] = "two"
    else:
        bad["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]["httpGet"]["pth"] = "/x"
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump(bad))
    assert _validate(tmp_path / "bad.yaml").returncode != 0


def test_workers_scale_as_one_consumer_group_with_probes_and_scrape_annotations() -> None:
    worker = _one("Deployment", "probity-worker")
    config = _one("ConfigMap", "probity-config")["data"]
    assert worker["spec"]["replicas"] >= 2
    assert int(config["PROBITY_PARTITIONS"]) >= 2 * worker["spec"]["replicas"]
    assert config["PROBITY_APP_ID"]  # the shared consumer group
    pod = worker["spec"]["template"]
    container = pod["spec"]["containers"][0]
    assert container["args"][0] == "worker" and "worker" in _COMMANDS
    port = str(config["PROBITY_WORKER_WEB_PORT"])
    assert [str(p["containerPort"]) for p in container["ports"]] == [port]
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    annotations = pod["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert annotations["prometheus.io/port"] == port
    assert pod["metadata"]["labels"]["app.kubernetes.io/component"] == "worker"
    assert {"configMapRef": {"name": "probity-config"}} in container["envFrom"]
    # the workers get no signing key: the store (suppressions) and their Kafka password only
    secrets = [e["secretRef"]["name"] for e in container["envFrom"] if "secretRef" in e]
    assert secrets == ["probity-worker-secrets"]
    assert set(_one("Secret", "probity-worker-secrets")["stringData"]) == {
        "PROBITY_STORE_URL", "PROBITY_KAFKA_SECURITY__SASL_PASSWORD"
    }


def test_triage_has_a_service_probes_and_its_secrets() -> None:
    triage = _one("Deployment", "probity-triage")
    container = triage["spec"]["template"]["spec"]["containers"][0]
    assert container["args"][:2] == ["triage", "serve"] and "triage" in _COMMANDS
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert {"secretRef": {"name": "probity-secrets"}} in container["envFrom"]
    service = _one("Service", "probity-triage")
    assert service["spec"]["selector"] == triage["spec"]["selector"]["matchLabels"]
    config = _one("ConfigMap", "probity-config")["data"]
    assert [p["containerPort"] for p in container["ports"]] == [int(config["PROBITY_TRIAGE__PORT"])]


def test_config_and_secret_keys_are_settings_fields() -> None:
    config = _one("ConfigMap", "probity-config")["data"]
    secret = _one("Secret", "probity-secrets")["stringData"]
    for key in [*config, *secret]:
        assert settings_field_exists(key), key
    assert "PROBITY_SECRET_KEY" not in config and "PROBITY_STORE_URL" not in config


def test_the_workers_and_the_queue_know_who_the_acu_is(monkeypatch) -> None:
    """The worker refuses to start without the ACU named; the queue hides its members'
    alerts from everyone but the outside reviewer. Both read it from probity-config."""
    config = _one("ConfigMap", "probity-config")["data"]
    monkeypatch.setenv("PROBITY_TRIAGE__ACU_UNITS", config["PROBITY_TRIAGE__ACU_UNITS"])
    assert Settings().triage.acu_configured
    for name in ("probity-worker", "probity-sink", "probity-triage"):
        container = _one("Deployment", name)["spec"]["template"]["spec"]["containers"][0]
        assert {"configMapRef": {"name": "probity-config"}} in container["envFrom"], name


def test_pods_run_unprivileged() -> None:
    for name in ("probity-worker", "probity-triage", "probity-sink", "probity-intake"):
        spec = _one("Deployment", name)["spec"]["template"]["spec"]
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["automountServiceAccountToken"] is False
        for container in spec["containers"]:
            ctx = container["securityContext"]
            assert ctx["allowPrivilegeEscalation"] is False
            assert ctx["readOnlyRootFilesystem"] is True
            assert container["resources"]["limits"]["memory"]


def test_service_monitors_name_the_jobs_the_rules_expect() -> None:
    monitors = list(yaml.safe_load_all((K8S / "monitoring" / "servicemonitors.yaml").read_text()))
    jobs = {
        r["replacement"]
        for m in monitors
        if m
        for e in m["spec"]["endpoints"]
        for r in e.get("relabelings", [])
        if r["targetLabel"] == "job"
    }
    assert jobs == {"probity-worker", "probity-sink", "probity-triage", "probity-coverage",
                    "probity-intake"}  # fmt: skip
    # every scrape carries a bearer token: no Probity /metrics is open
    assert all("bearerTokenSecret" in e for m in monitors if m for e in m["spec"]["endpoints"])
    rules = (DEPLOY / "prometheus" / "rules" / "probity.rules.yml").read_text()
    assert 'job="probity-worker"' in rules


def _policies() -> list[dict[str, Any]]:
    return [d for d in _docs() if d["kind"] == "NetworkPolicy"]


def _selects(policy: dict[str, Any], labels: dict[str, str]) -> bool:
    """Does the policy's podSelector select a pod with ``labels``? (matchLabels and
    matchExpressions with In, the forms these manifests use)"""
    sel = policy["spec"]["podSelector"]
    if any(labels.get(k) != v for k, v in sel.get("matchLabels", {}).items()):
        return False
    for expr in sel.get("matchExpressions", []):
        assert expr["operator"] == "In", expr
        if labels.get(expr["key"]) not in expr["values"]:
            return False
    return True


def _pod_labels(component: str) -> dict[str, str]:
    dep = _one("Deployment", f"probity-{component}")
    return dict(dep["spec"]["template"]["metadata"]["labels"])


def _peers(rules: list[dict[str, Any]], key: str) -> set[tuple[str, str, int]]:
    """(namespace, pod app name or '*', port) every rule admits."""
    out = set()
    for rule in rules:
        for peer in rule[key]:
            ns = peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
            pod = peer.get("podSelector", {}).get("matchLabels", {})
            name = pod.get("app.kubernetes.io/name") or pod.get("k8s-app") or "*"
            for port in rule["ports"]:
                out.add((ns, name, int(port["port"])))
    return out


def test_network_policy_denies_by_default_in_and_out() -> None:
    deny = [p for p in _policies() if p["spec"]["podSelector"] == {}]
    assert len(deny) == 1
    assert sorted(deny[0]["spec"]["policyTypes"]) == ["Egress", "Ingress"]
    assert "ingress" not in deny[0]["spec"] and "egress" not in deny[0]["spec"]


@pytest.mark.parametrize(
    ("component", "allowed_in", "allowed_out"),
    [
        ("triage",
         {("ingress-nginx", "ingress-nginx", 8080), ("monitoring", "prometheus", 8080)},
         # Kafka for its pod's audit-checkpoint container only; the coverage report
         {("kube-system", "kube-dns", 53), ("kafka", "*", 9093), ("postgres", "*", 5432),
          ("probity", "probity", 6067)}),
        ("worker", {("monitoring", "prometheus", 6066)},
         {("kube-system", "kube-dns", 53), ("kafka", "*", 9093), ("postgres", "*", 5432)}),
        ("sink", {("monitoring", "prometheus", 6066)},
         {("kube-system", "kube-dns", 53), ("kafka", "*", 9093), ("postgres", "*", 5432)}),
        # no store: the event topics in, the report to the triage service and Prometheus out
        ("coverage", {("monitoring", "prometheus", 6067), ("probity", "probity", 6067)},
         {("kube-system", "kube-dns", 53), ("kafka", "*", 9093)}),
        # the sources through the ingress controller's TLS, and Prometheus; no store
        ("intake",
         {("ingress-nginx", "ingress-nginx", 8090), ("monitoring", "prometheus", 8090)},
         {("kube-system", "kube-dns", 53), ("kafka", "*", 9093)}),
    ],
)  # fmt: skip
def test_network_policy_admits_only_what_each_component_needs(
    component: str,
    allowed_in: set[tuple[str, str, int]],
    allowed_out: set[tuple[str, str, int]],
) -> None:
    """The union of every policy selecting the component's pods: ingress only from the
    ingress controller and Prometheus on its web port, egress only DNS, Kafka, PostgreSQL.
    Every rule names its peers and ports (a rule without ``from``/``to`` admits anyone)."""
    labels = _pod_labels(component)
    mine = [p for p in _policies() if _selects(p, labels)]
    ingress = [r for p in mine for r in p["spec"].get("ingress", [])]
    egress = [r for p in mine for r in p["spec"].get("egress", [])]
    assert all(r.get("from") and r.get("ports") for r in ingress)
    assert all(r.get("to") and r.get("ports") for r in egress)
    assert _peers(ingress, "from") == allowed_in
    assert _peers(egress, "to") == allowed_out
    # the web port the policy opens is the one the container serves and is probed on
    dep = _one("Deployment", f"probity-{component}")
    container = dep["spec"]["template"]["spec"]["containers"][0]  # the serving one
    assert {p for _, _, p in allowed_in} == {p["containerPort"] for p in container["ports"]}


def test_kafka_port_in_the_policy_is_the_configured_bootstrap_port() -> None:
    config = _one("ConfigMap", "probity-config")["data"]
    ports = {int(hp.rsplit(":", 1)[1]) for hp in config["PROBITY_KAFKA"][8:].split(",")}
    assert ports == {9093}


def test_every_probity_service_binds_outward_and_guards_metrics() -> None:
    """Probes and scrapes come from outside the pod: the web ports bind 0.0.0.0; the
    workers and the sink take their metrics token from the Secret Prometheus reads."""
    config = _one("ConfigMap", "probity-config")["data"]
    assert config["PROBITY_WEB_HOST"] == "0.0.0.0"
    assert config["PROBITY_TRIAGE__HOST"] == "0.0.0.0"
    for component in ("worker", "sink", "coverage", "intake"):
        [container] = _one("Deployment", f"probity-{component}")["spec"]["template"]["spec"][
            "containers"
        ]
        env = {e["name"]: e for e in container["env"]}
        ref = env["PROBITY_METRICS_TOKEN"]["valueFrom"]["secretKeyRef"]
        assert ref == {"name": "probity-metrics-token", "key": "token"}
        assert env["PROBITY_KAFKA_SECURITY__SASL_USERNAME"]["value"] == f"probity-{component}"
        assert {"configMapRef": {"name": "probity-kafka-client"}} in container["envFrom"]
    # the coverage service binds outward and its report takes the token the queue sends
    assert config["PROBITY_COVERAGE__HOST"] == "0.0.0.0"
    [cov] = _one("Deployment", "probity-coverage")["spec"]["template"]["spec"]["containers"]
    [triage] = [c for c in _one("Deployment", "probity-triage")["spec"]["template"]["spec"][
        "containers"] if c["name"] == "triage"]  # fmt: skip
    token = {"name": "probity-coverage-token", "key": "token"}
    for container in (cov, triage):
        env = {e["name"]: e for e in container["env"]}
        assert env["PROBITY_COVERAGE__TOKEN"]["valueFrom"]["secretKeyRef"] == token
    port = config["PROBITY_COVERAGE__PORT"]
    assert cov["ports"] == [{"name": "web", "containerPort": int(port), "protocol": "TCP"}]
    assert config["PROBITY_TRIAGE__COVERAGE_URL"] == (
        f"http://probity-coverage.probity.svc:{port}/coverage")  # fmt: skip


def test_transport_is_encrypted_and_verified() -> None:
    kafka = _one("ConfigMap", "probity-kafka-client")["data"]
    for key in kafka:
        assert settings_field_exists(key), key
    assert kafka["PROBITY_KAFKA_SECURITY__PROTOCOL"] == "SASL_SSL"
    assert kafka["PROBITY_KAFKA_SECURITY__SASL_MECHANISM"] in {"SCRAM-SHA-512", "OAUTHBEARER"}
    config = _one("ConfigMap", "probity-config")["data"]
    assert config["PROBITY_STORE_SSLMODE"] == "verify-full"
    ca = _one("ConfigMap", "probity-ca")["data"]
    mounted = {Path(config["PROBITY_STORE_SSLROOTCERT"]).name,
               Path(kafka["PROBITY_KAFKA_SECURITY__CA_FILE"]).name}  # fmt: skip
    assert mounted <= set(ca)
    for component in ("worker", "sink", "triage"):
        spec = _one("Deployment", f"probity-{component}")["spec"]["template"]["spec"]
        for container in spec["containers"] + spec.get("initContainers", []):
            mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
            assert mounts["ca"] == str(Path(config["PROBITY_STORE_SSLROOTCERT"]).parent)
        assert {"name": "ca", "configMap": {"name": "probity-ca"}} in spec["volumes"]
    # the triage service talks to no broker: it gets no Kafka credential (its pod's
    # checkpoint container has its own Kafka user, for one topic)
    triage = _one("Deployment", "probity-triage")["spec"]["template"]["spec"]["containers"][0]
    assert {"configMapRef": {"name": "probity-kafka-client"}} not in triage["envFrom"]
    assert not any(e["name"].startswith("PROBITY_KAFKA") for e in triage.get("env", []))


def _triage_pod() -> dict[str, Any]:
    spec: dict[str, Any] = _one("Deployment", "probity-triage")["spec"]["template"]["spec"]
    return spec


def test_only_the_init_container_migrates_as_the_owner() -> None:
    """The services connect as the runtime role (INSERT and SELECT only on the audit log);
    the owner's URL is in a Secret that only the init container `migrate` reads, and it
    grants the roles the services' Secrets name."""
    spec = _triage_pod()
    [init] = spec["initContainers"]
    args = init["args"]
    assert args[:3] == ["triage", "db", "migrate"]
    runtime, reader = args[args.index("--grant-to") + 1], args[args.index("--grant-reader") + 1]
    assert {"secretRef": {"name": "probity-migrate-secrets"}} in init["envFrom"]
    user = lambda name: _one("Secret", name)["stringData"]["PROBITY_STORE_URL"].split(  # noqa: E731
        "//", 1)[1].split(":", 1)[0]  # fmt: skip
    assert user("probity-secrets") == user("probity-sink-secrets") == runtime
    assert user("probity-worker-secrets") == reader
    assert user("probity-migrate-secrets") not in (runtime, reader)
    for dep in (d for d in _docs() if d["kind"] == "Deployment"):
        for container in dep["spec"]["template"]["spec"]["containers"]:
            refs = [e.get("secretRef", {}).get("name") for e in container["envFrom"]]
            assert "probity-migrate-secrets" not in refs, container["name"]


def test_audit_checkpoints_run_beside_the_service_on_their_own_volume() -> None:
    spec = _triage_pod()
    containers = {c["name"]: c for c in spec["containers"]}
    cp = containers["audit-checkpoint"]
    assert cp["args"][:3] == ["triage", "audit", "checkpoint"] and "--publish" in cp["args"]
    assert float(cp["args"][cp["args"].index("--every") + 1]) <= 3600
    where = _one("ConfigMap", "probity-config")["data"]["PROBITY_TRIAGE__AUDIT_CHECKPOINT_DIR"]
    mount = {m["name"]: m for m in cp["volumeMounts"]}["checkpoints"]
    assert mount["mountPath"] == where and not mount.get("readOnly")
    served = {m["name"]: m for m in containers["triage"]["volumeMounts"]}["checkpoints"]
    assert served["mountPath"] == where and served["readOnly"] is True
    env = {e["name"]: e for e in cp["env"]}
    assert env["PROBITY_KAFKA_SECURITY__SASL_USERNAME"]["value"] == "probity-audit-checkpoint"
    claim = {v["name"]: v for v in spec["volumes"]}["checkpoints"]["persistentVolumeClaim"]
    assert _one("PersistentVolumeClaim", claim["claimName"])


def test_the_sink_is_deployed_with_probes_and_its_secrets() -> None:
    sink = _one("Deployment", "probity-sink")
    [container] = sink["spec"]["template"]["spec"]["containers"]
    assert container["args"] == ["sink"] and "sink" in _COMMANDS
    config = _one("ConfigMap", "probity-config")["data"]
    port = int(config["PROBITY_SINK_WEB_PORT"])
    assert [p["containerPort"] for p in container["ports"]] == [port]
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert {"secretRef": {"name": "probity-sink-secrets"}} in container["envFrom"]
    for name in ("probity-sink-secrets", "probity-worker-secrets", "probity-metrics-token"):
        secret = _one("Secret", name)["stringData"]
        for key in secret:
            assert key == "token" or settings_field_exists(key), key


def test_the_intake_is_deployed_with_probes_its_tokens_and_its_secrets() -> None:
    """The intake binds outward on the configured port, is probed on /healthz, reads the
    sources' token file from its Secret (read-only) and the admin token from its own."""
    intake = _one("Deployment", "probity-intake")
    spec = intake["spec"]["template"]["spec"]
    [container] = spec["containers"]
    assert container["args"] == ["intake"] and "intake" in _COMMANDS
    config = _one("ConfigMap", "probity-config")["data"]
    assert config["PROBITY_INTAKE__HOST"] == "0.0.0.0"
    assert [p["containerPort"] for p in container["ports"]] == [int(config["PROBITY_INTAKE__PORT"])]
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/healthz"
    assert {"secretRef": {"name": "probity-intake-secrets"}} in container["envFrom"]
    secrets = _one("Secret", "probity-intake-secrets")["stringData"]
    assert set(secrets) == {"PROBITY_KAFKA_SECURITY__SASL_PASSWORD", "PROBITY_INTAKE__ADMIN_TOKEN"}
    assert all(settings_field_exists(k) for k in secrets)
    env = {e["name"]: e for e in container["env"]}
    path = Path(env["PROBITY_INTAKE__TOKENS_PATH"]["value"])
    mount = {m["name"]: m for m in container["volumeMounts"]}["tokens"]
    assert mount["mountPath"] == str(path.parent) and mount["readOnly"] is True
    volume = {v["name"]: v for v in spec["volumes"]}["tokens"]["secret"]
    assert path.name in _one("Secret", volume["secretName"])["stringData"]
    service = _one("Service", "probity-intake")
    assert service["spec"]["selector"] == intake["spec"]["selector"]["matchLabels"]


@pytest.mark.parametrize(("component", "paths"), [("triage", ["/"]), ("intake", ["/v1/"])])
def test_the_ingress_reaches_each_web_service_through_tls_on_its_paths_only(
    component: str, paths: list[str]
) -> None:
    """Each Ingress routes its TLS host to the component's Service on a port the Service has,
    through the controller the network policy admits; the intake's only on /v1/ (/metrics
    and /admin/ stay inside the cluster), with its body limit and streaming as the intake's
    settings expect."""
    ingress = _one("Ingress", f"probity-{component}")
    spec = ingress["spec"]
    assert spec["ingressClassName"] == "nginx"
    [rule] = spec["rules"]
    [tls] = spec["tls"]
    assert tls["hosts"] == [rule["host"]] and tls["secretName"]
    routes = rule["http"]["paths"]
    assert [r["path"] for r in routes] == paths
    service = _one("Service", f"probity-{component}")
    named = {p["name"] for p in service["spec"]["ports"]}
    for route in routes:
        backend = route["backend"]["service"]
        assert backend["name"] == service["metadata"]["name"]
        assert backend["port"]["name"] in named
    # the policy admits the controller's namespace to this component's pods
    labels = _pod_labels(component)
    admitted = {peer for p in _policies() if _selects(p, labels)
                for peer in _peers(p["spec"].get("ingress", []), "from")}  # fmt: skip
    assert any(ns == "ingress-nginx" for ns, _, _ in admitted)
    notes = ingress["metadata"]["annotations"]
    assert notes["nginx.ingress.kubernetes.io/ssl-redirect"] == "true"
    if component == "intake":
        body = Settings().intake.max_body_bytes
        assert notes["nginx.ingress.kubernetes.io/proxy-body-size"] == f"{body // 2**20}m"
        assert notes["nginx.ingress.kubernetes.io/proxy-request-buffering"] == "off"
        ack = Settings().intake.ack_timeout_s
        assert float(notes["nginx.ingress.kubernetes.io/proxy-read-timeout"]) > ack
