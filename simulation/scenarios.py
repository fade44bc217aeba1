"""Injected misconduct (scenarios) and the legitimate cases that look like it (look-alikes).

Each function writes the behaviour into the :class:`~simulation.world.World` as events and
returns a :class:`Label` naming the officers, the detectors expected to find it, the category,
the time window and the evidence events. Counts, days, hours and variants come from the
world's random generator, so they change with the seed: detectors must find the behaviour,
not a number. Subjects of scenarios are fresh people, so benign tasks never explain them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from simulation import names
from simulation.benign import HISTORY_DAYS
from simulation.world import Ev, Person, Staff, World, stamp


@dataclass
class Label:
    """One injected scenario (or look-alike): who, what should find it, when, which events."""

    kind: str
    detectors: list[str]
    category: str
    officers: list[str]
    evidence: list[Ev]
    start: datetime | None = None
    end: datetime | None = None
    also: list[str] = field(default_factory=list)  # other detectors that would rightly fire
    legitimate: bool = False  # a look-alike: ``detectors`` are the ones that must NOT fire
    note: str = ""
    id: str = ""

    def window(self, w: World, grace: timedelta = timedelta(days=2)) -> tuple[datetime, datetime]:
        """From the first evidence event (or ``start``) to the last plus ``grace`` (or ``end``).
        Call before :meth:`World.finish`, while event times are still datetimes."""
        times = [e["time"] for e in self.evidence]
        start = self.start or (min(times) if times else w.start)
        end = self.end or ((max(times) + grace) if times else w.end)
        return start, end

    def to_json(self, window: tuple[datetime, datetime]) -> dict[str, Any]:
        return {
            "id": self.id, "kind": self.kind, "legitimate": self.legitimate,
            "detectors": self.detectors, "also": self.also, "category": self.category,
            "officers": self.officers,
            "window": {"start": stamp(window[0]), "end": stamp(window[1])},
            "evidence": [e["id"] for e in self.evidence], "note": self.note,
        }  # fmt: skip


MISUSE = "misuse_of_systems"
DISCLOSURE = "unauthorised_disclosure"
ASSOCIATION = "inappropriate_association"
SEXUAL = "abuse_of_position_sexual"
VETTING = "vetting"
DISCRIMINATION = "discrimination"
EVIDENCE = "integrity_of_evidence"
AUDIT = "audit_tampering"
CONDUCT = "conduct_pattern"

FRONTLINE = ("response", "neighbourhood")
LOOKERS = ("response", "neighbourhood", "custody", "control_room", "cid")


# -- helpers ----------------------------------------------------------------------------------


def _day(w: World, s: Staff, lo: float = 0.3, hi: float = 1.0) -> int:
    """A working day of ``s`` between fractions ``lo`` and ``hi`` of the period."""
    days = w.working_days(s, int(w.days * lo), max(int(w.days * hi), int(w.days * lo) + 1))
    days = days or w.working_days(s) or [w.days - 1]
    return w.rng.choice(days)


def _off_duty(w: World, s: Staff, lo: float = 0.3, hi: float = 1.0) -> datetime:
    """A moment well away from any of ``s``'s shifts (rest days and small hours preferred)."""
    first = int(w.days * lo)
    last = max(first, min(w.days - 1, int(w.days * hi)))
    for _ in range(400):
        day = w.rng.randint(first, last)
        t = w.off_duty_time(s, day, w.rng.choice((0.5, 1, 1.5, 2, 2.5, 3, 20, 21, 22)))
        if t is not None:
            return t
    return w.at(w.days - 1, 12)  # cannot happen with the rotas here; keeps types simple


def _nominal(w: World, when: datetime | None = None) -> tuple[Person, str]:
    """A fresh OCG nominal in an existing group (benign tasks never name them)."""
    group = w.rng.choice(sorted(w.nominals))
    p = w.new_person()
    w.watch(when or w.start - timedelta(days=HISTORY_DAYS), "ocg_nominal", p, group=group)
    return p, group


