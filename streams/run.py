"""``probity run``: the whole system on one machine, for a demo or a pilot.

Starts the embedded broker (unless ``PROBITY_KAFKA`` is set), creates the topics, migrates the
queue store, then runs as child processes: a worker, the alerts sink (with the audit feed), the
triage service, the source coverage (``probity coverage``), the HTTP intake (with a token for a
``demo`` source, kept in a file under ``data_dir`` so a ``curl`` can feed it) and a simulated
force feeding live events. Prints what runs where; Ctrl-C (or SIGTERM) stops everything,
children first, broker last.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import SecretStr

from intake.tokens import TokenStore, tokens_path
from probity.settings import Settings, to_env
from streams.broker import broker_for
from streams.topics import ensure_topics


def _kept_secret(path: Path) -> SecretStr:
    """A random secret generated once and kept in ``path`` (mode 600)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
    return SecretStr(path.read_text().strip())


def secret_key_for(settings: Settings) -> Settings:
    """Use the configured secret key, else one generated once and kept (mode 600) under
    ``data_dir``, so sessions and pseudonyms survive a restart of the demo."""
    if settings.secret_key is not None:
        return settings
    return settings.model_copy(
        update={"secret_key": _kept_secret(Path(settings.data_dir) / "secret-key")}
    )


def web_tokens_for(settings: Settings) -> Settings:
    """The configured bearer tokens of ``/metrics`` (workers, sink, intake, coverage), of the
    coverage report and of the intake's ``/admin``, else ones generated once and kept (mode
    600) under ``data_dir`` (``metrics.token``, ``coverage.token``, ``intake-admin.token``):
    no endpoint is open, the demo's either."""
    data = Path(settings.data_dir)
    update: dict[str, object] = {}
    if settings.metrics_token is None:
        update["metrics_token"] = _kept_secret(data / "metrics.token")
    if settings.coverage.token is None:
        token = _kept_secret(data / "coverage.token")
        update["coverage"] = settings.coverage.model_copy(update={"token": token})
    if settings.intake.admin_token is None:
        admin = _kept_secret(data / "intake-admin.token")
        update["intake"] = settings.intake.model_copy(update={"admin_token": admin})
    return settings.model_copy(update=update) if update else settings


#: the source the demo's intake token writes as (``probity run``)
DEMO_SOURCE = "demo"


def demo_token(settings: Settings) -> Path:
    """The intake token of the ``demo`` source, in ``<data_dir>/intake-demo.token`` (mode
    600): kept while it is still active in the token file, else created (revoking any other
    token of the source). Returns the file's path; the token is never printed."""
    path = Path(settings.data_dir) / "intake-demo.token"
    store = TokenStore(tokens_path(settings))
    if path.exists():
        record = store.verify(path.read_text().strip())
        if record is not None and record.source == DEMO_SOURCE:
            return path
    _record, token = store.create(DEMO_SOURCE, replace=True)
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(token + "\n")
    return path


