"""Benign life: the force as it is on an ordinary three weeks, which detectors must stay quiet on.

Staff with roles, rosters (day, late, night, rest), vetting, leavers and joiners; the public,
watchlists and the links between people; tasks that give officers a policing purpose for the
sensitive records they open (VIPs, vulnerable victims, OCG nominals for CID); plenty of
no-purpose views of ordinary records; messages, calls, body-worn video and stops.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime, timedelta

from simulation import it_life, names
from simulation.world import ACU_FROM, ACU_UNIT, ROLES, Person, Staff, World, stamp

HISTORY_DAYS = 60  # watchlists and recent history start this long before day 0
HR_SNAPSHOT_DAYS = 450  # staff records (and their vetting) are older than any other history


def populate(w: World, n_staff: int) -> None:
    """Staff, public, lists and links, as reference events before (or during) the period."""
    rng = w.rng
    epoch = w.start - timedelta(days=HISTORY_DAYS)
    roles = list(ROLES)
    weights = [ROLES[r][0] for r in roles]
    for i in range(n_staff):
        role = rng.choices(roles, weights)[0]
        town = rng.choice(names.TOWNS)
        s = Staff(
            id=f"S{1001 + i}", name=w.name(), dob=w.dob(19, 60), role=role,
            unit=f"{role.replace('_', '-')}-{rng.randint(1, 4)}", station=town,
            address=w.address(town), phone=w.phone(), team=rng.randrange(5),
        )  # fmt: skip
        if s.unit == ACU_FROM:
            s.unit = ACU_UNIT
        s.baseline = {
            "control_room": rng.uniform(40, 70), "custody": rng.uniform(10, 18),
            "intel": rng.uniform(8, 16), "staff_support": rng.uniform(1, 4),
        }.get(role, rng.uniform(8, 20))  # fmt: skip
        s.leave_days = frozenset(d for d in range(w.days) if rng.random() < 0.04)
        w.staff.append(s)
    # a few leavers and joiners (never the first staff, which tiny forces need as officers)
    for s in w.staff[10:]:
        r = rng.random()
        if r < 0.02 and w.days > 4:
            s.left_day = rng.randint(2, w.days - 1)
        elif r < 0.035 and w.days > 6:
            s.joined_day = rng.randint(2, w.days // 2)
    for one, other in zip(w.staff[5::37], w.staff[23::37], strict=False):  # couples
        other.address = one.address
    if w.it is not None:
        it_life.hr_facts(w)
    for s in w.staff:
        hr = w.start - timedelta(days=HR_SNAPSHOT_DAYS)
        joined = hr if s.joined_day is None else w.at(s.joined_day, 6)
        w.staff_upsert(joined, s)
        level = {"intel": "SC", "cid": "MV", "control_room": "MV"}.get(s.role, "RV")
        s.vetting_expires = date(w.start.year + rng.randint(2, 6), rng.randint(1, 12), 15)
        if rng.random() < 0.15:  # some vetting records carry no expiry date at all
            s.vetting_expires = None
        w.vetting(joined + timedelta(minutes=5), s, "granted", s.vetting_expires, level)
        if s.left_day is not None:
            w.staff_upsert(w.at(s.left_day, 9), s, status="left")
            if w.days - s.left_day > 2:  # a leaver's vetting lapses: not an alert
                w.vetting(w.at(s.left_day + 2, 10), s, "expired", None, level)
        if rng.random() < 0.12:  # a relative on record at the officer's address
            w.new_person(address=s.address, when=epoch - timedelta(days=rng.randint(1, 300)))

    n_public = max(200, n_staff * 12)
    w.ordinary = [w.new_person(linked=rng.random() < 0.35) for _ in range(n_public)]
    w.vips = [w.new_person() for _ in range(max(4, n_staff // 25))]
    for p in w.vips:
        w.watch(epoch, "vip", p, group=rng.choice(names.VIP_GROUPS))
    w.victims = [w.new_person() for _ in range(max(6, n_staff // 10))]
    for p in w.victims:
        w.watch(
            epoch + timedelta(days=rng.randint(0, 50)),
            "vulnerable_victim",
            p,
            group=rng.choice(names.VULNERABLE_GROUPS),
        )
    groups = rng.sample(names.OCG_GROUPS, k=min(len(names.OCG_GROUPS), 3 + n_staff // 200))
    for g in groups:
        members = [w.new_person() for _ in range(rng.randint(5, 9))]
        w.nominals[g] = members
        for m in members:
            w.watch(epoch, "ocg_nominal", m, group=g)
        for a, b in itertools.pairwise(members):  # associates within the group
            w.link(a, "person", b.id, epoch)
    intel = [s for s in w.staff if s.role == "intel" and s.left_day is None] or w.staff[:2]
    for k in range(max(2, n_staff // 60)):
        p = w.new_person()
        op = f"OP-{['HERON', 'KESTREL', 'MERLIN', 'OSPREY', 'PLOVER', 'WREN'][k % 6]}"
        authorised = tuple(s.id for s in rng.sample(intel, k=min(2, len(intel))))
        w.covert.append((p, op, authorised))
        w.watch(epoch, "covert_subject", p, group=op, authorised=list(authorised))
    w.canaries = [w.new_person() for _ in range(3)]
    for p in w.canaries:
        w.watch(epoch, "canary", p, group="ACU")
    for _ in range(max(15, n_staff // 8)):  # College of Policing lists: names and dobs only
        lst = "barred" if rng.random() < 0.6 else "advisory"
        w.watch(epoch, lst, None, name=w.name(), dob=w.dob(22, 65), group="college_of_policing")
    w.reserved.update(s for _p, _op, auth in w.covert for s in auth)


def rosters(w: World) -> None:
    """``shift.rostered`` per shift, published the week before (week 0: three days before).

    Some frontline staff pick up an overtime day shift on a rest day; that roster entry is
    published only three hours before it starts (detectors must read rosters as of event time).
    """
    for s in w.staff:
        if s.id in w.reserved or s.role not in ("response", "neighbourhood", "custody"):
            continue
        for day in range(1, w.days):
            if w.shift(s, day) is None and w.shift(s, day - 1) is None and w.rng.random() < 0.06:
                s.overtime[day] = "D"
    for s in w.staff:
        for day in range(w.days):
            sh = w.shift(s, day)
            if sh is None:
                continue
            published = w.at(day - day % 7 - 7, 12) if day >= 7 else w.at(-3, 12)
            if day in s.overtime:
                published = sh[0] - timedelta(hours=3)
            w.emit(
                published,
                "roster",
                "shift.rostered",
                attrs={"staff_id": s.id, "start": stamp(sh[0]), "end": stamp(sh[1])},
            )


def background(w: World) -> None:
    """Complaints, misconduct with its vetting review, declared associations: the usual."""
    rng = w.rng
    serving = [s for s in w.staff if s.left_day is None]
    for s in rng.sample(serving, k=min(len(serving), max(2, len(w.staff) // 20))):
        t = w.at(rng.randint(-HISTORY_DAYS + 1, w.days - 1), rng.uniform(9, 17))
        w.emit(t, "psd", "complaint.logged", attrs={
            "staff_id": s.id, "complaint": w.ref("CO"), "complainant": w.new_person().id,
            "category": rng.choice(("incivility", "incivility", "incivility", "other")),
        })  # fmt: skip
    for s in rng.sample(serving, k=min(len(serving), max(1, len(w.staff) // 100))):
        t = w.at(-HISTORY_DAYS + rng.randint(1, 20), 11)
        case = w.ref("PSD")
        w.emit(
            t,
            "psd",
            "misconduct.outcome",
            attrs={"staff_id": s.id, "case": case, "outcome": "management_action"},
        )
        w.emit(
            t + timedelta(days=rng.randint(8, 25)),
            "vetting",
            "vetting.review.completed",
            attrs={"staff_id": s.id, "case": case},
        )
    for s in rng.sample(serving, k=min(len(serving), max(2, len(w.staff) // 15))):
        partner = w.new_person(address=s.address)
        t = w.start - timedelta(days=rng.randint(30, 300))
        w.emit(
            t,
            "hr",
            "association.declared",
            attrs={"staff_id": s.id, "person": partner.id, "relationship": "partner"},
        )


def _subjects(w: World, s: Staff, *, sensitive: float) -> tuple[list[Person], str]:
    """Who a job is about, and what kind of job: ordinary mostly, sometimes a VIP, a victim
    on the vulnerable list, or (for CID) OCG nominals."""
    rng = w.rng
    r = rng.random()
    if r < sensitive * 0.25 and w.vips:
        return [rng.choice(w.vips)], "vip"
    if r < sensitive and w.victims and s.role in ("response", "cid", "neighbourhood"):
        return [rng.choice(w.victims), rng.choice(w.ordinary)], "victim"
    if r < sensitive * 1.6 and s.role == "cid" and w.nominals:
        group = rng.choice(sorted(w.nominals))
        return rng.sample(w.nominals[group], k=2), "ocg"
    return rng.sample(w.ordinary, k=rng.randint(1, 2)), "ordinary"


def _texts(w: World, s: Staff, ref: str) -> str:
    tpl = w.rng.choice(names.ORDINARY_TEXTS)
    return tpl.format(station=s.station, hour=w.rng.choice((7, 9, 14, 22)), ref=ref)


def activity(w: World, progress: Callable[[int], None] | None = None) -> None:
    """Each officer's shifts: log in, take jobs, open records, message, call, stop, log out."""
    rng = w.rng
    colleagues = [s for s in w.staff if s.left_day is None]
    caseload: dict[str, list[tuple[str, list[Person]]]] = {}
    browsed: dict[str, set[str]] = defaultdict(set)

    def browse(s: Staff) -> Person:
        """An ordinary record this officer has not opened idly before: no-purpose views are
        many and normal, but the same person again and again is a pattern, not noise."""
        for _ in range(30):
            p = rng.choice(w.ordinary)
            if p.id not in browsed[s.id]:
                break
        browsed[s.id].add(p.id)
        return p

    for day in range(w.days):
        for s in w.staff:
            sh = w.shift(s, day)
            if sh is None:
                continue
            start, end = sh
            length = (end - start).total_seconds() / 3600

            def at(frac: float, start: datetime = start, length: float = length) -> datetime:
                return start + timedelta(hours=length * frac)

            def within(t: datetime, end: datetime = end) -> datetime:
                return min(t, end - timedelta(minutes=rng.randint(3, 30)))

            w.login(at(0.0) + timedelta(minutes=rng.randint(2, 25)), s)
            w.logout(at(1.0) + timedelta(minutes=rng.randint(-20, 25)), s)
            n_lookups = max(0, round(rng.gauss(s.baseline, s.baseline * 0.25)))
            jobs = 0 if s.role == "staff_support" else rng.randint(1, 3)
            if s.role in ("control_room", "custody"):
                jobs = 0
            for _ in range(jobs):
                subjects, kind = _subjects(w, s, sensitive=0.12 if s.role != "cid" else 0.3)
                prefix = "CASE" if s.role == "cid" else "INC"
                ref = w.ref(prefix)
                t0 = at(rng.uniform(0.05, 0.7))
                team = [s] + ([rng.choice(colleagues)] if rng.random() < 0.2 else [])
                w.task(t0, ref, team, subjects)
                for p in subjects:
                    purpose = ref if rng.random() < 0.8 else None
                    t1 = within(t0 + timedelta(minutes=rng.randint(3, 90)))
                    w.lookup(t1, s, p, purpose=purpose, contact=rng.random() < 0.5)
                    if kind == "victim" or (kind == "vip" and rng.random() < 0.5):
                        t2 = within(t1 + timedelta(hours=rng.uniform(1, 5)))
                        w.view(t2, s, p, purpose=ref, contact=True)
                    if kind == "victim" and p.phone and rng.random() < 0.7:
                        w.call(within(t1 + timedelta(minutes=rng.randint(10, 120))), s, p.phone)
                    n_lookups -= 2
                caseload[s.id] = [*caseload.get(s.id, [])[-5:], (ref, subjects)]
            if jobs and s.role == "cid" and rng.random() < 0.25:  # a case file printed or sent
                ref = caseload[s.id][-1][0]
                w.emit(at(rng.uniform(0.5, 0.95)), "athena", "record.export", actor=s.id,
                       record={"type": "case", "id": ref}, purpose=ref,
                       terminal=w.terminal(s), attrs={
                           "channel": rng.choice(("print", "email")),
                           "count": rng.randint(1, 6),
                           "destination": rng.choice(("PRN-" + s.station[:3].upper(),
                                                      "cps.gov.uk")),
                       })  # fmt: skip
            if s.role in ("cid", "response") and rng.random() < 0.06:
                # scene photographs: a camera on the workstation, files to the evidence share
                t = at(rng.uniform(0.3, 0.9))
                dev = f"CAM-{s.id}"
                w.emit(
                    t,
                    "endpoint",
                    "device.connected",
                    actor=s.id,
                    terminal=w.terminal(s),
                    attrs={"device_type": "camera", "device_id": dev},
                )
                w.emit(t + timedelta(minutes=2), "endpoint", "file.copied", actor=s.id,
                       terminal=w.terminal(s), attrs={
                           "path": f"DCIM/{w.ref('IMG')}.jpg", "destination": "network",
                           "bytes": rng.randint(2, 40) * 1_000_000})  # fmt: skip
                w.emit(
                    t + timedelta(minutes=6),
                    "endpoint",
                    "device.disconnected",
                    actor=s.id,
                    terminal=w.terminal(s),
                    attrs={"device_type": "camera", "device_id": dev},
                )
            if rng.random() < 0.25:
                w.emit(at(rng.uniform(0.05, 0.95)), "web", "web.visited", actor=s.id,
                       terminal=w.terminal(s), attrs={
                           "url": "https://intranet.police.example/news",
                           "domain": "intranet.police.example", "action": "visit",
                           "bytes": 48_000})  # fmt: skip
            if rng.random() < 0.04:  # a mistyped password before the login
                w.emit(
                    at(0.0) + timedelta(minutes=1),
                    "athena",
                    "auth.failed",
                    actor=s.id,
                    terminal=w.terminal(s),
                    attrs={"location": s.station},
                )
            # back to earlier jobs: the same people opened again on later shifts (legitimate)
            earlier = caseload.get(s.id, [])[:-jobs] if jobs else caseload.get(s.id, [])
            if earlier and rng.random() < 0.5:
                ref, subjects = rng.choice(earlier)
                t = at(rng.uniform(0.05, 0.9))
                p = rng.choice(subjects)
                w.view(
                    t, s, p, purpose=ref if rng.random() < 0.6 else None, contact=rng.random() < 0.4
                )
            if rng.random() < 0.15 and s.role in ("response", "neighbourhood", "cid", "custody"):
                # paperwork after the end of the shift: an overrun, carried on from the shift
                for k in range(rng.randint(1, 3)):
                    t = end + timedelta(minutes=rng.randint(5, 25) + 12 * k)
                    w.view(t, s, browse(s))
            # the rest of the shift's look-ups: control room and custody with a reference,
            # everyone else mostly browsing ordinary records with no purpose (normal)
            for _ in range(max(0, n_lookups // 2)):
                t = at(rng.uniform(0.03, 0.95))
                if s.role in ("control_room", "custody") and rng.random() < 0.85:
                    w.lookup(
                        t,
                        s,
                        rng.choice(w.ordinary),
                        purpose=w.ref("CAD" if s.role == "control_room" else "CUS"),
                        contact=rng.random() < 0.3,
                    )
                elif rng.random() < 0.5:
                    w.view(t, s, browse(s))
                else:
                    w.lookup(t, s, browse(s))
            if s.role == "intel":
                for p, covert_op, auth in w.covert:
                    if s.id in auth and rng.random() < 0.3:
                        w.emit(
                            at(rng.uniform(0.1, 0.9)),
                            "intel",
                            "record.view",
                            actor=s.id,
                            record={"type": "intelligence", "id": f"INT-{covert_op}-{day}"},
                            subjects=[p.id],
                            purpose=covert_op,
                            terminal=w.terminal(s),
                            attrs={"fields": ["intelligence"]},
                        )
            for _ in range(rng.randint(0, 5)):
                to = rng.choice(colleagues)
                w.message(
                    at(rng.uniform(0.05, 0.95)),
                    s,
                    _texts(w, s, w.ref("INC")),
                    [to.id],
                    channel=rng.choice(("teams", "teams", "email")),
                )
            for _ in range(rng.randint(0, 3)):
                w.call(at(rng.uniform(0.05, 0.95)), s, rng.choice(colleagues).phone)
            if jobs and rng.random() < 0.4:  # ringing someone from one of today's jobs
                _ref, subjects = caseload[s.id][-1]
                p = rng.choice(subjects)
                if p.phone:
                    w.call(at(rng.uniform(0.75, 0.95)), s, p.phone)
            if rng.random() < 0.2:  # a garage, a school, a hospital: numbers on no record
                w.call(at(rng.uniform(0.05, 0.95)), s, w.phone())
            if s.role in ("response", "neighbourhood") and rng.random() < 0.3:
                t = at(rng.uniform(0.1, 0.9))
                op = None
                if rng.random() < 0.15:
                    op = rng.choice(("OP-NIGHTJAR", "OP-SCEPTRE"))
                p = rng.choice(w.ordinary)
                w.stop(t, s, p, operation=op)
                if rng.random() < 0.1:
                    w.emit(
                        t + timedelta(minutes=2),
                        "stopsearch",
                        "use_of_force.recorded",
                        actor=s.id,
                        subjects=[p.id],
                        attrs={"bwv": True},
                    )
                if rng.random() < 0.3:
                    w.emit(
                        t + timedelta(hours=rng.uniform(1, 3)),
                        "bwv",
                        "bwv.footage.viewed",
                        actor=s.id,
                        record={"type": "bwv_footage", "id": f"BWV-{s.id}-{day:03d}"},
                        subjects=[p.id],
                    )
        it = [s for s in w.staff if s.role == "staff_support" and w.shift(s, day)]
        if it and day % 7 == 3:  # IT turns verbose logging on for an upgrade: not a tamper
            who = it[0]
            w.emit(
                w.during_shift(who, day, 0.3),
                "audit",
                "audit.config_changed",
                actor=who.id,
                terminal=w.terminal(who),
                attrs={"setting": "athena.audit.log_level", "value": "verbose"},
            )
        if progress is not None:
            progress(day)
