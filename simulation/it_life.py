"""Benign IT life (``Force(it=True)``, ``probity simulate --it``): what ordinary staff do on
the force's computers, which the ``insider.*`` detectors must stay quiet on.

- Windows logons at the start of every shift and screen unlocks during it; a share of staff
  hot-desk (``HOTDESK-`` terminals); night workers log on at night, on their rostered nights.
- A digital forensics unit that copies exhibits to and from removable media every working
  day, a new exhibit device each time, under a task; a video unit copying footage to its
  own drives daily.
- A communications team that uploads to social media and video sites and mails bulletins
  to 60-130 colleagues; everyone else e-mails a few colleagues.
- IT administrators starting remote-administration tools (TeamViewer, PsExec).
- Some office staff use their own stick weekly; case files printed in modest runs.
- HR knows everyone's line manager (the unit's first member) and some private e-mail
  addresses; the asset register assigns each workstation to its user (shared where two
  share one, as are hot desks and each station's briefing-room PC, where response and
  neighbourhood officers log on at parade). Sergeants sometimes log on at a team member's
  workstation to help.
- A few staff resign during the period: they go on as before, hand their files to their
  line manager (internal mail with attachments, copies to the team share) and look at job
  sites; a few others browse job sites without leaving.

It draws from its own random generator (``World.it``), as the insider scenarios do. It is
off by default: the clean world's events are pinned (tests/simulation/test_noise.py).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from simulation.world import Ev, Staff, World

At = Callable[[float], datetime]  # a fraction of the shift -> the moment

DFU_UNIT, VIDEO_UNIT, COMMS_UNIT, ICT_UNIT = (
    "digital-forensics-1",
    "video-unit-1",
    "corporate-comms-1",
    "ict-1",
)


JOB_SITES = ("www.indeed.co.uk", "www.reed.co.uk", "www.totaljobs.com", "www.cv-library.co.uk",
             "www.glassdoor.co.uk", "www.civilservicejobs.service.gov.uk")  # fmt: skip
PRIVATE_DOMAINS = ("gmail.com", "hotmail.co.uk", "plus.net", "zen.co.uk", "btinternet.com")


def hr_facts(w: World) -> None:
    """Line managers and private e-mail addresses on HR's records (contract 1.3), set on the
    staff before their records are written. Drawn from nothing: the same for any seed's
    staff, and the IT generator's sequence is left as it was."""
    by_unit: dict[str, list[Staff]] = {}
    for s in w.staff:
        by_unit.setdefault(s.unit, []).append(s)
    for members in by_unit.values():
        serving = [s for s in members if s.joined_day is None and s.left_day is None]
        if not serving:
            continue
        head = min(serving, key=lambda s: int(s.id[1:]))
        for s in members:
            if s is not head:
                s.line_manager = head.id
    for s in w.staff:
        n = int(s.id[1:])
        if n % 3 == 0:
            first, last = s.name.lower().split(" ", 1)
            domain = PRIVATE_DOMAINS[n % len(PRIVATE_DOMAINS)]
            s.personal_email = f"{first}.{last.replace(' ', '')}{n % 100}@{domain}"


def _serving(s: Staff, w: World) -> bool:
    return s.joined_day is None and s.left_day is None


def assign_units(w: World, rng: random.Random) -> dict[str, list[Staff]]:
    """Pick the specialist units from serving staff and tell HR (a ``staff.upsert`` with the
    unit, and the role for IT administrators), before the period starts."""
    pool = [s for s in w.staff if _serving(s, w) and s.id not in w.reserved]
    cid = [s for s in pool if s.role == "cid"]
    support = [s for s in pool if s.role == "staff_support"]
    n = len(w.staff)
    units: dict[str, list[Staff]] = {}
    for unit, source, share, role in (
        (DFU_UNIT, cid, 0.015, "digital_forensics"),
        (VIDEO_UNIT, support, 0.01, "video_unit"),
        (COMMS_UNIT, support, 0.012, "communications"),
        (ICT_UNIT, support, 0.01, "it_admin"),
    ):
        free = [s for s in source if not any(s in m for m in units.values())]
        k = min(len(free), max(2, round(n * share)))
        units[unit] = rng.sample(free, k) if k else []
        for s in units[unit]:
            w.staff_upsert(w.start - timedelta(days=30), s, unit=unit, role=role)
    return units


