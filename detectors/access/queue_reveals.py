"""Bulk or out-of-pattern reveals in the ACU queue: the watchers watched like any system."""

from __future__ import annotations

from typing import Any

from detectors.access.params import QueueRevealsParams
from detectors.base import EventDetector, StateView
from detectors.lib.common import plural
from detectors.lib.times import epoch, when
from detectors.registry import register
from models.alerts import Category, Finding
from models.events import Event

#: the reveal kinds the queue's audit feed publishes (contract 1.3), and what each counts as
_KIND = {
    "triage.subject.revealed": "revealed",
    "triage.subject.reveal_requested": "asked",
    "triage.subject.reveal_refused": "refused",
}


@register
class QueueReveals(EventDetector[QueueRevealsParams]):
    """An ACU analyst unmasking people in the queue in bulk, guessing ids, or off shift.

    The queue publishes its audit rows as events (``triage.subject.*``, actor = the
    analyst's staff id). Within ``window_h``: ``max_reveals`` reveals (granted, asked for a
    second person's approval, or refused) are a bulk; ``max_refused`` refusals look like
    guessing ids; one reveal outside any rostered shift of an analyst who has rosters is out
    of pattern. One alert per reason and window. The analyst is ACU staff, so the queue shows
    the alert to the outside reviewer alone.
    """

    id = "access.queue_reveals"
    Params = QueueRevealsParams
    kinds = frozenset(_KIND)
    category = Category.MISUSE_OF_SYSTEMS
    description = "Bulk, guessed or off-shift reveals of people in the ACU queue."

    def __init__(self, params: QueueRevealsParams | None = None, /, **overrides: Any) -> None:
        super().__init__(params, **overrides)
        p = self.params
        self.window_s = p.window_h * 3600
        self.tolerance_s = p.tolerance_min * 60

    @classmethod
    def test_params(cls) -> list[dict[str, Any]]:
        return [{"max_reveals": 2, "max_refused": 1}, {"window_h": 1.0, "tolerance_min": 0.0}]

    def judge(self, event: Event, view: StateView) -> list[Finding]:
        officer = event.actor
        what = _KIND.get(event.kind)
        if officer is None or what is None:
            return []
        now = epoch(event.time)
        state = view.state
        seen: list[list[Any]] = state.setdefault("reveals", [])
        if any(r[1] == event.id for r in seen):
            return []
        seen.append([now, event.id, what])
        seen[:] = [r for r in seen if now - r[0] <= self.window_s][-self.params.history :]
        raised: dict[str, float] = state.setdefault("raised", {})
        for reason in [r for r, t in raised.items() if now - t > self.window_s]:
            del raised[reason]
        out = []
        refused = [r for r in seen if r[2] == "refused"]
        if len(seen) >= self.params.max_reveals and "bulk" not in raised:
            raised["bulk"] = now
            out.append(self._finding(event, officer, "bulk", seen,
                                     f"{plural(len(seen), 'reveal')} in {self.params.window_h:g} h "
                                     f"(line {self.params.max_reveals})"))  # fmt: skip
        if len(refused) >= self.params.max_refused and "guessing" not in raised:
            raised["guessing"] = now
            what = (f"{plural(len(refused), 'refused reveal')} in {self.params.window_h:g} h: "
                    f"people not on their alerts, or alerts not theirs "
                    f"(line {self.params.max_refused})")  # fmt: skip
            out.append(self._finding(event, officer, "guessing", refused, what))
        ref = view.ref
        if (
            "off_shift" not in raised
            and ref.has_shifts(officer)
            and ref.shift_at(officer, event.time, self.tolerance_s) is None
        ):
            raised["off_shift"] = now
            out.append(self._finding(event, officer, "off_shift", [seen[-1]],
                                     f"a reveal at {when(event.time)}, outside any rostered "
                                     "shift"))  # fmt: skip
        return out

    def _finding(
        self, event: Event, officer: str, reason: str, rows: list[list[Any]], what: str
    ) -> Finding:
        off = reason == "off_shift"
        outcomes = {k: sum(1 for r in rows if r[2] == k) for k in sorted({str(r[2]) for r in rows})}
        return self.finding(
            event,
            officer=officer,
            severity="medium" if off else "high",
            score=self.params.off_shift_score if off else self.params.score,
            title=f"{officer} unmasked people in the ACU queue: {reason.replace('_', ' ')}",
            explanation=(
                f"{officer} made {what} (source {event.source}). Reveals show an analyst who "
                "a pseudonym stands for; the queue allows them on the analyst's own alerts, "
                "with a reason and a reference, and audits every try."
            ),
            evidence=[str(r[1]) for r in rows],
            facts={"reason": reason, "reveals": len(rows), "by_outcome": outcomes},
            dedup=f"reveals:{reason}:{rows[0][1]}",
        )
