"""Source coverage without Kafka: the sources file, and the tracker's figures as metrics
(read with get_sample_value) and as its JSON report."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry

from intake.coverage import CoverageTracker
from intake.exceptions import SourcesError
from intake.sources import EXAMPLE, load_sources, parse_sources

SOURCES = """
[[source]]
name = "athena"
owner = "Records, IT service desk"
expected_daily = 4
longest_silence = "30m"

[[source]]
name = "pnc"
owner = "PNC bureau"
expected_daily = 2
longest_silence = "6h"

[[source]]
name = "hr"
owner = "People services"
expected_daily = 1
longest_silence = "3d"
"""

NOW = 1_800_000_000.0


def test_the_shipped_example_loads_and_declares_the_simulated_systems() -> None:
    sources = load_sources(None).by_name()
    assert {"athena", "phone", "roster", "hr"} <= set(sources)
    assert sources["athena"].longest_silence_s == 7200
    assert load_sources(EXAMPLE) == load_sources(None)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("[[source]]\nname = 'Athena'\nowner='x'\nexpected_daily=1\nlongest_silence='1h'",
         "source 1: name"),
        ("[[source]]\nname = 'a'\nowner='x'\nexpected_daily=1\nlongest_silence='soon'",
         "source 1: longest_silence"),
        ("[[source]]\nname = 'a'\nowner='x'\nlongest_silence='1h'", "expected_daily"),
        ("[[source]]\nname='a'\nowner='x'\nexpected_daily=1\nlongest_silence='1h'\nfoo=1",
         "foo"),
        ("[[source]]\nname='a'\nowner='x'\nexpected_daily=1\nlongest_silence='1h'\n" * 2,
         "declared twice: a"),
        ("[sources]\n", "unknown table"),
        ("name = ", "not TOML"),
    ],
)  # fmt: skip
def test_a_wrong_sources_file_is_refused_naming_the_field(text: str, says: str) -> None:
    with pytest.raises(SourcesError, match=says):
        parse_sources(text, "sources.toml")


@pytest.fixture
def tracker() -> tuple[CoverageTracker, CollectorRegistry, list[float]]:
    reg = CollectorRegistry()
    clock = [NOW]
    t = CoverageTracker(parse_sources(SOURCES, "t"), reg, clock=lambda: clock[0])
    return t, reg, clock


def _feed(t: CoverageTracker, event_factory) -> None:
    """Staff S1-S3 on the HR feed, S1-S3 rostered on 2 March; on 2 March athena shows S1 (and
    an unresolved account), pnc shows S2; S3 is seen by no source. One event on 3 March."""
    for s in ("S1", "S2", "S3"):
        t.observe(event_factory("staff.upsert", source="hr", time="2026-03-01T00:00:00Z",
                                attrs={"staff_id": s}), NOW - 100)  # fmt: skip
        t.observe(event_factory("shift.rostered", source="roster", time="2026-02-25T00:00:00Z",
                                attrs={"staff_id": s, "start": "2026-03-02T07:00:00Z",
                                       "end": "2026-03-02T17:00:00Z"}), NOW - 100)  # fmt: skip
    for _ in range(3):
        t.observe(event_factory("record.view", source="athena", actor="S1",
                                record={"type": "person", "id": "P1"},
                                time="2026-03-02T10:00:00Z"), NOW - 60)  # fmt: skip
    t.observe(event_factory("record.view", source="athena", actor="FORCE\\svc-backup",
                            record={"type": "person", "id": "P1"},
                            time="2026-03-02T11:00:00Z",
                            attrs={"unresolved_account": True}), NOW - 60)  # fmt: skip
    t.observe(event_factory("auth.login", source="pnc", actor="S2",
                            time="2026-03-02T09:00:00Z"), NOW - 7 * 3600)  # fmt: skip
    t.observe(event_factory("auth.login", source="athena", actor="S1",
                            time="2026-03-03T08:00:00Z"), NOW - 30)  # fmt: skip


def test_sources_silent_below_volume_and_resolved(tracker, event_factory) -> None:
    t, reg, _clock = tracker
    _feed(t, event_factory)

    def v(name: str, source: str) -> float | None:
        return reg.get_sample_value(name, {"source": source})

    assert t.day is not None and t.day.isoformat() == "2026-03-02"
    # last seen: athena 30 s ago; pnc 7 h ago (over its 6 h), hr 100 s ago
    assert v("probity_coverage_source_last_seen_age_seconds", "athena") == 30
    assert v("probity_coverage_source_last_seen_age_seconds", "pnc") == 7 * 3600
    assert v("probity_coverage_source_longest_silence_seconds", "pnc") == 6 * 3600
    assert v("probity_coverage_source_expected_daily_events", "athena") == 4
    # events of the reported day against the declared volume
    assert v("probity_coverage_source_day_events", "athena") == 4
    assert v("probity_coverage_source_volume_ratio", "athena") == 1.0
    assert v("probity_coverage_source_volume_ratio", "pnc") == 0.5
    assert v("probity_coverage_source_volume_ratio", "hr") == 0.0
    assert v("probity_coverage_source_events_total", "athena") == 5
    # 4 of athena's 5 activity events name a member of staff; the service account does not
    assert v("probity_coverage_source_resolved_ratio", "athena") == 0.8
    assert v("probity_coverage_source_resolved_ratio", "pnc") == 1.0
    # a source that sends without being declared is measured too (declared=False below)
    assert v("probity_coverage_source_last_seen_age_seconds", "roster") == 100
    assert reg.get_sample_value("probity_coverage_rostered_staff") == 3
    assert reg.get_sample_value("probity_coverage_rostered_staff_unseen") == 1
    assert reg.get_sample_value("probity_coverage_rostered_staff_ratio") == pytest.approx(2 / 3)

    rows = {r["source"]: r for r in t.report()["sources"]}
    assert rows["pnc"]["silent"] and not rows["athena"]["silent"]
    assert not rows["pnc"]["below_volume"] and rows["hr"]["below_volume"]
    assert rows["roster"]["declared"] is False  # it sends, but is not in this sources file
    staff = t.report()["staff"]
    assert staff == {"day": "2026-03-02", "known": 3, "rostered": 3, "seen": 2, "unseen": 1,
                     "coverage": pytest.approx(2 / 3), "unseen_staff": ["S3"]}  # fmt: skip
    assert reg.get_sample_value("probity_coverage_staff_known") == 3
    # the accounts that did not resolve, named so the identity mapping can be fixed
    assert rows["athena"]["unresolved_accounts"] == [{"account": "FORCE\\svc-backup", "events": 1}]
    assert rows["pnc"]["unresolved_accounts"] == []


def test_a_declared_source_never_seen_is_silent_with_no_age(tracker) -> None:
    t, reg, _clock = tracker
    assert reg.get_sample_value(
        "probity_coverage_source_last_seen_age_seconds", {"source": "athena"}) is None
    assert reg.get_sample_value(
        "probity_coverage_source_events_total", {"source": "athena"}) == 0
    rows = {r["source"]: r for r in t.report()["sources"]}
    assert rows["athena"]["silent"] and rows["athena"]["last_seen"] is None
    assert t.report()["staff"]["coverage"] is None  # nothing rostered: no figure, not 0


def test_age_grows_with_the_clock_and_old_days_are_dropped(tracker, event_factory) -> None:
    t, reg, clock = tracker
    t.observe(event_factory("auth.login", actor="S1", time="2026-01-01T09:00:00Z"), NOW)
    clock[0] = NOW + 600
    age = {"source": "athena"}
    assert reg.get_sample_value("probity_coverage_source_last_seen_age_seconds", age) == 600
    t.observe(event_factory("auth.login", actor="S1", time="2026-03-01T09:00:00Z"), NOW)
    assert [d.isoformat() for d in t._active] == ["2026-03-01"]  # 1 January is over 35 days old
