"""A ``message.sent`` on force systems with racist, misogynistic, homophobic, ableist, religious-
hatred or transphobic language, disguised or not."""

from __future__ import annotations

from typing import Any

from detectors.base import EventDetector, StateView
from detectors.conduct.params import DiscriminatoryMessageParams
from detectors.lib.common import plural
from detectors.lib.lexicon import MASK_CHARS, Match, Matcher, load_lexicon, mask, tokenise
from detectors.registry import register
from models.alerts import Category, Finding, Severity
from models.events import Event, MessageAttrs


@register
class DiscriminatoryMessage(EventDetector[DiscriminatoryMessageParams]):
    """A ``message.sent`` on force systems with racist, misogynistic, homophobic, ableist,
    religious-hatred or transphobic language, disguised or not.

    Matches add their lexicon weights; a message alerts when the words it *uses* weigh
    ``min_score`` or more. Words quoted or reported ("the suspect shouted ...") in an
    evidential message (a statement, a crime report, a complaint, or sent to a filing inbox)
    are reports, not uses, and do not count. The explanation quotes the matched words masked
    and never the message.
    """

    id = "conduct.discriminatory_message"
    Params = DiscriminatoryMessageParams
    feeds_risk = True
    kinds = frozenset({"message.sent"})
    category = Category.DISCRIMINATION
    description = "Discriminatory language in a message sent on force systems or devices."

    def __init__(
        self, params: DiscriminatoryMessageParams | None = None, /, **overrides: Any
    ) -> None:
        super().__init__(params, **overrides)
        p = self.params
        self.lexicon_path = p.lexicon_path
        self.min_score = p.min_score
        self.matcher = Matcher(load_lexicon(p.lexicon_path))

    @classmethod
    def test_params(cls) -> list[dict[str, Any]]:
        return [{"min_score": 0.5}]  # fmt: skip

    def judge(self, event: Event, view: StateView) -> list[Finding]:
        attrs = event.attrs
        if event.actor is None or not isinstance(attrs, MessageAttrs) or not attrs.text:
            return []
        matches = self.matcher.find(attrs.text, attrs.to or ())
        used = [m for m in matches if not m.reported]
        total = sum(m.term.weight for m in used)
        if not used or total < self.min_score:
            return []
        top = max(m.term.weight for m in used)
        severity: Severity = (
            "critical" if total >= 12 else "high" if top >= 5 or total >= 8 else "medium"
        )
        labels = sorted({m.term.label for m in used})
        words = [
            f"'{self._shown(m)}' ({m.term.label}, weight {m.term.weight:g}"
            f"{', ' + m.disguise if m.disguise else ''})"
            for m in used
        ]
        reported = len(matches) - len(used)
        channel = attrs.channel or "message"
        return [
            self.finding(
                event,
                officer=event.actor,
                severity=severity,
                score=min(100.0, 45.0 + 7.0 * total),
                title=f"{' and '.join(labels).capitalize()} language in a {channel} message "
                f"sent by {event.actor}",
                explanation=(
                    f"{event.actor} sent a {channel} message on {event.source} to "
                    f"{plural(len(attrs.to or ()), 'recipient')} using "
                    f"{plural(len(used), 'listed term')}: {'; '.join(words)}. Weight {total:g} "
                    f"against an alert threshold of {self.min_score:g} (lexicon "
                    f"{self.matcher.lexicon.version or 'custom'}). "
                    + (
                        f"{plural(reported, 'further term')} quoted or reported in an evidential "
                        "context did not count. "
                        if reported
                        else ""
                    )
                    + "The words were not quoted or reported in a statement, crime report or "
                    "complaint. The message text is held at the source, not in this alert."
                ),
                evidence=[event.id],
                facts={
                    "matches": [
                        {
                            "words": self._shown(m),
                            "category": m.term.category,
                            "weight": m.term.weight,
                            "disguise": m.disguise or None,
                        }
                        for m in used
                    ],
                    "weight": total,
                    "min_score": self.min_score,
                    "reported_not_counted": reported,
                    "channel": attrs.channel,
                    "recipients": len(attrs.to or ()),
                    "lexicon_version": self.matcher.lexicon.version,
                },
            )
        ]

    def _shown(self, m: Match) -> str:
        """The matched words for the explanation: a phrase keeps its ordinary words, every
        word that is itself a listed term (or a disguised one) is masked."""
        if m.first == m.last or m.disguise == "spaced out":
            return mask(m.written)
        shown = []
        for word in m.written.split():
            forms = [f for t in tokenise(word) for f in t.forms]
            listed = any(self.matcher.word(f) for f in forms)
            shown.append(mask(word) if listed or any(ch in MASK_CHARS for ch in word) else word)
        return " ".join(shown)
