"""What an event moves out of the force, by channel: the one reading of removable copies,
uploads, mail with attachments and printing that the insider detectors weighing volumes over
days (departing staff, cumulative exfiltration) share."""

from __future__ import annotations

from dataclasses import dataclass

from models.events import (
    Event,
    FileCopiedAttrs,
    FilePrintedAttrs,
    MessageAttrs,
    WebAttrs,
)

#: the channels, in the order daily rows keep them
CHANNELS = ("removable", "upload", "mail", "print")
REMOVABLE, UPLOAD, MAIL, PRINT = range(4)


@dataclass(frozen=True, slots=True)
class Moved:
    """One event's movement: its channel (index into :data:`CHANNELS`), bytes (0 when the
    source does not say), items (files, attachments, pages) and where to (device, domain,
    addresses, printer)."""

    channel: int
    bytes: int
    items: int
    where: str


def suffixes(domain: str) -> list[str]:
    """``a.b.c`` -> ``a.b.c``, ``b.c``, ``c``.

    >>> suffixes("Mail.Force.Example")
    ['mail.force.example', 'force.example', 'example']
    """
    parts = domain.casefold().strip(".").split(".")
    return [".".join(parts[i:]) for i in range(len(parts))]


def within(domain: str, domains: frozenset[str]) -> bool:
    """``domain`` or a parent of it is in ``domains`` (casefolded).

    >>> within("cps.gov.uk", frozenset({"gov.uk"})), within("gmail.com", frozenset({"gov.uk"}))
    (True, False)
    """
    return any(s in domains for s in suffixes(domain))


def host(url: str | None) -> str | None:
    """The host of a URL (``https://a.b/c`` -> ``a.b``)."""
    if not url:
        return None
    rest = url.partition("://")[2] or url
    return rest.split("/", 1)[0].split("@")[-1].split(":")[0] or None


def moved_out(event: Event, inside: frozenset[str], min_upload: int = 100_000) -> Moved | None:
    """The movement out of the force ``event`` is, if any: a copy to removable media; a copy
    to the cloud or a web upload (``upload``/``share``, or a POST/PUT carrying ``bytes_out``)
    of at least ``min_upload`` bytes to a domain outside ``inside``; an e-mail with
    attachments to an address outside ``inside``; pages printed."""
    a = event.attrs
    if isinstance(a, FileCopiedAttrs):
        size = a.bytes if a.bytes is not None and a.bytes > 0 else 0
        if a.destination == "removable":
            return Moved(REMOVABLE, size, 1, a.device or "removable media")
        if a.destination == "cloud" and a.domain and not within(a.domain, inside):
            return Moved(UPLOAD, size, 1, a.domain.casefold()) if size >= min_upload else None
        return None
    if isinstance(a, WebAttrs):
        if a.action not in ("upload", "share") and (a.method or "").upper() not in ("POST", "PUT"):
            return None  # a visit: most of the proxy's lines
        sent = a.bytes_out if a.bytes_out is not None else a.bytes
        domain = a.domain or host(a.url)
        if sent is None or sent < min_upload or not domain:
            return None
        if within(domain, inside) or (a.outcome or "").casefold() in ("blocked", "denied"):
            return None
        return Moved(UPLOAD, sent, 1, domain.casefold())
    if isinstance(a, MessageAttrs):
        att = a.attachments  # asked first: most messages carry none
        n = len(att) if isinstance(att, list) else att if isinstance(att, int) else 0
        if n <= 0 or (a.channel or "email").casefold() != "email" or not a.to:
            return None
        out = [t for t in a.to if "@" in t and not within(t.rpartition("@")[2], inside)]
        if not out:
            return None
        sent = a.attachment_bytes
        return Moved(MAIL, sent if sent is not None and sent > 0 else 0, n,
                     ", ".join(sorted(t.casefold() for t in out)[:3]))  # fmt: skip
    if isinstance(a, FilePrintedAttrs):
        pages = a.pages if a.pages is not None and a.pages > 0 else 1
        return Moved(PRINT, 0, pages, a.printer or "a printer")
    return None
