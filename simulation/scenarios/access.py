"""Scenarios and look-alikes of the ``access.*`` detectors: who opens which records, when,
with what purpose, and how much."""

from __future__ import annotations

from datetime import timedelta

from simulation import names
from simulation.scenarios._helpers import (
    FRONTLINE,
    LOOKERS,
    new_listed,
    off_duty_moment,
    remote_session,
    working_day,
)
from simulation.scenarios.base import (
    DISCLOSURE,
    MISUSE,
    SEXUAL,
    Label,
    lookalike,
    scenario,
)
from simulation.world import Ev, World


def _self_family_colleague(w: World, variant: str | None = None) -> list[Label]:
    s = w.pick_officer(LOOKERS)
    variant = variant or w.rng.choice(("self", "family", "colleague"))
    before = w.start - timedelta(days=w.rng.randint(40, 400))
    if variant == "self":
        p = w.new_person(name=s.name, dob=s.dob, address=s.address, phone=s.phone, when=before)
    elif variant == "family":
        p = w.new_person(
            name=f"{w.name().split()[0]} {s.name.split(' ', 1)[1]}", address=s.address, when=before
        )
    else:
        c = w.rng.choice([x for x in w.staff if x.id != s.id and x.left_day is None])
        p = w.new_person(name=c.name, dob=c.dob, address=c.address, when=before)
    day = working_day(w, s)
    evs = w.lookup(w.during_shift(s, day), s, p, contact=w.rng.random() < 0.6)
    if w.rng.random() < 0.5:
        evs.append(w.view(w.during_shift(s, working_day(w, s)), s, p, contact=True))
    return [
        Label(
            f"self_family_colleague:{variant}",
            MISUSE,
            [s.id],
            evs,
            also=["access.no_purpose"],
            note=f"subject is the officer's {variant}"
            if variant != "colleague"
            else "subject is a colleague's person record",
        )
    ]


@scenario("access.canary", order=1)
def canary(w: World) -> list[Label]:
    s = w.pick_officer(LOOKERS)
    p = w.rng.choice(w.canaries)
    t = w.during_shift(s, working_day(w, s))
    evs = w.lookup(t, s, p, contact=w.rng.random() < 0.5)
    return [Label("canary", MISUSE, [s.id], evs, also=["access.no_purpose"])]


@scenario("access.covert_unauthorised", order=2)
def covert_unauthorised(w: World) -> list[Label]:
    s = w.pick_officer(LOOKERS)
    p, op, _auth = w.rng.choice(w.covert)
    t = w.during_shift(s, working_day(w, s))
    ev = w.emit(t, "intel", "record.view", actor=s.id,
                record={"type": "intelligence", "id": f"INT-{op}-{w.rng.randint(100, 999)}"},
                subjects=[p.id], purpose=None, terminal=w.terminal(s),
                attrs={"fields": ["intelligence"]})  # fmt: skip
    return [
        Label(
            "covert_unauthorised",
            DISCLOSURE,
            [s.id],
            [ev],
            also=["access.no_purpose"],
        )
    ]


@scenario("access.no_purpose", order=4)
def no_purpose_repeat(w: World) -> list[Label]:
    """An ordinary person (a neighbour, an ex) opened again and again, contact details too."""
    s = w.pick_officer(LOOKERS)
    p = w.new_person()
    # within two weeks and a day, as access.no_purpose judges them (a 21-day force's whole
    # range after day 6; a longer force's would spread them over weeks)
    first = int(w.days * 0.3)
    span = w.working_days(s, first, first + 15)
    days = sorted(w.rng.sample(span or [w.days - 1], k=min(3, len(span) or 1)))
    evs: list[Ev] = []
    for i in range(w.rng.randint(4, 8)):
        t = w.during_shift(s, days[i % len(days)])
        evs.append(w.view(t, s, p, contact=w.rng.random() < 0.7))
    return [Label("no_purpose_repeat", MISUSE, [s.id], evs)]


@scenario("access.self_family_colleague", order=5)
def self_or_family(w: World) -> list[Label]:
    return _self_family_colleague(w, w.rng.choice(("self", "family")))


@scenario("access.self_family_colleague", order=6)
def colleague_record(w: World) -> list[Label]:
    return _self_family_colleague(w, "colleague")


@scenario("access.vip_browsing", order=7)
def vip_browsing(w: World) -> list[Label]:
    s = w.pick_officer(LOOKERS)
    vips = [
        new_listed(w, "vip", w.rng.choice(names.VIP_GROUPS)) for _ in range(w.rng.randint(1, 3))
    ]
    evs: list[Ev] = []
    for p in vips:
        t = w.during_shift(s, working_day(w, s))
        evs += w.lookup(t, s, p) if w.rng.random() < 0.6 else [w.view(t, s, p)]
    return [Label("vip_browsing", MISUSE, [s.id], evs, also=["access.no_purpose"])]


