"""World helpers the scenario families share: picking days and moments, fresh listed people,
other ways of writing a name, a remote session."""

from __future__ import annotations

from datetime import datetime, timedelta

from simulation import names
from simulation.benign import HISTORY_DAYS
from simulation.world import Ev, Person, Staff, World

FRONTLINE = ("response", "neighbourhood")
LOOKERS = ("response", "neighbourhood", "custody", "control_room", "cid")


def working_day(w: World, s: Staff, lo: float = 0.3, hi: float = 1.0) -> int:
    """A working day of ``s`` between fractions ``lo`` and ``hi`` of the period."""
    days = w.working_days(s, int(w.days * lo), max(int(w.days * hi), int(w.days * lo) + 1))
    days = days or w.working_days(s) or [w.days - 1]
    return w.rng.choice(days)


def off_duty_moment(w: World, s: Staff, lo: float = 0.3, hi: float = 1.0) -> datetime:
    """A moment well away from any of ``s``'s shifts (rest days and small hours preferred)."""
    first = int(w.days * lo)
    last = max(first, min(w.days - 1, int(w.days * hi)))
    for _ in range(400):
        day = w.rng.randint(first, last)
        t = w.off_duty_time(s, day, w.rng.choice((0.5, 1, 1.5, 2, 2.5, 3, 20, 21, 22)))
        if t is not None:
            return t
    return w.at(w.days - 1, 12)  # cannot happen with the rotas here; keeps types simple


def new_nominal(w: World, when: datetime | None = None) -> tuple[Person, str]:
    """A fresh OCG nominal in an existing group (benign tasks never name them)."""
    group = w.rng.choice(sorted(w.nominals))
    p = w.new_person()
    w.watch(when or w.start - timedelta(days=HISTORY_DAYS), "ocg_nominal", p, group=group)
    return p, group


def new_listed(w: World, lst: str, group: str) -> Person:
    """A fresh person on watchlist ``lst`` (``vip``, ``vulnerable_victim``...) since before
    the period."""
    p = w.new_person()
    w.watch(w.start - timedelta(days=HISTORY_DAYS), lst, p, group=group)
    return p


def variant_name(w: World, name: str) -> tuple[str, str]:
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


def remote_session(w: World, s: Staff, t: datetime) -> list[Ev]:
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
