"""The compose file cannot run here (no container engine), so check what can be checked:
it parses, runs real ``probity`` subcommands, sets only settings that exist (and valid
values), mounts files that exist, pins its images, limits resources and checks health."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from probity.cli import _COMMANDS
from probity.settings import Settings
from tests.deploy.conftest import DEPLOY, ROOT, settings_field_exists

COMPOSE_DIR = DEPLOY / "compose"
COMPOSE = COMPOSE_DIR / "compose.yaml"
_INTERP = re.compile(r"\$\{([A-Z0-9_]+)(:?[?-][^}]*)?\}")


def _compose() -> dict[str, Any]:
    return dict(yaml.safe_load(COMPOSE.read_text()))


def _services() -> dict[str, dict[str, Any]]:
    return dict(_compose()["services"])


def _probity_services() -> dict[str, dict[str, Any]]:
    return {n: s for n, s in _services().items() if str(s.get("image", "")).startswith("probity:")}


def _command(service: dict[str, Any]) -> list[str]:
    cmd = service.get("command", [])
    return shlex.split(cmd) if isinstance(cmd, str) else [str(c) for c in cmd]


def _env(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    # interpolated secrets (${VAR:?...}) stand in as a placeholder value
    return {k: _INTERP.sub("placeholder", str(v)) for k, v in env.items()}


def test_compose_has_the_production_shape() -> None:
    services = _services()
    assert {"kafka", "postgres", "triage", "prometheus", "grafana"} <= set(services)
    workers = [n for n, s in _probity_services().items() if _command(s)[:1] == ["worker"]]
    assert len(workers) == 2
    assert services["kafka"]["image"].startswith("apache/kafka:")
    assert "controller" in services["kafka"]["environment"]["KAFKA_PROCESS_ROLES"]


def test_probity_services_run_real_subcommands() -> None:
    services = _probity_services()
    assert services
    for name, service in services.items():
        command = _command(service)
        assert command and command[0] in _COMMANDS, f"{name}: {command}"
    assert _command(services["triage"])[:2] == ["triage", "serve"]


def test_probity_image_is_built_from_the_repo() -> None:
    for name, service in _probity_services().items():
        build = service["build"]
        context = (COMPOSE_DIR / build["context"]).resolve()
        assert context == ROOT, name
        assert (context / build["dockerfile"]).is_file(), name
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert 'ENTRYPOINT ["probity"]' in dockerfile
    assert re.search(r"^USER \d+", dockerfile, re.M), "the image must not run as root"


def test_probity_volumes_are_created_in_the_image_for_its_user() -> None:
    """A named volume mounted where the image has no directory starts owned by root, which
    the image's user (10001) cannot write: the audit checkpoints were such a volume."""
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    owned = set(re.findall(r"install -d -o 10001 -g 10001(?: -m \d+)? (/\S+)", dockerfile))
    owned |= set(re.findall(r"--home-dir (/\S+) --create-home", dockerfile))
    mounts = {
        volume.split(":")[1]
        for service in _probity_services().values()
        for volume in service.get("volumes", [])
        if isinstance(volume, str) and not volume.startswith((".", "/"))
    }
    assert mounts, "no named volumes found"
    assert mounts <= owned, f"not made for the image's user: {sorted(mounts - owned)}"


def test_environment_maps_to_settings_and_validates(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, service in _probity_services().items():
        env = {k: v for k, v in _env(service).items() if k.startswith("PROBITY_")}
        assert env, name
        for key in env:
            assert settings_field_exists(key), f"{name}: {key} is not a Settings field"
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        settings = Settings()
        assert settings.mode == "external" and settings.kafka == "kafka://kafka:9092"
        # who the ACU is: without it the worker refuses to start, the queue restricts nothing
        assert settings.triage.acu_configured, f"{name}: the ACU is not named"
        assert settings.partitions >= 2 * 2, "keep partitions at least twice the workers"
        for key in env:
            monkeypatch.delenv(key)


def test_settings_field_check_can_fail() -> None:
    assert settings_field_exists("PROBITY_TOPICS__ALERTS")
    assert settings_field_exists("PROBITY_DETECTORS__ACCESS_CANARY__SCORE")
    assert settings_field_exists("PROBITY_TRIAGE__PORT")
    assert not settings_field_exists("PROBITY_KAFKA_URL")
    assert not settings_field_exists("PROBITY_TOPICS__NOPE")
    assert not settings_field_exists("PROBITY_KAFKA__HOST")


def test_bind_mounts_exist_in_the_repo() -> None:
    mounts = 0
    for name, service in _services().items():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0] if isinstance(volume, str) else volume["source"]
            if source.startswith((".", "/")):
                path = (COMPOSE_DIR / source).resolve()
                assert path.exists(), f"{name}: {source} does not exist"
                assert ROOT in path.parents, f"{name}: {source} is outside the repo"
                mounts += 1
    assert mounts >= 4


