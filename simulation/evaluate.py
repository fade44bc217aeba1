"""Score a replay's alerts against a simulated force's labels.

A scenario is **found** when an alert about one of its officers, from one of its expected
detectors or of its category, has evidence in common with the scenario or a time inside its
window. An alert is **true** when it matches a scenario that way, counting also the detectors
a scenario names as ``also`` (other detectors that would rightly fire on the same behaviour),
or when it matches an *incidental* label the same way (what injected behaviour rightly raises
about someone it did not pick, such as a look-alike officer's housemate: true, not scored for
recall, listed apart); every other alert is a false positive, reported per 1,000 staff per day.
Alerts that touch a legitimate look-alike are listed against it.

**Time to detection** is the hours from a scenario's first malicious event (its label's
``first_event``; labels written before it existed: the window's start) to the event time of
the earliest alert that found it; history from before the force's feed starts (metadata
``start``: a complaint pattern over the past year, vetting granted long ago) counts from that
start, when the detectors began watching. **Found within the daily budget**: each day an ACU reads
only the top ``budget_per_1000`` alerts per 1,000 staff (at least one) among the alerts of
that day (UTC, by alert time; an alert id re-raised the same day counts once, at its highest),
ranked by severity (critical, high, medium, low), then score, then the earlier alert, then
id; a scenario is found within it when one of the alerts that found it is read.

>>> labels = {"metadata": {"staff": 100, "days": 10}, "scenarios": [{"id": "SC-1",
...     "kind": "canary", "detectors": ["access.canary"], "category": "misuse_of_systems",
...     "officers": ["S1"], "evidence": ["e1"],
...     "window": {"start": "2026-03-02T00:00:00Z", "end": "2026-03-03T00:00:00Z"}}]}
>>> alerts = [{"id": "a1", "detector": "access.canary", "category": "misuse_of_systems",
...     "officer": "S1", "time": "2026-03-02T10:00:00Z", "evidence": ["e1"]},
...     {"id": "a2", "detector": "access.off_duty", "category": "misuse_of_systems",
...     "officer": "S2", "time": "2026-03-02T10:00:00Z", "evidence": ["e9"]}]
>>> r = evaluate(labels, alerts)
>>> r.recall, r.precision, r.fp_per_1000_staff_day
(1.0, 0.5, 1.0)
>>> r.scenarios[0].hours_to_detection, r.scenarios[0].within_budget
(10.0, True)
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import orjson

from simulation.exceptions import LabelsError


def _time(value: Any, what: str) -> datetime:
    if not isinstance(value, str):
        raise LabelsError(f"{what}: expected an RFC 3339 time, got {value!r}")
    try:
        t = datetime.fromisoformat(value)
    except ValueError as exc:
        raise LabelsError(f"{what}: not a time: {value!r}") from exc
    if t.tzinfo is None:
        raise LabelsError(f"{what}: time without an offset: {value!r}")
    return t


@dataclass(frozen=True)
class AlertRow:
    """The fields of a contract-v1 alert that scoring needs."""

    id: str
    detector: str
    category: str
    officer: str
    time: datetime
    evidence: frozenset[str]
    severity: str = ""
    score: float = 0.0

    @classmethod
    def from_json(cls, obj: Mapping[str, Any], where: str = "alert") -> AlertRow:
        try:
            return cls(
                id=str(obj.get("id") or ""), detector=str(obj["detector"]),
                category=str(obj.get("category") or ""), officer=str(obj["officer"]),
                time=_time(obj["time"], f"{where}.time"),
                evidence=frozenset(str(e) for e in obj.get("evidence") or ()),
                severity=str(obj.get("severity") or ""), score=float(obj.get("score") or 0),
            )  # fmt: skip
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise LabelsError(f"{where}: missing or malformed field {exc}") from exc

    def rank(self) -> tuple[int, float, datetime, str]:
        """Reading order within a day (ascending): severity, score, earlier, id."""
        return (-_SEVERITY.get(self.severity, 0), -self.score, self.time, self.id)


_SEVERITY = {"critical": 4, "high": 3, "medium": 2, "low": 1}


@dataclass(frozen=True)
class Case:
    """One labelled scenario or look-alike."""

    id: str
    kind: str
    detectors: frozenset[str]
    also: frozenset[str]
    category: str
    officers: frozenset[str]
    start: datetime
    end: datetime
    evidence: frozenset[str]
    legitimate: bool
    first_event: datetime

    @classmethod
    def from_json(cls, obj: Mapping[str, Any], legitimate: bool) -> Case:
        where = f"label {obj.get('id', '?')}"
        try:
            window = obj["window"]
            start = _time(window["start"], f"{where}.window.start")
            first = obj.get("first_event")
            return cls(
                id=str(obj["id"]), kind=str(obj.get("kind") or ""),
                detectors=frozenset(obj.get("detectors") or ()),
                also=frozenset(obj.get("also") or ()), category=str(obj.get("category") or ""),
                officers=frozenset(obj["officers"]),
                start=start, end=_time(window["end"], f"{where}.window.end"),
                evidence=frozenset(obj.get("evidence") or ()),
                legitimate=bool(obj.get("legitimate", legitimate)),
                first_event=start if first is None else _time(first, f"{where}.first_event"),
            )  # fmt: skip
        except (KeyError, TypeError) as exc:
            raise LabelsError(f"{where}: missing or malformed field {exc}") from exc

    def touches(self, a: AlertRow) -> bool:
        """About one of the officers, with shared evidence or a time inside the window."""
        return a.officer in self.officers and (
            bool(a.evidence & self.evidence) or self.start <= a.time <= self.end
        )

    def found_by(self, a: AlertRow) -> bool:
        """Counts for recall: an expected detector, or the scenario's category."""
        return (a.detector in self.detectors or a.category == self.category) and self.touches(a)

    def explains(self, a: AlertRow) -> bool:
        """Makes the alert true: as :meth:`found_by`, or a detector the label names as ``also``."""
        return self.found_by(a) or (a.detector in self.also and self.touches(a))


