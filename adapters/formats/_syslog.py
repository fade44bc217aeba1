"""A strict syslog header parser: RFC 5424 and RFC 3164 (BSD) lines.

No maintained PyPI package parses both (``syslog-rfc5424-parser`` last released 2019,
``syslogmp`` 2021 and 3164 only), so the two grammars are written here, small and strict:
a line that is neither is rejected naming the part of the header at fault.

* RFC 5424: ``<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA [MSG]``,
  TIMESTAMP RFC 3339 (with an offset) or ``-``; structured data ``[id k="v" ...]`` with
  ``\\"``, ``\\\\``, ``\\]`` escaped, or ``-``.
* RFC 3164: ``<PRI>Mmm dd hh:mm:ss HOSTNAME TAG: MSG``. Its time has no year and no zone:
  it is kept as text and not used as the event time (the message's own time is).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from adapters._time import utc_text
from adapters.exceptions import FieldError

_PRI = re.compile(r"^<(\d{1,3})>")
_5424 = re.compile(r"^1 (\S+) (\S+) (\S+) (\S+) (\S+) ")
_3164 = re.compile(r"^([A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2}) (\S+) (.*)$", re.DOTALL)
_SD_ELEMENT = re.compile(r'\[([^\s\]="]+)((?: [^\s\]="]+="(?:[^"\\\]]|\\.)*")*)\]')


@dataclass(frozen=True, slots=True)
class Syslog:
    rfc: int  # 5424 or 3164
    facility: int
    severity: int
    time: str | None  # RFC 3339 UTC text (5424 only)
    host: str | None
    app: str | None
    message: str


def parse_syslog(line: str) -> Syslog:
    m = _PRI.match(line)
    if m is None:
        raise FieldError("PRI", "the line does not start with <PRI>")
    pri = int(m.group(1))
    if pri > 191:
        raise FieldError("PRI", f"{pri} is over 191")
    rest = line[m.end() :]
    if rest.startswith("1 "):
        return _rfc5424(pri, rest)
    return _rfc3164(pri, rest)


def _nil(value: str) -> str | None:
    return None if value == "-" else value


def _rfc5424(pri: int, rest: str) -> Syslog:
    m = _5424.match(rest)
    if m is None:
        raise FieldError(
            "HEADER", "not an RFC 5424 header (VERSION TIMESTAMP HOST APP PROCID MSGID)"
        )
    stamp, host, app = m.group(1), m.group(2), m.group(3)
    time = None
    if stamp != "-":
        try:
            parsed = datetime.fromisoformat(stamp.upper().replace("Z", "+00:00"))
        except ValueError as exc:
            raise FieldError("TIMESTAMP", f"not RFC 3339: {stamp!r}"[:120]) from exc
        if parsed.tzinfo is None:
            raise FieldError("TIMESTAMP", f"has no offset: {stamp!r}"[:120])
        time = utc_text(parsed)
    sd = rest[m.end() :]
    if sd.startswith("-"):
        msg = sd[1:]
    elif sd.startswith("["):
        pos = 0
        while pos < len(sd) and sd[pos] == "[":
            el = _SD_ELEMENT.match(sd, pos)
            if el is None:
                raise FieldError("STRUCTURED-DATA", "malformed element")
            pos = el.end()
        msg = sd[pos:]
    else:
        raise FieldError("STRUCTURED-DATA", "neither - nor [element]")
    if msg and not msg.startswith(" "):
        raise FieldError("STRUCTURED-DATA", "no space before the message")
    msg = msg[1:].removeprefix("\ufeff")
    return Syslog(5424, pri >> 3, pri & 7, time, _nil(host), _nil(app), msg)


def _rfc3164(pri: int, rest: str) -> Syslog:
    m = _3164.match(rest)
    if m is None:
        raise FieldError("TIMESTAMP", "neither RFC 5424 (1 ...) nor RFC 3164 (Mmm dd hh:mm:ss)")
    host, tail = m.group(2), m.group(3)
    tag, sep, msg = tail.partition(": ")
    if not sep or " " in tag:
        tag, msg = "", tail  # no TAG: the whole content is the message
    return Syslog(3164, pri >> 3, pri & 7, None, host, tag.split("[")[0] or None, msg)