def _listed(w: World, lst: str, group: str) -> Person:
    p = w.new_person()
    w.watch(w.start - timedelta(days=HISTORY_DAYS), lst, p, group=group)
    return p


def _minutes(t: datetime, lo: int, hi: int, w: World) -> datetime:
    return t + timedelta(minutes=w.rng.randint(lo, hi))


def _variant_name(w: World, name: str) -> tuple[str, str]:
    """How else the same person may be written: nickname, spelling, order, hyphen, initial."""
    first, last = name.split(" ", 1)
    how = w.rng.choice(("nickname", "spelling", "order", "hyphen", "initial"))
    nick = names.FIRST_NAMES.get(first, ())
    spell = names.SURNAMES.get(last, ())
    if how == "nickname" and nick:
        return f"{w.rng.choice(nick)} {last}", how
    if how == "spelling" and spell:
        return f"{first} {w.rng.choice(spell)}", how
    if how == "order":
        return f"{last.upper()}, {first}", how
    if how == "hyphen":
        return f"{first} {w.rng.choice(list(names.SURNAMES))}-{last}", how
    return f"{first[0]}. {last}", "initial"


# -- scenarios: issue 2 -------------------------------------------------------------------------


def canary(w: World) -> list[Label]:
    s = w.pick_officer(LOOKERS)
    p = w.rng.choice(w.canaries)
    t = w.during_shift(s, _day(w, s))
    evs = w.lookup(t, s, p, contact=w.rng.random() < 0.5)
    return [Label("canary", ["access.canary"], MISUSE, [s.id], evs, also=["access.no_purpose"])]


def covert_unauthorised(w: World) -> list[Label]:
    s = w.pick_officer(LOOKERS)
    p, op, _auth = w.rng.choice(w.covert)
    t = w.during_shift(s, _day(w, s))
    ev = w.emit(t, "intel", "record.view", actor=s.id,
                record={"type": "intelligence", "id": f"INT-{op}-{w.rng.randint(100, 999)}"},
                subjects=[p.id], purpose=None, terminal=w.terminal(s),
                attrs={"fields": ["intelligence"]})  # fmt: skip
    return [
        Label(
            "covert_unauthorised",
            ["access.covert_unauthorised"],
            DISCLOSURE,
            [s.id],
            [ev],
            also=["access.no_purpose"],
        )
    ]


def monitoring_disabled(w: World) -> list[Label]:
    s = w.pick_officer(("staff_support", "intel", "control_room"))
    t = w.during_shift(s, _day(w, s))
    setting = w.rng.choice(
        (
            "athena.audit.person_view",
            "pnc.audit.logging",
            "siem.forwarder",
            "niche.monitoring.enabled",
        )
    )
    value = w.rng.choice(("off", "disabled", "false", "0"))
    ev = w.emit(
        t,
        "audit",
        "audit.config_changed",
        actor=s.id,
        terminal=w.terminal(s),
        attrs={"setting": setting, "value": value},
    )
    return [Label("monitoring_disabled", ["audit.monitoring_disabled"], AUDIT, [s.id], [ev])]


# -- scenarios: issue 3 -------------------------------------------------------------------------


def no_purpose_repeat(w: World) -> list[Label]:
    """An ordinary person (a neighbour, an ex) opened again and again, contact details too."""
    s = w.pick_officer(LOOKERS)
    p = w.new_person()
    days = sorted(
        w.rng.sample(
            w.working_days(s, int(w.days * 0.3)) or [w.days - 1],
            k=min(3, len(w.working_days(s, int(w.days * 0.3))) or 1),
        )
    )
    evs: list[Ev] = []
    for i in range(w.rng.randint(4, 8)):
        t = w.during_shift(s, days[i % len(days)])
        evs.append(w.view(t, s, p, contact=w.rng.random() < 0.7))
    return [Label("no_purpose_repeat", ["access.no_purpose"], MISUSE, [s.id], evs)]


