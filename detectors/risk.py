"""Risk accumulation: one score per officer that rises when findings from several categories
converge, and decays as time passes without them.

A detector cannot see other detectors' findings through the pipeline, so this one runs its
*inputs* (other registered detectors, with their default parameters) on the same events, each
with its own slot of this detector's per-officer state, and accumulates what they find
(:meth:`RiskAccumulation.absorb`). If the pipeline later hands every finding to detectors
directly, ``absorb`` is the hook to call and ``inputs`` can be switched off.
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from typing import Any

from detectors.base import Detector, StateView
from detectors.purpose import at, epoch
from detectors.registry import register, registered
from models.alerts import Category, Finding
from models.events import ACTIVITY_KINDS, Event

log = logging.getLogger(__name__)
DAY = 86400.0
DEFAULT_INPUTS = (
    "access.canary", "access.covert_unauthorised", "audit.monitoring_disabled",
    "access.no_purpose", "access.self_family_colleague", "access.vip_browsing",
    "access.vulnerable_victim", "access.volume_anomaly", "access.bulk_exfiltration",
    "access.off_duty", "access.complainant_lookup", "field.repeat_stop", "field.no_bwv",
    "field.bwv_deleted", "vetting.lapsed_access", "conduct.discriminatory_message",
    "association.nominal_contact", "association.ocg_path", "association.convergence",
)  # fmt: skip


@register
class RiskAccumulation(Detector):
    """Per-officer risk that decays (half-life ``half_life_days``) and rises with findings.

    Each finding adds its severity's weight (``weights``). An alert is raised when the decayed
    score reaches ``threshold`` with findings from at least ``min_categories`` categories on at
    least ``min_days`` distinct days (one event tripping several detectors at once is already
    in the queue; convergence over time is the news). It is raised again only when the score
    has risen by ``step`` since the last alert. The alert's category is the category with the
    largest decayed share; its score orders the queue.

    ``inputs``: ids of the detectors whose findings count (ids not registered are skipped;
    empty: every registered detector reading activity, except ``risk.*``).
    """

    id = "risk.accumulation"
    kinds = ACTIVITY_KINDS
    category = Category.CONDUCT_PATTERN  # stands in until the dominant category is known
    description = (
        "Per-officer decaying risk score that rises as findings of several categories converge."
    )

    def __init__(
        self,
        *,
        inputs: tuple[str, ...] = DEFAULT_INPUTS,
        half_life_days: float = 14.0,
        threshold: float = 55.0,
        min_categories: int = 2,
        min_days: int = 2,
        step: float = 20.0,
        weights: tuple[tuple[str, float], ...] = (
            ("low", 5.0), ("medium", 15.0), ("high", 30.0), ("critical", 50.0),
        ),
    ) -> None:  # fmt: skip
        self.inputs = inputs
        self.half_life_s = half_life_days * DAY
        self.half_life_days = half_life_days
        self.threshold = threshold
        self.min_categories = min_categories
        self.min_days = min_days
        self.step = step
        self.weights = dict(weights)
        self._subs: list[Detector] | None = None

    def _detectors(self) -> list[Detector]:
        if self._subs is None:
            classes = registered()
            ids = self.inputs or tuple(
                i for i, c in classes.items()
                if not i.startswith("risk.") and c.kinds & ACTIVITY_KINDS
            )  # fmt: skip
            self._subs = [classes[i]() for i in ids if i in classes and i != self.id]
        return self._subs

    def evaluate(self, event: Event, view: StateView) -> list[Finding]:
        officer = event.actor
        if officer is None or event.kind not in self.kinds:
            return []
        slots: dict[str, Any] = view.state.setdefault("inputs", {})
        found: list[Finding] = []
        for det in self._detectors():
            if event.kind not in det.kinds:
                continue
            sub = StateView(
                now=view.now, officer=officer, ref=view.ref,
                state=slots.setdefault(det.id, {}), owns=view.owns, graph=view.graph,
            )  # fmt: skip
            try:
                found.extend(det.evaluate(event, sub))
            except Exception:  # an input's bug must not stop the accumulation
                log.exception("risk input failed", extra={"detector": det.id})
        return self.absorb(found, event, view)

    def absorb(self, findings: list[Finding], event: Event, view: StateView) -> list[Finding]:
        """Add ``findings`` about ``view.officer`` to the score; a finding if it converges."""
        officer = view.officer
        state = view.state
        now = epoch(view.now)
        contribs: list[list[Any]] = state.setdefault("contribs", [])
        for f in findings:
            if f.officer != officer or f.detector == self.id:
                continue
            weight = self.weights.get(f.severity, 0.0)
            contribs.append([epoch(f.time), f.detector, str(f.category), weight, f.evidence[0],
                             f.title])  # fmt: skip
        if not findings:
            return []
        contribs[:] = [c for c in contribs if self._decayed(c, now) >= 1.0][-50:]
        by_cat: dict[str, float] = defaultdict(float)
        for c in contribs:
            by_cat[c[2]] += self._decayed(c, now)
        score = sum(by_cat.values())
        last = state.get("last_alert")
        if last is not None:
            last_score = last[1] * 0.5 ** ((now - last[0]) / self.half_life_s)
            if score < last_score + self.step:
                return []
        days = {int(c[0] // DAY) for c in contribs}
        cats = [c for c, w in by_cat.items() if w >= 1.0]
        if score < self.threshold or len(cats) < self.min_categories or len(days) < self.min_days:
            return []
        state["last_alert"] = [now, score]
        dominant = max(by_cat.items(), key=lambda kv: (kv[1], kv[0]))[0]
        shares = ", ".join(
            f"{c} {w:.0f}" for c, w in sorted(by_cat.items(), key=lambda kv: -kv[1])
        )
        listing = "; ".join(f"{at(c[0])} {c[1]}: {c[5]}" for c in contribs[-8:])
        finding = self.finding(
            event,
            officer=officer or "",
            severity="critical" if score >= 2 * self.threshold else "high",
            score=min(100.0, score),
            title=f"Risk converging on {officer}: {len(contribs)} findings in "
                  f"{len(cats)} categories, score {score:.0f}",
            explanation=(
                f"{officer}'s risk score reached {score:.0f} (line {self.threshold:g}) from "
                f"{len(contribs)} findings on {len(days)} days across {len(cats)} categories "
                f"({shares}; half-life {self.half_life_days:g} days; weights "
                f"{', '.join(f'{k} {v:g}' for k, v in self.weights.items())}). Findings: "
                f"{listing}."
            ),
            evidence=[c[4] for c in contribs],
            facts={"risk": score, "by_category": dict(by_cat), "days": len(days),
                   "detectors": sorted({c[1] for c in contribs})},
        )
        return [finding.model_copy(update={"category": Category(dominant)})]

    def _decayed(self, contrib: list[Any], now: float) -> float:
        return float(contrib[3]) * math.pow(0.5, max(0.0, now - contrib[0]) / self.half_life_s)