@dataclass
class CaseResult:
    id: str
    kind: str
    officers: list[str]
    expected: list[str]
    alerts: list[str] = field(default_factory=list)  # alert ids that found (or hit) it
    detectors: list[str] = field(default_factory=list)
    first_event: datetime | None = None
    detected: datetime | None = None  # event time of the earliest alert that found it
    within_budget: bool = False  # one of its alerts is among its day's read alerts

    @property
    def found(self) -> bool:
        return bool(self.alerts)

    @property
    def hours_to_detection(self) -> float | None:
        """From the first malicious event to the earliest alert that found it (0 at least)."""
        if self.detected is None or self.first_event is None:
            return None
        return max(0.0, (self.detected - self.first_event).total_seconds() / 3600)


@dataclass
class Evaluation:
    """Recall per scenario, precision, false positives per 1,000 staff per day."""

    scenarios: list[CaseResult]
    lookalikes: list[CaseResult]
    alerts_total: int
    alerts_true: int
    staff: int
    days: float
    by_detector: dict[str, tuple[int, int]]  # detector -> (alerts, true alerts)
    budget_per_day: int = 0  # alerts read each day (``budget_per_1000`` per 1,000 staff)
    incidental: list[CaseResult] = field(default_factory=list)  # right, not injected

    @property
    def found_within_budget(self) -> int:
        return sum(r.within_budget for r in self.scenarios)

    @property
    def median_hours_to_detection(self) -> float | None:
        hours = [h for r in self.scenarios if (h := r.hours_to_detection) is not None]
        return statistics.median(hours) if hours else None

    @property
    def max_hours_to_detection(self) -> float | None:
        hours = [h for r in self.scenarios if (h := r.hours_to_detection) is not None]
        return max(hours) if hours else None

    @property
    def alerts_false(self) -> int:
        return self.alerts_total - self.alerts_true

    @property
    def recall(self) -> float | None:
        if not self.scenarios:
            return None
        return sum(r.found for r in self.scenarios) / len(self.scenarios)

    @property
    def precision(self) -> float | None:
        return self.alerts_true / self.alerts_total if self.alerts_total else None

    @property
    def fp_per_1000_staff_day(self) -> float | None:
        return self._per_1000_staff_day(self.alerts_false)

    def detector_fp_per_1000_staff_day(self, detector: str) -> float | None:
        """One detector's false alerts per 1,000 staff per day (0 for one that gave none)."""
        n, true = self.by_detector.get(detector, (0, 0))
        return self._per_1000_staff_day(n - true)

    def _per_1000_staff_day(self, alerts: int) -> float | None:
        if self.staff <= 0 or self.days <= 0:
            return None
        return alerts * 1000 / self.staff / self.days

    def to_json(self) -> dict[str, Any]:
        def case(r: CaseResult) -> dict[str, Any]:
            return {
                "id": r.id,
                "kind": r.kind,
                "officers": r.officers,
                "expected": r.expected,
                "found": r.found,
                "alerts": r.alerts,
                "detectors": r.detectors,
                "first_event": r.first_event and r.first_event.isoformat(),
                "detected": r.detected and r.detected.isoformat(),
                "hours_to_detection": r.hours_to_detection,
                "within_budget": r.within_budget,
            }

        return {
            "recall": self.recall, "precision": self.precision,
            "fp_per_1000_staff_day": self.fp_per_1000_staff_day,
            "alerts": {"total": self.alerts_total, "true": self.alerts_true,
                       "false": self.alerts_false},
            "staff": self.staff, "days": self.days,
            "hours_to_detection": {"median": self.median_hours_to_detection,
                                   "max": self.max_hours_to_detection},
            "budget": {"alerts_per_day": self.budget_per_day,
                       "found_within": self.found_within_budget,
                       "scenarios": len(self.scenarios)},
            "scenarios": [case(r) for r in self.scenarios],
            "lookalikes": [
                {"id": r.id, "kind": r.kind, "officers": r.officers, "must_not": r.expected,
                 "alerts": r.alerts, "detectors": r.detectors} for r in self.lookalikes
            ],
            "incidental": [
                {"id": r.id, "kind": r.kind, "officers": r.officers, "expected": r.expected,
                 "alerts": r.alerts, "detectors": r.detectors} for r in self.incidental
            ],
            "by_detector": {
                d: {"alerts": n, "true": t,
                    "fp_per_1000_staff_day": self.detector_fp_per_1000_staff_day(d)}
                for d, (n, t) in self.by_detector.items()
            },
        }  # fmt: skip

    def table(self) -> str:
        """The human report: one row per scenario, then look-alikes, detectors and totals."""
        rows: list[tuple[str, ...]] = [
            ("scenario", "kind", "officers", "expected detector", "found", "hours", "in budget",
             "by")
        ]  # fmt: skip
        for r in self.scenarios:
            hours = r.hours_to_detection
            rows.append(
                (
                    r.id,
                    r.kind,
                    _short(r.officers),
                    ", ".join(r.expected),
                    "yes" if r.found else "NO",
                    "-" if hours is None else f"{hours:.1f}",
                    ("yes" if r.within_budget else "NO") if r.found else "-",
                    ", ".join(r.detectors) or "-",
                )
            )
        out = [_grid(rows), ""]
        rows = [("look-alike", "kind", "officers", "must not raise", "alerts", "by")]
        for r in self.lookalikes:
            rows.append(
                (
                    r.id,
                    r.kind,
                    _short(r.officers),
                    ", ".join(r.expected),
                    str(len(r.alerts)),
                    ", ".join(r.detectors) or "-",
                )
            )
        out += [_grid(rows), ""]
        if self.incidental:
            rows = [("incidental", "kind", "officers", "rightly raised by", "alerts", "by")]
            rows += [(r.id, r.kind, _short(r.officers), ", ".join(r.expected),
                      str(len(r.alerts)), ", ".join(r.detectors) or "-")
                     for r in self.incidental]  # fmt: skip
            out += [_grid(rows), ""]
        rows = [("detector", "alerts", "true", "false", "false per 1,000 staff per day")]
        for det, (n, t) in sorted(self.by_detector.items()):
            rate = self.detector_fp_per_1000_staff_day(det)
            rows.append((det, str(n), str(t), str(n - t), "n/a" if rate is None else f"{rate:.2f}"))
        out += [_grid(rows), ""]
        found = sum(r.found for r in self.scenarios)
        fp = self.fp_per_1000_staff_day
        med, worst = self.median_hours_to_detection, self.max_hours_to_detection
        out += [
            f"recall: {found}/{len(self.scenarios)} scenarios found ({_pct(self.recall)})",
            f"within the daily budget: {self.found_within_budget}/{len(self.scenarios)} "
            f"scenarios among the top {self.budget_per_day} alerts of their day",
            "time to detection: "
            + ("n/a" if med is None or worst is None
               else f"median {med:.1f} h, longest {worst:.1f} h"),
            f"precision: {self.alerts_true}/{self.alerts_total} alerts true "
            f"({_pct(self.precision)})",
            f"false positives: {self.alerts_false} alerts = "
            f"{'n/a' if fp is None else f'{fp:.2f}'} per 1,000 staff per day "
            f"({self.staff} staff, {self.days:g} days)",
            f"look-alikes raised: {sum(1 for r in self.lookalikes if r.alerts)}"
            f"/{len(self.lookalikes)}",
        ]
        return "\n".join(out)


