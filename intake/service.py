"""The intake's work, apart from HTTP: a body from an authenticated source into published
records and per-line answers. The HTTP app (:mod:`intake.app`) and the syslog ports
(:mod:`intake.syslog`) both call it."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from prometheus_client import CollectorRegistry

from adapters.base import Adapter, AdapterConfig
from adapters.exceptions import ConfigError
from adapters.identity import IdentityResolver
from adapters.registry import create, registered
from intake.base import BatchResult
from intake.batch import CONTRACT, Outgoing, Preparer
from intake.exceptions import FormatError
from intake.follow import ReferenceFollower
from intake.metrics import IntakeMetrics
from intake.publisher import Publisher
from intake.tokens import SourceToken, TokenStore, tokens_path
from probity.settings import Settings

log = logging.getLogger(__name__)


class IntakeService:
    """Tokens, adapters, the producer and the metrics of one intake process.

    :meth:`start` and :meth:`stop` are called by the app's lifespan (uvicorn's start-up and
    shut-down); a broker that cannot be reached at start fails the start-up.
    """

    def __init__(
        self,
        settings: Settings,
        registry: CollectorRegistry | None = None,
        *,
        identity: IdentityResolver | None = None,
    ) -> None:
        self.settings = settings
        self.registry = registry if registry is not None else CollectorRegistry()
        self.metrics = IntakeMetrics(self.registry)
        self.tokens = TokenStore(tokens_path(settings))
        self.publisher = Publisher(settings, self.metrics)
        #: accounts to staff ids: given, or (``intake.resolve_identities``) one that follows
        #: the reference topic from start-up
        self.identity = identity
        self._follower: ReferenceFollower | None = None
        if identity is None and settings.intake.resolve_identities:
            self.identity = IdentityResolver()
            self._follower = ReferenceFollower(settings, self.identity)
        self._adapters: dict[tuple[str, str, str | None, str | None], Adapter] = {}

    async def start(self) -> None:
        await self.publisher.start()
        if self._follower is not None:
            await asyncio.to_thread(self._follower.start)

    async def stop(self) -> None:
        if self._follower is not None:
            await asyncio.to_thread(self._follower.stop)
        await self.publisher.stop()

    def format_of(self, token: SourceToken, asked: str | None) -> str:
        """The format a request is in: the one it names, else its source's, else contract."""
        name = asked or token.format or CONTRACT
        if name != CONTRACT and name not in registered():
            known = ", ".join([CONTRACT, *registered()])
            raise FormatError(f"format: unknown format {name!r} (known: {known})")
        return name

    def adapter(
        self, source: str, format_name: str, tz: str | None = None, mapping: str | None = None
    ) -> Adapter:
        """The adapter for a source and format, configured with the source's name."""
        key = (source, format_name, tz, mapping)
        found = self._adapters.get(key)
        if found is None:
            try:
                zone = ZoneInfo(tz or "UTC")
                found = create(
                    format_name,
                    AdapterConfig(
                        source=source,
                        tz=zone,
                        mapping=Path(mapping) if mapping else None,
                        identity=self.identity,
                    ),
                )
            except (ConfigError, ZoneInfoNotFoundError, ValueError) as exc:
                raise FormatError(f"format: {format_name} for source {source}: {exc}") from exc
            self._adapters[key] = found
        return found

    def prepare(
        self, token: SourceToken, format_name: str, body: bytes, origin: str
    ) -> list[Outgoing]:
        """The body's records (CPU work: the app runs it in a thread)."""
        prep = Preparer(self.settings, token.source)
        if format_name == CONTRACT:
            return prep.contract(body)
        tz = token.tz if format_name == token.format else None
        mapping = token.mapping if format_name == token.format else None
        adapter = self.adapter(token.source, format_name, tz, mapping)
        items = prep.adapted(adapter, body, origin)
        self.metrics.unresolved(token.source, prep.unresolved)
        return items

    async def handle(self, token: SourceToken, format_name: str, body: bytes) -> BatchResult:
        """One request's body, published and answered line by line. Raises
        :class:`~intake.exceptions.Throttled` (nothing published) when the broker is behind."""
        started = time.perf_counter()
        source = token.source
        origin = f"intake:{source}"
        items = await asyncio.to_thread(self.prepare, token, format_name, body, origin)
        lines = await self.publisher.publish(source, items, origin)
        self.metrics.request_seconds(source, time.perf_counter() - started)
        return BatchResult.of(source, format_name, lines)
