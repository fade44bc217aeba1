"""Discriminatory language in messages sent on force systems and devices.

A maintained lexicon (``detectors/lib/lexicon.toml``, or a force's own via ``lexicon_path``)
gives categories, weights and terms. The matcher sees through the usual disguises (asterisks,
digits and symbols for letters, letters spaced or dotted out, repeated letters, plural -s)
and the context rules tell a slur used from a slur reported: the words quoted, or following
a reporting verb, in a message that is evidential (a statement being filed, a crime report,
a complaint). The message text is never logged nor copied into an alert: explanations quote
the matched words partially masked."""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import NamedTuple, TypeVar

from detectors.exceptions import DetectorError

_LEET = str.maketrans(
    {
        "0": "o",
        "1": "i",
        "3": "e",
        "4": "a",
        "5": "s",
        "7": "t",
        "8": "b",
        "@": "a",
        "$": "s",
        "!": "i",
        "|": "i",
        "+": "t",
        "€": "e",
        "£": "l",
    }
)


MASK_CHARS = frozenset("*#_")


#: characters written for letters (``_LEET``'s, and the others a token may hold)
_SYMBOLS = frozenset("0134578@$!|+€£")


_TOKEN = re.compile(r"[\w@$!|+*#€£]+")


_QUOTED = re.compile(
    r"\"[^\"\n]{1,400}\"|\u201c[^\u201d\n]{1,400}\u201d|\u2018[^\u2019\n]{1,400}\u2019"
    r"|\u00ab[^\u00bb\n]{1,400}\u00bb"
    r"|(?<![\w'])'[^'\n]{1,400}'(?![\w'])"
)


_SPACED_RUN_MIN = 3


class LexiconError(DetectorError):
    """The lexicon file cannot be read or does not have the expected shape."""


@dataclass(frozen=True, slots=True)
class Term:
    words: tuple[str, ...]
    category: str
    label: str
    weight: float


@dataclass(frozen=True, slots=True)
class Context:
    evidential_markers: tuple[tuple[str, ...], ...]
    evidential_recipients: tuple[str, ...]
    reporting_verbs: frozenset[str]
    first_person: frozenset[str]


@dataclass(frozen=True, slots=True)
class Lexicon:
    """Terms by category and weight, and the words of the context rules."""

    version: str
    terms: tuple[Term, ...]
    context: Context

    @classmethod
    def from_toml(cls, text: str) -> Lexicon:
        try:
            data = tomllib.loads(text)
            terms = []
            for category, spec in data["categories"].items():
                overrides = spec.get("weights", {})
                for term in spec["terms"]:
                    words = tuple(_normal_words(term))
                    if words:
                        terms.append(
                            Term(
                                words,
                                category,
                                spec.get("label", category),
                                float(overrides.get(term, spec["weight"])),
                            )
                        )
            ctx = data.get("context", {})
            context = Context(
                evidential_markers=tuple(
                    tuple(_normal_words(m)) for m in ctx.get("evidential_markers", ())
                ),
                evidential_recipients=tuple(
                    r.casefold() for r in ctx.get("evidential_recipients", ())
                ),
                reporting_verbs=frozenset(ctx.get("reporting_verbs", ())),
                first_person=frozenset(ctx.get("first_person", ())),
            )
            return cls(str(data.get("meta", {}).get("version", "")), tuple(terms), context)
        except (tomllib.TOMLDecodeError, KeyError, TypeError, ValueError, AttributeError) as exc:
            raise LexiconError(f"bad lexicon: {type(exc).__name__}: {exc}") from exc


@lru_cache(maxsize=8)
def load_lexicon(path: str = "") -> Lexicon:
    """The bundled lexicon, or the file at ``path`` (read once per path)."""
    if path:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise LexiconError(f"cannot read lexicon {path}: {exc.strerror}") from exc
    else:
        text = resources.files("detectors.lib").joinpath("lexicon.toml").read_text("utf-8")
    return Lexicon.from_toml(text)


def _ascii(text: str) -> str:
    if text.isascii():  # NFKD leaves ASCII as it is: most words of most messages
        return text.casefold()
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().casefold()


def _normal_words(text: str) -> list[str]:
    return [w for w in re.split(r"[^a-z]+", _ascii(text)) if w]


def _runs(word: str) -> list[tuple[str, int]]:
    """``"nigggger"`` -> ``[("n",1),("i",1),("g",4),("e",1),("r",1)]``."""
    out: list[tuple[str, int]] = []
    for ch in word:
        if out and out[-1][0] == ch:
            out[-1] = (ch, out[-1][1] + 1)
        else:
            out.append((ch, 1))
    return out


def _stretched(word: str, term: str) -> bool:
    """``word`` is ``term`` with some letters repeated (never fewer: Niger is not a slur)."""
    w, t = _runs(word), _runs(term)
    return (
        len(w) == len(t)
        and all(a == b and n >= m for (a, n), (b, m) in zip(w, t, strict=True))
        and w != t
    )


