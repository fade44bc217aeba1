"""The evaluator's arithmetic on a small hand-made labels/alerts pair."""

from __future__ import annotations

from typing import Any

import pytest

from simulation.evaluate import evaluate, read_alerts, read_labels
from simulation.exceptions import LabelsError

W = {"start": "2026-03-05T00:00:00Z", "end": "2026-03-07T00:00:00Z"}

LABELS: dict[str, Any] = {
    "metadata": {"staff": 200, "days": 10},
    "scenarios": [
        {"id": "SC-1", "kind": "vip_browsing", "detectors": ["access.vip_browsing"],
         "also": ["access.no_purpose"], "category": "misuse_of_systems",
         "officers": ["S1"], "evidence": ["e1", "e2"], "window": W},
        {"id": "SC-2", "kind": "review_overdue", "detectors": ["vetting.review_overdue"],
         "category": "vetting", "officers": ["S2"], "evidence": ["e3"], "window": W},
        {"id": "SC-3", "kind": "convergence", "detectors": ["association.convergence"],
         "category": "inappropriate_association", "officers": ["S3", "S4"],
         "evidence": ["e4", "e5"], "window": W},
        {"id": "SC-4", "kind": "no_bwv", "detectors": ["field.no_bwv"],
         "category": "integrity_of_evidence", "officers": ["S5"], "evidence": ["e6"],
         "window": W},
    ],
    "lookalikes": [
        {"id": "LA-1", "kind": "night_worker", "detectors": ["access.off_duty"],
         "category": "misuse_of_systems", "officers": ["S9"], "evidence": ["e9"],
         "window": W, "legitimate": True},
    ],
}  # fmt: skip


def alert(n: int, detector: str, officer: str, evidence: list[str], *, category: str = "x",
          time: str = "2026-03-10T00:00:00Z") -> dict[str, Any]:  # fmt: skip
    return {"id": f"a{n}", "detector": detector, "category": category, "officer": officer,
            "time": time, "evidence": evidence}  # fmt: skip


ALERTS = [
    # SC-1 found by its detector through shared evidence (time outside the window)
    alert(1, "access.vip_browsing", "S1", ["e2"]),
    # also-detector on the same behaviour: true, but does not count for recall on its own
    alert(2, "access.no_purpose", "S1", ["e1"]),
    # SC-2 found by the time inside the window, no shared evidence
    alert(3, "vetting.review_overdue", "S2", ["zz"], time="2026-03-06T00:00:00Z"),
    # SC-3 found by category from another detector, for the second officer
    alert(4, "association.ocg_path", "S4", ["e5"], category="inappropriate_association"),
    # right detector, wrong officer: false
    alert(5, "field.no_bwv", "S6", ["e6"]),
    # right officer and detector, but neither evidence nor time: false
    alert(6, "field.no_bwv", "S5", ["other"], time="2026-03-01T00:00:00Z"),
    # raised on the look-alike: false, and listed against it
    alert(7, "access.off_duty", "S9", ["e9"]),
    # unrelated noise
    alert(8, "access.off_duty", "S7", ["n1"]),
]


def test_recall_precision_and_false_positive_rate() -> None:
    r = evaluate(LABELS, ALERTS)
    found = {s.id: s.found for s in r.scenarios}
    assert found == {"SC-1": True, "SC-2": True, "SC-3": True, "SC-4": False}
    assert r.recall == 0.75
    assert (r.alerts_total, r.alerts_true, r.alerts_false) == (8, 4, 4)
    assert r.precision == 0.5
    # 4 false alerts / 200 staff * 1000 / 10 days
    assert r.fp_per_1000_staff_day == pytest.approx(2.0)
    assert r.by_detector["field.no_bwv"] == (2, 0)
    assert r.by_detector["access.no_purpose"] == (1, 1)
    # per detector too: field.no_bwv's 2 false alerts / 200 staff * 1000 / 10 days
    assert r.detector_fp_per_1000_staff_day("field.no_bwv") == pytest.approx(1.0)
    assert r.detector_fp_per_1000_staff_day("access.no_purpose") == 0.0
    sc1 = next(s for s in r.scenarios if s.id == "SC-1")
    assert sc1.alerts == ["a1"] and sc1.detectors == ["access.vip_browsing"]
    la = r.lookalikes[0]
    assert la.alerts == ["a7"] and la.detectors == ["access.off_duty"]


