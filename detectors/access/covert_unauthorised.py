"""A record concerning a covert subject touched by staff not on that entry's authorised list."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from detectors.access.params import CovertUnauthorisedParams
from detectors.base import EventDetector, StateView
from detectors.lib.common import PERSON_RECORD_KINDS, persons_of, purpose_phrase
from detectors.registry import register
from models.alerts import Category, Finding
from models.events import Event


@register
class CovertUnauthorised(EventDetector[CovertUnauthorisedParams]):
    """A record concerning a covert subject touched by staff not on that entry's authorised list.

    Repeated touches of the same subject by the same officer within ``window_h`` hours are one
    alert's worth of news: later ones are counted in state, not raised again.
    """

    id = "access.covert_unauthorised"
    Params = CovertUnauthorisedParams
    feeds_risk = True
    kinds = PERSON_RECORD_KINDS
    category = Category.UNAUTHORISED_DISCLOSURE
    description = "Covert subject's record touched by staff not authorised for that operation."

    def __init__(self, params: CovertUnauthorisedParams | None = None, /, **overrides: Any) -> None:
        super().__init__(params, **overrides)
        p = self.params
        self.score = p.score
        self.window_h = p.window_h

    @classmethod
    def test_params(cls) -> list[dict[str, Any]]:
        return [{"window_h": 0.0}]  # fmt: skip

    def judge(self, event: Event, view: StateView) -> list[Finding]:
        officer = event.actor
        if officer is None:
            return []
        out = []
        last: dict[str, str] = view.state.setdefault("last_alert", {})
        for person in persons_of(event):
            entry = view.ref.on_list(person, "covert_subject")
            if entry is None or officer in entry.authorised:
                continue
            previous = last.get(person)
            if previous and event.time - datetime.fromisoformat(previous) < timedelta(
                hours=self.window_h
            ):
                continue
            last[person] = event.time.isoformat()
            record = f"{event.record.type} {event.record.id}" if event.record else "a record"
            out.append(
                self.finding(
                    event,
                    officer=officer,
                    severity="high",
                    score=self.score,
                    title=f"Covert subject {person} reached by unauthorised {officer}",
                    explanation=(
                        f"{officer} used {event.kind} on {record} concerning {person}, a covert "
                        f"subject of {entry.group or 'an operation'}. Only "
                        f"{', '.join(entry.authorised) or 'nobody'} "
                        f"{'is' if len(entry.authorised) == 1 else 'are'} authorised "
                        f"(list entry {entry.event_id}); {officer} is not"
                        f"{purpose_phrase(event)}."
                    ),
                    evidence=[event.id],
                    subjects=[person],
                    facts={"authorised": list(entry.authorised), "group": entry.group},
                )
            )
        return out
