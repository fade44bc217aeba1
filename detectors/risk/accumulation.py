"""Risk accumulation: one score per officer that rises when findings from several categories
converge, and decays as time passes without them.

In a pipeline this detector is fed the findings its :meth:`~RiskAccumulation.inputs` made on
the same event (:meth:`RiskAccumulation.on_findings`), and reads the off-duty episode that the
pipeline's own ``access.off_duty`` keeps (a declared dependency: tuning that detector tunes
what risk sees). Standalone (:meth:`RiskAccumulation.judge`, outside a pipeline) it runs its
inputs itself, with their defaults, each in a slot of its own state.
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from detectors.access.off_duty import OffDuty
from detectors.base import Detector, FindingsDetector, StateView
from detectors.exceptions import ConfigError
from detectors.lib.common import plural
from detectors.lib.times import DAY, at, epoch
from detectors.lib.volume import leaving
from detectors.registry import register, registered
from detectors.risk.params import RiskAccumulationParams
from models.alerts import Category, Finding
from models.events import ACTIVITY_KINDS, Event

log = logging.getLogger(__name__)
#: [epoch s, source, category, weight, evidence id, title, 1 if a detector's finding else 0,
#: system of the evidence event, people and identifiers its title names] (signals kept by an
#: earlier version have no system; built-in weak signals name no one)
Signal = list[Any]
#: the detector family a built-in weak signal stands for (a detector's is its id's prefix)
_WEAK_FAMILY = {"off-duty access": "access", "export without purpose": "export"}


def family(source: str) -> str:
    """The detector family of a signal's source: ``access`` for ``access.off_duty`` and for the
    weak off-duty signal read from its slot."""
    return _WEAK_FAMILY.get(source) or source.partition(".")[0]


def independent(pairs: set[tuple[str, str]]) -> list[tuple[str, str]]:
    """The most (family, system) pairs of ``pairs`` that share neither a family nor a system:
    each counts as an independent source. A family seen on several systems (access on two
    record systems) counts once, and so does a system that several families judge (a USB
    copy seen by insider.removable_media and as an export without purpose): a maximum
    matching between families and systems.

    >>> sorted(independent({("access", "athena"), ("access", "niche"), ("insider", "endpoint"),
    ...                     ("export", "endpoint")}))
    [('access', 'athena'), ('export', 'endpoint')]
    """
    systems_of: dict[str, list[str]] = defaultdict(list)
    for f, sys_ in sorted(pairs):
        systems_of[f].append(sys_)
    if len(systems_of) < 2 or len({s for _, s in pairs}) < 2:
        return sorted(pairs)[:1]
    # Kuhn's augmenting paths in sorted order (networkx's matchings iterate sets, so which
    # pairs they name would vary with the hash seed): at most a few families and systems
    owner: dict[str, str] = {}  # system -> the family it is matched to

    def place(f: str, seen: set[str]) -> bool:
        for sys_ in systems_of[f]:
            if sys_ not in seen:
                seen.add(sys_)
                if sys_ not in owner or place(owner[sys_], seen):
                    owner[sys_] = f
                    return True
        return False

    for f in systems_of:
        place(f, set())
    return sorted((f, sys_) for sys_, f in owner.items())


@register
class RiskAccumulation(FindingsDetector[RiskAccumulationParams]):
    """Per-officer risk that decays (half-life ``half_life_days``) and rises with findings.

    Each finding adds its severity's weight (``weights``); weaker signals that no detector
    raises alone add ``weak_weight`` (an off-duty access episode below ``access.off_duty``'s
    line, 1.5x from a remote terminal; data exported by USB, email or download with no
    purpose). An alert is raised when the decayed risk reaches ``threshold`` with at least
    ``min_findings`` findings in at least ``min_categories`` categories (or from at least
    ``min_detectors`` different detectors: an officer browsing VIPs, colleagues and records
    off duty is several behaviours even within one category), and concerns on at least
    ``min_days`` distinct days (one event tripping several detectors at once is already
    in the queue; convergence over time is the news). Weak signals never raise alone.

    One source (a detector, or a built-in weak signal) adds at most ``cap`` (``caps`` per
    source) while its concerns last, so one chatty feed cannot carry an officer over the line;
    when at least ``agreement_min`` independent sources agree (each its own detector family
    *and* its own source system of the evidence: :func:`independent`), the risk gains
    ``agreement_bonus`` per source beyond the first, as Splunk's risk-based alerting rewards
    several detections that agree. The explanation names the caps applied and the sources. It is
    raised again only when the risk has risen by ``step`` since the last alert, under the same
    alert id while the episode lasts (the queue's upsert shows the higher score). The alert's
    category is the category with the largest decayed share (before caps: a cap limits what a
    source adds, not what it points at); its score orders the queue.

    ``inputs``: ids of the detectors whose findings it reads (unset: every detector declaring
    ``feeds_risk``; ``("*",)``: every detector reading activity, except ``risk.*``). The
    off-duty episodes come from ``access.off_duty``'s slot (:attr:`depends_on`): disabling
    that detector while this one runs is a configuration error, raised at start-up.
    """

    id = "risk.accumulation"
    Params = RiskAccumulationParams
    kinds = ACTIVITY_KINDS
    category = Category.CONDUCT_PATTERN  # stands in until the dominant category is known
    category_varies = True  # a finding carries the dominant category of what converged
    depends_on = (OffDuty.id,)
    state_cap_bytes = 32_768  # 50 signals, 50 weak-signal ids
    description = (
        "Per-officer decaying risk score that rises as findings of several categories converge."
    )

    def __init__(
        self, params: RiskAccumulationParams | None = None, /, **overrides: Any
    ) -> None:
        super().__init__(params, **overrides)
        p = self.params
        self.half_life_s = p.half_life_days * DAY
        self.half_life_days = p.half_life_days
        self.threshold = p.threshold
        self.min_findings = p.min_findings
        self.min_categories = p.min_categories
        self.min_detectors = p.min_detectors
        self.weak_weight = p.weak_weight
        self.export_channels = p.export_channels
        self.min_days = p.min_days
        self.step = p.step
        self.weights = dict(p.weights)
        self.cap = p.cap
        self.caps = dict(p.caps)
        self.agreement_min = p.agreement_min
        self.agreement_bonus = p.agreement_bonus
        self._subs: list[Detector[Any]] | None = None

    @classmethod
    def test_params(cls) -> list[dict[str, Any]]:
        return [{"threshold": 10.0, "min_days": 1, "min_findings": 1},
                {"half_life_days": 1.0, "inputs": ("*",)}]  # fmt: skip

    def inputs(self, available: Mapping[str, type[Detector[Any]]]) -> frozenset[str]:
        """The ids whose findings add to the risk (see the class's ``inputs``)."""
        given = self.params.inputs
        if given is None:
            return super().inputs(available)
        if "*" in given:
            return frozenset(
                i for i, c in available.items()
                if not i.startswith("risk.") and c.kinds & ACTIVITY_KINDS
            )  # fmt: skip
        unknown = sorted(set(given) - set(available))
        if unknown:
            raise ConfigError(f"{self.id}: inputs names unknown detectors {unknown}")
        return frozenset(given) - {self.id}

    def _detectors(self) -> list[Detector[Any]]:
        if self._subs is None:
            classes = registered()
            self._subs = [classes[i]() for i in sorted(self.inputs(classes))]
        return self._subs

    def on_findings(
        self, findings: list[Finding], event: Event, view: StateView
    ) -> list[Finding]:
        """Called by the pipeline with its inputs' findings on ``event``, after the pipeline's
        ``access.off_duty`` judged it: the weak off-duty signal reads that detector's slot."""
        officer = event.actor
        if officer is None:
            return []
        view.state.pop("inputs", None)  # a private copy kept by an earlier version
        shared = view.officer_state.get(OffDuty.id) if view.officer_state is not None else None
        slots = {OffDuty.id: shared} if shared is not None else {}
        weak = self._weak(event, view, slots)
        if not findings and not weak:  # most events: nothing to add
            return []
        return self.absorb(findings, event, view, weak=weak)

    def judge(self, event: Event, view: StateView) -> list[Finding]:
        """Standalone (outside a pipeline): run the ``inputs`` detectors here to see their
        findings, each with its own slot of this detector's state."""
        officer = event.actor
        if officer is None:
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
        return self.absorb(found, event, view, weak=self._weak(event, view, slots))

    def _weak(self, event: Event, view: StateView, slots: dict[str, Any]) -> list[Signal]:
        """Signals below any detector's line that still add to the risk (never alone)."""
        out: list[Signal] = []
        now = epoch(event.time)
        seen: list[str] = view.state.setdefault("weak_seen", [])
        ep = OffDuty.episode_of(slots.get(OffDuty.id, {}))
        if ep is not None and not ep.get("alerted") and ep.get("first") not in seen:
            seen.append(ep["first"])
            weight = self.weak_weight * (1.5 if ep.get("remote") else 1.0)
            where = " from a remote terminal" if ep.get("remote") else ""
            out.append([now, "off-duty access", str(Category.MISUSE_OF_SYSTEMS), weight,
                        ep["first"], f"record access outside the roster{where}", 0,
                        event.source])
        gone = leaving(event, self.export_channels)
        if gone is not None and not event.purpose and event.id not in seen:
            seen.append(event.id)
            out.append([now, "export without purpose", str(Category.UNAUTHORISED_DISCLOSURE),
                        self.weak_weight, event.id, f"{gone[0]} with no purpose given", 0,
                        event.source])
        if len(seen) > 50:
            del seen[:-50]
        return out

    def absorb(
        self, findings: list[Finding], event: Event, view: StateView, weak: Sequence[Signal] = ()
    ) -> list[Finding]:
        """Add ``findings`` about ``view.officer`` (and weak signals) to the score; a finding
        if they converge. Pure over ``view.state``: the pipeline may call it directly."""
        officer = view.officer
        state = view.state
        now = epoch(view.now)
        signals: list[Signal] = state.setdefault("signals", [])
        for f in findings:
            if f.officer != officer or f.detector == self.id:
                continue
            named = sorted({*f.subjects, *f.identifiers} - {officer})  # its title may quote
            if f.weak:  # too weak to alert alone: a weak signal, named if it adds up
                signals.append([epoch(f.time), f.detector, str(f.category), self.weak_weight,
                                f.evidence[0], f.title, 0, event.source, named])  # fmt: skip
                continue
            weight = self.weights.get(f.severity, 0.0)
            signals.append([epoch(f.time), f.detector, str(f.category), weight, f.evidence[0],
                            f.title, 1, event.source, named])  # fmt: skip
        signals.extend(c if len(c) > 7 else [*c, event.source] for c in weak)
        if not findings and not weak:
            return []
        signals[:] = [c for c in signals if self._decayed(c, now) >= 1.0][-50:]
        by_source: dict[str, float] = defaultdict(float)
        for c in signals:
            by_source[c[1]] += self._decayed(c, now)
        capped = {
            src: self.caps.get(src, self.cap) / total
            for src, total in by_source.items()
            if total > self.caps.get(src, self.cap)
        }  # source -> the share of its risk that counts
        by_cat: dict[str, float] = defaultdict(float)
        raw_cat: dict[str, float] = defaultdict(float)  # before caps: what the findings say
        for c in signals:
            w = self._decayed(c, now)
            by_cat[c[2]] += w * capped.get(c[1], 1.0)
            raw_cat[c[2]] += w
        base = sum(by_cat.values())
        agree = independent({(family(c[1]), _system(c)) for c in signals})
        bonus = 0.0
        if len(agree) >= self.agreement_min:
            bonus = base * self.agreement_bonus * (len(agree) - 1)
        score = base + bonus
        last = state.get("last_alert")  # [epoch s, risk, episode key]
        episode = event.id
        if last is not None:
            last_score = last[1] * 0.5 ** ((now - last[0]) / self.half_life_s)
            if last_score >= self.threshold:  # the same episode: raise again only if worse
                if score < last_score + self.step:
                    return []
                episode = last[2]
        days = {int(c[0] // DAY) for c in signals}
        n_findings = sum(1 for c in signals if c[6])
        finding_cats = {c[2] for c in signals if c[6]}
        finding_dets = {c[1] for c in signals if c[6]}
        broad = len(finding_cats) >= self.min_categories or len(finding_dets) >= self.min_detectors
        if (
            score < self.threshold
            or not broad
            or len(days) < self.min_days
            or n_findings < self.min_findings
        ):
            return []
        state["last_alert"] = [now, score, episode]
        dominant = max(raw_cat.items(), key=lambda kv: (kv[1], kv[0]))[0]
        shares = ", ".join(
            f"{c} {w:.0f}" for c, w in sorted(by_cat.items(), key=lambda kv: -kv[1])
        )
        listing = "; ".join(f"{at(c[0])} {c[1]}: {c[5]}" for c in signals[-8:])
        caps_text = (
            " Capped: " + "; ".join(
                f"{src} {by_source[src]:.0f} counted as {by_source[src] * share:.0f} (cap "
                f"{self.caps.get(src, self.cap):g})" for src, share in sorted(capped.items())
            ) + "."
            if capped else ""
        )  # fmt: skip
        agree_text = (
            f" {len(agree)} independent sources agree ("
            + ", ".join(f"{f} on {s}" for f, s in agree)
            + f"): bonus +{bonus:.0f} ({self.agreement_bonus:.0%} per source beyond the first)."
            if bonus
            else ""
        )
        # weak findings (a detector's id, family.name), not the built-in weak signals
        weak = [c for c in signals if not c[6] and "." in c[1]]
        weak_text = (
            " Weaker findings that added up: "
            + "; ".join(f"{at(c[0])} {c[1]}: {c[5]} ({c[4]})" for c in weak[-8:])
            + "."
            if weak
            else ""
        )
        finding = self.finding(
            event,
            officer=officer or "",
            severity="critical" if score >= 3 * self.threshold else "high",
            score=min(100.0, 50.0 + score / 2),
            title=f"Risk converging on {officer}: {len(signals)} concerns in "
                  f"{len(by_cat)} categories, risk {score:.0f}",
            explanation=(
                f"{officer}'s risk reached {score:.0f} (line {self.threshold:g}) from "
                f"{plural(n_findings, 'finding')} and {len(signals) - n_findings} weaker "
                f"signals on {len(days)} days across {len(by_cat)} categories ({shares}; "
                f"half-life {self.half_life_days:g} days; weights "
                f"{', '.join(f'{k} {v:g}' for k, v in self.weights.items())}, weak signal "
                f"{self.weak_weight:g}). Concerns: {listing}. Rule: at least "
                f"{self.min_findings} findings in {self.min_categories} categories or from "
                f"{self.min_detectors} detectors, concerns on {self.min_days} days; one "
                f"source adds at most its cap ({self.cap:g} unless set).{caps_text}"
                f"{agree_text}{weak_text}"
            ),
            evidence=[c[4] for c in signals],
            facts={"risk": score, "by_category": dict(by_cat), "days": len(days),
                   "findings": n_findings, "sources": sorted({c[1] for c in signals}),
                   "capped": {src: self.caps.get(src, self.cap) for src in sorted(capped)},
                   "agreeing": [f"{f}@{s}" for f, s in agree], "bonus": bonus},
            # the people and identifiers the quoted findings' titles name
            identifiers=sorted({str(n) for c in signals if len(c) > 8 for n in c[8]}),
            dedup=f"risk:{episode}",
        )
        return [finding.model_copy(update={"category": Category(dominant)})]

    def _decayed(self, signal: Signal, now: float) -> float:
        return float(signal[3]) * math.pow(0.5, max(0.0, now - signal[0]) / self.half_life_s)


def _system(signal: Signal) -> str:
    """The source system of a signal's evidence event ("?" for a signal kept by an earlier
    version: unknown systems count as one)."""
    return str(signal[7]) if len(signal) > 7 and signal[7] else "?"
