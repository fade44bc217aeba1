"""Several officers (``min_officers``), none tasked, looking up the same OCG nominal or nominals of
the same group within ``window_h`` hours: someone may be gathering for the group through several
people."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from detectors.association._common import _ordinal
from detectors.association.params import ConvergenceParams
from detectors.base import GraphDetector, StateView
from detectors.graph.association import AssociationGraph
from detectors.graph.model import OCG_LIST, Lookup
from detectors.lib.common import PERSON_RECORD_KINDS, persons_of, plural
from detectors.lib.times import HOUR, spread_score
from detectors.registry import register
from models.alerts import Category, Finding
from models.events import Event


@register
class Convergence(GraphDetector[ConvergenceParams]):
    """Several officers (``min_officers``), none tasked, looking up the same OCG nominal or
    nominals of the same group within ``window_h`` hours: someone may be gathering for the
    group through several people.

    The graph logs every untasked look-up of a nominal (from all officers) in event-time
    order. A look-up is judged in its own window, the ``window_h`` hours up to it: an alert
    is raised about its officer when it is that officer's first look-up of the group in the
    window and the window holds at least ``min_officers`` distinct officers (the look-up that
    brings the count to the threshold, and each further officer joining while the window
    holds); repeated look-ups by an officer already counted raise nothing. As officers'
    partitions arrive interleaved, a look-up may come after later ones from other officers:
    it then also completes their windows, and the alerts about them are raised with it. One
    alert per look-up (its id does not depend on which look-ups had arrived), so the alerts
    are the same whatever the arrival order.

    The window is two weeks: people gathering for a group need not do it the same day.
    Look-ups spread over more than ``full_h`` score ``fall_per_day`` less per day beyond it
    (docs/pacing.md).
    """

    id = "association.convergence"
    Params = ConvergenceParams
    feeds_risk = True
    kinds = PERSON_RECORD_KINDS
    category = Category.INAPPROPRIATE_ASSOCIATION
    description = "Several untasked officers looking up the same OCG or its nominals."

    def __init__(self, params: ConvergenceParams | None = None, /, **overrides: Any) -> None:
        super().__init__(params, **overrides)
        p = self.params
        self.min_officers = p.min_officers
        self.window_h = p.window_h
        self.score = p.score
        self.full_s, self.fall_per_day = p.full_h * HOUR, p.fall_per_day

    @classmethod
    def test_params(cls) -> list[dict[str, Any]]:
        return [{"min_officers": 1, "window_h": 1.0, "full_h": 0.5}]  # fmt: skip

    def judge(self, event: Event, view: StateView) -> list[Finding]:
        graph, officer = view.graph, event.actor
        if officer is None:
            return []
        if not isinstance(graph, AssociationGraph):
            return []
        window = timedelta(hours=self.window_h)
        out = []
        done: set[str] = set()
        for person in persons_of(event):
            entry = view.ref.on_list(person, OCG_LIST)
            key = (entry.group or person) if entry else None
            if key is None or key in done:
                continue
            done.add(key)
            log = graph.lookups(key, event.time - window, event.time + window)
            mine = [x for x in log if x.event_id == event.id]
            if not mine:
                continue  # not logged: tasked for it
            new = mine[0]
            if self._qualifies(log, new, window):
                out.append(self._finding(event, key, new, self._window(log, new, window)))
            for later in self._completed_by(log, new, window):
                if view.owns(later.officer):
                    out.append(
                        self._finding(event, key, later, self._window(log, later, window))
                    )
        return out

    @staticmethod
    def _window(log: list[Lookup], end: Lookup, window: timedelta) -> list[Lookup]:
        """Look-ups in ``end``'s window: from ``window`` before it up to it (event order)."""
        return [
            x for x in log
            if end.time - window <= x.time and (x.time, x.event_id) <= (end.time, end.event_id)
        ]

    def _officers(self, looks: list[Lookup]) -> list[str]:
        return list(dict.fromkeys(x.officer for x in looks))

    def _qualifies(self, log: list[Lookup], look: Lookup, window: timedelta) -> bool:
        """``look`` is its officer's first in its window, which holds enough officers."""
        within = self._window(log, look, window)
        if any(x.officer == look.officer and x.event_id != look.event_id for x in within):
            return False  # this officer was already counted in the window
        return len(self._officers(within)) >= self.min_officers

    def _completed_by(self, log: list[Lookup], new: Lookup, window: timedelta) -> list[Lookup]:
        """Later look-ups (already seen: their partitions ran ahead) whose window ``new``
        brings to the threshold: ``new``'s officer is counted there only thanks to it."""
        out: dict[str, Lookup] = {}
        for x in log:
            if (x.time, x.event_id) <= (new.time, new.event_id) or x.officer == new.officer:
                continue
            if x.event_id in out or not self._qualifies(log, x, window):
                continue
            within = self._window(log, x, window)
            if any(y.officer == new.officer and y.event_id != new.event_id for y in within):
                continue  # counted there anyway: raised when it came
            if len(self._officers(within)) == self.min_officers:
                out[x.event_id] = x
        return list(out.values())

    def _finding(self, event: Event, key: str, look: Lookup, within: list[Lookup]) -> Finding:
        officers = self._officers(within)
        people = list(dict.fromkeys(x.person for x in within))
        hours = (look.time - within[0].time).total_seconds() / 3600
        late = "" if look.event_id == event.id else f" (completed by {event.id}, which came late)"
        return self.finding(
            event,
            officer=look.officer,
            time=look.time,
            severity="high",
            score=spread_score(
                min(100.0, self.score + 5 * (len(officers) - self.min_officers)),
                hours * HOUR, self.full_s, self.fall_per_day,
            ),
            title=(
                f"{look.officer} is the {_ordinal(len(officers))} officer with no task to "
                f"look up {key} within {self.window_h:g} h"
            ),
            explanation=(
                f"{look.officer} looked up {look.person} ({look.event_id}), an OCG nominal"
                f"{'' if key == look.person else ' of ' + key}. In {hours:.1f} h, "
                f"{len(officers)} officers ({', '.join(officers)}) looked up "
                f"{', '.join(people)} of {key} {plural(len(within), 'time')}, at least "
                f"{self.min_officers} being the threshold in {self.window_h:g} h; no task "
                f"assigned to any of them names these people or {key}{late}."
            ),
            evidence=[x.event_id for x in within],
            subjects=[*people, *[o for o in officers if o != look.officer]],
            dedup=f"convergence|{key}|{look.event_id}",
            facts={"officers": officers, "lookups": len(within), "group": key,
                   "window_h": self.window_h, "min_officers": self.min_officers},
        )
