"""Accounts and terminals: a logon at a workstation assigned to someone else (above all the
officer's line manager's), and an account used by another person (logged on in two places at
once, or while its owner is rostered off, somewhere other than their station)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from detectors.base import EventDetector, StateView
from detectors.insider.params import AccountMisuseParams
from detectors.lib.books import peer_groups
from detectors.lib.common import plural, severity_band
from detectors.lib.times import DAY, MIN, at
from detectors.registry import register
from models.alerts import Category, Finding
from models.events import AuthAttrs, Event

_WORD = re.compile(r"[a-z0-9]+")
_MAX_NAMED = 10_000  # terminals whose name's reading is remembered


def _last_day(item: tuple[str, list[int]]) -> int:
    """A remembered terminal's last day (no closure: mypyc compiles none in these methods)."""
    return item[1][0]


@register
class AccountMisuse(EventDetector[AccountMisuseParams]):
    """Someone else's workstation, or one's account in someone else's hands.

    Needs the asset register's ``terminal.assigned`` (contract 1.3: a workstation's owner,
    whether it is shared, where it stands) and HR's ``line_manager`` on ``staff.upsert``.
    On each keyboard logon (``logon_types``):

    - **another's workstation**: the terminal is assigned to another member of staff and is
      neither marked shared nor named as shared (``shared_terminals``: hot desks, kiosks).
      ``manager_score`` when it is the officer's line manager's, else ``other_score``
      (x ``report_factor`` when the officer manages its owner). Not raised once the officer
      has used that terminal on ``habit_days`` days; x ``peer_factor`` where the peer
      group's (unit, else role) share of logons at others' workstations is above
      ``peer_share``. The explanation gives the officer's and the group's shares.
    - **two places at once**: logons at two terminals whose locations differ (the register's
      ``location``, else the logon's) within ``concurrent_min``.
    - **owner off and elsewhere**: a logon while the account's owner is rostered off (their
      roster known, no shift within ``roster_tolerance_min``) at a terminal whose location
      is not their station.

    One finding per signal, terminal and day. Peer shares are kept in the instance (as
    ``insider.unusual_logon`` keeps its profiles), rebuilt from the stream after a restart.
    """

    id = "insider.account_misuse"
    Params = AccountMisuseParams
    feeds_risk = True
    kinds = frozenset({"auth.login"})
    category = Category.MISUSE_OF_SYSTEMS
    description = "Logons at another's workstation; an account in two places or its owner off."
    state_cap_bytes = 4_096

    def __init__(self, params: AccountMisuseParams | None = None, /, **overrides: Any) -> None:
        super().__init__(params, **overrides)
        p = self.params
        self.types = frozenset(t.casefold() for t in p.logon_types)
        self.shared = frozenset(w.casefold() for w in p.shared_terminals)
        self.other_score, self.manager_score = p.other_score, p.manager_score
        self.report_factor, self.habit_days = p.report_factor, p.habit_days
        self.peer_share, self.peer_factor, self.peer_min = p.peer_share, p.peer_factor, p.peer_min
        self.concurrent_s, self.concurrent_score = p.concurrent_min * MIN, p.concurrent_score
        self.tolerance_s, self.off_score = p.roster_tolerance_min * MIN, p.off_elsewhere_score
        self.min_score, self.max_terminals = p.min_score, p.max_terminals
        self._peers: dict[str, list[int]] = {}  # group -> [logons, at others' workstations]
        self._named: dict[str, bool] = {}  # terminal -> named as shared (a memo, bounded)

    @classmethod
    def test_params(cls) -> list[dict[str, Any]]:
        return [{"habit_days": 100, "peer_min": 1, "min_score": 0.0},
                {"concurrent_min": 1440.0, "shared_terminals": ()}]  # fmt: skip

    def _named_shared(self, term: str) -> bool:
        named = self._named.get(term)
        if named is None:  # asked on every logon, of the few terminals a force has
            if len(self._named) >= _MAX_NAMED:
                self._named.clear()
            named = self._named[term] = any(
                w in self.shared for w in _WORD.findall(term.casefold())
            )
        return named

    def judge(self, event: Event, view: StateView) -> list[Finding]:
        officer = event.actor
        a = event.attrs
        if officer is None or not isinstance(a, AuthAttrs):
            return []
        ltype = (a.logon_type or "").casefold()
        term = event.terminal or a.workstation
        if (ltype and ltype not in self.types) or not term:
            return []
        state = view.state
        now = event.time.timestamp()
        today = int(now // DAY)
        ref = view.ref
        assigned = ref.terminal(term)
        info = assigned.value if assigned is not None else None
        where = (info.location if info is not None else None) or a.location
        fact = ref.staff(officer)
        me = fact.value if fact is not None else None
        shared = (info is not None and info.shared) or self._named_shared(term)
        owner = info.owner if info is not None and not shared else None
        other = owner is not None and owner.casefold() != officer.casefold()
        groups = peer_groups(officer, ref)
        terms: dict[str, list[int]] | None = state.get("terms")  # term -> [last day, days]
        if terms is None:
            terms = state["terms"] = {}
        seen = terms.get(term)
        found: list[_Signal] = []
        if other and owner is not None:
            found += self._others(event, view, officer, term, owner, me, seen, groups)
        last = state.get("last")  # [time, terminal, location]
        if (where and last is not None and last[2] and last[1] != term
                and last[2].casefold() != where.casefold()
                and 0 <= now - last[0] <= self.concurrent_s):  # fmt: skip
            found.append(_Signal(
                f"twice:{today}", self.concurrent_score,
                f"{officer}'s account logged on at {last[1]} ({last[2]}) at {at(last[0])} and "
                f"at {term} ({where}) at {at(now)}, {(now - last[0]) / MIN:.0f} min apart: one "
                "account in two places at once",
                {"signal": "two_places", "terminals": [last[1], term],
                 "locations": [last[2], where]},
                f"{officer}'s account in two places at once ({last[2]}, {where})",
            ))  # fmt: skip
        station = me.station if me is not None else None
        if (where and station and where.casefold() != station.casefold() and not shared
                and ref.has_shifts(officer)
                and ref.shift_at(officer, event.time, self.tolerance_s) is None):  # fmt: skip
            found.append(_Signal(
                f"off:{term}:{today}", self.off_score,
                f"{officer}'s account logged on at {term} in {where} at {at(now)} while "
                f"{officer} was rostered off; their station is {station}",
                {"signal": "owner_off_elsewhere", "terminal": term, "location": where,
                 "station": station},
                f"{officer}'s account used while they were off, away from {station}",
            ))  # fmt: skip
        # what this logon adds: the officer's terminals, their and their peers' shares
        if seen is None:
            seen = terms[term] = [today, 0]
            if len(terms) > self.max_terminals:
                del terms[min(terms.items(), key=_last_day)[0]]
        if seen[1] == 0 or seen[0] != today:
            seen[0], seen[1] = today, seen[1] + 1
        own: list[int] | None = state.get("own")
        if own is None:
            own = state["own"] = [0, 0]
        own[0] += 1
        own[1] += int(other)
        for g in groups:
            peer = self._peers.get(g)
            if peer is None:
                peer = self._peers[g] = [0, 0]
            peer[0] += 1
            peer[1] += int(other)
        state["last"] = [now, term, where]
        return self._raise(event, view, officer, found) if found else []

    def _others(
        self, event: Event, view: StateView, officer: str, term: str, owner: str, me: Any,
        seen: list[int] | None, groups: tuple[str, ...],
    ) -> list[_Signal]:  # fmt: skip
        days = seen[1] if seen is not None else 0
        if days >= self.habit_days:
            return []
        manager = me.line_manager if me is not None else None
        owner_fact = view.ref.staff(owner)
        theirs = owner_fact.value.line_manager if owner_fact is not None else None
        notes = []
        if manager is not None and manager.casefold() == owner.casefold():
            score, whose = self.manager_score, f"their line manager {owner}"
        else:
            score, whose = self.other_score, owner
            if theirs is not None and theirs.casefold() == officer.casefold():
                score *= self.report_factor
                whose = f"{owner}, whom they manage"
                notes.append(f"weighs {self.report_factor:g}x: they manage its owner")
        own = view.state.get("own", [0, 0])
        own_t = (f"their own usual: {own[1]} of {plural(own[0], 'logon')} at others' "
                 "workstations")  # fmt: skip
        peer_t, routine = "too few peer logons seen for a peer usual", False
        for g in groups:
            peer = self._peers.get(g)
            if peer is None or peer[0] < self.peer_min:
                continue
            share = peer[1] / peer[0]
            routine = share > self.peer_share
            peer_t = (f"peer group {g.partition(':')[2]}: {share:.1%} of {peer[0]} logons at "
                      "others' workstations")  # fmt: skip
            break
        if routine:
            score *= self.peer_factor
            notes.append(f"weighs {self.peer_factor:g}x: routine in the peer group")
        new = "the first time they used it" if not days else (
            f"used by them on {plural(days, 'earlier day')}")  # fmt: skip
        return [_Signal(
            f"other:{term}:{int(event.time.timestamp() // DAY)}", score,
            f"{officer} logged on at {term}, the workstation of {whose}, at "
            f"{at(event.time.timestamp())} ({new}); {own_t}; {peer_t}"
            + ("; " + "; ".join(notes) if notes else ""),
            {"signal": "others_workstation", "terminal": term, "owner": owner,
             "line_manager": whose.startswith("their line manager"), "earlier_days": days,
             "own_logons": own[0], "own_at_others": own[1]},
            f"{officer} logged on at the workstation of {whose}",
        )]  # fmt: skip

    def _raise(
        self, event: Event, view: StateView, officer: str, found: list[_Signal]
    ) -> list[Finding]:
        """One finding for the logon: the strongest signal's score, 10 points more for each
        other one; each signal raised once per key (terminal and day)."""
        alerted: dict[str, int] = view.state.setdefault("alerted", {})
        found = [f for f in found if f.key not in alerted]
        if not found:
            return []
        found.sort(key=lambda f: -f.score)
        score = min(95.0, found[0].score + 10.0 * (len(found) - 1))
        if score < self.min_score:
            return []
        today = int(event.time.timestamp() // DAY)
        for f in found:
            alerted[f.key] = today
        for k in [k for k, d in alerted.items() if d < today - 1]:
            del alerted[k]
        severity = severity_band(score, 60, 45)
        return [
            self.finding(
                event,
                officer=officer,
                severity=severity,
                score=score,
                title=found[0].title,
                explanation=". ".join(f.what for f in found) + ".",
                evidence=[event.id],
                facts={"signals": [f.facts for f in found]},
                dedup=found[0].key,
            )
        ]


@dataclass(frozen=True, slots=True)
class _Signal:
    """One reason a logon is suspect: its re-alert key, score, sentence, facts and title."""

    key: str
    score: float
    what: str
    facts: dict[str, Any]
    title: str
