"""Attempts to switch off or turn down the monitoring that watches staff."""

from __future__ import annotations

import re

from detectors.base import Detector, StateView
from detectors.registry import register
from models.alerts import Category, Finding
from models.events import AuditConfigAttrs, Event


@register
class MonitoringDisabled(Detector):
    """``audit.config_changed`` that turns auditing, logging or monitoring off or down.

    A setting counts when its name mentions one of ``settings_words``; a value counts as
    "down" when it is one of ``down_values`` (off, false, 0, minimal...).
    """

    id = "audit.monitoring_disabled"
    kinds = frozenset({"audit.config_changed"})
    category = Category.AUDIT_TAMPERING
    description = "Auditing or monitoring switched off or turned down."

    def __init__(
        self,
        *,
        score: float = 90.0,
        settings_words: tuple[str, ...] = ("audit", "monitor", "logging", "log_level", "siem"),
        down_values: tuple[str, ...] = (
            "off", "false", "0", "no", "none", "disabled", "disable", "minimal", "min",
            "low", "errors_only", "error", "critical", "stopped", "paused", "suspended",
        ),
    ) -> None:  # fmt: skip
        self.score = score
        self.settings_words = settings_words
        self.down_values = down_values
        self._setting_re = re.compile("|".join(re.escape(w) for w in settings_words), re.I)

    def evaluate(self, event: Event, view: StateView) -> list[Finding]:
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
