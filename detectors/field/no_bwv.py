"""A stop or use of force with no body-worn video."""

from __future__ import annotations

from typing import Any

from detectors.base import EventDetector, StateView
from detectors.field._common import ENCOUNTER_KINDS
from detectors.field.params import NoBodyWornVideoParams
from detectors.lib.common import plural
from detectors.lib.times import DAY, MIN, epoch, when
from detectors.registry import register
from models.alerts import Category, Finding
from models.events import BwvActivatedAttrs, Event, StopSearchAttrs, UseOfForceAttrs


@register
class NoBodyWornVideo(EventDetector[NoBodyWornVideoParams]):
    """A stop or use of force with no body-worn video.

    An encounter counts as unrecorded when its record says ``bwv: false`` and no
    ``bwv.activated`` by the officer covers it (activation from ``before_min`` before to its
    duration plus ``after_min`` after). A record that says nothing about video counts when
    ``judge_missing_flag``, or when this officer's activations usually do cover their
    encounters (at least ``usual_share`` of their last ten, five or more known): the camera
    feed is there, and this time it is silent. Use of force without video raises on the first;
    stops raise on the first, then again when ``repeat_min`` have built up within
    ``window_days``. Where encounters without video are spread across the force (at least
    ``common_share`` of the officers with encounters have had one, ``common_min`` officers or
    more known), camera failures are ordinary and only the repeat raises; misconduct is
    concentrated in a few officers, noise is spread over many. That force-wide picture is a
    sample kept in the detector instance (the officers this worker's partitions hold, rebuilt
    from the stream after a restart), like volume's role peers.
    """

    id = "field.no_bwv"
    Params = NoBodyWornVideoParams
    feeds_risk = True
    kinds = ENCOUNTER_KINDS | frozenset({"bwv.activated"})
    category = Category.INTEGRITY_OF_EVIDENCE
    description = "Stop and search or use of force recorded without body-worn video."

    def __init__(self, params: NoBodyWornVideoParams | None = None, /, **overrides: Any) -> None:
        super().__init__(params, **overrides)
        p = self.params
        self.common_share = p.common_share
        self.common_min = p.common_min
        self._force: dict[str, int] = {}  # officer -> encounters without video (0 = none)
        self.usual_share = p.usual_share
        self.before_s = p.before_min * MIN
        self.after_s = p.after_min * MIN
        self.window_s = p.window_days * DAY
        self.window_days = p.window_days
        self.repeat_min = p.repeat_min
        self.judge_missing_flag = p.judge_missing_flag
        self.score = p.score

    @classmethod
    def test_params(cls) -> list[dict[str, Any]]:
        return [{"judge_missing_flag": True, "repeat_min": 1}]  # fmt: skip

    def judge(self, event: Event, view: StateView) -> list[Finding]:
        officer, attrs, state = event.actor, event.attrs, view.state
        if officer is None:
            return []
        now = epoch(event.time)
        if isinstance(attrs, BwvActivatedAttrs):
            acts: list[list[float]] = state.setdefault("activations", [])
            acts.append([now, float(attrs.duration_s or 0)])
            acts[:] = [a for a in acts if now - a[0] <= DAY][-50:]
            return []
        if not isinstance(attrs, StopSearchAttrs | UseOfForceAttrs):
            return []
        covered = any(
            start - self.before_s <= now <= start + duration + self.after_s
            for start, duration in state.get("activations", ())
        )
        cov: list[int] = state.setdefault("covered", [])
        usual = len(cov) >= 5 and sum(cov) / len(cov) >= self.usual_share
        cov.append(int(covered))
        del cov[:-10]
        judged = attrs.bwv is False or (
            attrs.bwv is None and (self.judge_missing_flag or usual)
        )  # fmt: skip
        unrecorded = judged and not covered
        self._force[officer] = self._force.get(officer, 0) + int(unrecorded)
        if not unrecorded:
            return []
        common = (
            len(self._force) >= self.common_min
            and sum(1 for n in self._force.values() if n) / len(self._force) >= self.common_share
        )
        misses: list[list[Any]] = state.setdefault("misses", [])
        if all(m[1] != event.id for m in misses):
            misses.append([now, event.id, event.kind])
        misses[:] = [m for m in misses if now - m[0] <= self.window_s]
        force = event.kind == "use_of_force.recorded"
        first = len(misses) == 1 and not common
        if not ((force and not common) or first or len(misses) == self.repeat_min):
            return []
        what = "use of force" if force else "stop and search"
        who = ", ".join(event.subjects or ()) or "a person not named"
        return [
            self.finding(
                event,
                officer=officer,
                severity="high" if force or len(misses) >= self.repeat_min else "medium",
                score=min(90.0, self.score + (15 if force else 0) + 5 * (len(misses) - 1)),
                title=f"{what.capitalize()} by {officer} without body-worn video",
                explanation=(
                    f"{officer} recorded a {what} of {who} at {when(event.time)} with "
                    f"bwv {'false' if attrs.bwv is False else 'not recorded'}, and no "
                    f"body-worn video activation by {officer} from "
                    f"{self.before_s / MIN:.0f} min before to {self.after_s / MIN:.0f} min "
                    f"after. {plural(len(misses), 'encounter')} without video by {officer} in "
                    f"the last {self.window_days:g} days."
                ),
                evidence=[m[1] for m in misses] if len(misses) >= self.repeat_min else [event.id],
                subjects=list(event.subjects or ()),
                facts={"encounters_without_video": len(misses), "kind": event.kind},
            )
        ]
