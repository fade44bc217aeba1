"""Score a replay's alerts against a simulated force's labels.

A scenario is **found** when an alert about one of its officers, from one of its expected
detectors or of its category, has evidence in common with the scenario or a time inside its
window. An alert is **true** when it matches a scenario that way, counting also the detectors
a scenario names as ``also`` (other detectors that would rightly fire on the same behaviour);
every other alert is a false positive, reported per 1,000 staff per day. Alerts that touch a
legitimate look-alike are listed against it.

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
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
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

    @classmethod
    def from_json(cls, obj: Mapping[str, Any], where: str = "alert") -> AlertRow:
        try:
            return cls(
                id=str(obj.get("id") or ""), detector=str(obj["detector"]),
                category=str(obj.get("category") or ""), officer=str(obj["officer"]),
                time=_time(obj["time"], f"{where}.time"),
                evidence=frozenset(str(e) for e in obj.get("evidence") or ()),
            )  # fmt: skip
        except (KeyError, TypeError, AttributeError) as exc:
            raise LabelsError(f"{where}: missing or malformed field {exc}") from exc


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

    @classmethod
    def from_json(cls, obj: Mapping[str, Any], legitimate: bool) -> Case:
        where = f"label {obj.get('id', '?')}"
        try:
            window = obj["window"]
            return cls(
                id=str(obj["id"]), kind=str(obj.get("kind") or ""),
                detectors=frozenset(obj.get("detectors") or ()),
                also=frozenset(obj.get("also") or ()), category=str(obj.get("category") or ""),
                officers=frozenset(obj["officers"]),
                start=_time(window["start"], f"{where}.window.start"),
                end=_time(window["end"], f"{where}.window.end"),
                evidence=frozenset(obj.get("evidence") or ()),
                legitimate=bool(obj.get("legitimate", legitimate)),
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

    @property
    def found(self) -> bool:
        return bool(self.alerts)


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
            }

        return {
            "recall": self.recall, "precision": self.precision,
            "fp_per_1000_staff_day": self.fp_per_1000_staff_day,
            "alerts": {"total": self.alerts_total, "true": self.alerts_true,
                       "false": self.alerts_false},
            "staff": self.staff, "days": self.days,
            "scenarios": [case(r) for r in self.scenarios],
            "lookalikes": [
                {"id": r.id, "kind": r.kind, "officers": r.officers, "must_not": r.expected,
                 "alerts": r.alerts, "detectors": r.detectors} for r in self.lookalikes
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
            ("scenario", "kind", "officers", "expected detector", "found", "by")
        ]
        for r in self.scenarios:
            rows.append(
                (
                    r.id,
                    r.kind,
                    _short(r.officers),
                    ", ".join(r.expected),
                    "yes" if r.found else "NO",
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
        rows = [("detector", "alerts", "true", "false", "false per 1,000 staff per day")]
        for det, (n, t) in sorted(self.by_detector.items()):
            rate = self.detector_fp_per_1000_staff_day(det)
            rows.append((det, str(n), str(t), str(n - t), "n/a" if rate is None else f"{rate:.2f}"))
        out += [_grid(rows), ""]
        found = sum(r.found for r in self.scenarios)
        fp = self.fp_per_1000_staff_day
        out += [
            f"recall: {found}/{len(self.scenarios)} scenarios found ({_pct(self.recall)})",
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
) -> Evaluation:
    """Score ``alerts`` (contract-v1 dicts) against ``labels`` (``labels.json`` as loaded).

    ``staff`` and ``days`` default to the labels' metadata.
    """
    if not isinstance(labels, Mapping):
        raise LabelsError("labels: expected a JSON object")
    meta = labels.get("metadata") or {}
    staff = int(staff if staff is not None else meta.get("staff") or 0)
    days = float(days if days is not None else meta.get("days") or 0)
    cases = [Case.from_json(o, False) for o in labels.get("scenarios") or ()]
    alikes = [Case.from_json(o, True) for o in labels.get("lookalikes") or ()]
    rows = [AlertRow.from_json(a, f"alert {i + 1}") for i, a in enumerate(alerts)]

    results = {c.id: CaseResult(c.id, c.kind, sorted(c.officers), sorted(c.detectors))
               for c in cases}  # fmt: skip
    alike_results = {c.id: CaseResult(c.id, c.kind, sorted(c.officers), sorted(c.detectors))
                     for c in alikes}  # fmt: skip
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
            if c.explains(a):
                true = True
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
    )  # fmt: skip


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
