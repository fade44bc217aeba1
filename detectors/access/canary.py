"""Any search or view of a canary: a record planted by the ACU that no one has reason to open."""

from __future__ import annotations

from typing import Any

from detectors.access.params import CanaryParams
from detectors.base import EventDetector, StateView
from detectors.lib.common import fields_of, persons_of, purpose_phrase
from detectors.registry import register
from models.alerts import Category, Finding
from models.events import Event


@register
class CanaryAccess(EventDetector[CanaryParams]):
    """Any search or view of a canary: a record planted by the ACU that no one has reason to open.

    Canaries have no legitimate users, so every touch is critical and stands alone: one
    alert per event, no threshold, no baseline.
    """

    id = "access.canary"
    Params = CanaryParams
    feeds_risk = True
    kinds = frozenset({"record.search", "record.view", "record.update", "record.export"})
    category = Category.MISUSE_OF_SYSTEMS
    description = "Search or view of a canary record planted by the ACU."

    def __init__(self, params: CanaryParams | None = None, /, **overrides: Any) -> None:
        super().__init__(params, **overrides)
        p = self.params
        self.score = p.score

    @classmethod
    def test_params(cls) -> list[dict[str, Any]]:
        return [{"score": 50.0}]  # fmt: skip

    def judge(self, event: Event, view: StateView) -> list[Finding]:
        officer = event.actor
        if officer is None:
            return []
        out = []
        for person in persons_of(event):
            entry = view.ref.on_list(person, "canary")
            if entry is None:
                continue
            verb = "searched for" if event.kind == "record.search" else "opened"
            opened = fields_of(event)
            out.append(
                self.finding(
                    event,
                    officer=officer,
                    severity="critical",
                    score=self.score,
                    title=f"Canary record {person} {verb} by {officer}",
                    explanation=(
                        f"{officer} {verb} {person} ({event.kind} on {event.source}"
                        f"{', fields ' + ', '.join(opened) if opened else ''}"
                        f"{', terminal ' + event.terminal if event.terminal else ''}). "
                        f"{person} is a canary planted by {entry.group or 'the ACU'} "
                        f"(list entry {entry.event_id}); no one has a policing reason to open it"
                        f"{purpose_phrase(event)}."
                    ),
                    evidence=[event.id],
                    subjects=[person],
                    facts={"list_event": entry.event_id, "fields": opened},
                )
            )
        return out
