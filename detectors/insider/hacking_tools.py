"""Hacking and surveillance tools started or downloaded: keyloggers, credential dumpers,
remote-access and anonymising tools, by name, hash, command line or download site."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from detectors.base import EventDetector, StateView
from detectors.insider._sites import lists_version, load_lists
from detectors.insider.params import HackingToolsParams
from detectors.lib.common import severity_band
from detectors.lib.times import DAY, at
from detectors.registry import register
from models.alerts import Category, Finding
from models.events import Event, FileTransferAttrs, ProcessAttrs, WebAttrs, attr_or_none

DATA_FILE = "hacking_tools.toml"


@dataclass(frozen=True, slots=True)
class Tools:
    """The tool list: version, and what identifies each category's tools."""

    version: str
    names: dict[str, str]  # file name -> category
    hashes: dict[str, str]
    command_lines: tuple[tuple[str, str], ...]  # (substring, category)
    domains: dict[str, str]
    weights: dict[str, float]
    descriptions: dict[str, str]


def load_tools(extra_file: str = "") -> Tools:
    """The shipped list beside this module, extended by ``extra_file``."""
    docs = load_lists(DATA_FILE, extra_file, "insider.hacking_tools")
    names: dict[str, str] = {}
    hashes: dict[str, str] = {}
    lines: list[tuple[str, str]] = []
    domains: dict[str, str] = {}
    weights: dict[str, float] = {}
    descriptions: dict[str, str] = {}
    for doc in docs:
        for cat, entry in (doc.get("tools") or {}).items():
            weights[cat] = float(entry.get("weight", weights.get(cat, 1.0)))
            descriptions[cat] = str(entry.get("description", descriptions.get(cat, cat)))
            names.update((str(n).casefold(), cat) for n in entry.get("names") or ())
            hashes.update((str(h).casefold(), cat) for h in entry.get("hashes") or ())
            lines.extend((str(c).casefold(), cat) for c in entry.get("command_line") or ())
            domains.update((str(d).casefold(), cat) for d in entry.get("domains") or ())
    return Tools(lists_version(docs), names, hashes, tuple(lines), domains, weights, descriptions)


def _basename(path: str) -> str:
    return path.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1].casefold()


@register
class HackingTools(EventDetector[HackingToolsParams]):
    """A hacking or surveillance tool started (``process.started``) or downloaded
    (``web.visited`` with ``action`` ``download``, ``file.downloaded``).

    Recognised by the executable's or file's name, its SHA-256 (a ``sha256`` or ``hash``
    attribute), a command-line fragment (``sekurlsa::``, ``-ma lsass``), or the download
    site: the versioned list ``hacking_tools.toml`` beside this module, extended by the
    force's ``extra_file``. The score is ``score`` times the category's weight; staff whose
    role uses admin tools (``admin_roles``) weigh ``admin_factor`` except for the
    ``never_exempt`` categories (credential dumpers, keyloggers); a purpose weighs
    ``task_factor``. One finding per tool per day.
    """

    id = "insider.hacking_tools"
    Params = HackingToolsParams
    feeds_risk = True
    kinds = frozenset({"process.started", "web.visited", "file.downloaded"})
    category = Category.MISUSE_OF_SYSTEMS
    description = "Keyloggers, credential dumpers, remote-access or anonymising tools used."
    state_cap_bytes = 4_096

    def __init__(self, params: HackingToolsParams | None = None, /, **overrides: Any) -> None:
        super().__init__(params, **overrides)
        p = self.params
        self.tools = load_tools(p.extra_file)
        self.admin_roles = tuple(r.casefold() for r in p.admin_roles)
        self.admin_factor, self.task_factor = p.admin_factor, p.task_factor
        self.never_exempt = frozenset(p.never_exempt)
        self.score, self.min_score = p.score, p.min_score

    @classmethod
    def test_params(cls) -> list[dict[str, Any]]:
        return [{"admin_roles": (), "min_score": 0.0}]

    def identify(self, event: Event) -> tuple[str, str, str] | None:
        """(category, what matched, how) for a tool in the event, else ``None``."""
        t = self.tools
        a = event.attrs
        digest = attr_or_none(a, "sha256") or attr_or_none(a, "hash")
        if isinstance(digest, str) and digest.casefold() in t.hashes:
            label = _basename(attr_or_none(a, "path") or attr_or_none(a, "url") or "") or "a file"
            return t.hashes[digest.casefold()], f"{label} (SHA-256 {digest[:16]}...)", "hash"
        if isinstance(a, ProcessAttrs):
            name = _basename(a.path or "")
            if name in t.names:
                return t.names[name], name, "program"
            line = (a.command_line or "").casefold()
            for frag, cat in t.command_lines if line else ():
                if frag in line:
                    return cat, f"{name} with '{frag}' in its command line", "command line"
            return None
        if isinstance(a, WebAttrs):
            if (a.action or "").casefold() != "download":
                return None
            url = a.url or ""
            name = _basename(url.partition("?")[0]) if url else ""
            if name in t.names:
                return t.names[name], name, "download"
            domain = (a.domain or "").casefold()
            parts = domain.split(".")
            for i in range(len(parts) - 1):
                site = t.domains.get(".".join(parts[i:]))
                if site is not None:
                    return site, domain, "download site"
            return None
        if isinstance(a, FileTransferAttrs):
            name = _basename(a.path or a.url or "")
            if name in t.names:
                return t.names[name], name, "download"
        return None

    def judge(self, event: Event, view: StateView) -> list[Finding]:
        officer = event.actor
        if officer is None:
            return []
        hit = self.identify(event)
        if hit is None:
            return []
        cat, what, how = hit
        now = event.time.timestamp()
        seen: dict[str, float] = view.state.setdefault("seen", {})
        key = f"{cat}:{what}"
        last = seen.get(key)
        if last is not None and now - last < DAY:
            return []
        score = self.score * self.tools.weights.get(cat, 1.0)
        notes = []
        fact = view.ref.staff(officer)
        role = (fact.value.role or "") if fact else ""
        admin = bool(role) and any(r in role.casefold() for r in self.admin_roles)
        if admin and cat not in self.never_exempt:
            score *= self.admin_factor
            notes.append(f"their role {role} uses admin tools (weighs {self.admin_factor:g}x)")
        if event.purpose:
            score *= self.task_factor
            notes.append(f"purpose given: {event.purpose} (weighs {self.task_factor:g}x)")
        if score < self.min_score:
            return []
        seen[key] = now
        if len(seen) > 32:
            for k in sorted(seen, key=seen.__getitem__)[:-32]:
                del seen[k]
        desc = self.tools.descriptions.get(cat, cat)
        verb = "started" if event.kind == "process.started" else "downloaded"
        severity = severity_band(score, 70, 50)
        where = f" on {event.terminal}" if event.terminal else ""
        article = "an" if desc[:1] in "aeiou" else "a"
        return [
            self.finding(
                event,
                officer=officer,
                severity=severity,
                score=min(95.0, score),
                title=f"{officer} {verb} {article} {desc} tool ({what})",
                explanation=(
                    f"{officer} {verb} {what}{where} at {at(now)}: the {how} is on the "
                    f"{desc} list (tool list {self.tools.version})"
                    + ("; " + "; ".join(notes) if notes else "; no purpose given")
                    + "."
                ),
                evidence=[event.id],
                facts={
                    "tool_category": cat,
                    "matched": what,
                    "by": how,
                    "list_version": self.tools.version,
                    "role": role or None,
                },
                dedup=f"{key}:{int(now // DAY)}",
            )
        ]