def activity(w: World) -> None:
    """Every serving member of staff's IT life over the period (after the other activity)."""
    rng = w.it
    if rng is None:
        return
    units = assign_units(w, rng)
    special = {s.id: unit for unit, members in units.items() for s in members}
    hotdesk = {s.id for s in w.staff if rng.random() < 0.15}
    stick = {
        s.id: f"USB-{rng.randint(100000, 999999)}"
        for s in w.staff
        if s.role in ("staff_support", "intel", "cid")
        and s.id not in special
        and rng.random() < 0.08
    }
    used: set[str] = set()  # stick owners who have used theirs in the period
    video_drives = {s.id: [f"VID-{s.id}-{i}" for i in (1, 2)] for s in units[VIDEO_UNIT]}
    leavers = _leavers(w, rng, special)
    browsers = {s.id for s in w.staff if rng.random() < 0.05}
    team: dict[str, list[Staff]] = {}
    for s in w.staff:
        if s.line_manager:
            team.setdefault(s.line_manager, []).append(s)
    hotdesks: dict[str, str] = {}  # terminal -> station
    for day in range(w.days):
        for s in w.staff:
            sh = w.shift(s, day)
            if sh is None:
                continue
            start, end = sh
            length = (end - start).total_seconds()

            def at(frac: float, start: datetime = start, length: float = length) -> datetime:
                return start + timedelta(seconds=length * frac)

            term = (
                f"HOTDESK-{s.station[:3].upper()}-{rng.randint(1, 40):02d}"
                if s.id in hotdesk
                else w.terminal(s)
            )
            if s.id in hotdesk:
                hotdesks[term] = s.station
            _logons(w, rng, s, at, term)
            if s.role in ("response", "neighbourhood") and rng.random() < 0.3:
                _briefing(w, rng, s, at)
            near = [o for o in team.get(s.id, ()) if o.station == s.station and o.serving(day)]
            if near and rng.random() < 0.1:
                _helps(w, rng, s, at, rng.choice(near))
            if s.id in browsers and rng.random() < 0.3:
                _job_site(w, rng, s, at(rng.uniform(0.3, 0.9)), term)
            notice = leavers.get(s.id)
            if notice is not None and day >= notice:
                _leaver_day(w, rng, s, at, term)
            unit = special.get(s.id)
            if unit == DFU_UNIT:
                _forensics(w, rng, s, day, at, term)
            elif unit == VIDEO_UNIT:
                _video(w, rng, s, at, term, video_drives[s.id])
            elif unit == COMMS_UNIT:
                _comms(w, rng, s, day, at, term)
            elif unit == ICT_UNIT:
                _admin(w, rng, s, at, term)
            first = s.id in stick and s.id not in used  # in use for months: from day one
            if s.id in stick and (first or day % 7 == int(s.id[1:]) % 7 or rng.random() < 0.1):
                _own_stick(w, rng, s, at, term, stick[s.id])
                used.add(s.id)
            for _ in range(0 if unit == COMMS_UNIT else rng.randint(0, 3)):
                colleagues = rng.sample(w.staff, min(len(w.staff), rng.randint(1, 6)))
                w.emit(
                    at(rng.uniform(0.1, 0.9)),
                    "exchange",
                    "message.sent",
                    actor=s.id,
                    attrs={
                        "channel": "email",
                        "to": [_mail(c) for c in colleagues],
                        "subject": "re: shift handover",
                    },
                )
            if s.role in ("cid", "staff_support") and rng.random() < 0.2:
                w.emit(
                    at(rng.uniform(0.2, 0.9)),
                    "endpoint",
                    "file.printed",
                    actor=s.id,
                    terminal=term,
                    attrs={
                        "path": f"C:/Users/{s.id}/Documents/file.pdf",
                        "printer": f"PRN-{s.station[:3].upper()}",
                        "pages": rng.randint(2, 60),
                    },
                )


    _register(w, hotdesks)


def _mail(s: Staff) -> str:
    return f"{s.id.lower()}@police.example"


def _register(w: World, hotdesks: dict[str, str]) -> None:
    """The asset register: each workstation assigned to its user (shared where two users
    share it), hot desks and briefing-room PCs shared, before the period."""
    when = w.start - timedelta(days=40)
    users: dict[str, list[Staff]] = {}
    for s in w.staff:
        users.setdefault(w.terminal(s), []).append(s)
    for term, who in sorted(users.items()):
        own = len(who) == 1
        attrs: dict[str, Any] = {"terminal": term, "owner": who[0].id if own else None,
                                 "shared": not own, "location": who[0].station}  # fmt: skip
        w.emit(when, "cmdb", "terminal.assigned", attrs=attrs)
    stations = sorted({s.station for s in w.staff})
    shared = {**hotdesks, **{_briefing_pc(st): st for st in stations}}
    for term, station in sorted(shared.items()):
        attrs = {"terminal": term, "owner": None, "shared": True, "location": station}
        w.emit(when, "cmdb", "terminal.assigned", attrs=attrs)


