"""Inappropriate association: links between staff and organised crime that nothing explains.

These detectors read the association graph (:mod:`detectors.graph`) as ``view.graph``; those
marked ``reads_graph`` run where the graph is (the graph agent, :mod:`streams.graph_agent`),
on the edge records the workers derive, and find nothing without a graph
(``nominal_contact`` needs only reference data and the caller's state, so it stays with the
officer's worker). They look only near what the record changed.

Who answers for what, so one fact makes one alert:

- a path through a person the officer **declared** is ``association.declared_linked``'s
  business, never ``association.ocg_path``'s: a declaration counts as reviewed when a
  ``vetting.review.completed`` for that member of staff is on record, as of the moment the
  declaration and the associate's path to the OCG both stood, with an event time at or after
  both (the vetting unit records the review with the declaration); reviewed, nothing is
  raised; not reviewed (or reviewed before the OCG link appeared), ``declared_linked`` asks
  for a review (a review after that answers the alert, it does not unsay it);
- a path through a person (or the group) named in a **task** assigned to the officer is
  explained: nothing is raised;
- a call to a nominal's own phone is ``association.nominal_contact``'s (2 hops), not a path;
  a number on record for many people (a hostel switchboard) is no one's own phone.

The worker reads officers' activity partitions interleaved, not in global event-time order,
and may judge a reference event after later ones were applied; the alerts must not depend on
that order. So a path is judged as of when it closed (:func:`detectors.graph.closed_at`:
declared? tasked? reviewed? a leaver?), not as of the event that happened to find it, and is
dated by that moment; a convergence window is judged by the look-ups' own times, a late
look-up completing the window of look-ups already seen.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from detectors.base import Detector, StateView
from detectors.common import PERSON_RECORD_KINDS, persons_of, plural
from detectors.graph import (
    OCG_LIST,
    AssociationGraph,
    GraphPath,
    Lookup,
    closed_at,
    describe,
    evidence_of,
    ident,
    is_staff,
    node,
    persons_on,
    relation_of,
)
from detectors.registry import register
from detectors.state import ReferenceView
from models.alerts import Category, Finding, PathHop, Severity
from models.events import CallAttrs, Event

#: the kinds whose events can add an edge or an OCG target to the graph
EDGE_KINDS = frozenset(
    {"staff.upsert", "person.link", "association.declared", "watchlist.upsert", "call.made"}
) | PERSON_RECORD_KINDS


#: no floor: a path closes when its last link appeared
EPOCH = datetime.min.replace(tzinfo=UTC)


def _path_hops(graph: AssociationGraph, path: GraphPath) -> list[PathHop]:
    hops = []
    for a, b in path.pairs():
        relation, evidence = relation_of(graph, a, b)
        hops.append(
            PathHop.model_validate(
                {"from": graph.label(a), "to": graph.label(b), "relation": relation,
                 "evidence": evidence}
            )
        )
    return hops


def _task_explains(ref: ReferenceView, staff_id: str, names: set[str]) -> list[str]:
    """Refs of tasks assigned to ``staff_id`` naming any of ``names`` (persons or groups)."""
    return sorted(
        f.value.ref for f in ref.tasks_of(staff_id) if names & set(f.value.subjects or ())
    )


def _gone(ref: ReferenceView, staff_id: str) -> bool:
    """A leaver is no longer the ACU's to alert about (paths through them still count)."""
    fact = ref.staff(staff_id)
    return fact is not None and fact.value.status == "left"


def _changed_paths(
    graph: AssociationGraph,
    event: Event,
    *,
    k: int,
    source: str,
) -> list[GraphPath]:
    """Paths (source to OCG target, at most ``k`` hops) this event's changes closed.

    ``source`` is ``"staff"`` (any member of staff) or ``"declared"`` (a declared associate).
    """
    want = is_staff if source == "staff" else graph.is_declared_person
    out: list[GraphPath] = []
    for edge in graph.new_edges_for(event.id):
        if source == "declared" and edge.relation == "declared":
            # a new declaration: how close is the associate to an OCG (not through the officer)
            out += graph.paths_from(edge.v, k=k, want=graph.is_target, blocked=edge.u)
        else:
            out += graph.paths_through(edge.u, edge.v, k=k, source=want, target=graph.is_target)
    for target in graph.new_targets_for(event.id):
        for p in graph.paths_from(target, k=k, want=want):
            out.append(GraphPath(tuple(reversed(p.nodes))))
    return out


