"""Logons at an hour the officer and their peer group almost never log on, weighted by the
roster and by whose terminal it was."""

from __future__ import annotations

import re
from typing import Any

from detectors.base import EventDetector, StateView
from detectors.insider.params import UnusualLogonParams
from detectors.lib.books import peer_groups
from detectors.lib.common import severity_band
from detectors.lib.times import DAY, at
from detectors.registry import register
from models.alerts import Category, Finding
from models.events import AuthAttrs, Event

HOURS_OF_WEEK = 168
_STAFF_ID = re.compile(r"S\d{3,}", re.IGNORECASE)
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


#: per hour of the day, the hours of the week within an hour of it (any day); per hour of the
#: week, the hours within an hour of it: looked up, not worked out, on every logon judged
_DAY_NEAR = tuple(
    tuple(d * 24 + (hod + k) % 24 for d in range(7) for k in (-1, 0, 1)) for hod in range(24)
)
_WEEK_NEAR = tuple(
    tuple((how + k) % HOURS_OF_WEEK for k in (-1, 0, 1)) for how in range(HOURS_OF_WEEK)
)


def _near(counts: list[int], how: int) -> tuple[int, int]:
    """Logons within an hour of ``how``'s time of day on any day, and within an hour of the
    same hour of the week."""
    day_total = sum([counts[i] for i in _DAY_NEAR[how % 24]])
    week_total = sum([counts[i] for i in _WEEK_NEAR[how]])
    return day_total, week_total


