"""The same officer stopping the same person again and again without an operation."""

from __future__ import annotations

from typing import Any

from detectors.base import EventDetector, StateView
from detectors.field._common import _operation
from detectors.field.params import RepeatStopParams
from detectors.lib.common import plural
from detectors.lib.times import DAY, at, epoch
from detectors.registry import register
from models.alerts import Category, Finding
from models.events import Event, StopSearchAttrs


@register
class RepeatStop(EventDetector[RepeatStopParams]):
    """The same officer stopping the same person again and again without an operation.

    ``min_stops`` stops of one person within ``window_days`` with no ``operation`` and no
    task linking the officer to that person. One alert per person per window; the stops
    under an operation are counted in the explanation but not towards the line.
    """

    id = "field.repeat_stop"
    Params = RepeatStopParams
    #: every person stopped within the window (20 stops each): no count cap
    state_cap_bytes = 524_288
    feeds_risk = True
    kinds = frozenset({"stop_search.recorded"})
    category = Category.INTEGRITY_OF_EVIDENCE
    description = "Repeated stops of the same person by the same officer without an operation."

    def __init__(self, params: RepeatStopParams | None = None, /, **overrides: Any) -> None:
        super().__init__(params, **overrides)
        p = self.params
        self.min_stops = p.min_stops
        self.window_s = p.window_days * DAY
        self.window_days = p.window_days
        self.score = p.score

    @classmethod
    def test_params(cls) -> list[dict[str, Any]]:
        return [{"min_stops": 1}]  # fmt: skip

    def judge(self, event: Event, view: StateView) -> list[Finding]:
        officer, attrs = event.actor, event.attrs
        if officer is None or not isinstance(attrs, StopSearchAttrs):
            return []
        if _operation(attrs.operation):
            return []
        now = epoch(event.time)
        stops: dict[str, list[list[Any]]] = view.state.setdefault("stops", {})
        alerted: dict[str, float] = view.state.setdefault("alerted", {})
        out = []
        for person in event.subjects or ():
            if view.ref.tasks_linking(officer, person):
                continue
            mine = stops.setdefault(person, [])
            if all(e[1] != event.id for e in mine):
                mine.append([now, event.id, attrs.grounds or ""])
            mine[:] = [e for e in mine if now - e[0] <= self.window_s][-20:]
            last = alerted.get(person)
            if len(mine) < self.min_stops or (last is not None and now - last < self.window_s):
                continue
            alerted[person] = now
            grounds = sorted({e[2] for e in mine if e[2]})
            out.append(
                self.finding(
                    event,
                    officer=officer,
                    severity="high" if len(mine) >= 2 * self.min_stops else "medium",
                    score=min(90.0, self.score + 5 * (len(mine) - self.min_stops)),
                    title=f"{officer} stopped {person} {len(mine)} times without an operation",
                    explanation=(
                        f"{officer} recorded {plural(len(mine), 'stop')} of {person} between "
                        f"{at(mine[0][0])} and {at(mine[-1][0])} (grounds: "
                        f"{', '.join(grounds) or 'not given'}), none under an operation and no "
                        f"task links {officer} to {person}. Rule: {self.min_stops} such stops "
                        f"of one person within {self.window_days:g} days."
                    ),
                    evidence=[e[1] for e in mine],
                    subjects=[person],
                    facts={"stops": len(mine), "grounds": grounds},
                )
            )
        for p in [p for p, v in stops.items() if not v or now - v[-1][0] > self.window_s]:
            del stops[p]
            alerted.pop(p, None)
        return out