@register
class OcgPath(Detector):
    """A new link closes a short path (at most ``hops`` links) from a member of staff to an
    OCG nominal or group, and nothing explains it.

    Explained: a task assigned to the officer names a person on the path or the group; paths
    through a person the officer declared belong to ``association.declared_linked``. One
    alert per officer and OCG (the shortest path wins; ties broken by node ids), about each
    member of staff whose path closes, even when the event is about someone else (a
    ``person.link`` of a nominal closes paths for every officer near that nominal).
    """

    reads_graph = True  # judged by the graph agent, where the graph is
    id = "association.ocg_path"
    kinds = EDGE_KINDS
    category = Category.INAPPROPRIATE_ASSOCIATION
    description = "New link closes an undeclared, untasked short path from staff to an OCG."

    def __init__(self, *, hops: int = 3, score: float = 90.0, score_step: float = 10.0) -> None:
        self.hops = hops
        self.score = score
        self.score_step = score_step

    def evaluate(self, event: Event, view: StateView) -> list[Finding]:
        graph = view.graph
        if event.kind not in self.kinds or not isinstance(graph, AssociationGraph):
            return []
        best: dict[tuple[str, str], tuple[GraphPath, datetime]] = {}
        for path in _changed_paths(graph, event, k=self.hops, source="staff"):
            staff_id = ident(path.source)
            if not view.owns(staff_id) or self._nominal_call(graph, path):
                continue
            closed = closed_at(graph, path, graph.listed_since(path.target) or EPOCH)
            ref = view.ref.at(closed)  # judged as of when the path closed
            if _gone(ref, staff_id):
                continue
            persons = set(persons_on(path))
            groups = graph.groups_of(path.target)
            if persons & {f.value.person for f in ref.associations(staff_id)}:
                continue  # declared: association.declared_linked's concern
            if _task_explains(ref, staff_id, persons | set(groups)):
                continue
            for group in groups:
                old = best.get((staff_id, group))
                if old is None or (path.hops, path.nodes) < (old[0].hops, old[0].nodes):
                    best[(staff_id, group)] = (path, closed)
        return [
            self._finding(event, view.ref.at(closed), graph, staff_id, group, path, closed)
            for (staff_id, group), (path, closed) in sorted(best.items())
        ]

    @staticmethod
    def _nominal_call(graph: AssociationGraph, path: GraphPath) -> bool:
        first = {link.relation for link in graph.links(path.nodes[0], path.nodes[1])}
        return path.hops == 2 and first == {"called"} and path.target.startswith("person:")

    def _finding(
        self,
        event: Event,
        ref: ReferenceView,
        graph: AssociationGraph,
        staff_id: str,
        group: str,
        path: GraphPath,
        closed: datetime,
    ) -> Finding:
        hops = _path_hops(graph, path)
        steps = describe(graph, path)
        persons = persons_on(path)
        target = graph.label(path.target)
        severity: Severity = "high" if path.hops <= 2 else "medium"
        tasks = ref.tasks_of(staff_id)
        return self.finding(
            event,
            officer=staff_id,
            time=closed,
            severity=severity,
            score=self.score - self.score_step * (path.hops - 1),
            title=f"{staff_id} is {plural(path.hops, 'link')} from {group} ({target})",
            explanation=(
                f"{event.kind} {event.id} closed a path of {plural(path.hops, 'link')} (the limit "
                f"is {self.hops}) from {staff_id} to {target}"
                f"{'' if target == group else ', a nominal of ' + group}: "
                + "; then ".join(steps)
                + f". {staff_id} has declared no association with "
                f"{', '.join(persons) if persons else 'anyone on this path'}, and "
                + (
                    f"none of {staff_id}'s {plural(len(tasks), 'task')} names them or {group}."
                    if tasks
                    else f"no task assigned to {staff_id} names them or {group}."
                )
            ),
            evidence=[event.id, *evidence_of(graph, path)],
            subjects=persons,
            path=hops,
            dedup=f"ocg_path|{group}",
            facts={"hops": path.hops, "max_hops": self.hops, "group": group,
                   "target": ident(path.target), "trigger": event.id,
                   "closed": closed.isoformat()},
        )