def _briefing_pc(station: str) -> str:
    return f"WS-{station[:3].upper()}-BRIEFING"


def _briefing(w: World, rng: random.Random, s: Staff, at: At) -> None:
    """A logon at the station's briefing-room PC at parade (a shared terminal)."""
    term = _briefing_pc(s.station)
    w.emit(at(0.0) + timedelta(minutes=rng.randint(0, 15)), "windows", "auth.login",
           actor=s.id, terminal=term,
           attrs={"logon_type": "interactive", "workstation": term})  # fmt: skip


def _helps(w: World, rng: random.Random, s: Staff, at: At, member: Staff) -> None:
    """A line manager logs on at a team member's workstation (at their own station) to help
    with something."""
    term = w.terminal(member)
    w.emit(at(rng.uniform(0.2, 0.8)), "windows", "auth.login", actor=s.id, terminal=term,
           attrs={"logon_type": "interactive", "workstation": term})  # fmt: skip


def _job_site(w: World, rng: random.Random, s: Staff, t: datetime, term: str) -> None:
    site = rng.choice(JOB_SITES)
    w.emit(t, "proxy", "web.visited", actor=s.id, terminal=term,
           attrs={"url": f"https://{site}/jobs", "domain": site, "action": "visit",
                  "method": "GET", "bytes_in": rng.randint(50, 400) * 1000})  # fmt: skip


