"""Scenarios of ``risk.accumulation``: smaller findings of several kinds adding up."""

from __future__ import annotations

from simulation import names
from simulation.scenarios._helpers import (
    FRONTLINE,
    new_listed,
    off_duty_moment,
    remote_session,
    working_day,
)
from simulation.scenarios.base import (
    CONDUCT,
    Label,
    scenario,
)
from simulation.world import Ev, World


@scenario("risk.accumulation", order=16)
def risk_accumulation(w: World) -> list[Label]:
    """Several smaller things from different categories within about ten days."""
    s = w.pick_officer(FRONTLINE)
    parts = w.rng.sample(("vip", "no_bwv", "message", "off_duty", "colleague"), k=4)
    lo = w.rng.uniform(0.2, 0.45)
    hi = lo + 10 / w.days
    evs: list[Ev] = []
    for part in parts:
        if part == "vip":
            for _ in range(w.rng.randint(1, 2)):
                p = new_listed(w, "vip", w.rng.choice(names.VIP_GROUPS))
                evs.append(w.view(w.during_shift(s, working_day(w, s, lo, hi)), s, p))
        elif part == "no_bwv":
            evs += w.stop(
                w.during_shift(s, working_day(w, s, lo, hi)), s, w.new_person(), bwv=False
            )
        elif part == "message":
            _cat, text = w.rng.choice(names.DISCRIMINATORY_TEXTS)
            evs.append(
                w.message(
                    w.during_shift(s, working_day(w, s, lo, hi)),
                    s,
                    text.format(station=s.station),
                    [w.rng.choice(w.staff).id],
                )
            )
        elif part == "colleague":
            c = w.rng.choice([x for x in w.staff if x.id != s.id and x.left_day is None])
            p = w.new_person(name=c.name, dob=c.dob, address=c.address)
            evs.append(w.view(w.during_shift(s, working_day(w, s, lo, hi)), s, p, contact=True))
        else:
            evs += remote_session(w, s, off_duty_moment(w, s, lo, hi))
    also = {
        "vip": ["access.vip_browsing", "access.no_purpose"],
        "no_bwv": ["field.no_bwv"],
        "message": ["conduct.discriminatory_message"],
        "off_duty": ["access.off_duty"],
        "colleague": ["access.self_family_colleague", "access.no_purpose"],
    }
    return [
        Label(
            "risk_accumulation",
            CONDUCT,
            [s.id],
            evs,
            also=sorted({d for part in parts for d in also[part]}),
            note="components: " + ", ".join(parts),
        )
    ]
