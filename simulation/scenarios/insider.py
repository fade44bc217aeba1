"""Scenarios of the ``insider.*`` detectors: data taken on removable media or through the web
and mail, logons at odd hours, hacking tools, mass mailing; and the IT life that looks alike.

They run only in a force with IT life (``Force(it=True)``, ``probity simulate --it``) and
draw from its own random generator (``World.it``), so the clean world is unchanged. The
detectors learn each officer's usual first (two weeks), so the scenarios that need it fall
in the last quarter of the period, from day 15: a force shorter than 16 days does not
give them a fair chance.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from simulation.it_life import COMMS_UNIT, DFU_UNIT, ICT_UNIT, removable_copies
from simulation.scenarios.base import DISCLOSURE, MISUSE, Label, lookalike, scenario
from simulation.world import Ev, Staff, World, stamp

WARM_DAY = 15  # the detectors' warm-up (14 days) is over


def _rng(w: World) -> random.Random | None:
    return w.it


def _pick(w: World, rng: random.Random, roles: tuple[str, ...]) -> Staff:
    pool = w.officers(roles) or w.officers()
    if not pool:  # a tiny force: officers play more than one part
        pool = [s for s in w.staff if s.joined_day is None and s.left_day is None]
    s = rng.choice(pool)
    w.reserved.add(s.id)
    return s


def _late_day(w: World, rng: random.Random, s: Staff, working: bool = True) -> int:
    """A day from the warm-up's end (or the last quarter) on which ``s`` works (or rests)."""
    first = min(max(WARM_DAY, int(w.days * 0.75)), w.days - 1)
    days = [d for d in range(first, w.days) if (w.shift(s, d) is not None) == working]
    return rng.choice(days or [w.days - 1])


def _off_duty(w: World, rng: random.Random, s: Staff, day: int) -> datetime:
    """Small hours of ``day`` at least 3 h from any of ``s``'s shifts (else day's 03:00)."""
    for hour in rng.sample((1.5, 2.0, 2.5, 3.0, 3.5, 4.0), 6):
        t = w.off_duty_time(s, day, hour)
        if t is not None:
            return t
    return w.at(day, 3)


# --- scenarios --------------------------------------------------------------------------


@scenario("insider.removable_media", order=29)
def usb_theft(w: World) -> list[Label]:
    """Case files copied to a stick the officer never used before, late in the evening."""
    rng = _rng(w)
    if rng is None:
        return []
    s = _pick(w, rng, ("cid", "intel", "staff_support"))
    day = _late_day(w, rng, s)
    t = w.at(day, rng.uniform(21.0, 23.0))
    dev = f"USB-{rng.randint(10**6, 10**7 - 1)}"
    evs = removable_copies(w, rng, s, t, dev, files=(120, 400), first=timedelta(seconds=5),
                           every=timedelta(seconds=5),
                           path=lambda i: f"S:/CID/casefiles/{i:04d}.pdf", size=(2, 30),
                           unit=1_000_000, terminal=w.terminal(s))  # fmt: skip
    return [
        Label(
            "usb_theft",
            DISCLOSURE,
            [s.id],
            evs,
            also=["access.bulk_exfiltration"],
            note="a new stick, hundreds of case files, no task",
        )
    ]


@scenario("insider.exfiltration_channel", order=30)
def cloud_or_personal_mail(w: World) -> list[Label]:
    """A folder uploaded to a file-hosting site, or mailed to the officer's own Gmail."""
    rng = _rng(w)
    if rng is None:
        return []
    s = _pick(w, rng, ("cid", "intel", "response"))
    days = w.working_days(s, int(w.days * 0.3)) or [w.days - 1]
    day = rng.choice(days)
    t = w.during_shift(s, day, rng.uniform(0.5, 0.9)) if w.shift(s, day) else w.at(day, 12)
    if rng.random() < 0.5:
        site = rng.choice(("wetransfer.com", "mega.nz", "drive.google.com", "www.dropbox.com"))
        ev = w.emit(
            t,
            "proxy",
            "web.visited",
            actor=s.id,
            terminal=w.terminal(s),
            attrs={
                "url": f"https://{site}/upload",
                "domain": site,
                "action": "upload",
                "method": "POST",
                "bytes_out": rng.randint(50, 600) * 1_000_000,
            },
        )
        how = f"upload to {site}"
    else:
        to = f"{s.name.split()[0].lower()}.{rng.randint(10, 99)}@gmail.com"
        ev = w.emit(
            t,
            "exchange",
            "message.sent",
            actor=s.id,
            attrs={
                "channel": "email",
                "to": [to],
                "subject": "fwd: docs",
                "attachments": rng.randint(2, 9),
                "attachment_bytes": rng.randint(2, 20) * 10**6,
            },
        )
        how = f"attachments to {to}"
    return [Label("cloud_or_personal_mail", DISCLOSURE, [s.id], [ev], note=how)]


