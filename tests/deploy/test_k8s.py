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


def test_pods_run_unprivileged() -> None:
    for name in ("probity-worker", "probity-triage"):
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
    assert jobs == {"probity-worker", "probity-sink", "probity-triage"}
    # every scrape carries a bearer token: no Probity /metrics is open
    assert all("bearerTokenSecret" in e for m in monitors if m for e in m["spec"]["endpoints"])
    rules = (DEPLOY / "prometheus" / "rules" / "probity.rules.yml").read_text()
    assert 'job="probity-worker"' in rules
