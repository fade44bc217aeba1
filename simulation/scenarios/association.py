"""Scenarios and look-alikes of the ``association.*`` detectors: paths to organised crime
in the association graph, contact with nominals, convergence, declared associations."""

from __future__ import annotations

from datetime import timedelta

from simulation.benign import HISTORY_DAYS
from simulation.scenarios._helpers import (
    FRONTLINE,
    LOOKERS,
    new_nominal,
    working_day,
)
from simulation.scenarios.base import (
    ASSOCIATION,
    Label,
    lookalike,
    scenario,
)
from simulation.world import Ev, Staff, World


@scenario("association.ocg_path", order=25)
def ocg_path(w: World) -> list[Label]:
    s = w.pick_officer()
    nominal, group = new_nominal(w)
    t = w.at(w.rng.randint(1, w.days - 2), w.rng.uniform(8, 20))
    if w.rng.random() < 0.5:
        ev = w.link(nominal, "address", s.address, t)  # a nominal moves in at the officer's
        hops, via = 2, "address"
        evs = [ev]
    else:
        relative = w.new_person(address=s.address, when=w.start - timedelta(days=200))
        ev = w.link(relative, "person", nominal.id, t)  # an undeclared relative joins the OCG
        hops, via = 3, "relative"
        evs = [ev]
    mates = f"lives with {s.id}, a {hops}-hop path to {nominal.id} ({group}) through their home"
    return [
        Label(
            f"ocg_path:{via}",
            ASSOCIATION,
            [s.id],
            evs,
            also=["association.declared_linked"],
            end=w.end,
            note=f"{hops}-hop path to {nominal.id} ({group})",
        ),
        *_housemates_now_linked(w, s, evs, mates),
    ]


@scenario("association.nominal_contact", order=26)
def nominal_contact(w: World) -> list[Label]:
    s = w.pick_officer(("response", "neighbourhood", "custody", "control_room", "staff_support"))
    nominal, group = new_nominal(w)
    assert nominal.phone
    evs = []
    for _ in range(w.rng.randint(1, 3)):
        evs.append(w.call(w.during_shift(s, working_day(w, s)), s, nominal.phone))
    return [
        Label(
            "nominal_contact",
            ASSOCIATION,
            [s.id],
            evs,
            also=["association.ocg_path"],
            note=f"calls to {nominal.id} ({group})",
        )
    ]