class Token(NamedTuple):
    """One word of a message (a tuple: every word of every message becomes one)."""

    raw: str  # as written (case kept): used only to mask for the explanation
    forms: tuple[str, ...]  # normalised candidates, letters and masks only
    start: int
    end: int
    disguise: str  # "" or what had to be seen through
    sentence: int = 0  # which sentence of the message (reported speech stays within one)


_SENTENCE_END = re.compile(r"[.?!\n]")


_V = TypeVar("_V")

#: distinct words whose lexicon lookup :meth:`Matcher.word` remembers (then starts afresh);
#: as many written words :func:`tokenise` remembers the normal forms of
WORD_MEMO = 50_000

def _remember(memo: dict[str, _V], key: str, make: Callable[[str], _V]) -> _V:
    """``make(key)``, kept in ``memo`` (asked once a word is missing from it: the look-up of
    a word already there stays inline); the memo starts afresh at ``WORD_MEMO`` words."""
    if len(memo) >= WORD_MEMO:
        memo.clear()
    found = memo[key] = make(key)
    return found


#: written word -> its normal forms and disguise (None: not a word to look up)
_FORMS: dict[str, tuple[tuple[str, ...], str] | None] = {}


def _normal_forms(raw: str) -> tuple[tuple[str, ...], str] | None:
    """A written word's normalised candidates and the disguise they see through; None for
    a number or for emphasis marks alone."""
    low = _ascii(raw)
    if low.isdigit():
        return None
    core = low.strip("!")
    if core[:1] in MASK_CHARS:  # *emphasis* or _emphasis_, not a masked first letter
        core = core.strip("*#_")
    if not core:
        return None
    disguise = ""
    forms = [core.translate(_LEET)]
    if "1" in core:
        forms.append(core.replace("1", "l").translate(_LEET))
    if not _SYMBOLS.isdisjoint(core):
        disguise = "symbols for letters"
    return tuple(dict.fromkeys(forms)), disguise


def tokenise(text: str) -> list[Token]:
    """Words of a message with their spans; digits and symbols for letters turned back.

    The normal forms of each written word are remembered (:data:`_FORMS`): every message
    sent is tokenised, and messages repeat the same words."""
    out: list[Token] = []
    sentence, last_end = 0, 0
    memo = _FORMS
    for m in _TOKEN.finditer(text):
        raw = m.group()
        start = m.start()
        if _SENTENCE_END.search(text, last_end, start) or (out and out[-1].raw.endswith("!")):
            sentence += 1
        last_end = m.end()
        found = memo[raw] if raw in memo else _remember(memo, raw, _normal_forms)
        if found is not None:
            out.append(Token(raw, found[0], start, last_end, found[1], sentence))
    return out


@dataclass(frozen=True, slots=True)
class Match:
    term: Term
    first: int  # token indices, inclusive
    last: int
    start: int  # character span in the message
    end: int
    written: str
    disguise: str
    reported: bool = False


def _singulars(form: str) -> Iterator[str]:
    """``form`` and what it is the plural of: fags, fagz, bitches (not spices: spic+es)."""
    yield form
    if len(form) > 3 and form[-1] in "sz":
        yield form[:-1]
        if form.endswith("es") and form[:-2].endswith(("s", "sh", "ch", "x", "z")):
            yield form[:-2]


