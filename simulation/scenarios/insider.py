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
MB = 1_000_000


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
    """A day from the warm-up's end (or the last quarter) on which ``s`` works (or rests).

    A short force's late window can be a single rest day of ``s`` (a 7-day force: its last
    day, a Sunday): then the latest day of the period ``s`` works; if they work none at all
    (on leave throughout), they are called in for an overtime day shift on the last day, so
    that the scenario's events fall inside a rostered shift. A rest day asked for falls
    back to the last day, which callers treat as off duty wherever its shift is."""
    first = min(max(WARM_DAY, int(w.days * 0.75)), w.days - 1)
    days = [d for d in range(first, w.days) if (w.shift(s, d) is not None) == working]
    if not days and working:
        worked = w.working_days(s)
        if not worked:
            s.overtime[w.days - 1] = "D"
        days = [worked[-1] if worked else w.days - 1]
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


# --- departing staff, accounts and terminals, cumulative exfiltration ------------------------


def _working_before(w: World, s: Staff, lo: int, hi: int) -> list[int]:
    """Days from ``lo`` to before ``hi`` on which ``s`` works; if none (a short force, a run
    of rest days), the latest working day before ``hi``; if none either, an overtime day
    shift on ``lo``."""
    days = w.working_days(s, lo, hi) or w.working_days(s, 0, hi)[-1:]
    if not days:
        s.overtime[lo] = "D"
        days = [lo]
    return days


@scenario("insider.departing_staff", order=35)
def leaver_takes_files(w: World) -> list[Label]:
    """An investigator copies case files to a stick on a few evenings, resigns, and after
    the notice mails attachments to their private address and looks at job sites."""
    rng = _rng(w)
    if rng is None:
        return []
    s = _pick(w, rng, ("cid", "intel"))
    notice = rng.randint(min(10, w.days - 4), max(min(10, w.days - 4), w.days - 6))
    dev = f"USB-{rng.randint(10**6, 10**7 - 1)}"
    evs: list[Ev] = []
    before = _working_before(w, s, 1, notice)
    for day in rng.sample(before, min(3, len(before))):
        t = w.during_shift(s, day, rng.uniform(0.8, 0.95))
        evs += removable_copies(w, rng, s, t, dev, files=(12, 20), first=timedelta(seconds=30),
                                every=timedelta(seconds=30),
                                path=f"S:/CID/casefiles/{day:02d}-{{:03d}}.pdf".format,
                                size=(4, 12), unit=1_000_000, terminal=w.terminal(s))  # fmt: skip
    known = w.at(notice, 9)
    if not s.personal_email:
        s.personal_email = f"{s.name.split()[0].lower()}{rng.randint(10, 99)}@plus.net"
    s.leaving = (known, (known - timedelta(days=1)).date(), (known + timedelta(days=45)).date())
    evs.append(w.staff_upsert(known, s))
    after = w.working_days(s, notice, w.days) or [w.days - 1]
    for day in rng.sample(after, min(2, len(after))):
        t = w.during_shift(s, day, 0.5) if w.shift(s, day) else w.at(day, 12)
        site = rng.choice(("www.indeed.co.uk", "www.kroll.com", "www.reed.co.uk"))
        evs.append(w.emit(t, "proxy", "web.visited", actor=s.id, terminal=w.terminal(s),
                          attrs={"url": f"https://{site}/", "domain": site, "action": "visit",
                                 "method": "GET"}))  # fmt: skip
    day = rng.choice(after)
    t = w.during_shift(s, day, 0.9) if w.shift(s, day) else w.at(day, 20)
    evs.append(w.emit(t, "exchange", "message.sent", actor=s.id,
                      attrs={"channel": "email", "to": [s.personal_email], "subject": "bits",
                             "attachments": rng.randint(3, 8),
                             "attachment_bytes": rng.randint(2, 15) * 1_000_000}))  # fmt: skip
    return [
        Label(
            "leaver_takes_files",
            DISCLOSURE,
            [s.id],
            evs,
            also=[
                "insider.removable_media",
                "insider.exfiltration_channel",
                "insider.cumulative_exfiltration",
            ],
            note=f"stick copies before the notice (day {notice}), private mail after",
        )
    ]


