"""``cef``: ArcSight Common Event Format lines from web proxies and appliances, bare
(``CEF:0|...``) or after whatever header a collector wrote (the text before ``CEF:`` is
ignored; ``syslog`` reads such headers strictly). Keys: ``cef.toml``; parser: ``_cef.py``.
The time is ``rt`` (else ``end``, ``start``); a time written without a zone is read in
``--tz``.
"""

from __future__ import annotations

from typing import Any

from adapters.base import Adapter
from adapters.exceptions import FieldError
from adapters.formats._cef import parse_cef, to_contract


class CefAdapter(Adapter):
    format = "cef"
    description = "ArcSight CEF web proxy / appliance events (bare, or after any header)"
    default_source = "proxy"

    def to_event(self, raw: bytes) -> dict[str, Any]:
        line = raw.decode("utf-8", "replace")
        at = line.find("CEF:")
        if at < 0:
            raise FieldError("CEF", "no CEF: in the line")
        return to_contract(parse_cef(line[at:]), raw, self.source, self.config.tz)