def test_staff_and_days_can_be_overridden() -> None:
    r = evaluate(LABELS, ALERTS, staff=1000, days=4)
    assert r.fp_per_1000_staff_day == pytest.approx(1.0)


def test_no_alerts_means_no_recall_and_no_precision() -> None:
    r = evaluate(LABELS, [])
    assert r.recall == 0.0
    assert r.precision is None
    assert r.fp_per_1000_staff_day == 0.0
    assert "n/a" in r.table()


def test_table_and_json_say_the_same() -> None:
    r = evaluate(LABELS, ALERTS)
    text = r.table()
    assert "recall: 3/4 scenarios found (75%)" in text
    assert "precision: 4/8 alerts true (50%)" in text
    assert "2.00 per 1,000 staff per day" in text
    row = next(line for line in text.splitlines() if line.startswith("field.no_bwv"))
    assert row.split()[-4:] == ["2", "0", "2", "1.00"]
    data = r.to_json()
    assert data["recall"] == 0.75 and data["alerts"] == {"total": 8, "true": 4, "false": 4}
    assert [s["found"] for s in data["scenarios"]] == [True, True, True, False]
    assert data["by_detector"]["field.no_bwv"]["fp_per_1000_staff_day"] == pytest.approx(1.0)


@pytest.mark.parametrize(
    "raw",
    [b"{not json", b"[1]", b'{"detector": "x"}', b'{"detector": "x", "officer": "S1", '
     b'"time": "yesterday", "evidence": []}'],
)  # fmt: skip
def test_malformed_alerts_are_a_labels_error(raw: bytes) -> None:
    with pytest.raises(LabelsError):
        evaluate(LABELS, read_alerts(raw))


def test_malformed_labels_are_a_labels_error() -> None:
    with pytest.raises(LabelsError):
        read_labels(b"[]")
    with pytest.raises(LabelsError):
        evaluate({"scenarios": [{"id": "SC-1", "officers": ["S1"]}]}, [])
    with pytest.raises(LabelsError):
        evaluate(
            {
                "scenarios": [
                    {
                        "id": "SC-1",
                        "officers": ["S1"],
                        "window": {"start": "2026-03-05T00:00:00", "end": "2026-03-06T00:00:00Z"},
                    }
                ]
            },
            [],
        )


def test_an_oracle_scores_perfectly_on_a_generated_force(small_force: Any) -> None:
    """One alert per scenario, as a perfect detector set would raise it: full marks; the same
    alerts moved onto look-alikes' officers and evidence: all false, listed against them."""
    labels = small_force.labels()
    oracle = [
        alert(n, s["detectors"][0], s["officers"][0], s["evidence"], category=s["category"])
        for n, s in enumerate(labels["scenarios"])
    ]
    r = evaluate(labels, oracle)
    assert (r.recall, r.precision, r.fp_per_1000_staff_day) == (1.0, 1.0, 0.0)
    fooled = [
        alert(n, s["detectors"][0], s["officers"][0], s["evidence"], category="x")
        for n, s in enumerate(labels["lookalikes"])
    ]
    r = evaluate(labels, fooled)
    assert r.alerts_true == 0
    assert all(la.alerts for la in r.lookalikes)


def _scenario(n: int, officer: str, first: str | None) -> dict[str, Any]:
    label: dict[str, Any] = {
        "id": f"SC-{n}", "kind": "k", "detectors": ["d.x"], "category": "c",
        "officers": [officer], "evidence": [f"e{n}"],
        "window": {"start": "2026-03-05T06:00:00Z", "end": "2026-03-09T00:00:00Z"},
    }  # fmt: skip
    if first is not None:
        label["first_event"] = first
    return label