@scenario("insider.account_misuse", order=36)
def manager_workstation(w: World) -> list[Label]:
    """An officer logs on at their line manager's workstation during lunch; or their account
    is used at another station while they are rostered off (a shared password)."""
    rng = _rng(w)
    if rng is None:
        return []
    owners = _sole_users(w)
    pool = [s for s in w.officers(("cid", "intel", "staff_support"))
            if s.line_manager and w.terminal(_by_id(w, s.line_manager)) in owners]  # fmt: skip
    if pool:
        s = rng.choice(pool)
        w.reserved.add(s.id)
    else:  # a small force: no one whose manager has a workstation of their own
        s = _pick(w, rng, ("cid", "intel", "staff_support"))
    if pool and rng.random() < 0.5:
        day = rng.choice(w.working_days(s, 2) or [w.days - 1])
        t = w.during_shift(s, day, 0.5) if w.shift(s, day) else w.at(day, 13)
        term = w.terminal(_by_id(w, s.line_manager or ""))
        note = f"the line manager {s.line_manager}'s workstation {term}"
    else:
        day = _late_day(w, rng, s, working=False)
        t = w.at(day, rng.uniform(11, 16))
        away = [o for o in w.staff if o.station != s.station and w.terminal(o) in owners]
        term = w.terminal(rng.choice(away)) if away else w.terminal(s)
        note = f"rest day, account used at {term} in another station"
    ev = w.emit(t, "windows", "auth.login", actor=s.id, terminal=term,
                attrs={"logon_type": "interactive", "workstation": term})  # fmt: skip
    return [Label("manager_workstation", MISUSE, [s.id], [ev], also=["insider.unusual_logon"],
                  note=note)]  # fmt: skip


@scenario("insider.cumulative_exfiltration", order=37)
def slow_leak(w: World) -> list[Label]:
    """80-120 MB a working day uploaded to an unlisted storage site for three weeks, and now
    and then a few attachments to an outside address: under every per-day line."""
    rng = _rng(w)
    if rng is None:
        return []
    s = _pick(w, rng, ("cid", "staff_support"))
    site = rng.choice(("store.quietvault.net", "dl.boxshare.io", "up.filecellar.org"))
    evs: list[Ev] = []
    for n, day in enumerate(w.working_days(s, 1)):
        t = w.during_shift(s, day, rng.uniform(0.6, 0.95))
        evs.append(w.emit(t, "proxy", "web.visited", actor=s.id, terminal=w.terminal(s),
                          attrs={"url": f"https://{site}/put", "domain": site, "action": "upload",
                                 "method": "POST",
                                 "bytes_out": rng.randint(80, 120) * 1_000_000}))  # fmt: skip
        if n % 4 == 3:
            evs.append(w.emit(t + timedelta(minutes=20), "exchange", "message.sent", actor=s.id,
                              attrs={"channel": "email",
                                     "to": ["research@paralegal-desk.co.uk"],
                                     "subject": "as discussed", "attachments": 2,
                                     "attachment_bytes": rng.randint(6, 15) * MB}))  # fmt: skip
    return [Label("slow_leak", DISCLOSURE, [s.id], evs, also=["insider.departing_staff"],
                  note=f"uploads to {site} every working day")]  # fmt: skip


def _by_id(w: World, staff_id: str) -> Staff:
    return next(s for s in w.staff if s.id == staff_id)


def _sole_users(w: World) -> set[str]:
    """Workstations only one member of staff uses (the register assigns them to them)."""
    seen: dict[str, int] = {}
    for s in w.staff:
        seen[w.terminal(s)] = seen.get(w.terminal(s), 0) + 1
    return {t for t, n in seen.items() if n == 1}