def self_family_colleague(w: World, variant: str | None = None) -> list[Label]:
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
    day = _day(w, s)
    evs = w.lookup(w.during_shift(s, day), s, p, contact=w.rng.random() < 0.6)
    if w.rng.random() < 0.5:
        evs.append(w.view(w.during_shift(s, _day(w, s)), s, p, contact=True))
    return [
        Label(
            f"self_family_colleague:{variant}",
            ["access.self_family_colleague"],
            MISUSE,
            [s.id],
            evs,
            also=["access.no_purpose"],
            note=f"subject is the officer's {variant}"
            if variant != "colleague"
            else "subject is a colleague's person record",
        )
    ]


def vip_browsing(w: World) -> list[Label]:
    s = w.pick_officer(LOOKERS)
    vips = [_listed(w, "vip", w.rng.choice(names.VIP_GROUPS)) for _ in range(w.rng.randint(1, 3))]
    evs: list[Ev] = []
    for p in vips:
        t = w.during_shift(s, _day(w, s))
        evs += w.lookup(t, s, p) if w.rng.random() < 0.6 else [w.view(t, s, p)]
    return [
        Label(
            "vip_browsing", ["access.vip_browsing"], MISUSE, [s.id], evs, also=["access.no_purpose"]
        )
    ]


def vulnerable_victim(w: World) -> list[Label]:
    """Views of a victim's record with no task, contact details, then a call to their phone."""
    s = w.pick_officer(LOOKERS)
    v = _listed(w, "vulnerable_victim", w.rng.choice(names.VULNERABLE_GROUPS))
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
            ["access.vulnerable_victim"],
            SEXUAL,
            [s.id],
            evs,
            also=["access.no_purpose", "access.off_duty"],
        )
    ]


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
            ["access.volume_anomaly"],
            MISUSE,
            [s.id],
            evs,
            also=["access.no_purpose", "access.bulk_exfiltration"],
            note=f"{len(evs)} look-ups in one shift; habitual ~{s.baseline:.0f}",
        )
    ]


def bulk_exfiltration(w: World) -> list[Label]:
    """A burst of look-ups, then a USB stick or a personal mailbox takes the data out."""
    s = w.pick_officer(("cid", "intel", "response", "control_room"))
    day = _day(w, s, 0.5)
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
            ["access.bulk_exfiltration"],
            DISCLOSURE,
            [s.id],
            evs,
            also=["access.volume_anomaly", "access.no_purpose"],
            note=f"{n} views in {span} min, then {channel} export",
        )
    ]


def _remote_session(w: World, s: Staff, t: datetime) -> list[Ev]:
    """Log in from a remote terminal when off duty and open a few ordinary records."""
    term = f"REMOTE-VPN-{w.rng.randint(10, 99)}"
    evs = [w.login(t, s, terminal=term)]
    for i in range(w.rng.randint(3, 6)):
        evs.append(
            w.view(
                t + timedelta(minutes=3 + 4 * i),
                s,
                w.rng.choice(w.ordinary),
                terminal=term,
                contact=w.rng.random() < 0.3,
            )
        )
    evs.append(w.logout(t + timedelta(minutes=40), s, terminal=term))
    return evs


def off_duty(w: World) -> list[Label]:
    s = w.pick_officer(LOOKERS)
    evs = _remote_session(w, s, _off_duty(w, s))
    return [
        Label(
            "off_duty",
            ["access.off_duty"],
            MISUSE,
            [s.id],
            evs,
            also=["access.no_purpose"],
            note="rest day or small hours, remote terminal",
        )
    ]


