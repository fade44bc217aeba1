"""The bench's inputs: the simulated force as a file, and a large synthetic history."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson


def write_force(staff: int, days: int, seed: int, path: Path, *, it: bool = False) -> int:
    """The simulated force as JSONL (``it``: with IT life, ``probity simulate --it``)."""
    from simulation.generator import Force

    events = Force(staff=staff, days=days, seed=seed, it=it).events()
    with path.open("wb") as fh:
        for ev in events:
            fh.write(orjson.dumps(ev) + b"\n")
    return len(events)


def synthetic_history(
    staff: int, days: int, seed: int = 9, *, it: bool = True
) -> Iterator[dict[str, Any]]:
    """A large force's history, generated lazily (nothing kept): for every member of staff a
    record, vetting, one rostered shift a day, a task every other day, and each day a login,
    a look-up of a subject (task-linked or not) and a logout; watchlists of 1% of subjects.
    ``it`` adds IT life for the insider detectors each day: a Windows logon at a desk, a web
    visit and an email to two colleagues; every tenth officer a USB stick and a file copied to
    it; every fiftieth a print."""
    import random
    from datetime import timedelta

    rng = random.Random(seed)  # noqa: S311 - synthetic data, not security
    t0 = datetime(2026, 3, 2, tzinfo=UTC)
    persons = staff * 20
    n = 0

    def ev(t: datetime, kind: str, source: str = "hist", **kw: Any) -> dict[str, Any]:
        nonlocal n
        n += 1
        return {"id": f"h{n}", "time": t.isoformat(), "source": source, "kind": kind, **kw}

    for i in range(0, persons, 100):
        lst = ("vip", "ocg_nominal", "vulnerable_victim", "covert_subject")[i // 100 % 4]
        yield ev(t0, "watchlist.upsert",
                 attrs={"list": lst, "person": f"P{i}", "group": f"G{i % 50}"})  # fmt: skip
    for s in range(staff):
        sid = f"S{s}"
        yield ev(t0, "staff.upsert", attrs={
            "staff_id": sid, "name": f"Officer {s}", "dob": "1985-01-01", "role": "response",
            "unit": f"U{s % 40}", "addresses": [f"{s} High St"], "phones": [f"+4477{s:08d}"],
            "status": "active"})  # fmt: skip
        yield ev(t0, "vetting.changed",
                 attrs={"staff_id": sid, "level": "RV", "status": "granted"})  # fmt: skip
    for d in range(days):
        day = t0 + timedelta(days=d)
        for s in range(staff):
            sid = f"S{s}"
            start = day + timedelta(hours=7 if s % 3 else 22)
            yield ev(day, "shift.rostered", attrs={
                "staff_id": sid, "start": start.isoformat(),
                "end": (start + timedelta(hours=9)).isoformat()})  # fmt: skip
            subject = f"P{rng.randrange(persons)}"
            purpose = None
            if (s + d) % 2 == 0:
                purpose = f"T{d}-{s}"
                yield ev(
                    start,
                    "task.assigned",
                    attrs={"ref": purpose, "staff_ids": [sid], "subjects": [subject]},
                )
            yield ev(start + timedelta(minutes=5), "auth.login", actor=sid)
            yield ev(start + timedelta(hours=2), "record.view", actor=sid, purpose=purpose,
                     record={"type": "person", "id": subject}, subjects=[subject])  # fmt: skip
            yield ev(start + timedelta(hours=8), "auth.logout", actor=sid)
            if it:
                yield from _it_day(ev, sid, s, start)


def _it_day(ev: Any, sid: str, s: int, start: datetime) -> Iterator[dict[str, Any]]:
    """One officer's day of IT life (see :func:`synthetic_history`)."""
    from datetime import timedelta

    desk = f"WS-{s % 400:03d}"
    yield ev(start + timedelta(minutes=7), "auth.login", actor=sid, source="windows",
             terminal=desk, attrs={"logon_type": "interactive", "workstation": desk})  # fmt: skip
    yield ev(start + timedelta(hours=1), "web.visited", actor=sid, source="web", terminal=desk,
             attrs={"url": "https://intranet.police.example/news", "action": "visit",
                    "domain": "intranet.police.example", "bytes": 48_000})  # fmt: skip
    to = [f"s{s + 1}@police.example", f"s{s + 2}@police.example"]
    yield ev(start + timedelta(hours=3), "message.sent", actor=sid, source="exchange",
             attrs={"channel": "email", "subject": "handover", "to": to})  # fmt: skip
    if s % 10 == 0:
        usb = f"VID-{sid}-1"
        yield ev(start + timedelta(hours=4), "device.connected", actor=sid, source="endpoint",
                 terminal=desk, attrs={"device_type": "usb_storage", "device_id": usb})  # fmt: skip
        yield ev(start + timedelta(hours=4, minutes=1), "file.copied", actor=sid,
                 source="endpoint", terminal=desk,
                 attrs={"path": "V:/shared/report.docx", "destination": "removable",
                        "bytes": 240_000, "device": usb})  # fmt: skip
    if s % 50 == 0:
        yield ev(start + timedelta(hours=5), "file.printed", actor=sid, source="endpoint",
                 terminal=desk, attrs={"path": f"C:/Users/{sid}/Documents/brief.pdf",
                                       "printer": "PRN-1", "pages": 4})  # fmt: skip