class Matcher:
    """Finds lexicon terms in a message, disguised or not, and judges their context."""

    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon
        self._single: dict[str, Term] = {}
        self._phrases: dict[str, list[Term]] = {}
        for term in lexicon.terms:
            if len(term.words) == 1:
                self._single.setdefault(term.words[0], term)
            else:
                self._phrases.setdefault(term.words[0], []).append(term)
        self._by_shape: dict[tuple[str, ...], list[Term]] = {}
        self._words: dict[str, tuple[Term, str] | None] = {}
        for word, term in self._single.items():
            self._by_shape.setdefault(tuple(ch for ch, _ in _runs(word)), []).append(term)

    # -- single words -----------------------------------------------------------------------

    def word(self, form: str) -> tuple[Term, str] | None:
        """The term a normalised word stands for, and the disguise seen through.

        Memoised: a pure function of the word, and messages repeat the same words."""
        words = self._words
        return words[form] if form in words else _remember(words, form, self._word)

    def _word(self, form: str) -> tuple[Term, str] | None:
        for candidate in _singulars(form):
            if candidate in self._single:
                return self._single[candidate], ""
        if any(ch in MASK_CHARS for ch in form):
            return self._masked(form)
        for base in (form, form.rstrip("sz")):
            shape = tuple(ch for ch, _ in _runs(base))
            for term in self._by_shape.get(shape, ()):
                if _stretched(base, term.words[0]):
                    return term, "repeated letters"
        return None

    def _masked(self, form: str) -> tuple[Term, str] | None:
        visible = sum(ch.isalpha() for ch in form)
        parts = []
        for ch, n in _runs(form):
            if ch in MASK_CHARS:
                parts.append(f"[a-z]{{{max(1, n - 1)},{n + 1}}}")
            else:
                parts.append(re.escape(ch) * n + "+")
        pattern = re.compile("".join(parts) + "(?:e?s)?")
        found = [
            t
            for w, t in self._single.items()
            if pattern.fullmatch(w)
            and (visible >= 3 or (len(w) >= 5 and form[0] == w[0] and form[-1] == w[-1]))
        ]
        if not found:
            return None
        return max(found, key=lambda t: (t.weight, t.words)), "asterisks"

    # -- the message ------------------------------------------------------------------------

    def find(self, text: str, recipients: Sequence[str] = ()) -> list[Match]:
        tokens = tokenise(text)
        matches: list[Match] = []
        taken: set[int] = set()
        words = [t.forms[0] for t in tokens]
        # phrases first, so "sand nigger" is one match, not two
        for i, w in enumerate(words):
            for term in self._phrases.get(w, ()):
                n = len(term.words)
                cand = words[i : i + n]
                if (
                    len(cand) == n
                    and all(
                        a == b or (k == n - 1 and a in (b + "s", b + "es"))
                        for k, (a, b) in enumerate(zip(cand, term.words, strict=True))
                    )
                    and not taken & set(range(i, i + n))
                ):
                    matches.append(self._match(term, tokens, i, i + n - 1, tokens[i].disguise))
                    taken.update(range(i, i + n))
        for i, tok in enumerate(tokens):
            if i in taken:
                continue
            for form in tok.forms:
                hit = self.word(form)
                if hit is not None:
                    term, how = hit
                    disguise = ", ".join(x for x in (tok.disguise, how) if x)
                    matches.append(self._match(term, tokens, i, i, disguise))
                    taken.add(i)
                    break
        matches.extend(self._spaced(tokens, taken))
        # only a match can be reported speech: most messages have none, so skip the scan
        evidential = bool(matches) and self._evidential(words, recipients)
        quoted = [(m.start(), m.end()) for m in _QUOTED.finditer(text)] if matches else []
        out = []
        for m in sorted(matches, key=lambda m: m.start):
            in_quotes = any(a <= m.start and m.end <= b for a, b in quoted)
            reported = evidential and (in_quotes or self._reported_speech(tokens, m.first))
            out.append(
                Match(m.term, m.first, m.last, m.start, m.end, m.written, m.disguise, reported)
            )
        return out

    @staticmethod
    def _match(term: Term, tokens: list[Token], first: int, last: int, disguise: str) -> Match:
        start, end = tokens[first].start, tokens[last].end
        sep = "" if disguise == "spaced out" else " "
        written = sep.join(t.raw.strip("*#_!") for t in tokens[first : last + 1])
        return Match(term, first, last, start, end, written, disguise)

    def _spaced(self, tokens: list[Token], taken: set[int]) -> Iterator[Match]:
        """Words spelt out letter by letter: ``f a g``, ``p.a.k.i``, ``n-i-g-g-e-r``."""
        i = 0
        while i < len(tokens):
            j = i
            while j < len(tokens) and len(tokens[j].forms[0]) == 1 and j not in taken:
                j += 1
            if j - i >= _SPACED_RUN_MIN:
                letters = [tokens[k].forms[0] for k in range(i, j)]
                best = None
                for a in range(len(letters)):
                    for b in range(len(letters), a + _SPACED_RUN_MIN - 1, -1):
                        hit = self.word("".join(letters[a:b]))
                        if hit is not None and hit[1] != "asterisks":
                            best = (hit[0], i + a, i + b - 1)
                            break
                    if best:
                        break
                if best:
                    yield self._match(best[0], tokens, best[1], best[2], "spaced out")
            i = max(j, i + 1)

    def _evidential(self, words: list[str], recipients: Sequence[str]) -> bool:
        markers = self.lexicon.context.evidential_recipients
        for to in recipients:
            parts = re.split(r"[^a-z0-9-]+", to.casefold())
            if any(p.startswith(m) for p in parts for m in markers):
                return True
        for marker in self.lexicon.context.evidential_markers:
            n = len(marker)
            if any(tuple(words[i : i + n]) == marker for i in range(len(words) - n + 1)):
                return True
        return False

    def _reported_speech(self, tokens: list[Token], first: int, reach: int = 6) -> bool:
        """A reporting verb within ``reach`` words before the match, in the same sentence,
        not said by "I" or "we"."""
        ctx = self.lexicon.context
        sentence = tokens[first].sentence
        for k in range(first - 1, max(-1, first - 1 - reach), -1):
            if tokens[k].sentence != sentence:
                return False
            if tokens[k].forms[0] in ctx.reporting_verbs:
                subject = [t.forms[0] for t in tokens[max(0, k - 2) : k]]
                return not any(w in ctx.first_person for w in subject)
        return False


def mask(word: str) -> str:
    """Enough of a word to recognise it, not to repeat it.

    >>> mask("p4ki"), mask("nigger"), mask("sand nigger")
    ('p**i', 'n****r', 's**d n****r')
    """

    def one(w: str) -> str:
        return w if len(w) <= 2 else w[0] + "*" * (len(w) - 2) + w[-1]

    return " ".join(one(w) for w in word.split())