def complainant_lookup(w: World) -> list[Label]:
    s = w.pick_officer(FRONTLINE)
    p = w.new_person()
    logged = w.at(w.rng.randint(-20, max(1, w.days // 3)), w.rng.uniform(9, 16))
    c = w.emit(logged, "psd", "complaint.logged", attrs={
        "staff_id": s.id, "complaint": w.ref("CO"), "complainant": p.id,
        "category": w.rng.choice(("incivility", "use_of_force", "other")),
    })  # fmt: skip
    day = _day(w, s, 0.4)
    evs = w.lookup(w.during_shift(s, day), s, p, contact=w.rng.random() < 0.7)
    return [
        Label(
            "complainant_lookup",
            ["access.complainant_lookup"],
            MISUSE,
            [s.id],
            [c, *evs],
            also=["access.no_purpose"],
        )
    ]


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
            ["field.repeat_stop"],
            CONDUCT,
            [s.id],
            evs,
            note=f"{len(evs)} stops of {p.id}, no operation",
        )
    ]


def no_bwv(w: World) -> list[Label]:
    s = w.pick_officer(FRONTLINE)
    p = w.new_person()
    t = w.during_shift(s, _day(w, s))
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
    return [Label("no_bwv", ["field.no_bwv"], EVIDENCE, [s.id], evs)]


def bwv_deleted(w: World) -> list[Label]:
    s = w.pick_officer(FRONTLINE)
    p = w.new_person()
    day = _day(w, s)
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
    return [Label("bwv_deleted", ["field.bwv_deleted"], EVIDENCE, [s.id], [*stop, uof, gone])]


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
                p = _listed(w, "vip", w.rng.choice(names.VIP_GROUPS))
                evs.append(w.view(w.during_shift(s, _day(w, s, lo, hi)), s, p))
        elif part == "no_bwv":
            evs += w.stop(w.during_shift(s, _day(w, s, lo, hi)), s, w.new_person(), bwv=False)
        elif part == "message":
            _cat, text = w.rng.choice(names.DISCRIMINATORY_TEXTS)
            evs.append(
                w.message(
                    w.during_shift(s, _day(w, s, lo, hi)),
                    s,
                    text.format(station=s.station),
                    [w.rng.choice(w.staff).id],
                )
            )
        elif part == "colleague":
            c = w.rng.choice([x for x in w.staff if x.id != s.id and x.left_day is None])
            p = w.new_person(name=c.name, dob=c.dob, address=c.address)
            evs.append(w.view(w.during_shift(s, _day(w, s, lo, hi)), s, p, contact=True))
        else:
            evs += _remote_session(w, s, _off_duty(w, s, lo, hi))
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
            ["risk.accumulation"],
            CONDUCT,
            [s.id],
            evs,
            also=sorted({d for part in parts for d in also[part]}),
            note="components: " + ", ".join(parts),
        )
    ]


# -- scenarios: issue 4 -------------------------------------------------------------------------


