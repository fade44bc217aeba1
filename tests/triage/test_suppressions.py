"""``is_suppressed`` on real findings and alerts (what the worker will call)."""

from __future__ import annotations

import doctest
from datetime import UTC, datetime, timedelta

import pytest

import triage.grants
import triage.security
import triage.store.core
import triage.suppressions
import triage.throttle
from models.alerts import Category, Finding
from triage.base import Suppression
from triage.suppressions import is_suppressed

T = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def finding(**kw) -> Finding:
    data = dict(detector="access.canary", category=Category.MISUSE_OF_SYSTEMS, officer="S1",
                time=T, severity="high", score=90, title="t", explanation="e",
                evidence=["e1"], subjects=["P-1"])  # fmt: skip
    data.update(kw)
    return Finding(**data)


def sup(**kw) -> Suppression:
    data = dict(detector="access.canary", expires_at=T + timedelta(days=30), reason="r",
                created_by="sup", created_at=T, approved_by="sup2")  # fmt: skip
    data.update(kw)
    return Suppression(**data)


def test_officer_scope():
    s = [sup(officer="S1")]
    assert is_suppressed(s, finding(), T) == s[0]
    assert is_suppressed(s, finding(officer="S2"), T) is None
    assert is_suppressed(s, finding(detector="access.no_purpose"), T) is None


def test_subject_scope():
    s = [sup(subject="P-1")]
    assert is_suppressed(s, finding(officer="S7"), T) == s[0]
    assert is_suppressed(s, finding(subjects=["P-2"]), T) is None


def test_expiry_and_removal():
    assert is_suppressed([sup(officer="S1")], finding(), T + timedelta(days=30)) is None
    removed = sup(officer="S1", removed_at=T, removed_by="sup")
    assert is_suppressed([removed], finding(), T) is None


def test_a_suppression_awaiting_approval_is_not_in_force():
    assert is_suppressed([sup(officer="S1", approved_by=None)], finding(), T) is None


def test_scope_is_exactly_one_of_officer_or_subject():
    with pytest.raises(ValueError):
        sup()
    with pytest.raises(ValueError):
        sup(officer="S1", subject="P-1")


@pytest.mark.parametrize(
    "module",
    [triage.suppressions, triage.security, triage.store.core, triage.grants, triage.throttle],
)
def test_doctests(module):
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0


def test_cache_reloads_on_schedule_and_survives_a_failing_store():
    from triage.suppressions import SuppressionCache

    clock = [0.0]
    loads: list[list[Suppression] | Exception] = [[sup(officer="S1")], RuntimeError("down"), []]
    calls = []

    def load() -> list[Suppression]:
        calls.append(clock[0])
        result = loads.pop(0)
        if isinstance(result, Exception):
            raise result
        return result

    cache = SuppressionCache(load, refresh_s=5, monotonic=lambda: clock[0])
    assert cache.check(finding()) is not None
    clock[0] = 3
    assert cache.check(finding()) is not None and calls == [0.0]  # not reloaded yet
    clock[0] = 6
    assert cache.check(finding()) is not None  # store down: last list kept
    clock[0] = 12
    assert cache.check(finding()) is None and calls == [0.0, 6, 12]
