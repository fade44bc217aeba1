"""Data leaving by the channels insiders use: uploads to file hosting, personal cloud and paste
sites; attachments mailed to personal or external addresses; printing in bulk."""

from __future__ import annotations

from typing import Any

from detectors.base import EventDetector, StateView
from detectors.insider._sites import (
    category_domains,
    lists_version,
    load_lists,
)
from detectors.insider.params import ExfiltrationChannelParams
from detectors.lib.common import plural, severity_band
from detectors.lib.times import DAY, at
from detectors.lib.volume import robust
from detectors.registry import register
from models.alerts import Category, Finding
from models.events import Event, FileCopiedAttrs, FilePrintedAttrs, MessageAttrs, WebAttrs

MB = 1_000_000
DATA_FILE = "exfiltration_channels.toml"
_SENDING = ("upload", "share")  # web actions that send data (besides a POST or PUT)


def load_channels(extra_file: str = "") -> tuple[str, dict[str, str], frozenset[str]]:
    """The list's version, each web domain's category, and personal mail domains: the shipped
    file beside this module, extended by ``extra_file``."""
    docs = load_lists(DATA_FILE, extra_file, "insider.exfiltration_channel")
    personal = {str(d).casefold() for doc in docs
                for d in (doc.get("mail") or {}).get("personal") or ()}  # fmt: skip
    return lists_version(docs), category_domains(docs), frozenset(personal)


def _suffixes(domain: str) -> list[str]:
    """``a.b.c`` -> ``a.b.c``, ``b.c``, ``c``."""
    parts = domain.casefold().strip(".").split(".")
    return [".".join(parts[i:]) for i in range(len(parts))]


