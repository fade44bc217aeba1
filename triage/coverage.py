"""The source coverage the queue shows, read from the coverage service (``probity coverage``,
``GET /coverage`` with ``coverage.token``), decoded once here.

The queue asks when a page needs it (at most every ``cache_s``; a short timeout), so a
coverage service that is down costs a page its coverage section, never the queue. The
report names staff (those rostered and seen by no source) and accounts that did not resolve
to staff; the pages apply the queue's rules to them (:func:`triage.oversight`).
"""

from __future__ import annotations

import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from triage.exceptions import TriageError

log = logging.getLogger(__name__)

Name = Annotated[str, Field(max_length=256)]
#: the largest report the queue reads (a force of 200,000 staff all unseen fits)
MAX_REPORT_BYTES = 8 * 1024 * 1024


class CoverageUnavailable(TriageError):
    """The coverage service is not configured, did not answer, or answered nonsense."""


class _In(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class UnresolvedAccount(_In):
    account: Name
    events: int = Field(ge=0)


class SourceCoverage(_In):
    source: Name
    declared: bool
    owner: Name | None = None
    expected_daily: int | None = None
    longest_silence_s: float | None = None
    events: int = Field(ge=0)
    last_seen: Name | None = None
    last_seen_age_s: float | None = None
    events_on_day: int | None = None
    volume_ratio: float | None = None
    resolved_ratio: float | None = None
    silent: bool
    below_volume: bool
    unresolved_accounts: list[UnresolvedAccount] = Field(default_factory=list, max_length=100)


class StaffCoverage(_In):
    day: Name | None = None
    known: int | None = Field(default=None, ge=0)  # older services do not say
    rostered: int = Field(ge=0)
    seen: int = Field(ge=0)
    unseen: int = Field(ge=0)
    coverage: float | None = None
    unseen_staff: list[Name] = Field(default_factory=list, max_length=1_000_000)


class CoverageReport(_In):
    """``GET /coverage`` of the coverage service (intake.coverage.CoverageTracker.report)."""

    day: Name | None = None
    sources: list[SourceCoverage] = Field(max_length=10_000)
    staff: StaffCoverage


class CoverageClient:
    """Fetches and caches the coverage report. ``url`` None: not configured."""

    def __init__(
        self, url: str | None, token: str | None, *, timeout_s: float = 2.0,
        cache_s: float = 30.0, clock: Callable[[], float] = time.monotonic,
    ) -> None:  # fmt: skip
        self.url, self._token, self._timeout_s = url, token, timeout_s
        self._cache_s, self._clock = cache_s, clock
        self._lock = threading.Lock()
        self._cached: tuple[float, CoverageReport] | None = None

    @property
    def configured(self) -> bool:
        return self.url is not None

    def report(self) -> CoverageReport:
        """The latest report (cached ``cache_s``); :class:`CoverageUnavailable` otherwise."""
        if self.url is None:
            raise CoverageUnavailable("no coverage service is configured (triage.coverage_url)")
        with self._lock:
            now = self._clock()
            if self._cached is not None and now - self._cached[0] < self._cache_s:
                return self._cached[1]
            report = self._fetch(self.url)
            self._cached = (now, report)
            return report

    def staff_known(self) -> int | None:
        """The staff the HR feed named, as the service counts them (None: unknown)."""
        if self.url is None:
            return None
        try:
            return self.report().staff.known or None
        except CoverageUnavailable:
            log.warning("coverage service unavailable for the staff count", exc_info=True)
            return None

    def _fetch(self, url: str) -> CoverageReport:
        headers = {"Accept": "application/json"}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        request = urllib.request.Request(url, headers=headers)  # noqa: S310 (http(s) only: settings)
        try:
            with urllib.request.urlopen(request, timeout=self._timeout_s) as r:  # noqa: S310
                body = r.read(MAX_REPORT_BYTES + 1)
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise CoverageUnavailable(f"the coverage service did not answer: {exc}") from exc
        if len(body) > MAX_REPORT_BYTES:
            raise CoverageUnavailable("the coverage report is larger than the queue reads")
        try:
            return CoverageReport.model_validate_json(body)
        except ValidationError as exc:
            raise CoverageUnavailable("the coverage service's report is not one") from exc