@scenario("association.convergence", order=27)
def convergence(w: World) -> list[Label]:
    officers = [w.pick_officer(LOOKERS) for _ in range(w.rng.randint(3, 4))]
    group = w.rng.choice(sorted(w.nominals))
    targets = []
    for _ in range(2):
        p = w.new_person()
        w.watch(w.start - timedelta(days=HISTORY_DAYS), "ocg_nominal", p, group=group)
        targets.append(p)
    centre = w.at(w.rng.randint(max(2, w.days // 3), w.days - 2), w.rng.uniform(0, 24))
    half = timedelta(hours=w.rng.uniform(12, 24))  # all within a day or two of each other
    evs = []
    for s in officers:
        d0 = (centre - w.start).days
        spans = [sh for d in (d0 - 1, d0, d0 + 1) if 0 <= d < w.days and (sh := w.shift(s, d))]
        spans = [(max(a, centre - half), min(b, centre + half)) for a, b in spans]
        spans = [(a, b) for a, b in spans if a < b]
        if spans:
            a, b = w.rng.choice(spans)
            evs.append(w.view(a + (b - a) * w.rng.uniform(0.1, 0.9), s, w.rng.choice(targets)))
        else:  # not working near the time: they look from home, which is worse
            t = centre + half * w.rng.uniform(-0.9, 0.9)
            evs.append(w.view(t, s, w.rng.choice(targets), terminal="REMOTE-VPN-31"))
    return [
        Label(
            "convergence",
            ASSOCIATION,
            [s.id for s in officers],
            evs,
            also=["access.no_purpose", "access.off_duty"],
            note=f"{len(officers)} officers, nominals of {group}, no task",
        )
    ]


@scenario("association.declared_linked", order=28)
def declared_linked(w: World) -> list[Label]:
    s = w.pick_officer()
    nominal, group = new_nominal(w)
    friend = w.new_person()
    link = w.link(friend, "person", nominal.id, w.start - timedelta(days=w.rng.randint(30, 300)))
    t = w.at(w.rng.randint(1, w.days - 2), w.rng.uniform(9, 16))
    decl = w.emit(t, "hr", "association.declared", attrs={
        "staff_id": s.id, "person": friend.id,
        "relationship": w.rng.choice(("partner", "friend", "brother-in-law", "cousin")),
    })  # fmt: skip
    return [
        Label(
            "declared_linked",
            ASSOCIATION,
            [s.id],
            [decl, link],
            start=t,
            end=w.end,
            also=["association.ocg_path"],
            note=f"declared {friend.id} is linked to {nominal.id} ({group})",
        )
    ]


@lookalike("association.ocg_path", "association.declared_linked", order=7)
def la_declared_reviewed_partner(w: World) -> list[Label]:
    """A partner with a brother in an OCG, declared and reviewed; during the period the
    partner moves in with the officer, closing a short path that the declaration explains."""
    s = w.pick_officer()
    nominal, _group = new_nominal(w, w.start - timedelta(days=300))
    partner = w.new_person(when=w.start - timedelta(days=400))
    link = w.link(partner, "person", nominal.id, w.start - timedelta(days=250))
    # the vetting unit reviews the declaration and records both at once, review first
    when = w.start - timedelta(days=w.rng.randint(90, 150))
    review = w.emit(when, "vetting", "vetting.review.completed",
                    attrs={"staff_id": s.id, "case": f"ASSOC-{s.id}"})  # fmt: skip
    declared = {"staff_id": s.id, "person": partner.id, "relationship": "partner"}
    decl = w.emit(when, "hr", "association.declared", attrs=declared)
    moved = w.link(partner, "address", s.address,
                   w.at(w.rng.randint(1, w.days - 2), w.rng.uniform(9, 18)))  # fmt: skip
    return [
        Label(
            "declared_reviewed_partner",
            ASSOCIATION,
            [s.id],
            [link, review, decl, moved],
            end=w.end,
            note="declared, reviewed partner (linked to a nominal) moves in with the officer",
        ),
        *_housemates_now_linked(
            w, s, [link, moved], kind="housemate_of_declared_partner",
            note=f"lives with {s.id}, whose declared partner (linked to a nominal) moved in",
        ),
    ]


def _housemates_now_linked(
    w: World, s: Staff, evidence: list[Ev], note: str, kind: str = "housemate_on_ocg_path"
) -> list[Label]:
    """Colleagues who share ``s``'s address (couples of staff live together) are on the same
    short path to an OCG nominal as ``s`` once ``evidence``'s last event closes it through
    that address, and *they* declared nothing either. When ``s`` is a look-alike (a declared,
    reviewed partner moves in), the declaration and its review cover ``s`` only: the
    housemate now lives with a person linked to a nominal, a change of circumstances vetting
    needs to hear of. Either way the alert about them is right: an incidental label, true
    and not scored for recall."""
    closed = evidence[-1]["time"]
    day = (closed - w.start).days
    return [
        Label(
            kind, ASSOCIATION, [o.id], evidence, start=closed, end=w.end,
            detectors=["association.ocg_path"], incidental=True, note=note,
        )
        for o in w.staff
        if o is not s and o.address == s.address and o.serving(day)
    ]  # fmt: skip


@lookalike(
    "association.ocg_path",
    "association.nominal_contact",
    "association.convergence",
    "access.no_purpose",
    order=8,
)
def la_cid_tasked_ocg(w: World) -> list[Label]:
    s = w.pick_officer(("cid",))
    mate = w.pick_officer(("cid", "intel"))
    group = w.rng.choice(sorted(w.nominals))
    targets = []
    for _ in range(2):
        p = w.new_person()
        w.watch(w.start - timedelta(days=HISTORY_DAYS), "ocg_nominal", p, group=group)
        targets.append(p)
    day = working_day(w, s, 0.2, 0.5)
    t = w.during_shift(s, day, 0.1)
    ref = f"OP-{group.split('-')[1]}-{w.rng.randint(10, 99)}"
    evs = [w.task(t, ref, [s, mate], targets)]
    for p in targets:
        evs += w.lookup(
            t + timedelta(minutes=w.rng.randint(10, 200)), s, p, purpose=ref, contact=True
        )
        mate_shift = w.shift(mate, day)
        if mate_shift and mate_shift[0] <= t + timedelta(hours=1) < mate_shift[1]:
            evs.append(w.view(t + timedelta(hours=1), mate, p, purpose=ref))
    assert targets[0].phone
    evs.append(w.call(w.during_shift(s, day, 0.8), s, targets[0].phone))
    return [
        Label(
            "cid_tasked_to_ocg",
            ASSOCIATION,
            [s.id, mate.id],
            evs,
            note=f"CID tasked to {group} ({ref})",
        )
    ]


@lookalike("association.ocg_path", order=9)
def la_path_too_long(w: World) -> list[Label]:
    s = w.pick_officer()
    nominal, _group = new_nominal(w)
    relative = w.new_person(address=s.address, when=w.start - timedelta(days=300))
    friend = w.new_person()
    a = w.link(friend, "person", relative.id, w.start - timedelta(days=100))
    b = w.link(friend, "person", nominal.id, w.at(w.rng.randint(1, w.days - 2), 12))
    return [
        Label(
            "path_longer_than_k",
            ASSOCIATION,
            [s.id],
            [a, b],
            end=w.end,
            note="officer-address-relative-friend-nominal",
        )
    ]


@lookalike("association.nominal_contact", "association.ocg_path", order=11)
def la_hostel_switchboard(w: World) -> list[Label]:
    """A hostel's landline is on record for dozens of residents, one of them an OCG nominal;
    officers ring it on welfare checks. A hub, not an association."""
    address = w.address()
    phone = f"+441905{w.rng.randint(100000, 999999)}"
    since = w.start - timedelta(days=w.rng.randint(60, 300))
    for _ in range(w.rng.randint(25, 40)):
        w.new_person(
            address=address, phone=phone, when=since + timedelta(days=w.rng.randint(0, 50))
        )
    nominal = w.new_person(address=address, phone=phone, when=since)
    w.watch(since, "ocg_nominal", nominal, group=w.rng.choice(sorted(w.nominals)))
    callers = [w.pick_officer(FRONTLINE) for _ in range(w.rng.randint(3, 5))]
    evs = [w.call(w.during_shift(s, working_day(w, s, 0.1)), s, phone) for s in callers]
    return [
        Label(
            "hostel_switchboard",
            ASSOCIATION,
            [s.id for s in callers],
            evs,
            note=f"hostel landline {phone} shared by every resident",
        )
    ]
