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

It draws from its own random generator (``World.it``), as the insider scenarios do. It is
off by default: the clean world's events are pinned (tests/simulation/test_noise.py).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta

from simulation.world import Ev, Staff, World

At = Callable[[float], datetime]  # a fraction of the shift -> the moment

DFU_UNIT, VIDEO_UNIT, COMMS_UNIT, ICT_UNIT = (
    "digital-forensics-1",
    "video-unit-1",
    "corporate-comms-1",
    "ict-1",
)


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
            _logons(w, rng, s, at, term)
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


def _mail(s: Staff) -> str:
    return f"{s.id.lower()}@police.example"


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