def _short(officers: list[str]) -> str:
    return ", ".join(officers[:3]) + (f" +{len(officers) - 3}" if len(officers) > 3 else "")


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.0%}"


def _grid(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def evaluate(
    labels: Mapping[str, Any],
    alerts: Iterable[Mapping[str, Any]],
    *,
    staff: int | None = None,
    days: float | None = None,
    budget_per_1000: float = 10.0,
) -> Evaluation:
    """Score ``alerts`` (contract-v1 dicts) against ``labels`` (``labels.json`` as loaded).

    ``staff`` and ``days`` default to the labels' metadata; ``budget_per_1000`` is the alerts
    an ACU reads each day per 1,000 staff (the module docstring says how they are chosen).
    """
    if not isinstance(labels, Mapping):
        raise LabelsError("labels: expected a JSON object")
    meta = labels.get("metadata") or {}
    staff = int(staff if staff is not None else meta.get("staff") or 0)
    days = float(days if days is not None else meta.get("days") or 0)
    cases = [Case.from_json(o, False) for o in labels.get("scenarios") or ()]
    alikes = [Case.from_json(o, True) for o in labels.get("lookalikes") or ()]
    incidental = [Case.from_json(o, False) for o in labels.get("incidental") or ()]
    rows = [AlertRow.from_json(a, f"alert {i + 1}") for i, a in enumerate(alerts)]

    results = {c.id: CaseResult(c.id, c.kind, sorted(c.officers), sorted(c.detectors),
                                first_event=c.first_event) for c in cases}  # fmt: skip
    watched = _time(meta["start"], "metadata.start") if meta.get("start") else None
    for r in results.values():
        if watched is not None and r.first_event is not None and r.first_event < watched:
            r.first_event = watched
    budget = max(1, math.floor(budget_per_1000 * staff / 1000 + 1e-9))
    read = _read_each_day(rows, budget)
    alike_results = {c.id: CaseResult(c.id, c.kind, sorted(c.officers), sorted(c.detectors))
                     for c in alikes}  # fmt: skip
    side = {c.id: CaseResult(c.id, c.kind, sorted(c.officers), sorted(c.detectors))
            for c in incidental}  # fmt: skip
    per_det: Counter[str] = Counter()
    per_det_true: Counter[str] = Counter()
    n_true = 0
    for a in rows:
        per_det[a.detector] += 1
        true = False
        for c in cases:
            if c.found_by(a):
                r = results[c.id]
                r.alerts.append(a.id)
                if a.detector not in r.detectors:
                    r.detectors.append(a.detector)
                if r.detected is None or a.time < r.detected:
                    r.detected = a.time
                r.within_budget = r.within_budget or (_day(a), a.id) in read
            if c.explains(a):
                true = True
        for c in incidental:
            if c.explains(a):
                true = True
                r = side[c.id]
                r.alerts.append(a.id)
                if a.detector not in r.detectors:
                    r.detectors.append(a.detector)
        if true:
            n_true += 1
            per_det_true[a.detector] += 1
            continue
        for c in alikes:
            if a.officer in c.officers and (
                a.evidence & c.evidence
                or (a.detector in c.detectors and c.start <= a.time <= c.end)
            ):
                r = alike_results[c.id]
                r.alerts.append(a.id)
                if a.detector not in r.detectors:
                    r.detectors.append(a.detector)
    return Evaluation(
        scenarios=list(results.values()), lookalikes=list(alike_results.values()),
        alerts_total=len(rows), alerts_true=n_true, staff=staff, days=days,
        by_detector={d: (n, per_det_true[d]) for d, n in sorted(per_det.items())},
        budget_per_day=budget, incidental=list(side.values()),
    )  # fmt: skip


def _day(a: AlertRow) -> date:
    return a.time.astimezone(UTC).date()


def _read_each_day(rows: list[AlertRow], budget: int) -> set[tuple[date, str]]:
    """(day, alert id) of the alerts read within the daily budget: each day's ``budget`` first
    alerts by :meth:`AlertRow.rank`, an id counted once a day at its best rank."""
    best: dict[tuple[date, str], AlertRow] = {}
    for a in rows:
        key = (_day(a), a.id)
        if key not in best or a.rank() < best[key].rank():
            best[key] = a
    by_day: dict[date, list[AlertRow]] = {}
    for (day, _id), a in best.items():
        by_day.setdefault(day, []).append(a)
    return {(day, a.id) for day, alerts in by_day.items()
            for a in sorted(alerts, key=AlertRow.rank)[:budget]}  # fmt: skip


def read_alerts(data: bytes) -> list[dict[str, Any]]:
    """Alerts from JSONL bytes (blank lines skipped); a bad line is a :class:`LabelsError`."""
    out = []
    for n, line in enumerate(data.splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise LabelsError(f"alerts line {n}: not valid JSON: {exc}") from exc
        if not isinstance(obj, dict):
            raise LabelsError(f"alerts line {n}: not a JSON object")
        out.append(obj)
    return out


def read_labels(data: bytes) -> dict[str, Any]:
    try:
        obj = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise LabelsError(f"labels: not valid JSON: {exc}") from exc
    if not isinstance(obj, dict):
        raise LabelsError("labels: expected a JSON object")
    return obj