@scenario("insider.unusual_logon", order=31)
def small_hours_logon(w: World) -> list[Label]:
    """An office worker logs on at 3 a.m. on a rest day, at a colleague's workstation."""
    rng = _rng(w)
    if rng is None:
        return []
    s = _pick(w, rng, ("intel", "staff_support"))
    day = _late_day(w, rng, s, working=False)
    t = _off_duty(w, rng, s, day)
    other = rng.choice([o for o in w.staff if o.id != s.id])
    term = w.terminal(other)
    ev = w.emit(
        t,
        "windows",
        "auth.login",
        actor=s.id,
        terminal=term,
        attrs={"logon_type": "interactive", "workstation": term},
    )
    return [
        Label(
            "small_hours_logon",
            MISUSE,
            [s.id],
            [ev],
            also=["access.off_duty"],
            note=f"rest day, {other.id}'s workstation",
        )
    ]


@scenario("insider.hacking_tools", order=32)
def hacking_tool(w: World) -> list[Label]:
    """A credential dumper started, or an anonymising browser downloaded."""
    rng = _rng(w)
    if rng is None:
        return []
    s = _pick(w, rng, ("response", "cid", "staff_support", "control_room"))
    days = w.working_days(s, int(w.days * 0.3)) or [w.days - 1]
    day = rng.choice(days)
    t = w.during_shift(s, day, rng.uniform(0.1, 0.85)) if w.shift(s, day) else w.at(day, 12)
    if rng.random() < 0.5:
        path = rng.choice(("C:/Users/Public/mimikatz.exe", "C:/Temp/procdump64.exe"))
        cmd = f"{path} " + ("sekurlsa::logonpasswords" if "mimi" in path else "-ma lsass.exe")
        ev = w.emit(
            t,
            "windows",
            "process.started",
            actor=s.id,
            terminal=w.terminal(s),
            attrs={"path": path, "command_line": cmd, "parent": "cmd.exe"},
        )
    else:
        url = "https://www.torproject.org/dist/torbrowser/13.0/torbrowser-install-win64.exe"
        ev = w.emit(
            t,
            "proxy",
            "web.visited",
            actor=s.id,
            terminal=w.terminal(s),
            attrs={
                "url": url,
                "domain": "www.torproject.org",
                "action": "download",
                "bytes_in": 95_000_000,
            },
        )
    return [Label("hacking_tool", MISUSE, [s.id], [ev])]