def _ranked(n: int, officer: str, time: str, severity: str, score: float,
            evidence: str = "n") -> dict[str, Any]:  # fmt: skip
    return {"id": f"r{n}", "detector": "d.x", "category": "c", "officer": officer,
            "time": time, "evidence": [evidence], "severity": severity, "score": score}  # fmt: skip


BUDGET_LABELS: dict[str, Any] = {
    # 100 staff at 10 per 1,000 a day: one alert read a day
    "metadata": {"staff": 100, "days": 10},
    "scenarios": [
        _scenario(1, "S1", "2026-03-05T08:00:00Z"),
        _scenario(2, "S2", "2026-03-05T09:30:00Z"),
        _scenario(3, "S3", None),  # an older label: counted from the window's start (06:00)
        _scenario(4, "S4", "2026-03-05T10:00:00Z"),  # never found
    ],
}
BUDGET_ALERTS = [
    # day 1: S1's high alert outranks S2's medium one, whatever their scores
    _ranked(1, "S1", "2026-03-06T20:00:00Z", "high", 60, "e1"),
    _ranked(2, "S2", "2026-03-06T07:00:00Z", "medium", 99, "e2"),
    # day 2: S2 again, now read (the only alert of the day); its time to detection is still
    # counted from its first alert on day 1
    _ranked(3, "S2", "2026-03-07T23:59:00Z", "medium", 50, "e2"),
    # day 1 also: a false alert of equal severity with a lower score is not read
    _ranked(4, "S9", "2026-03-06T01:00:00Z", "high", 55),
    # day 3: S3 ties a false alert on severity and score; the earlier one is read (S3's)
    _ranked(5, "S3", "2026-03-08T09:00:00Z", "critical", 80, "e3"),
    _ranked(6, "S8", "2026-03-08T10:00:00Z", "critical", 80),
]


def test_time_to_detection_and_the_daily_budget() -> None:
    r = evaluate(BUDGET_LABELS, BUDGET_ALERTS)
    assert r.budget_per_day == 1
    got = {s.id: (s.hours_to_detection, s.within_budget) for s in r.scenarios}
    assert got == {
        "SC-1": (36.0, True),  # 03-05 08:00 -> 03-06 20:00
        "SC-2": (21.5, True),  # 03-05 09:30 -> 03-06 07:00, read on day 2
        "SC-3": (75.0, True),  # 03-05 06:00 -> 03-08 09:00
        "SC-4": (None, False),
    }
    assert r.found_within_budget == 3
    assert r.median_hours_to_detection == 36.0 and r.max_hours_to_detection == 75.0
    # twice the budget reads both of day 1's top alerts; a tenth of it still reads one a day
    assert evaluate(BUDGET_LABELS, BUDGET_ALERTS, budget_per_1000=20).budget_per_day == 2
    assert evaluate(BUDGET_LABELS, BUDGET_ALERTS, budget_per_1000=1).budget_per_day == 1


def test_a_scenario_found_only_below_the_budget_line_is_counted_out() -> None:
    alerts = [a for a in BUDGET_ALERTS if a["id"] != "r3"]  # S2 only on day 1, below S1
    r = evaluate(BUDGET_LABELS, alerts)
    sc2 = next(s for s in r.scenarios if s.id == "SC-2")
    assert sc2.found and not sc2.within_budget and r.found_within_budget == 2
    # two a day read S1's and the false high alert: S2 is read at three a day
    assert evaluate(BUDGET_LABELS, alerts, budget_per_1000=20).found_within_budget == 2
    assert evaluate(BUDGET_LABELS, alerts, budget_per_1000=30).found_within_budget == 3


