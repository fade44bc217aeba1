"""``syslog``: syslog lines (RFC 5424 or RFC 3164, strictly parsed by ``_syslog.py``) whose
message is CEF, as web proxies and appliances send them. The header's host is the terminal
when CEF names none; an RFC 5424 header's time is the event time when CEF has no ``rt``.
An RFC 3164 time has no year or zone, so such a line needs ``rt`` in its CEF. A message
that is not CEF is rejected: free-text syslog carries no fields to map.
"""

from __future__ import annotations

from typing import Any

from adapters.base import Adapter
from adapters.exceptions import FieldError
from adapters.formats._cef import parse_cef, to_contract
from adapters.formats._syslog import parse_syslog


class SyslogAdapter(Adapter):
    format = "syslog"
    description = "RFC 5424 / RFC 3164 syslog carrying CEF (web proxies, appliances)"
    default_source = "proxy"

    def to_event(self, raw: bytes) -> dict[str, Any]:
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise FieldError("line", f"not UTF-8 ({exc.reason})") from exc
        msg = parse_syslog(line)
        if not msg.message.startswith("CEF:"):
            raise FieldError("MSG", "not CEF: only CEF messages are mapped")
        cef = parse_cef(msg.message)
        return to_contract(cef, raw, self.source, self.config.tz, msg.time, msg.host)
