"""Scenarios and look-alikes of the ``field.*`` detectors: stops, force and body-worn video."""

from __future__ import annotations

from datetime import timedelta

from simulation.scenarios._helpers import (
    FRONTLINE,
    working_day,
)
from simulation.scenarios.base import (
    CONDUCT,
    EVIDENCE,
    Label,
    lookalike,
    scenario,
)
from simulation.world import Ev, World


@scenario("field.repeat_stop", order=13)
def repeat_stop(w: World) -> list[Label]:
    s = w.pick_officer(FRONTLINE)
    p = w.new_person()
    days = w.working_days(s)
    chosen = sorted(w.rng.sample(days, k=min(len(days), w.rng.randint(3, 6))))
    evs: list[Ev] = []
    for d in chosen:
        evs += [e for e in w.stop(w.during_shift(s, d), s, p) if e["kind"] != "bwv.activated"]
    return [
        Label(
            "repeat_stop",
            CONDUCT,
            [s.id],
            evs,
            note=f"{len(evs)} stops of {p.id}, no operation",
        )
    ]


@scenario("field.no_bwv", order=14)
def no_bwv(w: World) -> list[Label]:
    s = w.pick_officer(FRONTLINE)
    p = w.new_person()
    t = w.during_shift(s, working_day(w, s))
    if w.rng.random() < 0.5:
        evs = w.stop(t, s, p, bwv=False)
    else:
        evs = [
            w.emit(
                t,
                "stopsearch",
                "use_of_force.recorded",
                actor=s.id,
                subjects=[p.id],
                attrs={"bwv": False},
            )
        ]
    return [Label("no_bwv", EVIDENCE, [s.id], evs)]


@scenario("field.bwv_deleted", order=15)
def bwv_deleted(w: World) -> list[Label]:
    s = w.pick_officer(FRONTLINE)
    p = w.new_person()
    day = working_day(w, s)
    t = w.during_shift(s, day, w.rng.uniform(0.1, 0.5))
    stop = w.stop(t, s, p)
    uof = w.emit(
        t + timedelta(minutes=3),
        "stopsearch",
        "use_of_force.recorded",
        actor=s.id,
        subjects=[p.id],
        attrs={"bwv": True},
    )
    footage = f"BWV-{s.id}-{day:03d}"
    later = w.during_shift(s, day, 0.9)
    gone = w.emit(
        later,
        "bwv",
        "bwv.footage.deleted",
        actor=s.id,
        record={"type": "bwv_footage", "id": footage},
        subjects=[p.id],
        terminal=w.terminal(s),
        attrs={"recorded_by": s.id},
    )
    return [Label("bwv_deleted", EVIDENCE, [s.id], [*stop, uof, gone])]


@lookalike("field.repeat_stop", order=14)
def la_stops_under_operation(w: World) -> list[Label]:
    s = w.pick_officer(FRONTLINE)
    p = w.new_person()
    op = f"OP-{w.rng.choice(('NIGHTJAR', 'SCEPTRE', 'TRIDENT'))}"
    days = w.working_days(s)
    evs: list[Ev] = []
    for d in sorted(w.rng.sample(days, k=min(len(days), 4))):
        evs += w.stop(w.during_shift(s, d), s, p, operation=op)
    return [
        Label(
            "stops_under_operation",
            CONDUCT,
            [s.id],
            evs,
            note=f"repeat stops of a named target under {op}",
        )
    ]


@lookalike("field.bwv_deleted", "access.off_duty", order=15)
def la_retention_job(w: World) -> list[Label]:
    evs = []
    n = 0
    for day in range(w.days):
        for _ in range(w.rng.randint(1, 4)):
            n += 1
            evs.append(
                w.emit(
                    w.at(day, 2 + w.rng.random()),
                    "bwv",
                    "bwv.footage.deleted",
                    actor="SVC-BWV-RETENTION",
                    record={"type": "bwv_footage", "id": f"BWV-OLD-{n:05d}"},
                )
            )
    return [
        Label(
            "retention_job",
            EVIDENCE,
            ["SVC-BWV-RETENTION"],
            evs,
            note="nightly footage retention by a system account",
        )
    ]