@scenario("insider.mass_mailing", order=33)
def mass_mail(w: World) -> list[Label]:
    """A constable mails a grievance to a quarter of the force."""
    rng = _rng(w)
    if rng is None:
        return []
    s = _pick(w, rng, ("response", "neighbourhood"))
    day = _late_day(w, rng, s)
    t = w.during_shift(s, day, rng.uniform(0.1, 0.85))
    to = rng.sample(w.staff, min(len(w.staff), max(80, len(w.staff) // 4)))
    ev = w.emit(
        t,
        "exchange",
        "message.sent",
        actor=s.id,
        attrs={
            "channel": "email",
            "to": [f"{o.id.lower()}@police.example" for o in to],
            "subject": "what management will not tell you",
        },
    )
    return [Label("mass_mail", MISUSE, [s.id], [ev])]


# --- look-alikes ------------------------------------------------------------------------


def _upsert_unit(w: World, s: Staff, unit: str, role: str) -> Ev:
    return w.staff_upsert(w.start - timedelta(days=30), s, unit=unit, role=role)


@lookalike("insider.removable_media", order=16)
def la_exhibit_imaging(w: World) -> list[Label]:
    """A forensic examiner images a new exhibit every working day, each under its task."""
    rng = _rng(w)
    if rng is None:
        return []
    s = _pick(w, rng, ("cid",))
    evs = [_upsert_unit(w, s, DFU_UNIT, "digital_forensics")]
    for day in w.working_days(s):
        ref = f"DF-{w.start.year}-9{day:02d}{int(s.id[1:]) % 100:02d}"
        t = w.during_shift(s, day, 0.3)
        dev = f"EXH-{rng.randint(10**7, 10**8 - 1)}"
        evs += removable_copies(w, rng, s, t, dev, files=(30, 90),
                                first=timedelta(seconds=15), every=timedelta(seconds=15),
                                path=f"E:/{ref}/{{:04d}}.bin".format, size=(1, 30),
                                unit=1_000_000, terminal=w.terminal(s),
                                purpose=ref)  # fmt: skip
    return [
        Label(
            "exhibit_imaging",
            DISCLOSURE,
            [s.id],
            evs,
            note="digital forensics: new devices daily, under a task",
        )
    ]


@lookalike("insider.exfiltration_channel", order=17)
def la_press_office(w: World) -> list[Label]:
    """The press office uploads appeal footage to social media and fetches a file the CPS
    sent by WeTransfer."""
    rng = _rng(w)
    if rng is None:
        return []
    s = _pick(w, rng, ("staff_support",))
    evs = [_upsert_unit(w, s, COMMS_UNIT, "communications")]
    for day in w.working_days(s):
        t = w.during_shift(s, day, 0.4)
        site = rng.choice(("www.youtube.com", "twitter.com", "www.facebook.com"))
        evs.append(
            w.emit(
                t,
                "proxy",
                "web.visited",
                actor=s.id,
                attrs={
                    "url": f"https://{site}/upload",
                    "domain": site,
                    "action": "upload",
                    "method": "POST",
                    "bytes_out": rng.randint(5, 200) * 1_000_000,
                },
            )
        )
        if rng.random() < 0.3:
            evs.append(
                w.emit(
                    t + timedelta(hours=1),
                    "proxy",
                    "web.visited",
                    actor=s.id,
                    attrs={
                        "url": "https://wetransfer.com/downloads/abc",
                        "domain": "wetransfer.com",
                        "action": "download",
                        "method": "GET",
                        "bytes_in": 40_000_000,
                    },
                )
            )
    return [Label("press_office", DISCLOSURE, [s.id], evs)]


@lookalike("insider.unusual_logon", order=18)
def la_night_overtime(w: World) -> list[Label]:
    """An office worker covers a rostered night shift in the last week."""
    rng = _rng(w)
    if rng is None:
        return []
    s = _pick(w, rng, ("intel", "staff_support"))
    day = _late_day(w, rng, s, working=False)
    start = w.at(day, 22)
    roster = w.emit(
        start - timedelta(days=3),
        "roster",
        "shift.rostered",
        attrs={"staff_id": s.id, "start": stamp(start), "end": stamp(start + timedelta(hours=9))},
    )
    term = w.terminal(s)
    ev = w.emit(
        start + timedelta(minutes=rng.randint(3, 25)),
        "windows",
        "auth.login",
        actor=s.id,
        terminal=term,
        attrs={"logon_type": "interactive", "workstation": term},
    )
    return [Label("night_overtime", MISUSE, [s.id], [roster, ev], note="rostered overtime night")]


@lookalike("insider.hacking_tools", order=19)
def la_it_admin(w: World) -> list[Label]:
    """An IT administrator's remote-administration tools, every working day."""
    rng = _rng(w)
    if rng is None:
        return []
    s = _pick(w, rng, ("staff_support",))
    evs = [_upsert_unit(w, s, ICT_UNIT, "it_admin")]
    for day in w.working_days(s):
        for tool in ("C:/Program Files/TeamViewer/TeamViewer.exe", "C:/Tools/PsExec64.exe"):
            evs.append(
                w.emit(
                    w.during_shift(s, day, rng.uniform(0.1, 0.85)),
                    "windows",
                    "process.started",
                    actor=s.id,
                    terminal=w.terminal(s),
                    attrs={"path": tool, "command_line": tool, "parent": "explorer.exe"},
                )
            )
    return [Label("it_admin", MISUSE, [s.id], evs)]


@lookalike("insider.mass_mailing", order=20)
def la_bulletin(w: World) -> list[Label]:
    """Corporate communications mails the daily bulletin to a hundred or so colleagues."""
    rng = _rng(w)
    if rng is None:
        return []
    s = _pick(w, rng, ("staff_support",))
    evs = [_upsert_unit(w, s, COMMS_UNIT, "communications")]
    for day in w.working_days(s):
        to = rng.sample(w.staff, min(len(w.staff), rng.randint(60, 140)))
        evs.append(
            w.emit(
                w.during_shift(s, day, 0.2),
                "exchange",
                "message.sent",
                actor=s.id,
                attrs={
                    "channel": "email",
                    "subject": "daily bulletin",
                    "to": [f"{o.id.lower()}@police.example" for o in to],
                },
            )
        )
    return [Label("bulletin", MISUSE, [s.id], evs)]


@scenario("insider.sequence", order=34)
def collect_move_cover(w: World) -> list[Label]:
    """Case folders downloaded in bulk, copied to a stick, then the security log cleared."""
    rng = _rng(w)
    if rng is None:
        return []
    s = _pick(w, rng, ("cid", "intel"))
    days = w.working_days(s, int(w.days * 0.3)) or [w.days - 1]
    day = rng.choice(days)
    t = w.during_shift(s, day, rng.uniform(0.3, 0.6)) if w.shift(s, day) else w.at(day, 12)
    term = w.terminal(s)
    evs: list[Ev] = []
    for i in range(rng.randint(55, 120)):
        evs.append(
            w.emit(
                t + timedelta(seconds=25 * i),
                "m365",
                "file.downloaded",
                actor=s.id,
                attrs={
                    "path": f"/sites/cid/Shared Documents/op/{i:03d}.docx",
                    "site": "https://force.sharepoint.com/sites/cid",
                    "bytes": rng.randint(50, 900) * 1000,
                },
            )
        )
    t2 = t + timedelta(minutes=rng.randint(60, 180))
    dev = f"USB-{rng.randint(10**6, 10**7 - 1)}"
    evs.append(
        w.emit(
            t2,
            "m365",
            "file.copied",
            actor=s.id,
            terminal=term,
            attrs={
                "path": "C:/Users/Public/op.zip",
                "destination": "removable",
                "bytes": rng.randint(20, 300) * 10**6,
                "device": dev,
            },
        )
    )
    t3 = t2 + timedelta(minutes=rng.randint(10, 240))
    evs.append(
        w.emit(
            t3,
            "windows",
            "audit.config_changed",
            actor=s.id,
            terminal=term,
            attrs={"setting": "security_log", "value": "cleared"},
        )
    )
    return [
        Label(
            "collect_move_cover",
            DISCLOSURE,
            [s.id],
            evs,
            also=["audit.monitoring_disabled", "insider.removable_media"],
        )
    ]


@lookalike("insider.sequence", order=21)
def la_records_officer(w: World) -> list[Label]:
    """A disclosure officer downloads case bundles daily, uploads them to the force's
    SharePoint for the CPS, and clears their temp folder."""
    rng = _rng(w)
    if rng is None:
        return []
    s = _pick(w, rng, ("staff_support", "cid"))
    evs: list[Ev] = []
    for day in w.working_days(s)[:6]:
        t = w.during_shift(s, day, 0.2)
        for i in range(rng.randint(55, 90)):
            evs.append(
                w.emit(
                    t + timedelta(seconds=20 * i),
                    "m365",
                    "file.downloaded",
                    actor=s.id,
                    attrs={
                        "path": f"/sites/disclosure/bundle/{i:03d}.pdf",
                        "site": "https://force.sharepoint.com/sites/disclosure",
                        "bytes": rng.randint(50, 900) * 1000,
                    },
                )
            )
        evs.append(
            w.emit(
                t + timedelta(hours=2),
                "proxy",
                "web.visited",
                actor=s.id,
                attrs={
                    "url": "https://force.sharepoint.com/sites/cps-share/upload",
                    "domain": "force.sharepoint.com",
                    "action": "upload",
                    "method": "POST",
                    "bytes_out": rng.randint(20, 200) * 10**6,
                },
            )
        )
        for i in range(rng.randint(20, 40)):
            evs.append(
                w.emit(
                    t + timedelta(hours=3, seconds=5 * i),
                    "windows",
                    "file.accessed",
                    actor=s.id,
                    attrs={
                        "path": f"C:/Users/{s.id}/AppData/Local/Temp/{i}.tmp",
                        "access": ["delete"],
                        "object_type": "File",
                    },
                )
            )
    return [Label("records_officer", DISCLOSURE, [s.id], evs)]