def test_an_alert_re_raised_the_same_day_is_read_once_at_its_best() -> None:
    """The queue upserts an alert re-raised under its id: a day's budget counts it once, at
    its highest severity."""
    alerts = [
        _ranked(1, "S2", "2026-03-06T07:00:00Z", "medium", 50, "e2"),
        _ranked(1, "S2", "2026-03-06T09:00:00Z", "critical", 90, "e2"),
        _ranked(2, "S9", "2026-03-06T08:00:00Z", "high", 70),
    ]
    r = evaluate(BUDGET_LABELS, alerts)
    assert next(s for s in r.scenarios if s.id == "SC-2").within_budget


def test_time_to_detection_and_budget_in_the_table_and_json() -> None:
    r = evaluate(BUDGET_LABELS, BUDGET_ALERTS)
    text = r.table()
    assert "within the daily budget: 3/4 scenarios among the top 1 alerts of their day" in text
    assert "time to detection: median 36.0 h, longest 75.0 h" in text
    row = next(line for line in text.splitlines() if line.startswith("SC-2"))
    assert row.split()[5:7] == ["21.5", "yes"]
    row = next(line for line in text.splitlines() if line.startswith("SC-4"))
    assert row.split()[4:7] == ["NO", "-", "-"]
    data = r.to_json()
    assert data["budget"] == {"alerts_per_day": 1, "found_within": 3, "scenarios": 4}
    assert data["hours_to_detection"] == {"median": 36.0, "max": 75.0}
    sc1 = data["scenarios"][0]
    assert (sc1["first_event"], sc1["detected"]) == (
        "2026-03-05T08:00:00+00:00", "2026-03-06T20:00:00+00:00")  # fmt: skip
    assert (sc1["hours_to_detection"], sc1["within_budget"]) == (36.0, True)


def test_history_before_the_feed_counts_from_its_start() -> None:
    labels = {**BUDGET_LABELS, "metadata": {**BUDGET_LABELS["metadata"],
                                            "start": "2026-03-06T00:00:00Z"}}  # fmt: skip
    r = evaluate(labels, BUDGET_ALERTS)
    sc1 = next(s for s in r.scenarios if s.id == "SC-1")
    assert sc1.hours_to_detection == 20.0  # 03-06 00:00 (not 03-05 08:00) -> 03-06 20:00


def test_generated_labels_give_each_scenario_its_first_malicious_event(small_force: Any) -> None:
    labels = small_force.labels()
    for s in labels["scenarios"]:
        assert s["window"]["start"] <= s["first_event"] <= s["window"]["end"], s["id"]
    # context the scenario cites (an old intelligence link, a barred-list entry) is not where
    # the misconduct starts
    joiner = next(s for s in labels["scenarios"] if s["kind"] == "barred_match:joiner")
    assert joiner["first_event"] == joiner["window"]["start"]


def test_an_incidental_alert_is_true_and_not_scored_for_recall() -> None:
    """A look-alike officer's declared partner moves in: their housemate, a colleague who
    declared nothing, now lives with someone linked to an OCG nominal. That alert is right;
    it is neither a false positive nor a scenario to find."""
    labels = {**LABELS, "incidental": [
        {"id": "IN-001", "kind": "housemate_of_declared_partner",
         "detectors": ["association.ocg_path"], "category": "inappropriate_association",
         "officers": ["S8"], "evidence": ["e8"], "window": W},
    ]}  # fmt: skip
    path = alert(9, "association.ocg_path", "S8", ["e8"], category="inappropriate_association")
    elsewhere = alert(10, "association.ocg_path", "S7", ["e8"])  # another officer: false
    r = evaluate(labels, [*ALERTS, path, elsewhere])
    assert (r.alerts_total, r.alerts_true, r.alerts_false) == (10, 5, 5)
    assert r.recall == 0.75 and len(r.scenarios) == 4
    assert [(c.id, c.alerts, c.detectors) for c in r.incidental] == [
        ("IN-001", ["a9"], ["association.ocg_path"])
    ]
    assert r.to_json()["incidental"][0]["alerts"] == ["a9"]
    assert "housemate_of_declared_partner" in r.table()
    # labels written before incidental labels existed score as before
    assert evaluate(LABELS, ALERTS).incidental == []