@register
class UnusualLogon(EventDetector[UnusualLogonParams]):
    """A logon at an hour unusual for the officer and for their peer group.

    The officer's profile is their logons per hour of the week (168 counts). After the
    warm-up (``warmup_logons`` logons over ``warmup_days``), a logon is unusual when fewer
    than ``own_share`` of their logons fell within an hour of this time of day (any day),
    and, once the peer group (unit, else role, from staff reference data; ``peer_min``
    logons seen by this worker) has a profile, fewer than ``peer_share`` of the group's did.
    The explanation gives both shares and the hour-of-week counts.

    Weighted by context: ``rostered_factor`` when the logon falls in a rostered shift (a
    night shift explains a night logon), ``terminal_factor`` on a shared terminal or one
    whose name carries another staff id. Below ``min_score`` no finding; one per day.
    Peer profiles are kept in the instance (as ``access.volume_anomaly`` keeps its peers),
    rebuilt from the stream after a restart.
    """

    id = "insider.unusual_logon"
    Params = UnusualLogonParams
    feeds_risk = True
    kinds = frozenset({"auth.login"})
    category = Category.MISUSE_OF_SYSTEMS
    description = "Logons at hours unusual for the officer and their peer group."
    state_cap_bytes = 4_096

    def __init__(self, params: UnusualLogonParams | None = None, /, **overrides: Any) -> None:
        super().__init__(params, **overrides)
        p = self.params
        self.warmup_logons, self.warmup_s = p.warmup_logons, p.warmup_days * DAY
        self.own_share, self.peer_share, self.peer_min = p.own_share, p.peer_share, p.peer_min
        self.types = frozenset(t.casefold() for t in p.logon_types)
        self.interactive_only = p.interactive_only
        self.tolerance_s = p.roster_tolerance_min * 60
        self.rostered_factor, self.terminal_factor = p.rostered_factor, p.terminal_factor
        self.shared = tuple(w.casefold() for w in p.shared_terminals)
        self.score, self.min_score = p.score, p.min_score
        self._peers: dict[str, list[int]] = {}  # group -> 168 counts, then the total

    @classmethod
    def test_params(cls) -> list[dict[str, Any]]:
        return [{"warmup_logons": 0, "warmup_days": 0.0, "own_share": 1.0, "peer_share": 1.0,
                 "min_score": 0.0}]  # fmt: skip

    def judge(self, event: Event, view: StateView) -> list[Finding]:
        officer = event.actor
        if officer is None:
            return []
        a = event.attrs
        ltype = (a.logon_type or "").casefold() if isinstance(a, AuthAttrs) else ""
        if (ltype and ltype not in self.types) or (self.interactive_only and not ltype):
            return []
        state = view.state
        now = event.time.timestamp()
        t = event.time
        how = t.weekday() * 24 + t.hour
        counts: list[int] | None = state.get("how")
        if counts is None:
            counts = state["how"] = [0] * HOURS_OF_WEEK
            state["since"] = now
        groups = peer_groups(officer, view.ref)
        out: list[Finding] = []
        if now - state["since"] >= self.warmup_s:  # the warm-up's cheap half, asked first
            out = self._judge(event, view, officer, now, how, counts, groups)
        counts[how] += 1
        for g in groups:
            peer = self._peers.get(g)
            if peer is None:
                peer = self._peers[g] = [0] * (HOURS_OF_WEEK + 1)
            peer[how] += 1
            peer[HOURS_OF_WEEK] += 1
        return out

    def _judge(
        self, event: Event, view: StateView, officer: str, now: float, how: int,
        counts: list[int], groups: tuple[str, ...],
    ) -> list[Finding]:  # fmt: skip
        state = view.state
        total = sum(counts)
        if total < self.warmup_logons:
            return []
        own_day, own_week = _near(counts, how)
        own = own_day / total if total else 0.0
        if own >= self.own_share:
            return []
        peer_text, peer, group = "too few peer logons seen for a peer profile", None, None
        for g in groups:
            pc = self._peers.get(g)
            if pc is None or pc[HOURS_OF_WEEK] < self.peer_min:
                continue
            p_day, p_week = _near(pc, how)
            peer, group = p_day / pc[HOURS_OF_WEEK], g.partition(":")[2]
            peer_text = (f"peer group {group}: {peer:.1%} of {pc[HOURS_OF_WEEK]} logons "
                         f"within an hour of this time of day ({p_week} at this hour of the "
                         f"week)")  # fmt: skip
            break
        if peer is not None and peer >= self.peer_share:
            return []
        day = int(now // DAY)
        if state.get("alerted") == day:
            return []
        score, notes = self.score, []
        shift = view.ref.shift_at(officer, event.time, self.tolerance_s)
        if shift is not None:
            score *= self.rostered_factor
            notes.append(f"rostered {at(shift.start.timestamp())} to {at(shift.end.timestamp())}"
                         f" (weighs {self.rostered_factor:g}x)")  # fmt: skip
        elif view.ref.has_shifts(officer):
            notes.append("not rostered")
        term = event.terminal or ""
        other = [m for m in _STAFF_ID.findall(term) if m.upper() != officer.upper()]
        if term and (other or any(w in term.casefold() for w in self.shared)):
            score *= self.terminal_factor
            whose = f"{other[0]}'s terminal" if other else "shared terminal"
            notes.append(f"on {whose} {term} (weighs {self.terminal_factor:g}x)")
        if score < self.min_score:
            return []
        state["alerted"] = day
        t = event.time
        hour = f"{_DAYS[t.weekday()]} {t.hour:02d}:{t.minute:02d}"
        severity = severity_band(score, 60, 45)
        return [
            self.finding(
                event,
                officer=officer,
                severity=severity,
                score=score,
                title=f"{officer} logged on at {hour}, an hour unusual for them and their peers",
                explanation=(
                    f"{officer} logged on at {at(now)} ({hour}"
                    + (f", terminal {term}" if term else "")
                    + f"). Their own profile: {own:.1%} of {total} logons within an hour of "
                    f"this time of day, {own_week} at this hour of the week; {peer_text}"
                    + ("; " + "; ".join(notes) if notes else "")
                    + "."
                ),
                evidence=[event.id],
                facts={
                    "own_share": own,
                    "own_logons": total,
                    "own_hour_of_week": own_week,
                    "peer_share": peer,
                    "peer": group,
                    "rostered": shift is not None,
                    "terminal": term or None,
                },
                dedup=f"logon:{day}",
            )
        ]
