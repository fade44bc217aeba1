"""Scenarios and look-alikes of the ``conduct.*`` detectors: complaints and messages."""

from __future__ import annotations

from datetime import timedelta

from simulation import names
from simulation.scenarios._helpers import (
    FRONTLINE,
    working_day,
)
from simulation.scenarios.base import (
    CONDUCT,
    DISCRIMINATION,
    Label,
    lookalike,
    scenario,
)
from simulation.world import World


@scenario("conduct.complaint_pattern", order=22)
def complaint_pattern(w: World) -> list[Label]:
    s = w.pick_officer(FRONTLINE)
    cats = ["sexual_misconduct", "abuse_of_position", "use_of_force", "incivility"]
    k = w.rng.randint(3, 4)
    chosen = [w.rng.choice(cats[:2])] + [w.rng.choice(cats) for _ in range(k - 1)]
    offsets = sorted(w.rng.sample(range(-330, w.days - 1), k=k))
    evs = [w.emit(w.at(d, w.rng.uniform(9, 17)), "psd", "complaint.logged", attrs={
        "staff_id": s.id, "complaint": w.ref("CO"), "complainant": w.new_person().id,
        "category": cat}) for d, cat in zip(offsets, chosen, strict=True)]  # fmt: skip
    return [
        Label(
            "complaint_pattern",
            CONDUCT,
            [s.id],
            evs,
            end=w.end,
            note="complaints: " + ", ".join(chosen),
        )
    ]


@scenario("conduct.discrimination_not_referred", order=23)
def discrimination_not_referred(w: World) -> list[Label]:
    s = w.pick_officer()
    t = w.start - timedelta(days=w.rng.randint(30, 45))
    ev = w.emit(
        t,
        "psd",
        "complaint.logged",
        attrs={
            "staff_id": s.id,
            "complaint": w.ref("CO"),
            "complainant": w.new_person().id,
            "category": "discrimination",
        },
    )
    return [
        Label(
            "discrimination_not_referred",
            DISCRIMINATION,
            [s.id],
            [ev],
            end=w.end,
        )
    ]


@scenario("conduct.discriminatory_message", order=24)
def discriminatory_message(w: World) -> list[Label]:
    s = w.pick_officer()
    evs = []
    for _cat, text in w.rng.sample(names.DISCRIMINATORY_TEXTS, k=w.rng.randint(1, 2)):
        to = [x.id for x in w.rng.sample(w.staff, k=w.rng.randint(1, 3))]
        evs.append(
            w.message(
                w.during_shift(s, working_day(w, s, 0.1)),
                s,
                text.format(station=s.station),
                to,
                channel=w.rng.choice(("teams", "email")),
            )
        )
    return [
        Label(
            "discriminatory_message",
            DISCRIMINATION,
            [s.id],
            evs,
        )
    ]


@lookalike("conduct.discriminatory_message", order=6)
def la_quoted_slur(w: World) -> list[Label]:
    s = w.pick_officer(("cid", "response"))
    text = w.rng.choice(names.QUOTED_STATEMENT_TEXTS).format(ref=w.ref("CRIME"))
    ev = w.message(w.during_shift(s, working_day(w, s)), s, text, ["cps-casework"], channel="email")
    return [
        Label(
            "quoted_slur_in_statement",
            DISCRIMINATION,
            [s.id],
            [ev],
        )
    ]


@lookalike("conduct.discrimination_not_referred", order=13)
def la_discrimination_referred(w: World) -> list[Label]:
    s = w.pick_officer()
    t = w.start - timedelta(days=w.rng.randint(20, 40))
    co = w.ref("CO")
    a = w.emit(
        t,
        "psd",
        "complaint.logged",
        attrs={
            "staff_id": s.id,
            "complaint": co,
            "complainant": w.new_person().id,
            "category": "discrimination",
        },
    )
    b = w.emit(
        t + timedelta(days=w.rng.randint(1, 5)),
        "psd",
        "complaint.referred",
        attrs={"staff_id": s.id, "complaint": co, "body": "IOPC"},
    )
    return [
        Label(
            "discrimination_referred",
            DISCRIMINATION,
            [s.id],
            [a, b],
            end=w.end,
        )
    ]