def barred_joiner(w: World) -> list[Label]:
    """A dismissed officer on the barred list rejoins under another form of their name."""
    original = w.name()
    dob = w.dob(25, 55)
    entry = w.watch(
        w.start - timedelta(days=w.rng.randint(60, 700)),
        "barred",
        None,
        name=original,
        dob=dob,
        group="college_of_policing",
    )
    variant, how = _variant_name(w, original)
    n = len(w.staff) + 1001
    town = w.rng.choice(names.TOWNS)
    s = Staff(
        id=f"S{n}",
        name=variant,
        dob=dob,
        role=w.rng.choice(("staff_support", "custody")),
        unit="joiners",
        station=town,
        address=w.address(town),
        phone=w.phone(),
        team=w.rng.randrange(5),
        joined_day=w.rng.randint(1, max(1, w.days // 2)),
    )
    w.staff.append(s)
    w.reserved.add(s.id)
    up = w.staff_upsert(w.at(s.joined_day or 1, 6), s)
    s.vetting_expires = w.start.date() + timedelta(days=3 * 365)
    w.vetting(w.at(s.joined_day or 1, 6.1), s, "granted", s.vetting_expires)
    return [
        Label(
            "barred_match:joiner",
            ["vetting.barred_match"],
            VETTING,
            [s.id],
            [up, entry],
            start=up["time"],
            end=w.end,
            note=f"'{variant}' vs barred '{original}' ({how})",
        )
    ]


def advisory_listed(w: World) -> list[Label]:
    """A serving officer's name (written differently) appears on a list during the period."""
    s = w.pick_officer()
    variant, how = _variant_name(w, s.name)
    t = w.at(w.rng.randint(1, max(1, w.days - 2)), w.rng.uniform(8, 18))
    lst = w.rng.choice(("advisory", "barred"))
    entry = w.watch(t, lst, None, name=variant, dob=s.dob, group="college_of_policing")
    return [
        Label(
            "barred_match:list_change",
            ["vetting.barred_match"],
            VETTING,
            [s.id],
            [entry],
            start=t,
            end=w.end,
            note=f"{lst} entry '{variant}' vs staff '{s.name}' ({how})",
        )
    ]


def lapsed_access(w: World) -> list[Label]:
    s = w.pick_officer(LOOKERS)
    day = _day(w, s, 0.3, 0.8)
    sh = w.shift(s, day)
    assert sh is not None
    status = w.rng.choice(("withdrawn", "expired"))
    change = w.vetting(sh[0] - timedelta(hours=w.rng.uniform(1, 12)), s, status, None)
    evs = [
        change,
        w.login(sh[0] + timedelta(minutes=1), s),
        *w.lookup(sh[0] + timedelta(minutes=w.rng.randint(5, 40)), s, w.rng.choice(w.ordinary)),
    ]
    return [
        Label(
            f"lapsed_access:{status}",
            ["vetting.lapsed_access"],
            VETTING,
            [s.id],
            evs,
            end=w.end,
            note=f"vetting {status}, still logging in",
        )
    ]


def vetting_expiring(w: World) -> list[Label]:
    s = w.pick_officer()
    expires = (w.end + timedelta(days=w.rng.randint(3, 12))).date()
    ev = w.vetting(w.start - timedelta(days=w.rng.randint(10, 40)), s, "granted", expires)
    s.vetting_expires = expires
    return [
        Label(
            "vetting_expiring",
            ["vetting.expiring"],
            VETTING,
            [s.id],
            [ev],
            start=w.start - timedelta(days=HISTORY_DAYS),
            end=w.end,
            note=f"expires {expires.isoformat()}",
        )
    ]


def review_overdue(w: World) -> list[Label]:
    s = w.pick_officer()
    t = w.start - timedelta(days=w.rng.randint(32, 50), hours=w.rng.randint(0, 8))
    ev = w.emit(t, "psd", "misconduct.outcome", attrs={
        "staff_id": s.id, "case": w.ref("PSD"),
        "outcome": w.rng.choice(("management_action", "written_warning", "final_written_warning")),
    })  # fmt: skip
    return [
        Label(
            "review_overdue",
            ["vetting.review_overdue"],
            VETTING,
            [s.id],
            [ev],
            end=w.end,
            note="no vetting review after the outcome",
        )
    ]


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
            ["conduct.complaint_pattern"],
            CONDUCT,
            [s.id],
            evs,
            end=w.end,
            note="complaints: " + ", ".join(chosen),
        )
    ]


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
            ["conduct.discrimination_not_referred"],
            DISCRIMINATION,
            [s.id],
            [ev],
            end=w.end,
        )
    ]


