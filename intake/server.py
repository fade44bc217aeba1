"""Running the intake: in the foreground (``probity intake``), or in a thread of another
process (``RunningIntake``: the tests, and a process that hosts it beside other work)."""

from __future__ import annotations

import asyncio
import threading
import time
from types import TracebackType

import uvicorn
from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from adapters.identity import IdentityResolver
from intake.app import create_app
from intake.exceptions import IntakeError
from intake.service import IntakeService
from intake.syslog import SyslogPort
from probity.settings import Settings


def _config(app: FastAPI, settings: Settings) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=settings.intake.host,
        port=settings.intake.port,
        log_config=None,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=5,
    )


def serve(settings: Settings, registry: CollectorRegistry | None = None) -> None:
    """Serve until interrupted (uvicorn handles SIGINT and SIGTERM)."""
    app = create_app(IntakeService(settings, registry))
    uvicorn.Server(_config(app, settings)).run()


class RunningIntake:
    """The intake served by uvicorn in a thread; a context manager that waits until it
    answers and stops it on exit. ``url`` is its base URL, ``syslog_ports`` the bound ports."""

    def __init__(
        self,
        settings: Settings,
        registry: CollectorRegistry | None = None,
        *,
        identity: IdentityResolver | None = None,
    ) -> None:
        self.service = IntakeService(settings, registry, identity=identity)
        self.app = create_app(self.service)
        self.server = uvicorn.Server(_config(self.app, settings))
        self._thread = threading.Thread(target=self._run, name="probity-intake", daemon=True)
        self._error: BaseException | None = None

    def _run(self) -> None:
        try:
            asyncio.run(self.server.serve())
        except BaseException as exc:
            self._error = exc

    def start(self, timeout_s: float = 20.0) -> RunningIntake:
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise IntakeError(f"the intake did not start ({self._error!r})") from self._error
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self._thread.join(timeout=15)

    @property
    def port(self) -> int:
        return int(self.server.servers[0].sockets[0].getsockname()[1])

    @property
    def url(self) -> str:
        return f"http://{self.service.settings.intake.host}:{self.port}"

    @property
    def syslog_ports(self) -> list[SyslogPort]:
        ports: list[SyslogPort] = self.app.state.syslog_ports
        return ports

    def __enter__(self) -> RunningIntake:
        return self.start()

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