@lookalike("insider.departing_staff", order=22)
def la_leaver_handover(w: World) -> list[Label]:
    """A member of staff who resigns goes on printing as before, mails their files to their
    line manager, copies them to the team share and looks at job sites."""
    rng = _rng(w)
    if rng is None:
        return []
    pool = [s for s in w.officers(("staff_support", "cid")) if s.line_manager]
    if not pool:
        return []
    s = rng.choice(pool)
    w.reserved.add(s.id)
    notice = rng.randint(3, max(3, w.days // 3))
    known = w.at(notice, 9)
    s.leaving = (known, (known - timedelta(days=1)).date(), (known + timedelta(days=30)).date())
    evs: list[Ev] = [w.staff_upsert(known, s)]
    boss = f"{(s.line_manager or '').lower()}@police.example"
    for day in w.working_days(s):
        t = w.during_shift(s, day, 0.3)
        evs.append(w.emit(t, "endpoint", "file.printed", actor=s.id, terminal=w.terminal(s),
                          attrs={"path": "C:/case.pdf", "printer": "PRN-1",
                                 "pages": rng.randint(5, 45)}))  # fmt: skip
        if day < notice:
            continue
        evs.append(w.emit(t + timedelta(hours=2), "exchange", "message.sent", actor=s.id,
                          attrs={"channel": "email", "to": [boss], "subject": "handover",
                                 "attachments": rng.randint(2, 15),
                                 "attachment_bytes": rng.randint(2, 40) * 1_000_000}))  # fmt: skip
        for i in range(rng.randint(10, 40)):
            evs.append(w.emit(t + timedelta(hours=3, minutes=i), "endpoint", "file.copied",
                              actor=s.id, terminal=w.terminal(s),
                              attrs={"path": f"C:/Users/{s.id}/cases/{i}.docx",
                                     "destination": "network",
                                     "bytes": rng.randint(100, 2000) * 1000}))  # fmt: skip
        if rng.random() < 0.5:
            site = rng.choice(("www.totaljobs.com", "www.indeed.co.uk"))
            evs.append(w.emit(t + timedelta(hours=4), "proxy", "web.visited", actor=s.id,
                              attrs={"url": f"https://{site}/", "domain": site,
                                     "action": "visit"}))  # fmt: skip
    return [Label("leaver_handover", DISCLOSURE, [s.id], evs,
                  note=f"notice on day {notice}, files to the line manager")]  # fmt: skip


@lookalike("insider.account_misuse", order=23)
def la_sergeant_helps(w: World) -> list[Label]:
    """A line manager logs on at their team's workstations to help, most working days, and
    at hot desks and the briefing-room PC."""
    rng = _rng(w)
    if rng is None:
        return []
    owners = _sole_users(w)
    heads = {o.line_manager for o in w.staff if o.line_manager and w.terminal(o) in owners}
    near = {(o.line_manager, o.station) for o in w.staff}
    pool = [s for s in w.officers() if s.id in heads and (s.id, s.station) in near]
    if not pool:
        return []
    s = rng.choice(pool)
    w.reserved.add(s.id)
    team = [o for o in w.staff if o.line_manager == s.id and w.terminal(o) in owners
            and o.station == s.station and o.joined_day is None]  # fmt: skip
    evs: list[Ev] = []
    for day in w.working_days(s):
        for term in (
            *(w.terminal(o) for o in rng.sample(team, min(2, len(team)))),
            f"HOTDESK-{s.station[:3].upper()}-{rng.randint(1, 40):02d}",
            f"WS-{s.station[:3].upper()}-BRIEFING",
        ):
            t = w.during_shift(s, day, rng.uniform(0.1, 0.9))
            evs.append(w.emit(t, "windows", "auth.login", actor=s.id, terminal=term,
                              attrs={"logon_type": "interactive",
                                     "workstation": term}))  # fmt: skip
    return [Label("sergeant_helps", MISUSE, [s.id], evs, note="their team's workstations")]


@lookalike("insider.cumulative_exfiltration", order=24)
def la_disclosure_uploads(w: World) -> list[Label]:
    """A disclosure officer uploads case bundles to the CPS portal every working day and
    prints the schedules."""
    rng = _rng(w)
    if rng is None:
        return []
    s = _pick(w, rng, ("staff_support", "cid"))
    evs: list[Ev] = []
    for day in w.working_days(s):
        t = w.during_shift(s, day, 0.4)
        evs.append(w.emit(t, "proxy", "web.visited", actor=s.id, terminal=w.terminal(s),
                          attrs={"url": "https://portal.cps.gov.uk/upload",
                                 "domain": "portal.cps.gov.uk", "action": "upload",
                                 "method": "POST",
                                 "bytes_out": rng.randint(100, 400) * 1_000_000}))  # fmt: skip
        evs.append(w.emit(t + timedelta(hours=1), "endpoint", "file.printed", actor=s.id,
                          terminal=w.terminal(s),
                          attrs={"path": "C:/schedule.pdf", "printer": "PRN-1",
                                 "pages": rng.randint(5, 30)}))  # fmt: skip
    return [Label("disclosure_uploads", DISCLOSURE, [s.id], evs, note="CPS portal daily")]
