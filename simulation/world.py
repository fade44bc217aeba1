"""The simulated force's people and the event log they write into.

:class:`World` holds staff, members of the public and the lists they are on, and builds
contract-v1 event dicts through small methods (``view``, ``call``, ``task``...). Events are
collected unsorted with a sequence number; :meth:`World.finish` sorts them by event time and
gives every event a source-style id (``ath-0000123``), so ids say nothing about which events
were injected.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from simulation import names

Ev = dict[str, Any]

# role -> (share of the force, shift pattern); patterns are keys of PATTERNS
#: the force's Anti-Corruption Unit: the intelligence unit it would otherwise be numbered as
#: (same members, same peer group: the force's alerts do not move; only the name marks it)
ACU_UNIT, ACU_FROM = "acu", "intel-4"

ROLES: dict[str, tuple[float, str]] = {
    "response": (0.34, "247"),
    "neighbourhood": (0.15, "neigh"),
    "cid": (0.13, "office_long"),
    "control_room": (0.11, "247"),
    "custody": (0.08, "247"),
    "intel": (0.06, "office"),
    "staff_support": (0.13, "office"),
}

# shift letter -> (start hour, length in hours); R = rest day
SHIFT_HOURS = {"D": (7, 10), "L": (14, 10), "N": (22, 9), "O": (8, 8), "C": (8, 10)}
PATTERNS = {
    "247": "DDLLNNRRRR",  # 10-day cycle, teams offset by 2 days
    "neigh": "DDLLLRRR",  # 8-day cycle
}

SOURCE_PREFIX = {
    "hr": "hr", "vetting": "vet", "intel": "int", "roster": "ros", "tasking": "tsk",
    "psd": "psd", "athena": "ath", "pnc": "pnc", "niche": "nch", "teams": "tms",
    "email": "eml", "phone": "ph", "bwv": "bwv", "stopsearch": "ss", "audit": "aud",
    "cop": "cop", "endpoint": "edr", "sms": "sms", "custody": "cus", "web": "web",
}  # fmt: skip


def stamp(t: datetime) -> str:
    """RFC 3339 in UTC with a ``Z``, as most source systems write it."""
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Staff:
    id: str
    name: str
    dob: date
    role: str
    unit: str
    station: str
    address: str
    phone: str
    team: int
    joined_day: int | None = None  # None = before the simulated period
    left_day: int | None = None  # None = still serving at the end
    leave_days: frozenset[int] = frozenset()
    vetting_expires: date | None = None
    baseline: float = 8.0  # look-ups per shift this officer habitually makes
    overtime: dict[int, str] = field(default_factory=dict)  # day -> shift letter, extra
    # HR's contract-1.3 facts, set only in a force with IT life (``simulation.it_life``)
    line_manager: str | None = None
    personal_email: str | None = None
    leaving: tuple[datetime, date, date] | None = None  # known at, notice date, leaving date

    def serving(self, day: int) -> bool:
        return (self.joined_day is None or day >= self.joined_day) and (
            self.left_day is None or day < self.left_day
        )


@dataclass
class Person:
    id: str
    name: str
    dob: date
    address: str | None = None
    phone: str | None = None


@dataclass
class World:
    """People, lists and the growing event log of one simulated force."""

    seed: int
    start: datetime  # midnight UTC of day 0
    days: int
    rng: random.Random
    staff: list[Staff] = field(default_factory=list)
    persons: list[Person] = field(default_factory=list)
    ordinary: list[Person] = field(default_factory=list)  # on no list, linked to no one
    vips: list[Person] = field(default_factory=list)
    victims: list[Person] = field(default_factory=list)
    nominals: dict[str, list[Person]] = field(default_factory=dict)
    covert: list[tuple[Person, str, tuple[str, ...]]] = field(default_factory=list)
    canaries: list[Person] = field(default_factory=list)
    events: list[Ev] = field(default_factory=list)
    used_addresses: set[str] = field(default_factory=set)
    used_phones: set[str] = field(default_factory=set)
    reserved: set[str] = field(default_factory=set)  # staff ids kept out of benign oddities
    #: the IT life's own random generator when the force has IT life (``Force(it=True)``),
    #: else ``None``: the insider scenarios and ``simulation.it_life`` draw only from it
    it: random.Random | None = None
    _seq: int = 0
    _person_n: int = 0
    _ref_n: dict[str, int] = field(default_factory=dict)

    # -- time ---------------------------------------------------------------------------

    @property
    def end(self) -> datetime:
        return self.start + timedelta(days=self.days)

    def at(self, day: int, hour: float) -> datetime:
        """Day ``day`` of the simulation at ``hour`` (fractions allowed, > 24 rolls over)."""
        return self.start + timedelta(days=day, seconds=round(hour * 3600))

    def shift_letter(self, s: Staff, day: int) -> str:
        """The shift ``s`` works on ``day`` (``R`` = rest), from the role's rota and team."""
        if not s.serving(day):
            return "R"
        if day in s.overtime:
            return s.overtime[day]
        if day in s.leave_days:
            return "R"
        pattern = ROLES[s.role][1]
        weekday = (self.start + timedelta(days=day)).weekday()
        if pattern == "247":
            return PATTERNS["247"][(day + 2 * s.team) % 10]
        if pattern == "neigh":
            return PATTERNS["neigh"][(day + s.team) % 8]
        if weekday >= 5:
            return "R"
        return "C" if pattern == "office_long" else "O"

    def shift(self, s: Staff, day: int) -> tuple[datetime, datetime] | None:
        letter = self.shift_letter(s, day)
        if letter == "R":
            return None
        hour, length = SHIFT_HOURS[letter]
        start = self.at(day, hour)
        return start, start + timedelta(hours=length)

    def off_duty_time(self, s: Staff, day: int, hour: float) -> datetime | None:
        """``hour`` on ``day`` if it is at least 3 h away from any of ``s``'s shifts."""
        t = self.at(day, hour)
        for d in (day - 1, day, day + 1):
            sh = self.shift(s, d)
            if sh and sh[0] - timedelta(hours=3) <= t <= sh[1] + timedelta(hours=3):
                return None
        return t

    # -- ids and identities ---------------------------------------------------------------

    def ref(self, prefix: str) -> str:
        """A fresh incident/case/task reference (``INC-2026-004211``)."""
        n = self._ref_n.get(prefix, 0) + 1
        self._ref_n[prefix] = n
        return f"{prefix}-{self.start.year}-{(self.seed % 97) * 1000 + n:06d}"

    def name(self) -> str:
        return f"{self.rng.choice(list(names.FIRST_NAMES))} {self.rng.choice(list(names.SURNAMES))}"

    def dob(self, lo: int = 19, hi: int = 64) -> date:
        year = self.start.year - self.rng.randint(lo, hi)
        return date(year, self.rng.randint(1, 12), self.rng.randint(1, 28))

    def address(self, town: str | None = None) -> str:
        while True:
            a = (
                f"{self.rng.randint(1, 180)} {self.rng.choice(names.STREETS)}, "
                f"{town or self.rng.choice(names.TOWNS)}"
            )
            if a not in self.used_addresses:
                self.used_addresses.add(a)
                return a

    def phone(self) -> str:
        while True:
            p = f"+447{self.rng.randint(300000000, 999999999)}"
            if p not in self.used_phones:
                self.used_phones.add(p)
                return p

    def new_person(
        self, *, address: str | None = None, phone: str | None = None, name: str | None = None,
        dob: date | None = None, linked: bool = True, when: datetime | None = None,
    ) -> Person:  # fmt: skip
        """A member of the public; with ``linked`` their address and phone become
        ``person.link`` events at ``when`` (default: before the simulated period)."""
        self._person_n += 1
        pid = f"P-{100000 + (self.seed % 89) * 10000 + self._person_n:06d}"
        p = Person(
            pid, name or self.name(), dob or self.dob(16, 80),
            address if address is not None else self.address(),
            phone if phone is not None else self.phone(),
        )  # fmt: skip
        self.persons.append(p)
        if linked:
            when = when or self.start - timedelta(days=self.rng.randint(30, 400))
            if p.address:
                self.link(p, "address", p.address, when)
            if p.phone:
                self.link(p, "phone", p.phone, when + timedelta(minutes=1))
        return p

    def officers(self, roles: Iterable[str] | None = None, *, reserve: bool = True) -> list[Staff]:
        """Serving-throughout staff not yet used by a scenario (optionally of ``roles``)."""
        wanted = set(roles) if roles else None
        return [
            s for s in self.staff
            if s.joined_day is None and s.left_day is None and s.id not in self.reserved
            and (wanted is None or s.role in wanted)
        ]  # fmt: skip

    def pick_officer(self, roles: Iterable[str] | None = None) -> Staff:
        """A serving officer no other scenario uses (then reserved)."""
        pool = self.officers(roles) or self.officers()
        if not pool:  # a tiny force: officers play more than one part
            pool = [s for s in self.staff if s.joined_day is None and s.left_day is None]
        s = self.rng.choice(pool)
        self.reserved.add(s.id)
        return s

    def working_days(self, s: Staff, lo: int = 0, hi: int | None = None) -> list[int]:
        hi = self.days if hi is None else hi
        return [d for d in range(max(lo, 0), min(hi, self.days)) if self.shift(s, d)]

    def during_shift(self, s: Staff, day: int, frac: float | None = None) -> datetime:
        """A moment inside ``s``'s shift on ``day`` (``frac`` of the way through, or random)."""
        sh = self.shift(s, day)
        assert sh is not None, f"{s.id} does not work on day {day}"
        f = self.rng.uniform(0.1, 0.85) if frac is None else frac
        return sh[0] + (sh[1] - sh[0]) * f

    # -- event builders -------------------------------------------------------------------

    def emit(self, t: datetime, source: str, kind: str, **fields: Any) -> Ev:
        """Append one event (id given later, in time order). ``None`` fields are left out,
        except ``purpose``, which activity on records always states (null = none given)."""
        self._seq += 1
        ev: Ev = {"time": t, "source": source, "kind": kind}
        for key, value in fields.items():
            if value is not None or (key == "purpose" and "record" in fields):
                ev[key] = value
        ev["_seq"] = self._seq
        self.events.append(ev)
        return ev

    def link(self, p: Person, link: str, value: str, t: datetime) -> Ev:
        """A ``person.link``; about a third of phones and addresses are written the way
        another system writes them (national format, capitals, no commas)."""
        if link == "phone" and value.startswith("+44") and self.rng.random() < 0.3:
            national = "0" + value[3:]
            value = f"{national[:5]} {national[5:]}"
        elif link == "address" and self.rng.random() < 0.3:
            value = value.replace(",", "").upper()
        return self.emit(
            t, "intel", "person.link", attrs={"person": p.id, "link": link, "value": value}
        )

    def watch(self, t: datetime, lst: str, p: Person | None, **attrs: Any) -> Ev:
        a: dict[str, Any] = {"list": lst, "person": p.id if p else None}
        a.update({k: v for k, v in attrs.items() if v is not None})
        source = "cop" if lst in ("barred", "advisory") else "intel"
        return self.emit(t, source, "watchlist.upsert", attrs=a)

    def task(self, t: datetime, ref: str, staff: Iterable[Staff], subjects: Iterable[Person]) -> Ev:
        return self.emit(t, "tasking", "task.assigned", attrs={
            "ref": ref, "staff_ids": [s.id for s in staff], "subjects": [p.id for p in subjects],
        })  # fmt: skip

    def terminal(self, s: Staff) -> str:
        return f"WS-{s.station[:3].upper()}-{(int(s.id[1:]) * 7) % 97 + 1:03d}"

    def view(
        self, t: datetime, s: Staff, p: Person, *, purpose: str | None = None,
        contact: bool = False, terminal: str | None = None, source: str = "athena",
    ) -> Ev:  # fmt: skip
        fields = ["summary", "contact_details"] if contact else ["summary"]
        return self.emit(
            t, source, "record.view", actor=s.id, record={"type": "person", "id": p.id},
            subjects=[p.id], purpose=purpose, terminal=terminal or self.terminal(s),
            attrs={"fields": fields},
        )  # fmt: skip

    def search(self, t: datetime, s: Staff, p: Person, *, purpose: str | None = None,
               terminal: str | None = None) -> Ev:  # fmt: skip
        return self.emit(
            t, "athena", "record.search", actor=s.id, record={"type": "person", "id": p.id},
            subjects=[p.id], purpose=purpose, terminal=terminal or self.terminal(s),
            attrs={"query": p.name.split()[-1], "results": self.rng.randint(1, 12)},
        )  # fmt: skip

    def lookup(self, t: datetime, s: Staff, p: Person, *, purpose: str | None = None,
               contact: bool = False, terminal: str | None = None) -> list[Ev]:  # fmt: skip
        """A search then a view a minute or two later: how people open a record."""
        first = self.search(t, s, p, purpose=purpose, terminal=terminal)
        then = t + timedelta(seconds=self.rng.randint(20, 150))
        return [first, self.view(then, s, p, purpose=purpose, contact=contact, terminal=terminal)]

    def call(self, t: datetime, s: Staff, number: str) -> Ev:
        return self.emit(t, "phone", "call.made", actor=s.id, attrs={"number": number})

    def message(
        self, t: datetime, s: Staff, text: str, to: list[str], channel: str = "teams"
    ) -> Ev:
        return self.emit(
            t,
            "teams" if channel == "teams" else "email",
            "message.sent",
            actor=s.id,
            attrs={"channel": channel, "to": to, "text": text},
        )

    def login(self, t: datetime, s: Staff, terminal: str | None = None) -> Ev:
        return self.emit(
            t,
            "athena",
            "auth.login",
            actor=s.id,
            terminal=terminal or self.terminal(s),
            attrs={"location": s.station},
        )

    def logout(self, t: datetime, s: Staff, terminal: str | None = None) -> Ev:
        return self.emit(
            t, "athena", "auth.logout", actor=s.id, terminal=terminal or self.terminal(s)
        )

    def staff_upsert(self, t: datetime, s: Staff, status: str = "active", **override: Any) -> Ev:
        attrs = {
            "staff_id": s.id, "name": s.name, "dob": s.dob.isoformat(), "role": s.role,
            "unit": s.unit, "station": s.station, "addresses": [s.address],
            "phones": [s.phone], "status": status,
        }  # fmt: skip
        if s.line_manager:
            attrs["line_manager"] = s.line_manager
        if s.personal_email:
            attrs["personal_emails"] = [s.personal_email]
        if s.leaving is not None and t >= s.leaving[0]:
            attrs["notice_date"] = s.leaving[1].isoformat()
            attrs["leaving_date"] = s.leaving[2].isoformat()
        attrs.update(override)
        return self.emit(t, "hr", "staff.upsert", attrs=attrs)

    def vetting(self, t: datetime, s: Staff, status: str, expires: date | None,
                level: str = "RV") -> Ev:  # fmt: skip
        attrs: dict[str, Any] = {"staff_id": s.id, "level": level, "status": status}
        if expires:
            attrs["expires"] = expires.isoformat()
        return self.emit(t, "vetting", "vetting.changed", attrs=attrs)

    def stop(self, t: datetime, s: Staff, p: Person, *, bwv: bool = True,
             operation: str | None = None) -> list[Ev]:  # fmt: skip
        out = []
        if bwv:
            out.append(
                self.emit(
                    t - timedelta(seconds=40),
                    "bwv",
                    "bwv.activated",
                    actor=s.id,
                    attrs={"duration_s": self.rng.randint(120, 900)},
                )
            )
        out.append(self.emit(
            t, "stopsearch", "stop_search.recorded", actor=s.id, subjects=[p.id],
            attrs={"operation": operation, "bwv": bwv, "grounds": self.rng.choice(names.GROUNDS)},
        ))  # fmt: skip
        return out

    # -- output ---------------------------------------------------------------------------

    def finish(self) -> list[Ev]:
        """Sort by event time (reference before activity at the same instant), give ids,
        turn times into RFC 3339 text. Labels holding these dicts then read their ids."""
        self.events.sort(key=lambda e: (e["time"], "actor" in e, e["_seq"]))
        counters: dict[str, int] = {}
        base = (self.seed % 50) * 100000
        for ev in self.events:
            prefix = SOURCE_PREFIX.get(ev["source"], ev["source"][:3])
            n = counters[prefix] = counters.get(prefix, 0) + 1
            ev.pop("_seq")
            t = ev.pop("time")
            ev_id = f"{prefix}-{base + n:07d}"
            # id and time first, as the contract shows them
            rest = dict(ev)
            ev.clear()
            ev.update({"id": ev_id, "time": stamp(t), **rest})
        return self.events


def midnight(d: date) -> datetime:
    return datetime.combine(d, time(0, 0), tzinfo=UTC)