@dataclass
class Children:
    """Child processes started by ``probity run``; stopped in reverse order."""

    env: dict[str, str]
    log_dir: Path
    procs: list[tuple[str, subprocess.Popen[bytes]]] = field(default_factory=list)

    def start(self, name: str, args: list[str]) -> subprocess.Popen[bytes]:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        out = (self.log_dir / f"{name}.log").open("ab")
        proc = subprocess.Popen(  # noqa: S603 - our own interpreter and entry point
            [sys.executable, "-m", "probity", *args], env=self.env, stdout=out,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        self.procs.append((name, proc))
        return proc

    def dead(self) -> list[str]:
        return [name for name, p in self.procs if p.poll() is not None]

    def stop(self, timeout_s: float = 10.0) -> None:
        for _name, proc in reversed(self.procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        for _name, proc in reversed(self.procs):
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def run_all(
    settings: Settings,
    *,
    rate: float,
    live: bool,
    say: Callable[[str], None],
    history_days: int = 0,
    until: Callable[[], bool] | None = None,
) -> int:
    """Run everything until Ctrl-C (or ``until()`` says stop); returns an exit code.

    With ``live`` and ``history_days``, the feed first publishes a simulated force of that
    many days ending before now at full speed, then plays the force live."""
    data = Path(settings.data_dir)
    data.mkdir(parents=True, exist_ok=True)
    settings = web_tokens_for(secret_key_for(settings))
    if not settings.triage.acu_configured:  # the simulated force's ACU is its unit "acu"
        triage = settings.triage.model_copy(update={"acu_units": frozenset({"acu"})})
        settings = settings.model_copy(update={"triage": triage})
        say("ACU: unit 'acu' (the simulated force's; set PROBITY_TRIAGE__ACU_UNITS for yours)")
    stop = {"flag": False}

    def on_signal(_sig: int, _frame: object) -> None:
        stop["flag"] = True

    previous = signal.signal(signal.SIGTERM, on_signal)
    with broker_for(settings.kafka, log_dir=data / "logs") as url:
        s = settings.model_copy(update={"kafka": url})
        ensure_topics(s, s.bootstrap_servers)
        from triage.store import store_from_settings

        store_from_settings(s).migrate()
        token_file = demo_token(s)
        env = {**os.environ, **to_env(s)}
        kids = Children(env, data / "logs")
        try:
            kids.start("worker", ["worker"])
            kids.start("sink", ["sink"])
            kids.start("triage", ["triage", "serve"])
            kids.start("intake", ["intake"])
            kids.start("coverage", ["coverage"])
            if live:
                kids.start("feed", ["simulate", "--live", "--rate", str(rate),
                                    "--history-days", str(history_days)])  # fmt: skip
            worker_url = f"http://{s.web_host}:{s.worker_web_port}"
            say("Probity is running:")
            say(f"  broker      {url}{'  (embedded, memory-only)' if not settings.kafka else ''}")
            say(f"  worker      metrics {worker_url}/metrics, ready {worker_url}/readyz")
            say(f"  /metrics    bearer token in {data / 'metrics.token'} unless "
                "PROBITY_METRICS_TOKEN is set")  # fmt: skip
            say(f"  ACU queue   http://{s.triage.host}:{s.triage.port}/  (store {s.store_url})")
            intake_url = f"http://{s.intake.host}:{s.intake.port}"
            say(f"  intake      {intake_url}/v1/events, source {DEMO_SOURCE!r}, "
                f"token in {token_file}; {intake_url}/metrics")  # fmt: skip
            say(f"  intake      /admin/ bearer token in {data / 'intake-admin.token'} unless "
                "PROBITY_INTAKE__ADMIN_TOKEN is set")  # fmt: skip
            past = f"a {history_days}-day history at once, then " if history_days else ""
            feed = f"{past}simulated force, {rate} events/s" if live else "off"
            say(f"  live feed   {feed}")
            cov = f"http://{s.coverage.host}:{s.coverage.port}"
            say(f"  coverage    {cov}/coverage (JSON; bearer token in {data / 'coverage.token'} "
                f"unless PROBITY_COVERAGE__TOKEN is set), {cov}/metrics")  # fmt: skip
            say(f"  logs        {data / 'logs'}/")
            say("First time? Create an account in another terminal:")
            say("  .venv/bin/probity triage create-admin --username admin --staff-id ADMIN1")
            say("  (then create analysts from the admin page). Ctrl-C stops everything.")
            while not stop["flag"] and not (until and until()):
                dead = kids.dead()
                if dead:
                    say(f"stopped: {', '.join(dead)} exited; see {data / 'logs'}/")
                    return 1
                time.sleep(0.5)
            return 0
        except KeyboardInterrupt:
            return 0
        finally:
            say("stopping...")
            kids.stop()
            signal.signal(signal.SIGTERM, previous)
