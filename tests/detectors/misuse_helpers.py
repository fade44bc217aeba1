"""Builders shared by the issue-3 detector tests (misuse of systems, field, risk)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from models.alerts import Alert
from models.events import Event, decode_obj

#: the ``run_detectors`` fixture's type
RunDetectors = Callable[..., list[Alert]]

T0 = datetime(2026, 3, 2, tzinfo=UTC)


def ts(day: float, hh: float = 0, mm: float = 0) -> str:
    return (T0 + timedelta(days=day, hours=hh, minutes=mm)).isoformat()


def ev(id_: str, kind: str, time: str, **fields: Any) -> Event:
    return decode_obj({"id": id_, "time": time, "source": "t", "kind": kind, **fields})


def staff(
    sid: str,
    role: str = "response",
    *,
    addresses: tuple[str, ...] | list[str] = (),
    phones: tuple[str, ...] | list[str] = (),
) -> Event:
    return ev(
        f"hr-{sid}",
        "staff.upsert",
        ts(-5),
        attrs={
            "staff_id": sid,
            "role": role,
            "addresses": list(addresses),
            "phones": list(phones),
            "status": "active",
        },
    )


def view(
    id_: str,
    actor: str,
    person: str,
    time: str,
    *,
    purpose: str | None = None,
    fields: tuple[str, ...] = ("summary",),
    terminal: str = "WS-1",
) -> Event:
    return ev(
        id_,
        "record.view",
        time,
        actor=actor,
        record={"type": "person", "id": person},
        subjects=[person],
        purpose=purpose,
        terminal=terminal,
        attrs={"fields": list(fields)},
    )


def watch(list_: str, person: str, **attrs: Any) -> Event:
    return ev(
        f"w-{list_}-{person}",
        "watchlist.upsert",
        ts(-5),
        attrs={"list": list_, "person": person, **attrs},
    )


def link(person: str, kind: str, value: str) -> Event:
    return ev(
        f"l-{person}-{value}",
        "person.link",
        ts(-5),
        attrs={"person": person, "link": kind, "value": value},
    )


def task(ref: str, staff_ids: list[str], subjects: list[str], time: str | None = None) -> Event:
    return ev(
        f"t-{ref}",
        "task.assigned",
        time or ts(-1),
        attrs={"ref": ref, "staff_ids": staff_ids, "subjects": subjects},
    )


def shift(sid: str, start: str, end: str) -> Event:
    return ev(
        f"r-{sid}-{start}",
        "shift.rostered",
        ts(-7),
        attrs={"staff_id": sid, "start": start, "end": end},
    )