@scenario("access.vulnerable_victim", order=8)
def vulnerable_victim(w: World) -> list[Label]:
    """Views of a victim's record with no task, contact details, then a call to their phone."""
    s = w.pick_officer(LOOKERS)
    v = new_listed(w, "vulnerable_victim", w.rng.choice(names.VULNERABLE_GROUPS))
    days = w.working_days(s, int(w.days * 0.3)) or w.working_days(s)
    first = w.rng.randrange(len(days)) if len(days) < 3 else w.rng.randrange(len(days) - 2)
    chosen = days[first : first + w.rng.randint(2, 3)]
    evs: list[Ev] = []
    for i in range(w.rng.randint(3, 6)):
        t = w.during_shift(s, chosen[i % len(chosen)], w.rng.uniform(0.5, 0.95))
        evs.append(w.view(t, s, v, contact=i > 0 or w.rng.random() < 0.5))
    last = max(e["time"] for e in evs)
    if w.rng.random() < 0.75 and v.phone:
        evs.append(w.call(last + timedelta(minutes=w.rng.randint(20, 300)), s, v.phone))
    else:
        evs.append(
            w.emit(
                last + timedelta(minutes=w.rng.randint(20, 300)),
                "sms",
                "message.sent",
                actor=s.id,
                attrs={
                    "channel": "sms",
                    "to": [v.phone or ""],
                    "text": "Hi, it's the officer from the other day. Just checking you're ok x",
                },
            )
        )
    return [
        Label(
            "vulnerable_victim",
            SEXUAL,
            [s.id],
            evs,
            also=["access.no_purpose", "access.off_duty"],
        )
    ]