def discriminatory_message(w: World) -> list[Label]:
    s = w.pick_officer()
    evs = []
    for _cat, text in w.rng.sample(names.DISCRIMINATORY_TEXTS, k=w.rng.randint(1, 2)):
        to = [x.id for x in w.rng.sample(w.staff, k=w.rng.randint(1, 3))]
        evs.append(
            w.message(
                w.during_shift(s, _day(w, s, 0.1)),
                s,
                text.format(station=s.station),
                to,
                channel=w.rng.choice(("teams", "email")),
            )
        )
    return [
        Label(
            "discriminatory_message",
            ["conduct.discriminatory_message"],
            DISCRIMINATION,
            [s.id],
            evs,
        )
    ]


# -- scenarios: issue 5 -------------------------------------------------------------------------


def ocg_path(w: World) -> list[Label]:
    s = w.pick_officer()
    nominal, group = _nominal(w)
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
    return [
        Label(
            f"ocg_path:{via}",
            ["association.ocg_path"],
            ASSOCIATION,
            [s.id],
            evs,
            also=["association.declared_linked"],
            end=w.end,
            note=f"{hops}-hop path to {nominal.id} ({group})",
        )
    ]


def nominal_contact(w: World) -> list[Label]:
    s = w.pick_officer(("response", "neighbourhood", "custody", "control_room", "staff_support"))
    nominal, group = _nominal(w)
    assert nominal.phone
    evs = []
    for _ in range(w.rng.randint(1, 3)):
        evs.append(w.call(w.during_shift(s, _day(w, s)), s, nominal.phone))
    return [
        Label(
            "nominal_contact",
            ["association.nominal_contact"],
            ASSOCIATION,
            [s.id],
            evs,
            also=["association.ocg_path"],
            note=f"calls to {nominal.id} ({group})",
        )
    ]


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
            ["association.convergence"],
            ASSOCIATION,
            [s.id for s in officers],
            evs,
            also=["access.no_purpose", "access.off_duty"],
            note=f"{len(officers)} officers, nominals of {group}, no task",
        )
    ]


def declared_linked(w: World) -> list[Label]:
    s = w.pick_officer()
    nominal, group = _nominal(w)
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
            ["association.declared_linked"],
            ASSOCIATION,
            [s.id],
            [decl, link],
            start=t,
            end=w.end,
            also=["association.ocg_path"],
            note=f"declared {friend.id} is linked to {nominal.id} ({group})",
        )
    ]


# -- look-alikes: legitimate, and no detector should raise them --------------------------------


def la_vip_with_task(w: World) -> list[Label]:
    s = w.pick_officer(FRONTLINE)
    p = _listed(w, "vip", w.rng.choice(names.VIP_GROUPS))
    day = _day(w, s)
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
            ["access.vip_browsing", "access.no_purpose"],
            MISUSE,
            [s.id],
            evs,
            legitimate=True,
            note="VIP reported a burglary; officer tasked",
        )
    ]


def la_da_job(w: World) -> list[Label]:
    s = w.pick_officer(FRONTLINE)
    v = _listed(w, "vulnerable_victim", "domestic_abuse")
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
            ["access.vulnerable_victim", "access.no_purpose"],
            SEXUAL,
            [s.id],
            evs,
            legitimate=True,
            note="assigned domestic-abuse job, victim called",
        )
    ]


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
            ["access.off_duty"],
            MISUSE,
            [s.id],
            evs,
            legitimate=True,
            note="on a rostered night shift at 3 a.m.",
        )
    ]


def la_barred_dob_only(w: World) -> list[Label]:
    s = w.pick_officer()
    first, last = s.name.split(" ", 1)
    other = w.name()
    while (
        other.split()[0] in (first, *names.FIRST_NAMES.get(first, ())) or other.split()[-1] == last
    ):
        other = w.name()
    entry = w.watch(
        w.at(w.rng.randint(0, w.days - 1), 10),
        "barred",
        None,
        name=other,
        dob=s.dob,
        group="college_of_policing",
    )
    return [
        Label(
            "barred_dob_only",
            ["vetting.barred_match"],
            VETTING,
            [s.id],
            [entry],
            legitimate=True,
            end=w.end,
            note=f"barred '{other}' shares only a date of birth with '{s.name}'",
        )
    ]


