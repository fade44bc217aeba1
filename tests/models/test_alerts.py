from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from models.alerts import Alert, Category, PathHop, alert_id


def test_alert_id_is_deterministic_and_order_free():
    a = alert_id("access.canary", "S1", ["e1", "e2"])
    assert a == alert_id("access.canary", "S1", ["e2", "e1", "e1"])
    assert a != alert_id("access.canary", "S2", ["e1", "e2"])
    assert a != alert_id("access.other", "S1", ["e1", "e2"])


def _alert(**over):
    base = dict(
        id="a-1",
        detector="access.canary",
        category=Category.MISUSE_OF_SYSTEMS,
        officer="S1",
        time=datetime(2026, 3, 2, tzinfo=UTC),
        raised_at=datetime(2026, 3, 2, tzinfo=UTC),
        severity="critical",
        score=95,
        title="t",
        explanation="e",
        evidence=["e1"],
    )
    base.update(over)
    return Alert(**base)


def test_contract_shape_and_path_alias():
    data = _alert().to_json()
    assert data["version"] == 1 and "path" not in data
    with_path = _alert(path=[PathHop(**{"from": "S1", "to": "P-1", "relation": "phone"})])
    assert with_path.to_json()["path"][0]["from"] == "S1"


@pytest.mark.parametrize(
    "over", [{"score": 101}, {"evidence": []}, {"severity": "urgent"}, {"category": "other"}]
)
def test_contract_rules_enforced(over):
    with pytest.raises(ValidationError):
        _alert(**over)