@scenario("access.volume_anomaly", order=9)
def volume_anomaly(w: World) -> list[Label]:
    """One shift with many times this officer's (and their peers') usual look-ups."""
    s = w.pick_officer(FRONTLINE)
    days = w.working_days(s, int(w.days * 0.6)) or w.working_days(s)
    day = days[-1]
    n = round(s.baseline * w.rng.uniform(6, 12)) + w.rng.randint(20, 60)
    evs: list[Ev] = []
    for _ in range(n // 2):
        p = w.rng.choice(w.ordinary)
        evs += w.lookup(w.during_shift(s, day, w.rng.uniform(0.05, 0.95)), s, p)
    return [
        Label(
            "volume_anomaly",
            MISUSE,
            [s.id],
            evs,
            also=["access.no_purpose", "access.bulk_exfiltration"],
            note=f"{len(evs)} look-ups in one shift; habitual ~{s.baseline:.0f}",
        )
    ]


@scenario("access.bulk_exfiltration", order=10)
def bulk_exfiltration(w: World) -> list[Label]:
    """A burst of look-ups, then a USB stick or a personal mailbox takes the data out."""
    s = w.pick_officer(("cid", "intel", "response", "control_room"))
    day = working_day(w, s, 0.5)
    t = w.during_shift(s, day, w.rng.uniform(0.2, 0.5))
    n = w.rng.randint(40, 90)
    evs: list[Ev] = []
    span = w.rng.randint(45, 120)
    for i in range(n):
        p = w.rng.choice(w.ordinary)
        evs.append(
            w.view(
                t + timedelta(seconds=round(span * 60 * i / n)), s, p, contact=w.rng.random() < 0.6
            )
        )
    out = t + timedelta(minutes=span + w.rng.randint(5, 60))
    channel = w.rng.choice(("usb", "email", "download"))
    if channel == "usb":
        dev = f"USB-{w.rng.randint(1000, 9999)}"
        evs.append(
            w.emit(
                out - timedelta(minutes=2),
                "endpoint",
                "device.connected",
                actor=s.id,
                terminal=w.terminal(s),
                attrs={"device_type": "usb_storage", "device_id": dev},
            )
        )
        dest = dev
    else:
        dest = (
            f"{s.name.split()[0].lower()}{w.rng.randint(10, 99)}@gmail.com"
            if channel == "email"
            else "Downloads/export.csv"
        )
    evs.append(
        w.emit(
            out,
            "athena",
            "record.export",
            actor=s.id,
            record={"type": "person", "id": "bulk"},
            purpose=None,
            terminal=w.terminal(s),
            attrs={"channel": channel, "count": n, "destination": dest},
        )
    )
    if channel == "usb":
        evs.append(
            w.emit(
                out + timedelta(minutes=1),
                "endpoint",
                "file.copied",
                actor=s.id,
                terminal=w.terminal(s),
                attrs={
                    "path": "C:/Users/export.csv",
                    "destination": "removable",
                    "bytes": n * 2400,
                },
            )
        )
    return [
        Label(
            "bulk_exfiltration",
            DISCLOSURE,
            [s.id],
            evs,
            also=["access.volume_anomaly", "access.no_purpose"],
            note=f"{n} views in {span} min, then {channel} export",
        )
    ]


@scenario("access.off_duty", order=11)
def off_duty(w: World) -> list[Label]:
    s = w.pick_officer(LOOKERS)
    evs = remote_session(w, s, off_duty_moment(w, s))
    return [
        Label(
            "off_duty",
            MISUSE,
            [s.id],
            evs,
            also=["access.no_purpose"],
            note="rest day or small hours, remote terminal",
        )
    ]


@scenario("access.complainant_lookup", order=12)
def complainant_lookup(w: World) -> list[Label]:
    s = w.pick_officer(FRONTLINE)
    p = w.new_person()
    logged = w.at(w.rng.randint(-20, max(1, w.days // 3)), w.rng.uniform(9, 16))
    c = w.emit(logged, "psd", "complaint.logged", attrs={
        "staff_id": s.id, "complaint": w.ref("CO"), "complainant": p.id,
        "category": w.rng.choice(("incivility", "use_of_force", "other")),
    })  # fmt: skip
    day = working_day(w, s, 0.4)
    evs = w.lookup(w.during_shift(s, day), s, p, contact=w.rng.random() < 0.7)
    return [
        Label(
            "complainant_lookup",
            MISUSE,
            [s.id],
            [c, *evs],
            also=["access.no_purpose"],
        )
    ]


@lookalike("access.vip_browsing", "access.no_purpose", order=1)
def la_vip_with_task(w: World) -> list[Label]:
    s = w.pick_officer(FRONTLINE)
    p = new_listed(w, "vip", w.rng.choice(names.VIP_GROUPS))
    day = working_day(w, s)
    t = w.during_shift(s, day, 0.2)
    ref = w.ref("INC")
    task = w.task(t, ref, [s], [p])
    evs = [
        task,
        *w.lookup(t + timedelta(minutes=15), s, p, purpose=ref, contact=True),
        w.view(t + timedelta(hours=2), s, p, purpose=None),
    ]
    return [
        Label(
            "vip_with_task",
            MISUSE,
            [s.id],
            evs,
            note="VIP reported a burglary; officer tasked",
        )
    ]


@lookalike("access.vulnerable_victim", "access.no_purpose", order=2)
def la_da_job(w: World) -> list[Label]:
    s = w.pick_officer(FRONTLINE)
    v = new_listed(w, "vulnerable_victim", "domestic_abuse")
    days = w.working_days(s, int(w.days * 0.3))[:2] or w.working_days(s)[:2]
    ref = w.ref("INC")
    t0 = w.during_shift(s, days[0], 0.1)
    evs = [w.task(t0, ref, [s], [v])]
    for i, d in enumerate(days * 2):
        evs.append(
            w.view(
                w.during_shift(s, d, 0.2 + 0.3 * (i // len(days))),
                s,
                v,
                purpose=ref if i % 2 == 0 else None,
                contact=True,
            )
        )
    assert v.phone
    evs.append(w.call(w.during_shift(s, days[-1], 0.9), s, v.phone))
    return [
        Label(
            "da_job_with_calls",
            SEXUAL,
            [s.id],
            evs,
            note="assigned domestic-abuse job, victim called",
        )
    ]


@lookalike("access.off_duty", order=3)
def la_night_worker(w: World) -> list[Label]:
    pool = [
        s
        for s in w.officers(("response", "control_room"))
        if any(w.shift_letter(s, d) == "N" for d in range(w.days - 1))
    ]
    s = w.rng.choice(pool) if pool else w.pick_officer()
    w.reserved.add(s.id)
    nights = [d for d in range(w.days - 1) if w.shift_letter(s, d) == "N"] or [0]
    d = w.rng.choice(nights)
    t = w.at(d + 1, 3 + w.rng.random() * 0.9)
    evs = [w.view(t, s, w.rng.choice(w.ordinary))]
    evs += w.lookup(t + timedelta(minutes=6), s, w.rng.choice(w.ordinary), purpose=w.ref("CAD"))
    return [
        Label(
            "night_worker",
            MISUSE,
            [s.id],
            evs,
            note="on a rostered night shift at 3 a.m.",
        )
    ]


@lookalike("access.self_family_colleague", "access.no_purpose", order=10)
def la_colleague_victim_tasked(w: World) -> list[Label]:
    """A member of staff is the victim of a burglary; the officer sent to it opens their record."""
    s = w.pick_officer(FRONTLINE)
    victim = w.pick_officer()
    p = w.new_person(
        name=victim.name,
        dob=victim.dob,
        address=victim.address,
        phone=victim.phone,
        when=w.start - timedelta(days=w.rng.randint(30, 300)),
    )
    day = working_day(w, s)
    t = w.during_shift(s, day, 0.2)
    ref = w.ref("INC")
    evs = [
        w.task(t, ref, [s], [p]),
        *w.lookup(t + timedelta(minutes=20), s, p, purpose=ref, contact=True),
    ]
    return [
        Label(
            "colleague_victim_tasked",
            MISUSE,
            [s.id],
            evs,
            note=f"{s.id} tasked to a crime against colleague {victim.id}",
        )
    ]
