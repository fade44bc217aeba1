"""Audit entries become contract events the detectors can read."""

from __future__ import annotations

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
