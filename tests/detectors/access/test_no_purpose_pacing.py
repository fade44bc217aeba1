"""No cliffs (issue 17): the same behaviour paced slower is still seen, up to a stated span.

One officer with an ordinary history of unlinked look-ups (a few different people a day)
looks up one person five times with no purpose, the five spread evenly over a span of days.
The table below is the detector's pacing table (docs/pacing.md): where detection stops."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
import pytest

from detectors.registry import build
from engine.pipeline import Pipeline
from models.events import Event, decode_event

T0 = datetime(2026, 3, 1, 9, tzinfo=UTC)
SPANS = (0.5, 1, 2, 7, 14, 15, 21)
#: look-ups of the one person -> raised, per span of SPANS (days); docs/pacing.md
PACING = {
    4: (False, False, False, False, False, False, False),
    5: (False, False, True, True, True, False, False),
    6: (False, True, True, True, True, True, False),
    8: (False, True, True, True, True, True, True),
}


def _ev(eid: str, kind: str, t: datetime, **kw: object) -> Event:
    raw = {"id": eid, "time": t.isoformat(), "source": "athena", "kind": kind, **kw}
    return decode_event(orjson.dumps(raw))


def _view(eid: str, t: datetime, person: str) -> Event:
    return _ev(eid, "record.view", t, actor="S1", record={"type": "person", "id": person},
               subjects=[person], attrs={"fields": ["summary"]})  # fmt: skip


def paced(span_days: float, views: int = 5) -> bool:
    """Whether ``access.no_purpose`` raises on ``views`` look-ups of one person spread evenly
    over ``span_days``, starting on day 5 of an ordinary history."""
    events = [_ev("hr-1", "staff.upsert", T0 - timedelta(days=400),
                  attrs={"staff_id": "S1", "status": "active"})]  # fmt: skip
    for day in range(45):  # four different people a day, each once: ordinary work
        for k in range(4):
            t = T0 + timedelta(days=day, hours=2 * k)
            events.append(_view(f"bg-{day}-{k}", t, f"P-{day:03d}{k}"))
    start = T0 + timedelta(days=5, hours=1)
    step = timedelta(days=span_days) / (views - 1)
    events += [_view(f"x-{i}", start + i * step, "P-TARGET") for i in range(views)]
    dets = [d for d in build() if d.id == "access.no_purpose"]
    alerts = Pipeline(dets).run(sorted(events, key=lambda e: e.time))
    return any("P-TARGET" in a.subjects for a in alerts)


@pytest.mark.parametrize(("views", "span", "raised"), [
    (views, span, raised) for views, row in PACING.items()
    for span, raised in zip(SPANS, row, strict=True)
])  # fmt: skip
def test_pacing_table(views: int, span: float, raised: bool) -> None:
    assert paced(span, views) is raised
