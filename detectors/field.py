"""Stop and search, use of force and body-worn video: the integrity of evidence on the street."""

from __future__ import annotations

from typing import Any

from detectors.base import Detector, StateView
from detectors.common import plural
from detectors.purpose import at, epoch, role_exempt, when
from detectors.registry import register
from models.alerts import Category, Finding
from models.events import BwvActivatedAttrs, Event, StopSearchAttrs, UseOfForceAttrs

MIN = 60.0
DAY = 86400.0
ENCOUNTER_KINDS = frozenset({"stop_search.recorded", "use_of_force.recorded"})


NO_OPERATION = frozenset({"", "none", "null", "n/a", "na", "-"})


def _operation(value: str | None) -> str | None:
    """An operation name, or None for the ways systems write 'none'."""
    return None if value is None or value.strip().casefold() in NO_OPERATION else value


def _purpose(event: Event) -> str:
    return f"purpose given: {event.purpose}" if event.purpose else "no purpose given"


@register
class RepeatStop(Detector):
    """The same officer stopping the same person again and again without an operation.

    ``min_stops`` stops of one person within ``window_days`` with no ``operation`` and no
    task linking the officer to that person. One alert per person per window; the stops
    under an operation are counted in the explanation but not towards the line.
    """

    id = "field.repeat_stop"
    kinds = frozenset({"stop_search.recorded"})
    category = Category.INTEGRITY_OF_EVIDENCE
    description = "Repeated stops of the same person by the same officer without an operation."

    def __init__(
        self, *, min_stops: int = 3, window_days: float = 60.0, score: float = 65.0
    ) -> None:
        self.min_stops = min_stops
        self.window_s = window_days * DAY
        self.window_days = window_days
        self.score = score

    def evaluate(self, event: Event, view: StateView) -> list[Finding]:
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


@register
class NoBodyWornVideo(Detector):
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
    kinds = ENCOUNTER_KINDS | frozenset({"bwv.activated"})
    category = Category.INTEGRITY_OF_EVIDENCE
    description = "Stop and search or use of force recorded without body-worn video."

    def __init__(
        self,
        *,
        before_min: float = 30.0,
        after_min: float = 15.0,
        window_days: float = 30.0,
        repeat_min: int = 3,
        judge_missing_flag: bool = False,
        usual_share: float = 0.8,
        common_share: float = 0.15,
        common_min: int = 50,
        score: float = 55.0,
    ) -> None:
        self.common_share = common_share
        self.common_min = common_min
        self._force: dict[str, int] = {}  # officer -> encounters without video (0 = none)
        self.usual_share = usual_share
        self.before_s = before_min * MIN
        self.after_s = after_min * MIN
        self.window_s = window_days * DAY
        self.window_days = window_days
        self.repeat_min = repeat_min
        self.judge_missing_flag = judge_missing_flag
        self.score = score

    def evaluate(self, event: Event, view: StateView) -> list[Finding]:
        officer, attrs, state = event.actor, event.attrs, view.state
        if officer is None or event.kind not in self.kinds:
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


@register
class BwvDeleted(Detector):
    """An officer deleting body-worn footage of their own encounter.

    Own encounter: the footage's ``recorded_by`` (or ``officer``, ``owner``) attribute names
    the officer, or its id is one the officer's own ``bwv.activated`` named, or contains the
    officer's id, or its subjects are people the officer stopped or used force
    on within ``lookback_days``, or the deletion comes within ``recent_h`` hours of the
    officer's own recorded encounter. Deletions by accounts that are not staff (retention
    jobs, system accounts) or by roles whose job it is (``exempt_roles``) are normal.
    """

    id = "field.bwv_deleted"
    kinds = ENCOUNTER_KINDS | frozenset({"bwv.activated", "bwv.footage.deleted"})
    category = Category.INTEGRITY_OF_EVIDENCE
    description = "Body-worn video footage of the officer's own encounter deleted by them."

    def __init__(
        self,
        *,
        lookback_days: float = 90.0,
        recent_h: float = 72.0,
        score: float = 85.0,
        exempt_roles: tuple[str, ...] = ("system", "service", "retention", "digital_evidence"),
    ) -> None:
        self.lookback_s = lookback_days * DAY
        self.recent_s = recent_h * 3600
        self.recent_h = recent_h
        self.score = score
        self.exempt_roles = exempt_roles

    def evaluate(self, event: Event, view: StateView) -> list[Finding]:
        officer, state = event.actor, view.state
        if officer is None or event.kind not in self.kinds:
            return []
        now = epoch(event.time)
        if event.kind != "bwv.footage.deleted":
            enc: list[list[Any]] = state.setdefault("encounters", [])
            footage = event.record.id if event.record is not None else None
            enc.append([now, event.id, list(event.subjects or ()), footage, event.kind])
            enc[:] = [e for e in enc if now - e[0] <= self.lookback_s][-200:]
            return []
        if view.ref.staff(officer) is None or role_exempt(officer, view.ref, self.exempt_roles):
            return []
        footage = event.record.id if event.record is not None else ""
        subjects = set(event.subjects or ())
        why, link = self._own(officer, footage, subjects, now, state.get("encounters", []))
        owner = next((getattr(event.attrs, k, None) for k in ("recorded_by", "officer", "owner")
                      if getattr(event.attrs, k, None)), None)  # fmt: skip
        if owner == officer and why is None:
            why = f"the footage record says it was recorded by {officer}"
        if why is None:
            return []
        return [
            self.finding(
                event,
                officer=officer,
                severity="critical" if link else "high",
                score=self.score + (10 if link else 0),
                title=f"{officer} deleted body-worn footage {footage} of their own encounter",
                explanation=(
                    f"{officer} deleted body-worn footage {footage or '(id not given)'} at "
                    f"{when(event.time)}: {why}. Deletion is for retention jobs and system "
                    f"accounts; {officer} is a member of staff ("
                    f"{_purpose(event)})."
                ),
                evidence=[event.id, *([link] if link else [])],
                subjects=sorted(subjects),
                facts={"footage": footage, "encounter_event": link},
            )
        ]

    def _own(
        self, officer: str, footage: str, subjects: set[str], now: float, enc: list[list[Any]]
    ) -> tuple[str | None, str | None]:
        """Why the footage is of the officer's own encounter, and the event showing it."""
        for e in reversed(enc):
            if footage and e[3] == footage:
                return f"the footage was recorded by {officer} ({e[1]} at {at(e[0])})", e[1]
        for e in reversed(enc):
            shared = subjects.intersection(e[2])
            if shared and e[4] != "bwv.activated":
                return (
                    f"it shows {', '.join(sorted(shared))}, whom {officer} recorded in {e[4]} "
                    f"{e[1]} at {at(e[0])}",
                    e[1],
                )
        if footage and officer.casefold() in footage.casefold():
            return f"the footage id names {officer}", None
        for e in reversed(enc):
            if not subjects and e[4] != "bwv.activated" and now - e[0] <= self.recent_s:
                return (
                    f"it came {(now - e[0]) / 3600:.1f} hours after {officer}'s own recorded "
                    f"encounter {e[1]} (within {self.recent_h:g} h)",
                    e[1],
                )
        return None, None