def test_images_are_pinned_and_services_are_limited_and_checked() -> None:
    compose = _compose()
    named = set(compose.get("volumes", {}))
    for name, service in _services().items():
        image = service["image"]
        assert ":" in image and not image.endswith(":latest"), f"{name}: pin {image}"
        assert service["deploy"]["resources"]["limits"]["memory"], name
        if service.get("restart") != "no":  # a one-shot job is checked by its exit status
            assert service["healthcheck"]["test"], name
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if not source.startswith((".", "/")):
                assert source in named, f"{name}: volume {source} not declared"
    # what must persist does
    persisted = {v.split(":", 1)[0] for s in _services().values() for v in s.get("volumes", [])}
    assert {"kafka-data", "postgres-data", "prometheus-data", "grafana-data"} <= persisted


def test_secrets_are_interpolated_never_written_in() -> None:
    text = COMPOSE.read_text()
    for key in ("POSTGRES_PASSWORD", "PROBITY_SECRET_KEY", "GF_SECURITY_ADMIN_PASSWORD"):
        match = re.search(rf"^\s*{key}:\s*(.+)$", text, re.M)
        assert match and match.group(1).startswith("${") and ":?" in match.group(1), key
    for service in _services().values():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{port} published beyond loopback"


def test_prometheus_and_grafana_mount_the_project_files() -> None:
    services = _services()
    prom = " ".join(services["prometheus"]["volumes"])
    assert "../prometheus/prometheus.yml:/etc/prometheus/prometheus.yml" in prom
    assert "../prometheus/rules:/etc/prometheus/rules" in prom
    graf = " ".join(services["grafana"]["volumes"])
    assert "../grafana/provisioning:/etc/grafana/provisioning" in graf
    assert "../grafana/dashboards:/etc/grafana/dashboards" in graf
    targets = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    jobs = {
        j["job_name"]: [t for c in j["static_configs"] for t in c["targets"]]
        for j in targets["scrape_configs"]
    }
    workers = sorted(n for n, s in _probity_services().items() if _command(s)[:1] == ["worker"])
    assert sorted(t.split(":")[0] for t in jobs["probity-worker"]) == workers
    assert jobs["probity-triage"] == ["triage:8080"]
    assert jobs["probity-sink"] == ["sink:6066"]
    assert jobs["probity-coverage"] == ["coverage:6067"]
    assert jobs["probity-intake"] == ["intake:8090"]


def test_the_coverage_service_runs_with_both_of_its_tokens() -> None:
    """`probity coverage` refuses to start without its metrics and report tokens: compose
    gives them from .env, binds outward for Prometheus, and points the queue at it with the
    same report token."""
    services = _probity_services()
    [name] = [n for n, s in services.items() if _command(s) == ["coverage"]]
    cov = services[name]
    env = _env(cov)
    assert env["PROBITY_COVERAGE__HOST"] == "0.0.0.0"
    assert env["PROBITY_COVERAGE__PORT"] in " ".join(cov["healthcheck"]["test"])
    raw = cov["environment"]
    assert str(raw["PROBITY_METRICS_TOKEN"]).startswith("${PROBITY_METRICS_TOKEN:?")
    assert str(raw["PROBITY_COVERAGE__TOKEN"]).startswith("${PROBITY_COVERAGE_TOKEN:?")
    assert "PROBITY_STORE_URL" not in env and "PROBITY_SECRET_KEY" not in env
    triage = services["triage"]["environment"]
    assert triage["PROBITY_COVERAGE__TOKEN"] == raw["PROBITY_COVERAGE__TOKEN"]
    assert triage["PROBITY_TRIAGE__COVERAGE_URL"] == (
        f"http://{name}:{env['PROBITY_COVERAGE__PORT']}/coverage")  # fmt: skip


def test_the_sink_runs_and_every_web_port_binds_outward() -> None:
    """Without the sink no alert reaches the queue; a web port bound to 127.0.0.1 inside a
    container answers neither the healthcheck's peers nor Prometheus."""
    services = _probity_services()
    sinks = [n for n, s in services.items() if _command(s) == ["sink"]]
    assert sinks == ["sink"]
    sink_env = _env(services["sink"])
    assert "PROBITY_STORE_URL" in sink_env and "PROBITY_SECRET_KEY" in sink_env
    assert sink_env["PROBITY_SINK_WEB_PORT"] in " ".join(services["sink"]["healthcheck"]["test"])
    for name, service in services.items():
        env = _env(service)
        if _command(service)[:2] not in (["worker"], ["sink"], ["triage", "serve"]):
            continue  # serves no port
        triage = _command(service)[0] == "triage"
        bind = env["PROBITY_TRIAGE__HOST" if triage else "PROBITY_WEB_HOST"]
        assert bind == "0.0.0.0", name
        if _command(service)[0] in ("worker", "sink"):
            # /metrics behind the token, which comes from .env, never from the file
            raw = str(service["environment"]["PROBITY_METRICS_TOKEN"])
            assert raw.startswith("${PROBITY_METRICS_TOKEN:?"), name
            # the workers read suppressions from the queue store
            assert env["PROBITY_STORE_URL"].startswith("postgresql+psycopg://"), name
    # the signing key only where sessions, pseudonyms or audit rows are made
    for name, service in services.items():
        has_key = "PROBITY_SECRET_KEY" in _env(service)
        keyed = _command(service)[:2] in (["triage", "serve"], ["sink"], ["triage", "audit"])
        assert has_key == keyed, name


