"""Cumulative exfiltration: what an officer moved out over 30 days, across channels, against
their peer group, so that a slow leak under every per-day line is seen."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from detectors.base import EventDetector, StateView
from detectors.insider.params import CumulativeExfiltrationParams
from detectors.lib.books import peer_groups
from detectors.lib.common import plural
from detectors.lib.moved import CHANNELS, PRINT, Moved, moved_out
from detectors.lib.times import DAY, at
from detectors.lib.volume import robust
from detectors.registry import register
from models.alerts import Category, Finding, Severity
from models.events import Event

MB = 1_000_000
EPOCH = date(1970, 1, 1)
N = len(CHANNELS)
IDS = 1 + N  # row index of the day's largest movements' event ids


def _size(n: float) -> str:
    return f"{n / MB:,.0f} MB" if n >= MB else f"{n / 1000:,.0f} kB"


@register
class CumulativeExfiltration(EventDetector[CumulativeExfiltrationParams]):
    """An officer's total moved out over ``window_days``, across channels, far above their
    peer group's (Purview's cumulative exfiltration).

    Each day with movement is one row in the officer's slot (bytes to removable media,
    uploaded to domains outside the force, attached to mail outside it, and pages printed
    at ``page_bytes`` each; ``detectors.lib.moved``), at most ``window_days`` rows, so the
    state stays small whatever the traffic. Movements under a purpose (a task) do not count.

    The peer group (unit, else role, from staff reference data) is every member this worker
    has seen log on or move data, with their current total (0 for most: staff who move
    nothing are the group's usual too). An officer's total alerts when it is at least
    ``min_bytes``, spread over ``min_days`` days or more with no day above ``max_day_share``
    of it, and above the group's median +
    ``k`` robust sd and ``ratio`` x its median, once ``peer_min`` members are known (a
    smaller unit and role is not judged: there is no usual to compare with). Raised again
    after ``realert_days``. The explanation gives the total per channel, the largest day,
    the officer's own earlier days and the group's usual.
    """

    id = "insider.cumulative_exfiltration"
    Params = CumulativeExfiltrationParams
    feeds_risk = True
    kinds = frozenset({"auth.login", "file.copied", "web.visited", "message.sent",
                       "file.printed"})  # fmt: skip
    needs_attrs = {"message.sent": ("attachments",)}  # the mail it reads carries some
    category = Category.UNAUTHORISED_DISCLOSURE
    description = "What an officer moved out over 30 days, across channels, against peers."
    state_cap_bytes = 4_096

    def __init__(
        self, params: CumulativeExfiltrationParams | None = None, /, **overrides: Any
    ) -> None:
        super().__init__(params, **overrides)
        p = self.params
        self.window, self.min_bytes, self.min_days = p.window_days, p.min_bytes, p.min_days
        self.max_day_share = p.max_day_share
        self.k, self.ratio, self.peer_min = p.k, p.ratio, p.peer_min
        self.page_bytes, self.min_upload = p.page_bytes, p.min_upload_bytes
        self.inside = frozenset(d.casefold() for d in p.inside_domains)
        self.realert_s, self.score = p.realert_days * DAY, p.score
        # group -> member -> their latest total (this worker's members: rebuilt from the
        # stream after a restart, as the other peer samples are)
        self._totals: dict[str, dict[str, float]] = {}
        self._line_memo: dict[str, tuple[int, int, float, float, float]] = {}

    @classmethod
    def test_params(cls) -> list[dict[str, Any]]:
        return [{"min_bytes": 0, "min_days": 1, "peer_min": 1, "k": 0.0, "ratio": 0.0,
                 "max_day_share": 1.0},
                {"window_days": 3, "page_bytes": 0}]  # fmt: skip

    def judge(self, event: Event, view: StateView) -> list[Finding]:
        officer = event.actor
        if officer is None:
            return []
        moved: Moved | None = None
        if event.kind != "auth.login":
            moved = moved_out(event, self.inside, self.min_upload)
            if moved is None or event.purpose:
                return []
        state = view.state
        rows: list[list[Any]] | None = state.get("rows")
        if rows is None:
            if moved is None:  # a logon of an officer who moved nothing: a member at 0
                for g in peer_groups(officer, view.ref):
                    self._member(g, officer, 0.0)
                return []
            rows = state["rows"] = []
        now = event.time.timestamp()
        today = int(now // DAY)
        cut = today - self.window
        if rows and rows[0][0] <= cut:
            rows[:] = [r for r in rows if r[0] > cut]
        if moved is not None:
            size = moved.items * self.page_bytes if moved.channel == PRINT else moved.bytes
            row = next((r for r in rows if r[0] == today), None)
            if row is None:
                row = [today, *([0] * N), []]
                rows.append(row)
                rows.sort(key=lambda r: r[0])
            row[1 + moved.channel] += size
            ids: list[list[Any]] = row[IDS]  # [bytes, event id], the day's two largest
            ids.append([size, event.id])
            ids.sort(key=lambda x: -x[0])
            del ids[2:]
            if moved.channel != PRINT and moved.where:
                dest: dict[str, float] = state.setdefault("dest", {})
                dest[moved.where] = dest.get(moved.where, 0) + size
                if len(dest) > 6:
                    del dest[min(dest, key=dest.__getitem__)]
        total = float(sum(sum(r[1 : 1 + N]) for r in rows))
        groups = peer_groups(officer, view.ref)
        for g in groups:
            self._member(g, officer, total)
        if moved is None or total < self.min_bytes or len(rows) < self.min_days:
            return []
        last = state.get("alerted")
        if last is not None and now - last < self.realert_s:
            return []
        if max(sum(r[1 : 1 + N]) for r in rows) > self.max_day_share * total:
            return []  # one burst: removable media's and the channels' own lines judge it
        peer = self._peer_line(groups, officer, today)
        if peer is None or total <= peer[0]:
            return []
        state["alerted"] = now
        return [self._finding(event, view, officer, rows, total, peer)]

    def _member(self, group: str, officer: str, total: float) -> None:
        members = self._totals.get(group)
        if members is None:
            members = self._totals[group] = {}
        members[officer] = total

    def _peer_line(
        self, groups: tuple[str, ...], officer: str, today: int
    ) -> tuple[float, float, int, str] | None:
        """(line, median, members, group) of the first group with ``peer_min`` members
        besides the officer; the group's figures are worked out once a day."""
        for g in groups:
            members = self._totals.get(g, {})
            if len(members) - (officer in members) < self.peer_min:
                continue
            memo = self._line_memo.get(g)
            if memo is None or memo[0] != today:
                values = [v for m, v in members.items() if m != officer]
                med, sd = robust(values)
                line = max(float(self.min_bytes), med + self.k * sd, self.ratio * med)
                memo = self._line_memo[g] = (today, len(values), line, med, sd)
            return memo[2], memo[3], memo[1], g.partition(":")[2]
        return None

    def _finding(
        self, event: Event, view: StateView, officer: str, rows: list[list[Any]], total: float,
        peer: tuple[float, float, int, str],
    ) -> Finding:  # fmt: skip
        line, med, members, group = peer
        by_channel = [sum(r[1 + c] for r in rows) for c in range(N)]
        channels = ", ".join(f"{CHANNELS[c]} {_size(v)}" for c, v in enumerate(by_channel) if v)
        biggest = max(rows, key=lambda r: sum(r[1 : 1 + N]))
        first = EPOCH + timedelta(days=rows[0][0])
        days = len(rows)
        dest = view.state.get("dest") or {}
        where = ", ".join(f"{d} {_size(v)}" for d, v in
                          sorted(dest.items(), key=lambda kv: -kv[1])[:3])  # fmt: skip
        daily = total / days
        score = min(95.0, self.score + 10.0 * min(3.0, total / line - 1.0))
        severity: Severity = "high" if score >= 60 else "medium"
        evidence = [i for r in rows for _, i in r[IDS]][-20:]
        return self.finding(
            event,
            officer=officer,
            severity=severity,
            score=score,
            title=f"{officer} moved {_size(total)} out over {plural(days, 'day')} in "
            f"{self.window} days, above peer group {group}",
            explanation=(
                f"{officer} moved {_size(total)} out of the force in the {self.window} days to "
                f"{at(event.time.timestamp())}, on {plural(days, 'day')} from {first} "
                f"({channels}; to {where or 'printers'}). Their own days with movement averaged "
                f"{_size(daily)}, the largest "
                f"{EPOCH + timedelta(days=biggest[0])} with {_size(sum(biggest[1 : 1 + N]))}. "
                f"Peer group {group}: median {_size(med)} over {self.window} days among "
                f"{members} members seen; the line is {_size(line)}."
            ),
            evidence=evidence or [event.id],
            facts={
                "total_bytes": total,
                "by_channel": dict(zip(CHANNELS, by_channel, strict=True)),
                "days": days,
                "peer": group,
                "peer_median_bytes": med,
                "peer_members": members,
                "line_bytes": line,
            },
            dedup=f"cumulative:{int(event.time.timestamp() // DAY)}",
        )