def _leavers(w: World, rng: random.Random, special: dict[str, str]) -> dict[str, int]:
    """A few ordinary staff resign during the period: HR records the notice (and the
    leaving date a month or two on) on the day after it was given. Staff id -> that day."""
    pool = [s for s in w.staff if _serving(s, w) and s.id not in w.reserved
            and s.id not in special and s.line_manager]  # fmt: skip
    out: dict[str, int] = {}
    for s in rng.sample(pool, min(len(pool), max(1, len(w.staff) // 60))):
        day = rng.randint(2, max(2, w.days - 5))
        known = w.at(day, 9)
        s.leaving = (known, (known - timedelta(days=1)).date(),
                     (known + timedelta(days=rng.randint(28, 60))).date())  # fmt: skip
        w.staff_upsert(known, s)
        out[s.id] = day
    return out


def _leaver_day(w: World, rng: random.Random, s: Staff, at: At, term: str) -> None:
    """A leaver's working day: handing files over to their line manager, a job site."""
    if rng.random() < 0.4:
        t = at(rng.uniform(0.2, 0.8))
        to = f"{(s.line_manager or '').lower()}@police.example"
        w.emit(t, "exchange", "message.sent", actor=s.id,
               attrs={"channel": "email", "to": [to],
                      "subject": "handover", "attachments": rng.randint(1, 12),
                      "attachment_bytes": rng.randint(1, 30) * 1_000_000})  # fmt: skip
        for i in range(rng.randint(5, 40)):
            w.emit(t + timedelta(minutes=5 + i), "endpoint", "file.copied", actor=s.id,
                   terminal=term,
                   attrs={"path": f"C:/Users/{s.id}/Documents/case{i}.docx",
                          "destination": "network",
                          "bytes": rng.randint(50, 900) * 1000})  # fmt: skip
    if rng.random() < 0.3:
        _job_site(w, rng, s, at(rng.uniform(0.3, 0.9)), term)


def removable_copies(
    w: World, rng: random.Random, s: Staff, t: datetime, dev: str, *, files: tuple[int, int],
    first: timedelta, every: timedelta, path: Callable[[int], str], size: tuple[int, int],
    unit: int, terminal: str | None, purpose: str | None = None,
) -> list[Ev]:  # fmt: skip
    """A storage device connected at ``t``, then ``rng.randint(*files)`` files copied to it,
    the first ``first`` after and then every ``every``, each ``rng.randint(*size) * unit``
    bytes: the one loop the IT life and the insider scenarios share (draws in this order)."""
    evs = [
        w.emit(t, "endpoint", "device.connected", actor=s.id, terminal=terminal, purpose=purpose,
               attrs={"device_type": "usb_storage", "device_id": dev})
    ]  # fmt: skip
    for i in range(rng.randint(*files)):
        evs.append(
            w.emit(t + first + every * i, "endpoint", "file.copied", actor=s.id,
                   terminal=terminal, purpose=purpose,
                   attrs={"path": path(i), "destination": "removable",
                          "bytes": rng.randint(*size) * unit, "device": dev})
        )  # fmt: skip
    return evs


def _logons(w: World, rng: random.Random, s: Staff, at: At, term: str) -> None:
    """A Windows logon a few minutes into the shift, and screen unlocks during it."""
    w.emit(
        at(0.0) + timedelta(minutes=rng.randint(1, 20)),
        "windows",
        "auth.login",
        actor=s.id,
        terminal=term,
        attrs={"logon_type": "interactive", "workstation": term},
    )
    for _ in range(rng.randint(0, 2)):
        w.emit(
            at(rng.uniform(0.15, 0.9)),
            "windows",
            "auth.login",
            actor=s.id,
            terminal=term,
            attrs={"logon_type": "unlock", "workstation": term},
        )


def _forensics(w: World, rng: random.Random, s: Staff, day: int, at: At, term: str) -> None:
    """An exhibit device a day, imaged under the task it belongs to."""
    ref = f"DF-{w.start.year}-{int(s.id[1:]) % 1000:03d}{day:02d}"
    t = at(rng.uniform(0.1, 0.5))
    dev = f"EXH-{rng.randint(10**7, 10**8 - 1)}"
    removable_copies(w, rng, s, t, dev, files=(20, 90), first=timedelta(seconds=20),
                     every=timedelta(seconds=20), path=lambda i: f"E:/exhibit/{ref}/{i:04d}.bin",
                     size=(1, 40), unit=1_000_000, terminal=term, purpose=ref)  # fmt: skip


def _video(w: World, rng: random.Random, s: Staff, at: At, term: str, drives: list[str]) -> None:
    t = at(rng.uniform(0.1, 0.7))
    dev = rng.choice(drives)
    removable_copies(w, rng, s, t, dev, files=(5, 25), first=timedelta(seconds=45),
                     every=timedelta(seconds=45), path=lambda i: f"V:/cctv/{i:04d}.mp4",
                     size=(20, 200), unit=1_000_000, terminal=term)  # fmt: skip


def _comms(w: World, rng: random.Random, s: Staff, day: int, at: At, term: str) -> None:
    for site in rng.sample(
        (
            "twitter.com",
            "www.facebook.com",
            "www.youtube.com",
            "www.instagram.com",
            "www.flickr.com",
        ),
        rng.randint(1, 3),
    ):
        w.emit(
            at(rng.uniform(0.1, 0.9)),
            "proxy",
            "web.visited",
            actor=s.id,
            terminal=term,
            attrs={
                "url": f"https://{site}/upload",
                "domain": site,
                "action": "upload",
                "method": "POST",
                "bytes_out": rng.randint(1, 90) * 1_000_000,
            },
        )
    to = rng.sample(w.staff, min(len(w.staff), rng.randint(60, 130)))
    w.emit(
        at(rng.uniform(0.2, 0.8)),
        "exchange",
        "message.sent",
        actor=s.id,
        attrs={"channel": "email", "to": [_mail(c) for c in to], "subject": "force bulletin"},
    )


def _admin(w: World, rng: random.Random, s: Staff, at: At, term: str) -> None:
    for tool in rng.sample(
        (
            "C:/Program Files/TeamViewer/TeamViewer.exe",
            "C:/Tools/Sysinternals/PsExec64.exe",
            "C:/Windows/System32/mstsc.exe",
        ),
        2,
    ):
        w.emit(
            at(rng.uniform(0.1, 0.9)),
            "windows",
            "process.started",
            actor=s.id,
            terminal=term,
            attrs={"path": tool, "command_line": tool, "parent": "C:/Windows/explorer.exe"},
        )


def _own_stick(w: World, rng: random.Random, s: Staff, at: At, term: str, dev: str) -> None:
    t = at(rng.uniform(0.2, 0.8))
    removable_copies(w, rng, s, t, dev, files=(1, 6), first=timedelta(minutes=1),
                     every=timedelta(minutes=1),
                     path=lambda i: f"C:/Users/{s.id}/Documents/rota{i}.xlsx", size=(20, 900),
                     unit=1000, terminal=term)  # fmt: skip
