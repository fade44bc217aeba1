"""Audit entries become contract events the detectors can read."""

from __future__ import annotations

import pytest

from models.events import decode_event
from triage.base import QueueFilter, Role
from triage.publish import audit_batch


def test_audit_batch_resumes_and_decodes(store, users, alert_factory):
    analyst = users[Role.ANALYST]
    a = alert_factory()
    store.upsert_alert(a)
    store.assign(a.id, "analyst", analyst)  # reveals are for the alert's assignee
    first = audit_batch(store, 0)
    assert len(first.records) == len(Role) + 1  # one user.created per role, the assignment
    store.queue(QueueFilter(officer="S1001"), analyst)
    store.view_alert(a.id, analyst)
    store.reveal(a.id, "P-9003", "checking the victim link", analyst, reference="CASE-1")
    nxt = audit_batch(store, first.last_seq)
    events = [decode_event(v) for _, v in nxt.records]
    assert [e.kind for e in events] == [
        "triage.queue.searched",
        "triage.alert.viewed",
        "triage.subject.revealed",
    ]
    assert {k for k, _ in nxt.records} == {b"S-analyst"}
    assert all(e.source == "triage" and e.actor == "S-analyst" for e in events)
    assert events[2].subjects == ["P-9003"] and events[1].record.id == a.id
    assert audit_batch(store, nxt.last_seq).records == []
    assert audit_batch(store, nxt.last_seq).last_seq == nxt.last_seq


def test_bulk_reveals_by_an_acu_analyst_alert_for_the_outside_reviewer(store, alert_factory):
    """The watchers watched: the queue's reveals go out as contract events (the audit feed's
    batches), the pipeline judges them like any system's access, and the alert about the
    ACU analyst reaches the outside reviewer alone."""
    import orjson

    from detectors.registry import build
    from engine.pipeline import Pipeline
    from models.events import TriageAttrs
    from tests.triage.helpers import PASSWORD
    from triage.exceptions import NotFound

    nosy = store.create_user("nosy", PASSWORD, Role.ANALYST, "S1042")
    sup = store.create_user("sup", PASSWORD, Role.SUPERVISOR, "S1043")
    reviewer = store.create_user("outside", PASSWORD, Role.REVIEWER, "X-1")
    alerts = [alert_factory(officer=f"S2{n:03d}", subjects=[f"P-80{n:02d}"]) for n in range(10)]
    store.upsert_alerts(alerts)
    for a in alerts:
        store.assign(a.id, "nosy", sup)
        store.reveal(a.id, a.subjects[0], "checking the link", nosy, reference="CASE-1")
    events = [decode_event(v) for _, v in audit_batch(store, 0).records]
    reveals = [e for e in events if e.kind == "triage.subject.revealed"]
    assert len(reveals) == 10 and all(isinstance(e.attrs, TriageAttrs) for e in reveals)
    assert reveals[0].attrs.reference == "CASE-1"  # type: ignore[union-attr]
    # the analyst is ACU staff in staff reference data (the engine reads their unit there)
    hr = decode_event(orjson.dumps({"id": "hr-1042", "time": "2020-01-01T00:00:00Z",
                                    "source": "hr", "kind": "staff.upsert",
                                    "attrs": {"staff_id": "S1042", "unit": "acu"}}))  # fmt: skip
    raised = [a for a in Pipeline(build()).run([hr, *events])
              if a.detector == "access.queue_reveals"]  # fmt: skip
    [bulk] = raised
    assert bulk.officer == "S1042" and bulk.officer_unit == "acu"
    assert sorted(bulk.evidence) == sorted(e.id for e in reveals)
    store.upsert_alert(bulk)
    for viewer in (sup, nosy):
        with pytest.raises(NotFound):
            store.view_alert(bulk.id, viewer)
    assert store.view_alert(bulk.id, reviewer)[0].restricted