def la_review_day_20(w: World) -> list[Label]:
    s = w.pick_officer()
    t = w.at(0, 10)
    case = w.ref("PSD")
    out = w.emit(
        t,
        "psd",
        "misconduct.outcome",
        attrs={"staff_id": s.id, "case": case, "outcome": "written_warning"},
    )
    done = w.emit(
        t + timedelta(days=min(20, w.days - 1)),
        "vetting",
        "vetting.review.completed",
        attrs={"staff_id": s.id, "case": case},
    )
    return [
        Label(
            "review_on_day_20",
            ["vetting.review_overdue"],
            VETTING,
            [s.id],
            [out, done],
            legitimate=True,
            end=w.end,
        )
    ]


def la_quoted_slur(w: World) -> list[Label]:
    s = w.pick_officer(("cid", "response"))
    text = w.rng.choice(names.QUOTED_STATEMENT_TEXTS).format(ref=w.ref("CRIME"))
    ev = w.message(w.during_shift(s, _day(w, s)), s, text, ["cps-casework"], channel="email")
    return [
        Label(
            "quoted_slur_in_statement",
            ["conduct.discriminatory_message"],
            DISCRIMINATION,
            [s.id],
            [ev],
            legitimate=True,
        )
    ]


def la_declared_reviewed_partner(w: World) -> list[Label]:
    """A partner with a brother in an OCG, declared and reviewed; during the period the
    partner moves in with the officer, closing a short path that the declaration explains."""
    s = w.pick_officer()
    nominal, _group = _nominal(w, w.start - timedelta(days=300))
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
            ["association.ocg_path", "association.declared_linked"],
            ASSOCIATION,
            [s.id],
            [link, review, decl, moved],
            legitimate=True,
            end=w.end,
            note="declared, reviewed partner (linked to a nominal) moves in with the officer",
        )
    ]


def la_cid_tasked_ocg(w: World) -> list[Label]:
    s = w.pick_officer(("cid",))
    mate = w.pick_officer(("cid", "intel"))
    group = w.rng.choice(sorted(w.nominals))
    targets = []
    for _ in range(2):
        p = w.new_person()
        w.watch(w.start - timedelta(days=HISTORY_DAYS), "ocg_nominal", p, group=group)
        targets.append(p)
    day = _day(w, s, 0.2, 0.5)
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
            [
                "association.ocg_path",
                "association.nominal_contact",
                "association.convergence",
                "access.no_purpose",
            ],
            ASSOCIATION,
            [s.id, mate.id],
            evs,
            legitimate=True,
            note=f"CID tasked to {group} ({ref})",
        )
    ]


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
    day = _day(w, s)
    t = w.during_shift(s, day, 0.2)
    ref = w.ref("INC")
    evs = [
        w.task(t, ref, [s], [p]),
        *w.lookup(t + timedelta(minutes=20), s, p, purpose=ref, contact=True),
    ]
    return [
        Label(
            "colleague_victim_tasked",
            ["access.self_family_colleague", "access.no_purpose"],
            MISUSE,
            [s.id],
            evs,
            legitimate=True,
            note=f"{s.id} tasked to a crime against colleague {victim.id}",
        )
    ]


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
    evs = [w.call(w.during_shift(s, _day(w, s, 0.1)), s, phone) for s in callers]
    return [
        Label(
            "hostel_switchboard",
            ["association.nominal_contact", "association.ocg_path"],
            ASSOCIATION,
            [s.id for s in callers],
            evs,
            legitimate=True,
            note=f"hostel landline {phone} shared by every resident",
        )
    ]