@register
class ExfiltrationChannel(EventDetector[ExfiltrationChannelParams]):
    """Data sent out through a channel insiders use to take it, with what and how much.

    - **web**: an upload or share (``web.visited`` ``action`` ``upload``/``share``, or a POST
      or PUT carrying ``bytes_out``), or a ``file.copied`` to the cloud, of at least
      ``min_upload_bytes`` to a domain in the category lists (file hosting, personal cloud,
      paste sites: ``exfiltration_channels.toml`` beside this module, versioned, extended by
      the force's ``extra_file``); a blocked upload is an attempt (lower score);
    - **mail**: a ``message.sent`` by e-mail with attachments (``attrs.attachments``, a count
      or list, and ``attachment_bytes`` when known) to the officer's own private address
      (HR's ``personal_emails`` on ``staff.upsert``, whatever its domain), to a personal
      mailbox (the list's ``[mail] personal``), or to another external address (not
      ``internal_domains``, not ``partner_domains``) with at least ``external_bytes``
      attached;
    - **print**: pages printed in a day (``file.printed``) above ``min_pages`` and
      ``print_ratio`` x the officer's median printing day (``print_ratio`` x ``min_pages``
      until ``print_min_days`` are known), raised once that day.

    A purpose on the event multiplies the score by ``task_factor``; below ``min_score`` no
    finding. One finding per destination per day.
    """

    id = "insider.exfiltration_channel"
    Params = ExfiltrationChannelParams
    feeds_risk = True
    kinds = frozenset({"web.visited", "file.copied", "message.sent", "file.printed"})
    needs_attrs = {"message.sent": ("attachments",)}  # the mail it reads carries some
    category = Category.UNAUTHORISED_DISCLOSURE
    description = "Uploads to file hosting, cloud or paste sites, personal mail, bulk printing."
    state_cap_bytes = 8_192

    def __init__(
        self, params: ExfiltrationChannelParams | None = None, /, **overrides: Any
    ) -> None:
        super().__init__(params, **overrides)
        p = self.params
        self.version, self.domains, self.personal = load_channels(p.extra_file)
        self.min_upload = p.min_upload_bytes
        self.internal = frozenset(d.casefold() for d in p.internal_domains)
        self.partners = frozenset(d.casefold() for d in p.partner_domains)
        self.external_bytes = p.external_bytes
        self.min_pages, self.print_ratio, self.print_history = (
            p.min_pages, p.print_ratio, p.print_history
        )  # fmt: skip
        self.print_min_days = p.print_min_days
        self.task_factor, self.score, self.min_score = p.task_factor, p.score, p.min_score

    @classmethod
    def test_params(cls) -> list[dict[str, Any]]:
        return [{"min_upload_bytes": 0, "min_pages": 1, "external_bytes": 0, "min_score": 0.0}]

    def category_of(self, domain: str) -> tuple[str, str] | None:
        """(matched domain, category) for ``domain`` or a parent domain in the lists."""
        for d in _suffixes(domain):
            cat = self.domains.get(d)
            if cat is not None:
                return d, cat
        return None

    def judge(self, event: Event, view: StateView) -> list[Finding]:
        officer = event.actor
        if officer is None:
            return []
        a = event.attrs
        if isinstance(a, MessageAttrs):
            return self._mail(event, view, officer, a) if a.attachments else []
        if isinstance(a, WebAttrs):
            if a.action not in _SENDING and (a.method or "").upper() not in ("POST", "PUT"):
                return []  # a visit: most of the proxy's lines
            return self._web(event, view, officer, a.domain or _host(a.url), a.action,
                             a.method, a.bytes_out if a.bytes_out is not None else a.bytes,
                             a.outcome)  # fmt: skip
        if isinstance(a, FileCopiedAttrs):
            if a.destination != "cloud" or not a.domain:
                return []
            return self._web(event, view, officer, a.domain, "upload", None, a.bytes, None)
        if isinstance(a, FilePrintedAttrs):
            return self._print(event, view, officer, a.pages)
        return []

    def _web(
        self, event: Event, view: StateView, officer: str, domain: str | None,
        action: str | None, method: str | None, size: int | None, outcome: str | None,
    ) -> list[Finding]:  # fmt: skip
        if not domain:
            return []
        sending = action in _SENDING or (method or "").upper() in ("POST", "PUT")
        if not sending or (size if size is not None else 0) < self.min_upload:
            return []
        hit = self.category_of(domain)
        if hit is None:
            return []
        matched, cat = hit
        blocked = (outcome or "").casefold() in ("blocked", "denied", "block", "deny")
        what = (f"{'tried to upload' if blocked else 'uploaded'} "
                f"{_size(size)} to {domain} ({cat.replace('_', ' ')}, list {self.version})"
                + (" and the proxy blocked it" if blocked else ""))  # fmt: skip
        facts = {"channel": "web", "domain": domain, "category": cat, "bytes": size,
                 "blocked": blocked, "list_version": self.version}  # fmt: skip
        weight = 0.8 if blocked else 1.0
        return self._raise(event, view, officer, f"web:{matched}", what, weight, facts)

    def _mail(self, event: Event, view: StateView, officer: str, a: MessageAttrs) -> list[Finding]:
        if (a.channel or "email").casefold() != "email" or not a.to:
            return []
        att = a.attachments
        n_att = len(att) if isinstance(att, list) else att if isinstance(att, int) else 0
        if n_att <= 0:
            return []
        size = a.attachment_bytes
        fact = view.ref.staff(officer)
        own_private = (fact.value.personal_emails if fact is not None else None) or ()
        own, personal, external = [], [], []
        for to in a.to:
            domain = to.rpartition("@")[2].casefold()
            if not domain or to.find("@") < 0:
                continue
            sufs = _suffixes(domain)
            if to.casefold() in own_private:
                own.append(to)
            elif domain in self.personal:
                personal.append(to)
            elif not any(s in self.internal or s in self.partners for s in sufs):
                external.append(to)
        if own:
            who, weight, kind = own, 1.1, "their own private"
        elif personal:
            who, weight, kind = personal, 1.0, "personal"
        elif external and size is not None and size >= self.external_bytes:
            who, weight, kind = external, 0.8, "external"
        else:
            return []
        what = (f"e-mailed {plural(n_att, 'attachment')} to {kind} "
                f"address{'es' if len(who) > 1 else ''} {', '.join(sorted(who))}"
                + (" (on their HR record)" if own else "")
                + (f" ({_size(size)})" if size is not None else ""))  # fmt: skip
        return self._raise(event, view, officer, f"mail:{','.join(sorted(who))}", what, weight,
                           {"channel": "email", "to": sorted(who), "attachments": n_att,
                            "bytes": size,
                            "address_kind": "own_private" if own else kind})  # fmt: skip

    def _print(
        self, event: Event, view: StateView, officer: str, pages: int | None
    ) -> list[Finding]:
        state = view.state
        day = int(event.time.timestamp() // DAY)
        cur = state.get("print")
        if cur is None or cur[0] != day:
            if cur is not None:
                hist: list[int] = state.setdefault("print_hist", [])
                hist.append(int(cur[1]))
                del hist[: -self.print_history]
            cur = state["print"] = [day, 0, 0]
        cur[1] += pages if pages is not None and pages > 0 else 1
        hist = state.get("print_hist", [])
        med = robust([float(h) for h in hist])[0] if hist else 0.0
        known = len(hist) >= self.print_min_days
        line = max(float(self.min_pages), self.print_ratio * med) if known else (
            self.print_ratio * self.min_pages)  # fmt: skip
        if cur[2] or cur[1] <= line:
            return []
        cur[2] = 1
        usual = (f"their usual {med:.0f} pages over {plural(len(hist), 'printing day')}"
                 if known else f"too few printing days ({len(hist)}) for a usual")  # fmt: skip
        what = f"printed {cur[1]} pages today, above the line {line:.0f} ({usual})"
        return self._raise(event, view, officer, "print", what, 1.0,
                           {"channel": "print", "pages": cur[1], "own_median_pages": med,
                            "line": line, "printing_days": len(hist)})  # fmt: skip

    def _raise(
        self, event: Event, view: StateView, officer: str, key: str, what: str, weight: float,
        facts: dict[str, Any],
    ) -> list[Finding]:  # fmt: skip
        """One finding per key and day (the key remembered for a day, at most 64 kept)."""
        state = view.state
        now = event.time.timestamp()
        seen: dict[str, float] = state.setdefault("seen", {})
        last = seen.get(key)
        if last is not None and now - last < DAY:
            return []
        score = self.score * weight * (self.task_factor if event.purpose else 1.0)
        if score < self.min_score:
            return []
        seen[key] = now
        if len(seen) > 64:
            for k in sorted(seen, key=seen.__getitem__)[:-64]:
                del seen[k]
        severity = severity_band(score, 60, 45)
        purpose = (f"; it carries purpose {event.purpose} (weighs {self.task_factor:g}x)"
                   if event.purpose else "; no purpose given")  # fmt: skip
        return [
            self.finding(
                event,
                officer=officer,
                severity=severity,
                score=score,
                title=f"{officer} {what.split(' (')[0]}",
                explanation=f"{officer} {what} at {at(now)}{purpose}.",
                evidence=[event.id],
                facts={**facts, "purpose": event.purpose},
                identifiers=[str(t) for t in facts.get("to", [])],  # personal addresses
                dedup=f"{key}:{int(now // DAY)}",
            )
        ]


def _host(url: str | None) -> str | None:
    if not url:
        return None
    rest = url.partition("://")[2] or url
    return rest.split("/", 1)[0].split("@")[-1].split(":")[0] or None


def _size(size: int | None) -> str:
    if size is None:
        return "an unknown amount"
    return f"{size / MB:.1f} MB" if size >= 100_000 else f"{size:,} bytes"