@register
class NominalContact(Detector):
    """A call from a force phone to a number linked to an OCG nominal (``person.link``).

    Explained when a task assigned to the caller names the nominal or the group. A number on
    record (``person.link``) for more than ``max_persons`` people is a switchboard or a shared
    landline (a hostel, a hospital ward), not the nominal's own phone: calling it is not
    contact with the nominal, so it is skipped. Later calls to the same nominal within
    ``window_h`` hours are counted in state, not re-raised. Needs only reference data, so it
    works with or without the graph.
    """

    id = "association.nominal_contact"
    kinds = frozenset({"call.made"})
    category = Category.INAPPROPRIATE_ASSOCIATION
    description = "Call to a phone number linked to an OCG nominal, with no task for it."

    def __init__(
        self, *, score: float = 85.0, window_h: float = 7 * 24.0, max_persons: int = 8
    ) -> None:
        self.score = score
        self.window_h = window_h
        self.max_persons = max_persons

    def evaluate(self, event: Event, view: StateView) -> list[Finding]:
        officer, attrs = event.actor, event.attrs
        if event.kind not in self.kinds or officer is None or not isinstance(attrs, CallAttrs):
            return []
        if not attrs.number:
            return []
        linked = view.ref.persons_linked_to(attrs.number)
        if len(linked) > self.max_persons:
            return []  # a shared number (switchboard), not anyone's own phone
        last: dict[str, str] = view.state.setdefault("last_alert", {})
        out = []
        for person in sorted(linked):
            entry = view.ref.on_list(person, OCG_LIST)
            if entry is None:
                continue
            group = entry.group or person
            if _task_explains(view.ref, officer, {person, group}):
                continue
            previous = last.get(person)
            if previous and event.time - datetime.fromisoformat(previous) < timedelta(
                hours=self.window_h
            ):
                continue
            last[person] = event.time.isoformat()
            link_ids = [
                f.event_id for f in view.ref.links_of(person)
                if f.value.value and node("phone", f.value.value) == node("phone", attrs.number)
            ]
            declared = [f for f in view.ref.associations(officer) if f.value.person == person]
            out.append(
                self.finding(
                    event,
                    officer=officer,
                    severity="medium" if declared else "high",
                    score=self.score - (20 if declared else 0),
                    title=f"{officer} called a number linked to OCG nominal {person} ({group})",
                    explanation=(
                        f"{officer} called {attrs.number} from a force phone ({event.id}). "
                        f"That number is linked to {person} ({', '.join(link_ids)}), an OCG "
                        f"nominal of {group} (list entry {entry.event_id}). No task assigned "
                        f"to {officer} names {person} or {group}"
                        + (
                            f"; {officer} declared {person} ({declared[0].event_id})."
                            if declared
                            else f", and {officer} has declared no association with {person}."
                        )
                    ),
                    evidence=[event.id, *link_ids, entry.event_id],
                    subjects=[person],
                    facts={"number": attrs.number, "group": group, "declared": bool(declared)},
                )
            )
        return out


