"""Attempts to switch off or turn down the monitoring that watches staff."""

from __future__ import annotations

import re
from typing import Any

from detectors.audit.params import MonitoringDisabledParams
from detectors.base import EventDetector, StateView
from detectors.registry import register
from models.alerts import Category, Finding
from models.events import AuditConfigAttrs, Event


@register
class MonitoringDisabled(EventDetector[MonitoringDisabledParams]):
    """``audit.config_changed`` that turns auditing, logging or monitoring off or down.

    A setting counts when its name mentions one of ``settings_words``; a value counts as
    "down" when it is one of ``down_values`` (off, false, 0, minimal...).
    """

    id = "audit.monitoring_disabled"
    Params = MonitoringDisabledParams
    feeds_risk = True
    kinds = frozenset({"audit.config_changed"})
    category = Category.AUDIT_TAMPERING
    description = "Auditing or monitoring switched off or turned down."

    def __init__(self, params: MonitoringDisabledParams | None = None, /, **overrides: Any) -> None:
        super().__init__(params, **overrides)
        p = self.params
        self.score = p.score
        self.settings_words = p.settings_words
        self.down_values = p.down_values
        self._setting_re = re.compile("|".join(re.escape(w) for w in p.settings_words), re.I)

    @classmethod
    def test_params(cls) -> list[dict[str, Any]]:
        return [{"settings_words": ("audit",), "down_values": ("off",)}]  # fmt: skip

    def judge(self, event: Event, view: StateView) -> list[Finding]:
        attrs = event.attrs
        if event.actor is None or not isinstance(attrs, AuditConfigAttrs):
            return []
        setting, value = attrs.setting or "", (attrs.value or "").strip()
        if not self._setting_re.search(setting):
            return []
        if value.casefold().replace("-", "_").replace(" ", "_") not in self.down_values:
            return []
        return [
            self.finding(
                event,
                officer=event.actor,
                severity="critical",
                score=self.score,
                title=f"{setting} set to '{value}' by {event.actor}",
                explanation=(
                    f"{event.actor} changed {setting} to '{value}' on {event.source}"
                    f"{' from terminal ' + event.terminal if event.terminal else ''}: that turns "
                    f"auditing or monitoring off or down. "
                    + (
                        f"Reference given: {event.purpose}."
                        if event.purpose
                        else "No change ticket or purpose was given."
                    )
                ),
                evidence=[event.id],
                facts={"setting": setting, "value": value},
            )
        ]
