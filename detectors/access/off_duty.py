"""Access to force systems while off duty, judged against the officer's own roster."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from detectors.access.params import OffDutyParams
from detectors.base import EventDetector, StateView
from detectors.lib.common import PERSON_RECORD_KINDS, plural
from detectors.lib.times import HOUR, at, epoch, spread_score, when
from detectors.registry import register
from models.alerts import Category, Finding
from models.events import Event

MIN = 60.0
DAY = 86400.0


@register
class OffDuty(EventDetector[OffDutyParams]):
    """Record access outside the officer's rostered shifts, remote terminals weighted higher.

    Judged only where a roster is known (a shift within ``roster_horizon_days``); a night
    worker on a night roster at 3 a.m. is on duty. ``tolerance_min`` either side of a shift
    is on duty, and so is activity carried on from the shift without a gap of ``gap_min`` or
    within ``overrun_h`` hours after the end of a shift the officer worked (overrunning a
    shift to finish paperwork is ordinary). An off-duty episode is activity with gaps under
    ``gap_min``; each look-up weighs 1, an export 3, times ``remote_weight`` from a terminal
    or address whose name holds one of ``remote_markers``, or from a terminal whose latest
    login gave such a location. One alert per episode, when its
    weight reaches ``min_weight``.

    So that the same behaviour paced a little slower is still seen, a slow episode joins
    off-duty activity across pauses up to ``join_h``; its line rises one weight per
    ``step_h`` beyond ``full_h`` and its score falls ``fall_per_h`` per hour beyond, so a
    night's stray look-ups do not add up. It alerts only if none of its episodes has.
    """

    id = "access.off_duty"
    Params = OffDutyParams
    feeds_risk = True
    kinds = PERSON_RECORD_KINDS | frozenset({"auth.login"})
    category = Category.MISUSE_OF_SYSTEMS
    description = "Record access outside rostered shifts, weighted higher from remote terminals."

    def __init__(self, params: OffDutyParams | None = None, /, **overrides: Any) -> None:
        super().__init__(params, **overrides)
        p = self.params
        self.tolerance_s = p.tolerance_min * MIN
        self.gap_s = p.gap_min * MIN
        self.overrun_s = p.overrun_h * 3600
        self.horizon_s = p.roster_horizon_days * DAY
        self.min_weight = p.min_weight
        self.remote_weight = p.remote_weight
        self.export_weight = p.export_weight
        self.remote_markers = p.remote_markers
        self.score = p.score
        self.join_s = p.join_h * HOUR
        self.full_s = p.full_h * HOUR
        self.step_s = p.step_h * HOUR
        self.fall_per_day = p.fall_per_h * 24

    @classmethod
    def test_params(cls) -> list[dict[str, Any]]:
        return [{"min_weight": 1.0, "tolerance_min": 0.0},
                {"remote_markers": ("ws",), "roster_horizon_days": 30.0}]  # fmt: skip

    @staticmethod
    def episode_of(state: dict[str, Any]) -> dict[str, Any] | None:
        """The officer's current off-duty episode in this detector's state (read-only use).

        Keys: ``first`` (event id), ``start``/``last`` (epoch s), ``n`` accesses, ``w`` weight,
        ``remote`` (0/1), ``alerted`` (0/1). ``risk.accumulation`` reads it as a weak signal.
        """
        ep = state.get("ep")
        return ep if isinstance(ep, dict) else None

    def _remote(self, event: Event, state: MutableMapping[str, Any]) -> bool:
        where = f"{event.terminal or ''} {event.ip or ''}".casefold()
        if any(m in where for m in self.remote_markers):
            return True
        return bool(event.terminal) and event.terminal in state.get("remote_terminals", ())

    def _login(self, event: Event, state: MutableMapping[str, Any]) -> None:
        """Remember terminals whose login said they were remote (``location: home``)."""
        location = (getattr(event.attrs, "location", None) or "").casefold()
        terminals: list[str] = state.setdefault("remote_terminals", [])
        if event.terminal and any(m in location for m in self.remote_markers):
            if event.terminal not in terminals:
                terminals.append(event.terminal)
                del terminals[:-5]
        elif event.terminal in terminals:
            terminals.remove(event.terminal)

    def judge(self, event: Event, view: StateView) -> list[Finding]:
        officer = event.actor
        if officer is None:
            return []
        state, now = view.state, epoch(event.time)
        if event.kind == "auth.login":
            self._login(event, state)
            return []
        shift = view.ref.shift_at(officer, event.time, self.tolerance_s)
        if shift is not None:
            state["last_on"] = now
            state["worked_end"] = shift.end.timestamp()
            state.pop("ep", None)
            state.pop("slow", None)
            return []
        last_on = state.get("last_on")
        worked_end = state.get("worked_end")
        ep: dict[str, Any] | None = state.get("ep")
        if ep is None and (
            (last_on is not None and now - last_on <= self.gap_s)
            or (worked_end is not None and 0 <= now - worked_end <= self.overrun_s)
        ):
            state["last_on"] = now  # carrying on after a shift they worked: an overrun
            return []
        near = view.ref.shifts_near(officer, event.time, self.horizon_s)
        if not near:
            return []  # no roster known for this period: cannot judge
        if ep is None or now - ep["last"] > self.gap_s:
            ep = state["ep"] = self._episode(event, now)
        slow: dict[str, Any] | None = state.get("slow")
        if slow is None or now - slow["last"] > self.join_s:
            slow = state["slow"] = self._episode(event, now)
        remote = self._remote(event, state)
        weight = (self.export_weight if event.kind == "record.export" else 1.0) * (
            self.remote_weight if remote else 1.0
        )
        for e in (ep, slow):
            e["last"] = now
            e["w"] += weight
            e["n"] += 1
            e["remote"] = max(e["remote"], int(remote))
            ids: list[str] = e["ids"]
            ids.append(event.id)
            del ids[:-30]
        if not ep["alerted"] and ep["w"] >= self.min_weight:
            ep["alerted"] = slow["alerted"] = 1
            score = self.score + 3 * (ep["w"] - self.min_weight)
            return [self._alert(event, officer, ep, near, remote, score, self.min_weight)]
        span_s = now - slow["start"]
        line = self.min_weight + max(0.0, span_s - self.full_s) / self.step_s
        if slow["alerted"] or slow["w"] < line:
            return []
        ep["alerted"] = slow["alerted"] = 1
        score = spread_score(self.score + 3 * (slow["w"] - self.min_weight), span_s,
                             self.full_s, self.fall_per_day)  # fmt: skip
        return [self._alert(event, officer, slow, near, remote, score, line)]

    @staticmethod
    def _episode(event: Event, now: float) -> dict[str, Any]:
        return {"start": now, "last": now, "ids": [], "w": 0.0, "remote": 0, "alerted": 0,
                "n": 0, "first": event.id}  # fmt: skip

    def _alert(self, event: Event, officer: str, ep: dict[str, Any], near: list[Any],
               remote: bool, score: float, line: float) -> Finding:  # fmt: skip
        now = ep["last"]
        before = [s for s in near if s.end.timestamp() <= now]
        after = [s for s in near if s.start.timestamp() > now]
        prev = f"last shift ended {when(before[-1].end)}" if before else "no earlier shift"
        nxt = f"next starts {when(after[0].start)}" if after else "no later shift rostered"
        span_h = (now - ep["start"]) / HOUR
        slow = ""
        if line > self.min_weight:
            slow = (f" Spread over {span_h:.1f} h, beyond {self.full_s / HOUR:g} h: the line "
                    f"rose from {self.min_weight:g} by one per {self.step_s / HOUR:g} h and the "
                    f"score fell {self.fall_per_day / 24:g} an hour.")  # fmt: skip
        return self.finding(
            event,
            officer=officer,
            severity="high" if ep["remote"] else "medium",
            score=min(85.0, score + (15 if ep["remote"] else 0)),
            title=f"{officer} accessed records off duty"
                  f"{' from a remote terminal' if ep['remote'] else ''}",
            explanation=(
                f"{officer} made {plural(ep['n'], 'record access', 'record accesses')} "
                f"between {at(ep['start'])} and {when(event.time)}"
                f"{' (remote: ' + (event.terminal or event.ip or '') + ')' if remote else ''}"
                f", outside any rostered shift ({prev}; {nxt}; tolerance "
                f"{self.tolerance_s / MIN:.0f} min) and not carried on from a shift. "
                f"Weight {ep['w']:g} (look-up 1, export {self.export_weight:g}, remote "
                f"x{self.remote_weight:g}) reached the line of {line:.3g}.{slow}"
            ),
            evidence=list(ep["ids"]),
            facts={"accesses": ep["n"], "weight": ep["w"], "remote": bool(ep["remote"]),
                   "span_h": round(span_h, 2),
                   "previous_shift": before[-1].event_id if before else None,
                   "next_shift": after[0].event_id if after else None},
            dedup=f"offduty:{ep['first']}",
        )
