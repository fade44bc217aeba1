"""Scenarios and look-alikes of the ``vetting.*`` detectors: barred lists, lapsed and
expiring vetting, reviews after misconduct."""

from __future__ import annotations

from datetime import timedelta

from simulation import names
from simulation.benign import HISTORY_DAYS
from simulation.scenarios._helpers import (
    LOOKERS,
    variant_name,
    working_day,
)
from simulation.scenarios.base import (
    VETTING,
    Label,
    lookalike,
    scenario,
)
from simulation.world import Staff, World


@scenario("vetting.barred_match", order=17)
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
    variant, how = variant_name(w, original)
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
            VETTING,
            [s.id],
            [up, entry],
            start=up["time"],
            end=w.end,
            note=f"'{variant}' vs barred '{original}' ({how})",
        )
    ]


@scenario("vetting.barred_match", order=18)
def advisory_listed(w: World) -> list[Label]:
    """A serving officer's name (written differently) appears on a list during the period."""
    s = w.pick_officer()
    variant, how = variant_name(w, s.name)
    t = w.at(w.rng.randint(1, max(1, w.days - 2)), w.rng.uniform(8, 18))
    lst = w.rng.choice(("advisory", "barred"))
    entry = w.watch(t, lst, None, name=variant, dob=s.dob, group="college_of_policing")
    return [
        Label(
            "barred_match:list_change",
            VETTING,
            [s.id],
            [entry],
            start=t,
            end=w.end,
            note=f"{lst} entry '{variant}' vs staff '{s.name}' ({how})",
        )
    ]


@scenario("vetting.lapsed_access", order=19)
def lapsed_access(w: World) -> list[Label]:
    s = w.pick_officer(LOOKERS)
    day = working_day(w, s, 0.3, 0.8)
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
            VETTING,
            [s.id],
            evs,
            end=w.end,
            note=f"vetting {status}, still logging in",
        )
    ]


@scenario("vetting.expiring", order=20)
def vetting_expiring(w: World) -> list[Label]:
    s = w.pick_officer()
    expires = (w.end + timedelta(days=w.rng.randint(3, 12))).date()
    ev = w.vetting(w.start - timedelta(days=w.rng.randint(10, 40)), s, "granted", expires)
    s.vetting_expires = expires
    return [
        Label(
            "vetting_expiring",
            VETTING,
            [s.id],
            [ev],
            start=w.start - timedelta(days=HISTORY_DAYS),
            end=w.end,
            note=f"expires {expires.isoformat()}",
        )
    ]


@scenario("vetting.review_overdue", order=21)
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
            VETTING,
            [s.id],
            [ev],
            end=w.end,
            note="no vetting review after the outcome",
        )
    ]


@lookalike("vetting.barred_match", order=4)
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
            VETTING,
            [s.id],
            [entry],
            end=w.end,
            note=f"barred '{other}' shares only a date of birth with '{s.name}'",
        )
    ]


@lookalike("vetting.review_overdue", order=5)
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
            VETTING,
            [s.id],
            [out, done],
            end=w.end,
        )
    ]


@lookalike("vetting.lapsed_access", "vetting.expiring", order=12)
def la_leaver_vetting_expires(w: World) -> list[Label]:
    s = w.pick_officer()
    day = w.rng.randint(1, max(1, w.days - 4))
    s.left_day = day
    left = w.staff_upsert(w.at(day, 9), s, status="left")
    lapsed = w.vetting(w.at(min(day + 2, w.days - 1), 10), s, "expired", None)
    return [
        Label(
            "leaver_vetting_expires",
            VETTING,
            [s.id],
            [left, lapsed],
            end=w.end,
        )
    ]