def la_path_too_long(w: World) -> list[Label]:
    s = w.pick_officer()
    nominal, _group = _nominal(w)
    relative = w.new_person(address=s.address, when=w.start - timedelta(days=300))
    friend = w.new_person()
    a = w.link(friend, "person", relative.id, w.start - timedelta(days=100))
    b = w.link(friend, "person", nominal.id, w.at(w.rng.randint(1, w.days - 2), 12))
    return [
        Label(
            "path_longer_than_k",
            ["association.ocg_path"],
            ASSOCIATION,
            [s.id],
            [a, b],
            legitimate=True,
            end=w.end,
            note="officer-address-relative-friend-nominal",
        )
    ]


def la_leaver_vetting_expires(w: World) -> list[Label]:
    s = w.pick_officer()
    day = w.rng.randint(1, max(1, w.days - 4))
    s.left_day = day
    left = w.staff_upsert(w.at(day, 9), s, status="left")
    lapsed = w.vetting(w.at(min(day + 2, w.days - 1), 10), s, "expired", None)
    return [
        Label(
            "leaver_vetting_expires",
            ["vetting.lapsed_access", "vetting.expiring"],
            VETTING,
            [s.id],
            [left, lapsed],
            legitimate=True,
            end=w.end,
        )
    ]


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
            ["conduct.discrimination_not_referred"],
            DISCRIMINATION,
            [s.id],
            [a, b],
            legitimate=True,
            end=w.end,
        )
    ]


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
            ["field.repeat_stop"],
            CONDUCT,
            [s.id],
            evs,
            legitimate=True,
            note=f"repeat stops of a named target under {op}",
        )
    ]


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
            ["field.bwv_deleted", "access.off_duty"],
            EVIDENCE,
            ["SVC-BWV-RETENTION"],
            evs,
            legitimate=True,
            note="nightly footage retention by a system account",
        )
    ]


def self_or_family(w: World) -> list[Label]:
    return self_family_colleague(w, w.rng.choice(("self", "family")))


def colleague_record(w: World) -> list[Label]:
    return self_family_colleague(w, "colleague")


Injector = Callable[[World], list[Label]]

SCENARIOS: tuple[Injector, ...] = (
    canary, covert_unauthorised, monitoring_disabled,
    no_purpose_repeat, self_or_family, colleague_record, vip_browsing,
    vulnerable_victim, volume_anomaly, bulk_exfiltration, off_duty, complainant_lookup,
    repeat_stop, no_bwv, bwv_deleted, risk_accumulation,
    barred_joiner, advisory_listed, lapsed_access, vetting_expiring, review_overdue,
    complaint_pattern, discrimination_not_referred, discriminatory_message,
    ocg_path, nominal_contact, convergence, declared_linked,
)  # fmt: skip

LOOKALIKES: tuple[Injector, ...] = (
    la_vip_with_task, la_da_job, la_night_worker, la_barred_dob_only, la_review_day_20,
    la_quoted_slur, la_declared_reviewed_partner, la_cid_tasked_ocg, la_path_too_long,
    la_colleague_victim_tasked, la_hostel_switchboard,
    la_leaver_vetting_expires, la_discrimination_referred, la_stops_under_operation,
    la_retention_job,
)  # fmt: skip

# every detector of issues 2 to 5 has at least one scenario (checked by the tests)
EXPECTED_DETECTORS = frozenset({
    "access.canary", "access.covert_unauthorised", "audit.monitoring_disabled",
    "access.no_purpose", "access.self_family_colleague", "access.vip_browsing",
    "access.vulnerable_victim", "access.volume_anomaly", "access.bulk_exfiltration",
    "access.off_duty", "access.complainant_lookup", "field.repeat_stop", "field.no_bwv",
    "field.bwv_deleted", "risk.accumulation",
    "vetting.barred_match", "vetting.lapsed_access", "vetting.expiring",
    "vetting.review_overdue", "conduct.complaint_pattern",
    "conduct.discrimination_not_referred", "conduct.discriminatory_message",
    "association.ocg_path", "association.nominal_contact", "association.convergence",
    "association.declared_linked",
})  # fmt: skip
