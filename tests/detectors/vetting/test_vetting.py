"""Vetting detectors: barred/advisory matching, lapsed vetting, expiry reminders, reviews owed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from detectors.lib.names import NameMatcher, name_tokens
from detectors.registry import build
from engine.pipeline import Pipeline
from models.alerts import Alert
from models.events import Event

Make = Callable[..., Event]


def _pipeline(
    detector_id: str, owns: Callable[[str], bool] = lambda _s: True, **params: Any
) -> Pipeline:
    dets = [d for d in build({detector_id: params} if params else None) if d.id == detector_id]
    return Pipeline(dets, owns=owns)


def _feed(p: Pipeline, events: list[Event]) -> list[Alert]:
    out: list[Alert] = []
    for e in events:
        out.extend(p.process(e))
    out.extend(p.tick())
    return out


def staff(
    make: Make,
    sid: str,
    name: str = "Ann Lee",
    dob: str | None = "1980-01-01",
    status: str = "active",
    t: str = "2025-01-01T09:00:00Z",
    **kw: Any,
) -> Event:
    attrs = {"staff_id": sid, "name": name, "status": status, **kw}
    if dob:
        attrs["dob"] = dob
    return make("staff.upsert", id=f"hr-{sid}-{t}", time=t, source="hr", attrs=attrs)


def listed(
    make: Make,
    name: str,
    dob: str,
    lst: str = "barred",
    t: str = "2025-06-01T09:00:00Z",
    eid: str = "wl-1",
) -> Event:
    return make(
        "watchlist.upsert",
        id=eid,
        time=t,
        source="vetting",
        attrs={"list": lst, "name": name, "dob": dob},
    )


def login(make: Make, actor: str, t: str, eid: str | None = None) -> Event:
    return make("auth.login", id=eid or f"in-{actor}-{t}", time=t, actor=actor)


# -- name matching ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("listed_name", "staff_name", "how"),
    [
        ("James Smith", "Jim Smyth", {"nickname", "sounds alike"}),
        ("Jonathan Pryce", "Jon Price", {"nickname", "sounds alike"}),
        ("Smith, John", "John Smith", {"same"}),
        ("Anne Smith-Jones", "Anne Jones", {"same"}),
        ("Anne Smith-Jones", "Anne Smith Jones", {"same"}),
        ("J. Smith", "John Smith", {"initial", "same"}),
        ("Robert Davies", "Bob Davis", {"nickname", "spelling"}),
        ("Seán O'Brien", "Sean OBrien", {"same"}),
        ("Katherine Brown", "Kate Browne", {"nickname", "sounds alike"}),
        ("Katherine Brown", "Katie Brown", {"nickname", "same"}),  # sounds as Katy does
        ("Mohammed Khan", "Muhammad Khan", {"sounds alike", "same"}),
        # pronounced the same, spelt apart (the CMU dictionary): missed before by every code
        ("Robert Hughes", "Robert Hews", {"same", "sounds alike"}),
        ("William Morris", "William Maurice", {"same", "sounds alike"}),
        ("Jon Smyth", "Jonathan Smith", {"nickname", "sounds alike"}),
        ("Anne Thompson", "Anne Thomson", {"same", "sounds alike"}),
        ("Catherine Lloyd", "Kathryn Lloyd", {"sounds alike", "same"}),
        ("Stephen Ward", "Steven Ward", {"sounds alike", "same"}),
        ("Mark Philips", "Mark Phillips", {"same", "sounds alike"}),
        ("Mohammed Ali", "Muhammad Ali", {"sounds alike", "same"}),
        ("Sean Reid", "Shaun Reed", {"sounds alike"}),
        ("Tariq Hussain", "Tariq Hussein", {"same", "sounds alike"}),
        ("Gary Wright", "Gary Right", {"same", "sounds alike"}),
        ("Ann Khan", "Ann Kahn", {"same", "sounds alike"}),
        # one typing slip, not in the first letter
        ("Anna Kowalski", "Anna Kowalsky", {"same", "spelling"}),
        ("Peter Davies", "Peter Davis", {"same", "spelling"}),
        ("Emma Griffiths", "Emma Griffith", {"same", "spelling"}),
        # names the dictionary lacks fall back on phonetic codes
        ("Chidi Okafor", "Chidi Okafur", {"same", "sounds alike"}),
        # a dropped word is fine when another is the same
        ("Chloe Evans-Hughes", "Chloe Hughes", {"same"}),
    ],
)
def test_names_that_can_be_the_same_person(
    listed_name: str, staff_name: str, how: set[str]
) -> None:
    match = NameMatcher().match(listed_name, staff_name)
    assert match is not None
    assert {p.how for p in match.pairs} == how
    assert match.similarity >= 0.8


@pytest.mark.parametrize(
    ("listed_name", "staff_name"),
    [
        ("Gareth Pryce", "Sarah Okafor"),  # unrelated
        ("Mark Smith", "Paul Smith"),  # twins share a surname and a birthday
        ("John Smith", "Jane Smith"),
        ("J. Smith", "Jim Brown"),
        ("Smith", "John Smith"),  # one word names nobody
        ("Jim Jones", "James Harris"),  # a nickname alone does not carry a match
        # hard negatives an analyst would throw out: a different surname that shares codes,
        # letters or a first sound with the listed one
        ("Robert Hughes", "Robert Hayes"),  # both H-S to every consonant code
        ("William Morris", "William Norris"),
        ("Jane Smith", "Jane Smart"),
        ("Jon Smyth", "John Smalley"),
        ("Ann Lee", "Anna Leigh-Brown"),  # every word a variant and one dropped
        ("David Hill", "David Hall"),  # same soundex, metaphone and NYSIIS; not the vowel
        ("David Hall", "David Hull"),
        ("Paul Ball", "Paul Bell"),
        ("Mark Harris", "Mark Harrison"),  # a longer surname is another surname
        ("Amy Richards", "Amy Richardson"),
        ("Tom Hunt", "Tom Hunter"),
        ("Sue Marsh", "Sue Marshall"),
        ("Joe Price", "Joe Rice"),  # the first letter is rarely mistyped
        ("Liam Hayward", "Liam Howard"),
        ("Kate Maher", "Kate Moore"),  # open vowels alike, nothing else
        ("Ian Thomas", "Ian Thompson"),
        ("Sarah Jones", "Sarah James"),
        ("Gary Williams", "Gary Williamson"),
        ("John Webb", "John Webster"),  # the nickname table is for forenames, not surnames
        ("David Hall", "David Howard"),  # Hal is Howard's nickname; Hall is a surname
        ("Robert Smith", "William Smith"),  # the table has Bill as a root of both
    ],
)
def test_names_that_are_not_a_match(listed_name: str, staff_name: str) -> None:
    assert NameMatcher().match(listed_name, staff_name) is None


# Variants the simulated force writes (simulation/names.py) that are not matched: a patronymic
# extension is another surname (Williamson is not Williams); the others are known gaps of the
# ``nicknames`` table (English only, and Charlie only for Charles).
NOT_A_VARIANT = {"Williamson", "Tomek", "Zosia", "Ayesha", "Lexi", "Charlie", "Liv"}


def _simulated_variants() -> list[tuple[str, str]]:
    from simulation import names

    pairs = []
    for first, nicks in names.FIRST_NAMES.items():
        pairs += [(f"{first} Walker", f"{n} Walker") for n in nicks]
        pairs += [(f"{first} Okafor", f"{first[0]}. Okafor"), (f"{first} Hall", f"HALL, {first}")]
    for last, spells in names.SURNAMES.items():
        pairs += [(f"Grace {last}", f"Grace {v}") for v in spells]
        pairs += [(f"Grace {last}", f"Grace {o}-{last}") for o in names.SURNAMES]
    return [p for p in pairs if not NOT_A_VARIANT & set(p[1].split())]


def test_every_variant_the_simulated_force_uses_matches_both_ways() -> None:
    m = NameMatcher()
    missed = [
        (a, b) for a, b in _simulated_variants() for x, y in ((a, b), (b, a)) if not m.match(x, y)
    ]
    assert missed == []


def test_nicknames_still_count_for_forenames_in_any_order() -> None:
    m = NameMatcher()
    for staff_name in ("Webb Jones", "JONES, Webb", "Jones Webb"):
        assert m.match("Webster Jones", staff_name) is not None, staff_name


def test_name_tokens_drop_titles_accents_and_punctuation() -> None:
    assert name_tokens("DS Zoë Hart-Ng") == ("zoe", "hart", "ng")


# -- barred and advisory lists ------------------------------------------------------------------


def test_joiner_matching_the_barred_list_shows_both_records(event_factory: Make) -> None:
    p = _pipeline("vetting.barred_match")
    alerts = _feed(p, [
        listed(event_factory, "James Smith", "1979-06-14"),
        staff(event_factory, "S1", "Jim Smyth", "1979-06-14", t="2026-01-01T09:00:00Z",
              role="PC", unit="Response"),
    ])  # fmt: skip
    assert len(alerts) == 1
    a = alerts[0]
    assert (a.officer, a.severity, a.category) == ("S1", "high", "vetting")
    assert a.facts["staff_record"]["name"] == "Jim Smyth"
    assert a.facts["list_record"]["name"] == "James Smith"
    assert a.facts["staff_record"]["dob"] == a.facts["list_record"]["dob"] == "1979-06-14"
    assert "jim~james (nickname)" in a.explanation
    assert "smyth~smith (sounds alike: said S M IH TH in the CMU dictionary)" in a.explanation


def test_a_homophone_alert_says_how_both_names_are_pronounced(event_factory: Make) -> None:
    alerts = _feed(_pipeline("vetting.barred_match"), [
        listed(event_factory, "Robert Hughes", "1975-03-09"),
        staff(event_factory, "S1", "Rob Hews", "1975-03-09", t="2026-01-01T09:00:00Z"),
        staff(event_factory, "S2", "Robert Hayes", "1975-03-09", t="2026-01-01T09:00:00Z"),
    ])  # fmt: skip
    assert [a.officer for a in alerts] == ["S1"]
    assert (
        "hews~hughes (sounds alike: said HH Y UW Z in the CMU dictionary)" in alerts[0].explanation
    )
    pairs = {p["staff"]: p for p in alerts[0].facts["name_match"]}
    assert pairs["hews"]["how"] == "sounds alike"


def test_list_change_rechecks_all_current_staff(event_factory: Make) -> None:
    """The worker judging a reference event answers for every officer it concerns."""
    events = [
        staff(event_factory, "S1", "Jim Smyth", "1979-06-14"),
        staff(event_factory, "S2", "James Smith", "1979-06-14"),
        staff(event_factory, "S3", "James Smith", "1979-06-14", status="left"),
        listed(event_factory, "James Smith", "1979-06-14", t="2026-01-01T00:00:00Z"),
    ]
    alerts = _feed(_pipeline("vetting.barred_match", owns=lambda s: s != "S2"), events)
    assert [a.officer for a in alerts] == ["S1", "S2"]  # not the leaver S3
    assert alerts[0].evidence == ["hr-S1-2025-01-01T09:00:00Z", "wl-1"]


def test_advisory_is_medium_and_a_staff_change_does_not_raise_it_again(event_factory: Make) -> None:
    p = _pipeline("vetting.barred_match")
    first = _feed(p, [
        listed(event_factory, "Jonathan Pryce", "1985-02-01", lst="advisory"),
        staff(event_factory, "S1", "Jon Price", "1985-02-01", t="2026-01-01T09:00:00Z"),
    ])  # fmt: skip
    again = _feed(p, [staff(event_factory, "S1", "Jon Price", "1985-02-01",
                            t="2026-02-01T09:00:00Z", unit="Roads")])  # fmt: skip
    assert [a.severity for a in first] == ["medium"]
    assert [a.id for a in again] == [first[0].id]  # same alert id: the sink upserts, no new alert


@pytest.mark.parametrize("dob", ["1979-06-15", None])
def test_a_different_or_missing_date_of_birth_is_no_match(
    event_factory: Make, dob: str | None
) -> None:
    alerts = _feed(_pipeline("vetting.barred_match"), [
        listed(event_factory, "James Smith", "1979-06-14"),
        staff(event_factory, "S1", "James Smith", dob, t="2026-01-01T09:00:00Z"),
    ])  # fmt: skip
    assert alerts == []


def test_other_lists_are_not_name_matched(event_factory: Make) -> None:
    alerts = _feed(_pipeline("vetting.barred_match"), [
        listed(event_factory, "James Smith", "1979-06-14", lst="ocg_nominal"),
        staff(event_factory, "S1", "James Smith", "1979-06-14", t="2026-01-01T09:00:00Z"),
    ])  # fmt: skip
    assert alerts == []


# -- lapsed vetting -----------------------------------------------------------------------------


def _vetting(make: Make, sid: str, status: str, t: str, expires: str | None = None) -> Event:
    attrs = {"staff_id": sid, "level": "MV", "status": status}
    if expires:
        attrs["expires"] = expires
    return make("vetting.changed", id=f"vet-{sid}-{t}", time=t, source="vetting", attrs=attrs)


def test_one_alert_per_change_of_vetting(event_factory: Make) -> None:
    f = event_factory
    p = _pipeline("vetting.lapsed_access")
    events = [
        staff(f, "S1"),
        _vetting(f, "S1", "granted", "2025-01-01T00:00:00Z", "2030-01-01"),
        _vetting(f, "S1", "withdrawn", "2026-01-10T00:00:00Z"),
        _vetting(f, "S1", "granted", "2026-02-10T00:00:00Z", "2030-01-01"),
        _vetting(f, "S1", "withdrawn", "2026-03-10T00:00:00Z"),
    ]
    for e in events:
        p.process(e)
    activity = [
        login(f, "S1", "2026-01-05T08:00:00Z"),  # held
        login(f, "S1", "2026-01-11T08:00:00Z"),  # first after withdrawal: alert
        login(f, "S1", "2026-01-12T08:00:00Z"),  # same withdrawal: no second alert
        login(f, "S1", "2026-02-11T08:00:00Z"),  # re-granted
        login(f, "S1", "2026-03-11T08:00:00Z"),  # withdrawn again: a new alert
    ]
    alerts = [a for e in activity for a in p.process(e)]
    assert [a.evidence[0] for a in alerts] == [
        "in-S1-2026-01-11T08:00:00Z",
        "in-S1-2026-03-11T08:00:00Z",
    ]
    assert all(a.severity == "high" for a in alerts)
    assert "withdrawn on 2026-01-10" in alerts[0].explanation


def test_missing_vetting_can_be_switched_off(event_factory: Make) -> None:
    f = event_factory
    events = [staff(f, "S1"), staff(f, "S2"),  # S2's record: the vetting feed is connected
              _vetting(f, "S2", "granted", "2025-01-01T09:05:00Z"),
              login(f, "S1", "2026-01-05T08:00:00Z")]  # fmt: skip
    assert len(Pipeline([d for d in build() if d.id == "vetting.lapsed_access"]).run(events)) == 1
    p = _pipeline("vetting.lapsed_access", alert_on_missing=False)
    assert p.run(events) == []


def test_leavers_and_unknown_actors_are_not_judged(event_factory: Make) -> None:
    f = event_factory
    events = [
        staff(f, "S1", status="left"),
        _vetting(f, "S1", "expired", "2025-02-01T00:00:00Z"),
        login(f, "S1", "2026-01-05T08:00:00Z"),
        login(f, "SVC-BACKUP", "2026-01-05T08:00:00Z"),
    ]
    assert _pipeline("vetting.lapsed_access").run(events) == []


# -- expiring -----------------------------------------------------------------------------------


def _expiring_events(f: Make, leaver: bool) -> list[Event]:
    events = [
        staff(f, "S1"),
        _vetting(f, "S1", "granted", "2021-04-15T10:00:00Z", "2026-04-15"),
    ]
    if leaver:
        events.append(staff(f, "S1", status="left", t="2026-01-31T17:00:00Z"))
    return events


@pytest.mark.parametrize("leaver", [False, True])
def test_a_leaver_gets_no_reminder(event_factory: Make, leaver: bool) -> None:
    events = [
        *_expiring_events(event_factory, leaver),
        login(event_factory, "S9", "2026-03-20T08:00:00Z"),
    ]
    alerts = _pipeline("vetting.expiring").run(events)
    assert len(alerts) == (0 if leaver else 1)


def test_reminder_is_timed_at_the_window_and_raised_once(event_factory: Make) -> None:
    f = event_factory
    ids = set()
    for late_tick in ("2026-02-20T08:00:00Z", "2026-03-30T23:00:00Z"):
        p = _pipeline("vetting.expiring", within_days=60)
        _feed(p, _expiring_events(f, leaver=False))
        early = _feed(p, [login(f, "S9", "2026-02-10T08:00:00Z")])
        assert early == []  # 64 days before expiry: not yet
        alerts = _feed(p, [login(f, "S9", late_tick)])
        alerts += _feed(p, [login(f, "S9", "2026-04-14T08:00:00Z")])
        assert len({a.id for a in alerts}) == 1
        assert alerts[0].time.isoformat() == "2026-02-14T00:00:00+00:00"
        assert alerts[0].severity == "low"
        ids.add(alerts[0].id)
    assert len(ids) == 1  # the same alert whichever tick found it


def test_no_reminder_once_expired(event_factory: Make) -> None:
    f = event_factory
    events = [*_expiring_events(f, leaver=False), login(f, "S9", "2026-04-16T08:00:00Z")]
    assert _pipeline("vetting.expiring").run(events) == []


# -- review owed after misconduct ---------------------------------------------------------------


def _misconduct(f: Make, outcome: str, t: str = "2026-01-05T12:00:00Z") -> Event:
    return f(
        "misconduct.outcome",
        id="mis-1",
        time=t,
        source="psd",
        attrs={"staff_id": "S1", "case": "PSD-1", "outcome": outcome},
    )


def _review(f: Make, t: str, case: str | None = "PSD-1") -> Event:
    return f(
        "vetting.review.completed",
        id=f"rev-{t}",
        time=t,
        source="vetting",
        attrs={"staff_id": "S1", "case": case},
    )


@pytest.mark.parametrize(
    ("review_at", "case", "expected"),
    [
        (None, "PSD-1", 1),
        ("2026-01-25T12:00:00Z", "PSD-1", 0),  # day 20
        ("2026-01-25T12:00:00Z", None, 0),  # a review naming no case counts
        ("2026-01-25T12:00:00Z", "PSD-9", 1),  # a review of another case does not
        ("2026-02-03T12:00:00Z", "PSD-1", 1),  # day 29: late
    ],
)
def test_review_within_28_days(event_factory: Make, review_at: str | None, case: str | None,
                               expected: int) -> None:  # fmt: skip
    f = event_factory
    events = [staff(f, "S1"), _vetting(f, "S1", "granted", "2025-01-01T09:05:00Z"),
              _misconduct(f, "written_warning")]  # fmt: skip
    if review_at:
        events.append(_review(f, review_at, case))
    events.append(login(f, "S1", "2026-03-01T08:00:00Z"))
    alerts = _pipeline("vetting.review_overdue").run(events)
    assert len(alerts) == expected
    if alerts:
        assert alerts[0].time.isoformat() == "2026-02-02T12:00:00+00:00"


@pytest.mark.parametrize("outcome", ["dismissed", "no_case"])
def test_no_review_owed_after_dismissal_or_no_case(event_factory: Make, outcome: str) -> None:
    f = event_factory
    events = [staff(f, "S1"), _misconduct(f, outcome), login(f, "S1", "2026-03-01T08:00:00Z")]
    assert _pipeline("vetting.review_overdue").run(events) == []


def test_overdue_raised_once_at_the_deadline_as_time_passes(event_factory: Make) -> None:
    f = event_factory
    p = _pipeline("vetting.review_overdue", review_days=10)
    held = _vetting(f, "S1", "granted", "2025-01-01T09:05:00Z")
    assert _feed(p, [staff(f, "S1"), held, _misconduct(f, "management_action")]) == []
    assert _feed(p, [login(f, "S1", "2026-01-15T11:59:59Z")]) == []  # one second short
    later = _feed(p, [login(f, "S1", "2026-01-15T13:00:00Z")])
    again = _feed(p, [login(f, "S1", "2026-01-20T13:00:00Z")])
    assert len(later) == 1 and later[0].time.isoformat() == "2026-01-15T12:00:00+00:00"
    assert [a.id for a in again] == [later[0].id]
    assert "within 10 days" in later[0].explanation


@pytest.mark.parametrize(
    ("name", "expected"),
    [("James Smith", ["high"]), ("Jim Smyth", []), ("Sarah Okafor", [])],
)
def test_day_and_month_swapped_needs_a_near_identical_name(
    event_factory: Make, name: str, expected: list[str]
) -> None:
    alerts = _feed(_pipeline("vetting.barred_match"), [
        listed(event_factory, "James Smith", "1979-06-04"),
        staff(event_factory, "S1", name, "1979-04-06", t="2026-01-01T09:00:00Z"),
    ])  # fmt: skip
    assert [a.severity for a in alerts] == expected
    if alerts:
        assert alerts[0].facts["dob_day_month_swapped"] is True
        assert "day and month swapped" in alerts[0].explanation
    switched_off = _pipeline("vetting.barred_match", day_month_swap=False)
    assert _feed(switched_off, [
        listed(event_factory, "James Smith", "1979-06-04", eid="wl-2"),
        staff(event_factory, "S1", name, "1979-04-06", t="2026-01-02T09:00:00Z"),
    ]) == []  # fmt: skip
