"""Where the current request comes from (client address, user agent), for the audit rows.

Set once per request by the service's middleware; the store reads it when it appends an
audit row, so every action done through the service carries its origin without every
call passing it along. Outside a request (the command line, the sink) it is unset.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class Origin:
    client: str
    user_agent: str


CURRENT: ContextVar[Origin | None] = ContextVar("probity_request_origin", default=None)
