"""Login throttling: per client address and global, with progressive back-off.

No account is ever locked (a stranger could lock anyone out by typing their name wrong ten
times). Instead a client address that keeps failing waits longer and longer between tries
(429 with ``Retry-After``), doubling per failure up to a ceiling; and when failures from
everywhere pass a global threshold (a distributed guess or a password spray across many
addresses), every login waits a little, up to a shorter ceiling. A success clears the
client's record. State is in the process (one service replica: see docs/security.md).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

#: clients remembered at most; the oldest are forgotten first (bounded memory under a flood)
MAX_CLIENTS = 100_000


@dataclass
class _Client:
    failures: deque[float] = field(default_factory=deque)
    blocked_until: float = 0.0


class LoginThrottle:
    """``retry_after(client)`` before checking a password; ``failed`` / ``succeeded`` after.

    >>> now = [0.0]
    >>> t = LoginThrottle(client_free=2, global_free=100, window_s=900, base_s=1,
    ...                   max_s=60, global_max_s=10, clock=lambda: now[0])
    >>> for _ in range(4):
    ...     t.failed("10.0.0.1")
    >>> t.retry_after("10.0.0.1"), t.retry_after("10.0.0.2")
    (4.0, 0.0)
    """

    def __init__(
        self, *, client_free: int, global_free: int, window_s: float, base_s: float,
        max_s: float, global_max_s: float, clock: Callable[[], float] = time.monotonic,
    ) -> None:  # fmt: skip
        self._client_free, self._global_free = client_free, global_free
        self._window, self._base, self._max, self._global_max = (
            window_s,
            base_s,
            max_s,
            global_max_s,
        )
        self._clock = clock
        self._lock = threading.Lock()
        self._clients: dict[str, _Client] = {}
        self._all: deque[float] = deque()
        self._global_until = 0.0

    def retry_after(self, client: str) -> float:
        """Seconds this client must wait before its next try (0: go ahead)."""
        now = self._clock()
        with self._lock:
            entry = self._clients.get(client)
            mine = entry.blocked_until - now if entry is not None else 0.0
            return max(mine, self._global_until - now, 0.0)

    def failed(self, client: str) -> None:
        now = self._clock()
        with self._lock:
            entry = self._clients.pop(client, None) or _Client()
            self._clients[client] = entry  # most recent last: the oldest is evicted first
            if len(self._clients) > MAX_CLIENTS:
                del self._clients[next(iter(self._clients))]
            self._prune(entry.failures, now)
            entry.failures.append(now)
            over = len(entry.failures) - self._client_free + 1  # the free ones used up
            if over > 0:
                entry.blocked_until = now + self._backoff(over, self._max)
            self._prune(self._all, now)
            self._all.append(now)
            over_all = len(self._all) - self._global_free + 1
            if over_all > 0:
                self._global_until = now + self._backoff(over_all, self._global_max)

    def succeeded(self, client: str) -> None:
        with self._lock:
            self._clients.pop(client, None)

    def _backoff(self, over: int, ceiling: float) -> float:
        return float(min(self._base * 2 ** min(over - 1, 30), ceiling))

    def _prune(self, times: deque[float], now: float) -> None:
        while times and times[0] <= now - self._window:
            times.popleft()
