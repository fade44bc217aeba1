"""Property tests: whatever sequence of events arrives, the issue-3 detectors neither fail nor
leave state that will not serialise (the worker persists it as JSON)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from detectors.registry import build
from engine.hooks import PipelineHooks
from engine.pipeline import Pipeline
from models.events import Event, decode_obj
from tests.detectors.misuse_helpers import link, shift, staff, task, ts, watch

MINE = {
    "access.no_purpose", "access.self_family_colleague", "access.vip_browsing",
    "access.vulnerable_victim", "access.volume_anomaly", "access.bulk_exfiltration",
    "access.off_duty", "access.complainant_lookup", "field.repeat_stop", "field.no_bwv",
    "field.bwv_deleted", "risk.accumulation",
}  # fmt: skip
OFFICERS = ["S1", "S2"]
PEOPLE = ["P-1", "P-2", "P-3", "S2"]
REFERENCE = [
    staff("S1", phones=["+447700900001"]), staff("S2"), watch("vip", "P-1"),
    watch("vulnerable_victim", "P-2"), watch("ocg_nominal", "P-3", group="G"),
    link("P-2", "phone", "+447700900002"), task("T-1", ["S2"], ["P-2"]),
    shift("S1", ts(0, 7), ts(0, 17)), shift("S1", ts(1, 7), ts(1, 17)),
]  # fmt: skip


@st.composite
def activity(draw: st.DrawFn, i: int) -> dict[str, Any]:
    kind = draw(st.sampled_from([
        "record.view", "record.search", "record.export", "call.made", "message.sent",
        "stop_search.recorded", "use_of_force.recorded", "bwv.activated", "bwv.footage.deleted",
        "auth.login", "file.copied",
    ]))  # fmt: skip
    person = draw(st.sampled_from(PEOPLE))
    e: dict[str, Any] = {
        "id": f"e{i}", "source": "t", "kind": kind, "actor": draw(st.sampled_from(OFFICERS)),
        "time": ts(draw(st.integers(0, 3)), draw(st.integers(0, 23)), draw(st.integers(0, 59))),
        "subjects": draw(st.lists(st.sampled_from(PEOPLE), max_size=3)),
        "purpose": draw(st.sampled_from([None, "T-1", "CAD-9"])),
        "terminal": draw(st.sampled_from([None, "WS-1", "REMOTE-1"])),
    }  # fmt: skip
    if kind.startswith("record."):
        e["record"] = {"type": draw(st.sampled_from(["person", "incident"])), "id": person}
        e["attrs"] = {"fields": draw(st.lists(st.sampled_from(["summary", "contact_details"])))}
        if kind == "record.export":
            e["attrs"] = {"channel": draw(st.sampled_from(["usb", "print"])),
                          "count": draw(st.integers(0, 500))}  # fmt: skip
    elif kind == "bwv.footage.deleted":
        e["record"] = {"type": "bwv_footage", "id": draw(st.sampled_from(["F-S1", "F-9"]))}
    elif kind == "call.made":
        e["attrs"] = {"number": draw(st.sampled_from(["07700900002", "+447700900009"]))}
    elif kind == "message.sent":
        e["attrs"] = {"channel": "sms", "to": ["+447700900002"], "text": "hi"}
    elif kind in ("stop_search.recorded", "use_of_force.recorded"):
        e["attrs"] = {"bwv": draw(st.sampled_from([True, False, None]))}
    elif kind == "bwv.activated":
        e["attrs"] = {"duration_s": draw(st.integers(0, 900))}
    elif kind == "auth.login":
        e["attrs"] = {"location": draw(st.sampled_from(["home", "station"]))}
    elif kind == "file.copied":
        e["attrs"] = {"destination": draw(st.sampled_from(["removable", "local"]))}
    return e


@st.composite
def streams(draw: st.DrawFn) -> list[Event]:
    n = draw(st.integers(1, 40))
    raw = [draw(activity(i)) for i in range(n)]
    return [decode_obj(e) for e in sorted(raw, key=lambda e: e["time"])]


@settings(max_examples=60, deadline=None)
@given(streams())
def test_never_fails_and_state_serialises(events: list[Event]) -> None:
    errors: list[str] = []
    hooks = PipelineHooks(on_detector_error=lambda det, exc: errors.append(f"{det}: {exc!r}"))
    pipeline = Pipeline([d for d in build() if d.id in MINE], hooks=hooks)
    alerts = pipeline.run([*REFERENCE, *events])
    assert errors == []
    json.dumps(pipeline.officers)
    for a in alerts:
        assert a.explanation and a.evidence
        assert set(a.evidence) <= {e.id for e in [*REFERENCE, *events]}
