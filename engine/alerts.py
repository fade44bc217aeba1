"""The alert builder: findings into contract-v1 alerts with deterministic ids."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from models.alerts import Alert, Finding, alert_id


def build_alert(finding: Finding, *, clock: Callable[[], datetime] | None = None) -> Alert:
    """One alert per finding; the id depends only on detector, officer and evidence (or dedup).

    ``raised_at`` is the only wall-clock stamp in the pipeline.
    """
    raised = (clock or (lambda: datetime.now(UTC)))()
    key = [finding.dedup] if finding.dedup else finding.evidence
    return Alert(
        id=alert_id(finding.detector, finding.officer, key),
        detector=finding.detector,
        category=finding.category,
        officer=finding.officer,
        time=finding.time,
        raised_at=raised,
        severity=finding.severity,
        score=round(finding.score, 1),
        title=finding.title,
        explanation=finding.explanation,
        evidence=finding.evidence,
        subjects=finding.subjects,
        path=finding.path,
        facts=finding.facts,
    )