def test_services_connect_as_the_runtime_role_and_only_migrate_owns() -> None:
    """Compose once connected as a superuser, which could TRUNCATE the audit log or disable
    its trigger. Now only the one-shot `migrate` connects as the owner, and grants the role
    every other service connects as, which the database's first start creates."""
    services = _probity_services()
    users = {n: re.match(r"postgresql\+psycopg://([^:]+):", _env(s)["PROBITY_STORE_URL"])
             for n, s in services.items() if "PROBITY_STORE_URL" in _env(s)}  # fmt: skip
    migrate = services["migrate"]
    assert _command(migrate)[:3] == ["triage", "db", "migrate"] and migrate["restart"] == "no"
    runtime = _command(migrate)[_command(migrate).index("--grant-to") + 1]
    owner = _services()["postgres"]["environment"]["POSTGRES_USER"]
    for name, match in users.items():
        assert match, name
        assert match.group(1) == (owner if name == "migrate" else runtime), name
        if name != "migrate":
            assert services[name]["depends_on"]["migrate"]["condition"] == (
                "service_completed_successfully"), name  # fmt: skip
    init = (COMPOSE_DIR / "postgres-init" / "10-runtime-role.sh").read_text()
    assert f"CREATE ROLE {runtime} LOGIN" in init
    mounts = " ".join(_services()["postgres"]["volumes"])
    assert "./postgres-init:/docker-entrypoint-initdb.d" in mounts


def test_audit_checkpoints_run_on_a_schedule_off_the_database() -> None:
    services = _probity_services()
    cp = services["audit-checkpoint"]
    command = _command(cp)
    assert command[:3] == ["triage", "audit", "checkpoint"]
    assert "--publish" in command and float(command[command.index("--every") + 1]) <= 3600
    where = _env(cp)["PROBITY_TRIAGE__AUDIT_CHECKPOINT_DIR"]
    assert _env(services["triage"])["PROBITY_TRIAGE__AUDIT_CHECKPOINT_DIR"] == where
    assert f"audit-checkpoints:{where}" in cp["volumes"]
    assert f"audit-checkpoints:{where}:ro" in services["triage"]["volumes"]
    assert not any("audit-checkpoints" in v for v in _services()["postgres"]["volumes"])


def test_kafka_has_no_listener_on_the_host() -> None:
    """No unauthenticated plaintext Kafka port on the host: nothing published, and every
    advertised listener is a compose-network name."""
    kafka = _services()["kafka"]
    assert not kafka.get("ports")
    env = kafka["environment"]
    advertised = env["KAFKA_ADVERTISED_LISTENERS"].split(",")
    assert all("127.0.0.1" not in a and "localhost" not in a for a in advertised)
    listeners = {item.split("://")[0] for item in env["KAFKA_LISTENERS"].split(",")}
    assert listeners == {"INTERNAL", "CONTROLLER"}


def test_env_example_names_every_required_variable() -> None:
    required = set(_INTERP.findall(COMPOSE.read_text()))
    names = {name for name, rule in required if rule.startswith(":?")}
    example = (COMPOSE_DIR / ".env.example").read_text()
    for name in names:
        assert re.search(rf"^{name}=", example, re.M), name
    assert Path(COMPOSE_DIR / ".gitignore").read_text().split() == ["secrets/", ".env"]


def test_the_intake_runs_bound_for_the_proxy_with_its_tokens() -> None:
    """The intake binds outward (Prometheus on the compose network), is published on
    loopback only (a TLS reverse proxy in front), keeps the sources' token file on a volume
    and takes its metrics and admin tokens from .env; no store, no signing key."""
    services = _probity_services()
    [name] = [n for n, s in services.items() if _command(s) == ["intake"]]
    intake = services[name]
    env = _env(intake)
    assert env["PROBITY_INTAKE__HOST"] == "0.0.0.0"
    port = env["PROBITY_INTAKE__PORT"]
    assert f"127.0.0.1:{port}/healthz" in " ".join(intake["healthcheck"]["test"])
    assert intake["ports"] == [f"127.0.0.1:{port}:{port}"]
    raw = intake["environment"]
    assert str(raw["PROBITY_METRICS_TOKEN"]).startswith("${PROBITY_METRICS_TOKEN:?")
    assert str(raw["PROBITY_INTAKE__ADMIN_TOKEN"]).startswith("${PROBITY_INTAKE_ADMIN_TOKEN:?")
    tokens = Path(env["PROBITY_INTAKE__TOKENS_PATH"])
    volumes = {v.split(":")[1]: v.split(":")[0] for v in intake["volumes"]}
    assert str(tokens.parent) in volumes and volumes[str(tokens.parent)] in _compose()["volumes"]
    assert "PROBITY_STORE_URL" not in env and "PROBITY_SECRET_KEY" not in env