@register
class Convergence(Detector):
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
    """

    reads_graph = True  # judged by the graph agent, where the graph is
    id = "association.convergence"
    kinds = PERSON_RECORD_KINDS
    category = Category.INAPPROPRIATE_ASSOCIATION
    description = "Several untasked officers looking up the same OCG or its nominals."

    def __init__(
        self, *, min_officers: int = 3, window_h: float = 72.0, score: float = 75.0
    ) -> None:
        self.min_officers = min_officers
        self.window_h = window_h
        self.score = score

    def evaluate(self, event: Event, view: StateView) -> list[Finding]:
        graph, officer = view.graph, event.actor
        if event.kind not in self.kinds or officer is None:
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
            score=min(100.0, self.score + 5 * (len(officers) - self.min_officers)),
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


def _ordinal(n: int) -> str:
    """``3rd``.

    >>> _ordinal(1), _ordinal(2), _ordinal(3), _ordinal(4), _ordinal(11), _ordinal(22)
    ('1st', '2nd', '3rd', '4th', '11th', '22nd')
    """
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


@register
class DeclaredLinked(Detector):
    """A person a member of staff declared is themselves within ``hops`` links of an OCG
    (a nominal, or linked to one): the declaration was honest, but the association needs a
    vetting review.

    Not raised when a ``vetting.review.completed`` for that member of staff, on record when the
    declaration and the associate's path both stood, has an event time at or after both (the
    review could have weighed it). Raised as of when the declaration arrives, or when a later
    link, or a later listing, brings the associate near an OCG, whatever order the worker
    judges the events in. One alert per officer, associate and OCG.
    """

    reads_graph = True  # judged by the graph agent, where the graph is
    id = "association.declared_linked"
    kinds = EDGE_KINDS - PERSON_RECORD_KINDS - {"call.made"}
    category = Category.INAPPROPRIATE_ASSOCIATION
    description = "Declared associate linked to an OCG, with no vetting review since."

    def __init__(self, *, hops: int = 2, score: float = 60.0) -> None:
        self.hops = hops
        self.score = score

    def evaluate(self, event: Event, view: StateView) -> list[Finding]:
        graph = view.graph
        if event.kind not in self.kinds or not isinstance(graph, AssociationGraph):
            return []
        best: dict[tuple[str, str, str], tuple[GraphPath, str, datetime]] = {}
        for path in _changed_paths(graph, event, k=self.hops, source="declared"):
            if any(is_staff(n) for n in path.nodes):
                continue  # via a member of staff: that officer's own path, not the associate's
            person = ident(path.source)
            near = closed_at(graph, path, graph.listed_since(path.target) or EPOCH)
            for staff_node in graph.declarers(path.source):
                staff_id = ident(staff_node)
                if not view.owns(staff_id):
                    continue
                decl_link = next(
                    (x for x in graph.links(staff_node, path.source) if x.relation == "declared"),
                    None,
                )
                if decl_link is None:
                    continue
                since = max(near, decl_link.since)  # the declared associate is near an OCG
                ref = view.ref.at(since)  # judged as of then, whatever the arrival order
                declared = [f for f in ref.associations(staff_id) if f.value.person == person]
                if not declared or _gone(ref, staff_id):
                    continue
                if any(r.time >= since for r in ref.reviews_completed(staff_id)):
                    continue
                for group in graph.groups_of(path.target):
                    key = (staff_id, person, group)
                    old = best.get(key)
                    if old is None or (path.hops, path.nodes) < (old[0].hops, old[0].nodes):
                        best[key] = (path, declared[0].event_id, since)
        out = []
        for (staff_id, person, group), (path, decl_id, since) in sorted(best.items()):
            ref = view.ref.at(since)
            decl = next(f for f in ref.associations(staff_id) if f.event_id == decl_id)
            reviews = ref.reviews_completed(staff_id)
            last_review = max(reviews, key=lambda r: r.time) if reviews else None
            staff_hop = PathHop.model_validate(
                {"from": staff_id, "to": person, "relation": "declared", "evidence": [decl_id]}
            )
            how = (
                f"{person} is an OCG nominal of {group}"
                if path.hops == 0
                else f"{person} is {plural(path.hops, 'link')} from {group}: "
                + "; then ".join(describe(graph, path))
            )
            out.append(
                self.finding(
                    event,
                    officer=staff_id,
                    time=since,
                    severity="medium",
                    score=self.score + (10 if path.hops == 0 else 0),
                    title=f"{staff_id}'s declared associate {person} is linked to {group}",
                    explanation=(
                        f"{staff_id} declared {person}"
                        f"{' (' + decl.value.relationship + ')' if decl.value.relationship else ''}"
                        f" on {decl.time.date().isoformat()} ({decl_id}). {how}. "
                        + (
                            f"The last vetting review of {staff_id} ({last_review.event_id}, "
                            f"{last_review.time.date().isoformat()}) came before "
                            + ("the declaration" if last_review.time < decl.time else "this link")
                            if last_review
                            else f"No vetting review of {staff_id} has been completed"
                        )
                        + ". The declaration was honest; the association needs review."
                    ),
                    evidence=list(dict.fromkeys([event.id, decl_id, *evidence_of(graph, path)])),
                    subjects=[person],
                    path=[staff_hop, *_path_hops(graph, path)],
                    dedup=f"declared_linked|{person}|{group}",
                    facts={"hops": path.hops, "max_hops": self.hops, "group": group,
                           "declaration": decl_id,
                           "last_review": last_review.event_id if last_review else None},
                )
            )
        return out
