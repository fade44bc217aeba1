"""The queue store on SQLite and PostgreSQL: idempotent upserts, workflow, visibility,
suppressions, the audit chain."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from triage.base import Outcome, QueueFilter, Role, Status, Suppression, User
from triage.exceptions import AuditChainBroken, InvalidTransition, NotFound
from triage.store import Store


def test_upsert_is_idempotent_and_keeps_triage_state(store, users, alert_factory):
    analyst = users[Role.ANALYST]
    a, b = alert_factory(severity="medium"), alert_factory(score=90)
    assert store.upsert_alerts([a, b]) == 2
    store.start_review(a.id, analyst)
    store.close(a.id, Outcome.NO_FURTHER_ACTION, "checked: duty access", analyst)
    assert store.upsert_alerts([a, b]) == 0
    assert store.upsert_alert(a) is False
    page = store.queue(QueueFilter(), analyst)
    assert page.total == 2
    closed = {x.id: x for x in page.items}[a.id]
    assert closed.status is Status.CLOSED and closed.outcome is Outcome.NO_FURTHER_ACTION


def test_batch_with_a_repeated_alert_inserts_it_once(store, users, alert_factory):
    a = alert_factory()
    assert store.upsert_alerts([a, a, alert_factory()]) == 2
    assert store.status_counts()["new"] == 2


def test_queue_sorts_filters_pages_and_counts(store, users, alert_factory):
    analyst = users[Role.ANALYST]
    store.upsert_alerts([
        alert_factory(score=10, severity="low"),
        alert_factory(score=95, severity="critical", officer="S1002",
                      facts={"officer_unit": "cid-1"}),
        alert_factory(score=50, detector="audit.config_changed", category="audit_tampering"),
    ])  # fmt: skip
    page = store.queue(QueueFilter(), analyst)
    assert [a.score for a in page.items] == [95, 50, 10]
    by_age = store.queue(QueueFilter(sort="age"), analyst)
    assert [a.score for a in by_age.items] == [10, 95, 50]
    assert store.queue(QueueFilter(unit="cid-1"), analyst).items[0].officer == "S1002"
    assert store.queue(QueueFilter(severity="low"), analyst).total == 1
    assert store.queue(QueueFilter(category="audit_tampering"), analyst).total == 1
    assert store.queue(QueueFilter(officer="S1002"), analyst).total == 1
    since = datetime(2026, 3, 2, 9, 2, tzinfo=UTC)
    assert store.queue(QueueFilter(date_from=since), analyst).total == 2
    two = store.queue(QueueFilter(per_page=2, page=2), analyst)
    assert two.total == 3 and len(two.items) == 1
    assert two.counts["new"] == 3 and two.counts["closed"] == 0


def test_acu_alerts_are_the_reviewers_and_conflicts_the_head_of_units(
    store, users, alert_factory
):
    acu_by_unit = alert_factory(officer="S5005", facts={"officer_unit": "acu"})
    acu_by_id = alert_factory(officer="S-ACU-7")
    manager = alert_factory(officer="S3003")
    associate = alert_factory(officer="S2002")
    ordinary = alert_factory(officer="S1001")
    store.upsert_alerts([acu_by_unit, acu_by_id, manager, associate, ordinary])
    analyst, head = users[Role.ANALYST], users[Role.HEAD_OF_UNIT]
    seen = {a.id for a in store.queue(QueueFilter(), analyst).items}
    assert seen == {ordinary.id}
    for hidden in (acu_by_unit, acu_by_id, manager, associate):
        with pytest.raises(NotFound):
            store.view_alert(hidden.id, analyst)
    assert store.queue(QueueFilter(), analyst).counts["new"] == 1
    # the head of unit sees the analysts' conflicts, never an ACU member's alert
    assert {a.id for a in store.queue(QueueFilter(), head).items} == {
        ordinary.id, manager.id, associate.id}  # fmt: skip
    # the outside reviewer sees the ACU members' alerts and nothing else
    assert {a.id for a in store.queue(QueueFilter(), users[Role.REVIEWER]).items} == {
        acu_by_unit.id, acu_by_id.id}  # fmt: skip
    # a supervisor without those conflicts still cannot see ACU members' alerts
    assert {a.id for a in store.queue(QueueFilter(), users[Role.SUPERVISOR]).items} == {
        ordinary.id, manager.id, associate.id}  # fmt: skip
    assert store.queue(QueueFilter(), users[Role.AUDITOR]).total == 0
    assert store.queue(QueueFilter(), users[Role.ADMIN]).total == 0


def test_workflow_transitions(store, users, alert_factory):
    analyst, sup = users[Role.ANALYST], users[Role.SUPERVISOR]
    a = alert_factory()
    store.upsert_alert(a)
    assert store.assign(a.id, "analyst", sup).status is Status.ASSIGNED
    assert store.start_review(a.id, analyst).status is Status.IN_REVIEW
    with pytest.raises(InvalidTransition):
        store.close(a.id, Outcome.REFERRED_TO_PSD, "   ", analyst)
    closed = store.close(a.id, Outcome.REFERRED_TO_PSD, "pattern confirmed by the logs", analyst)
    assert (closed.status, closed.closed_by) == (Status.CLOSED, "analyst")
    with pytest.raises(InvalidTransition):
        store.close(a.id, Outcome.DUPLICATE, "again, the same access as before", analyst)
    with pytest.raises(InvalidTransition):
        store.assign(a.id, "analyst", sup)
    reopened = store.reopen(a.id, "new evidence", sup)
    assert reopened.status is Status.ASSIGNED and reopened.outcome is None
    with pytest.raises(NotFound):
        store.assign(a.id, "nobody", sup)
    note = store.add_note(a.id, "called the duty inspector", analyst)
    _, notes = store.view_alert(a.id, analyst)
    assert notes == [note]


def test_bulk_close_duplicates(store, users, alert_factory):
    analyst = users[Role.ANALYST]
    keep, d1, d2 = alert_factory(), alert_factory(), alert_factory()
    store.upsert_alerts([keep, d1, d2])
    for a in (d1, d2):
        store.assign(a.id, "analyst", analyst)
    why = "the same access to the same record"
    assert store.bulk_close_duplicates([d1.id, d2.id, keep.id], keep.id, why, analyst) \
        == sorted([d1.id, d2.id])  # fmt: skip
    page = store.queue(QueueFilter(status=Status.CLOSED), analyst)
    assert {a.duplicate_of for a in page.items} == {keep.id}


def test_false_positive_creates_a_suppression_the_worker_can_read(store, users, alert_factory):
    sup_user = users[Role.SUPERVISOR]
    a = alert_factory(severity="medium")
    store.upsert_alert(a)
    now = store.clock()
    s = Suppression(detector=a.detector, officer=a.officer, expires_at=now + timedelta(days=30),
                    reason="a training account used on courses", created_by=sup_user.username,
                    created_at=now, source_alert=a.id)  # fmt: skip
    store.close(a.id, Outcome.FALSE_POSITIVE, "a training account, not a person", sup_user,
                suppression=s)  # fmt: skip
    assert store.active_suppressions() == []  # awaiting its second person
    [pending] = store.suppressions()
    store.approve_suppression(pending.id, users[Role.HEAD_OF_UNIT])
    [active] = store.active_suppressions()
    assert (active.detector, active.officer, active.source_alert) == (a.detector, "S1001", a.id)
    assert store.active_suppressions(now + timedelta(days=31)) == []
    store.remove_suppression(active.id, sup_user)
    assert store.active_suppressions() == []
    assert len(store.suppressions(include_removed=True)) == 1
    with pytest.raises(InvalidTransition):
        b = alert_factory()
        store.upsert_alert(b)
        store.close(b.id, Outcome.REFERRED_TO_PSD, "x", sup_user, suppression=s)


def test_users_tokens_and_authentication(store, users):
    admin = users[Role.ADMIN]
    analyst = users[Role.ANALYST]
    assert store.authenticate("analyst", "correct horse battery staple") == analyst
    assert store.authenticate("analyst", "wrong password!!") is None
    assert store.authenticate("ghost", "whatever it is!") is None
    token = store.create_token(analyst.id, "siem", analyst)
    assert store.user_for_token(token) == analyst
    assert store.user_for_token(token + "x") is None
    store.set_active(analyst.id, False, admin)
    assert store.user_for_token(token) is None
    assert store.authenticate("analyst", "correct horse battery staple") is None


def test_audit_chain_verifies_and_names_the_altered_row(store, users, alert_factory):
    analyst = users[Role.ANALYST]
    a = alert_factory()
    store.upsert_alert(a)
    store.assign(a.id, "analyst", analyst)
    store.view_alert(a.id, analyst)
    store.reveal(a.id, "P-9003", "checking the victim link", analyst, reference="CASE-1")
    n = store.verify_audit()
    entries = store.audit_entries()
    assert n == len(entries) >= 7
    assert [e.action for e in entries[-2:]] == ["alert.viewed", "subject.revealed"]
    target = entries[-2].seq
    with store.engine.begin() as conn:
        if store.engine.dialect.name == "postgresql":
            # the trigger refuses; only someone able to disable it gets further
            with pytest.raises(Exception, match="append-only"), conn.begin_nested():
                conn.execute(text("UPDATE audit_log SET username='x' WHERE seq=:s"), {"s": target})
            conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"))
        conn.execute(text("UPDATE audit_log SET username='someone' WHERE seq=:s"), {"s": target})
    with pytest.raises(AuditChainBroken) as err:
        store.verify_audit()
    assert err.value.seq == target


def test_audit_verify_catches_a_deleted_last_row(sqlite_store):
    store = sqlite_store
    who = User(id=0, username="cli", staff_id="S1", role=Role.ADMIN)
    store.record(who, "audit.viewed")
    store.record(who, "audit.viewed")
    assert store.verify_audit() == 2
    with store.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log WHERE seq=2"))
    with pytest.raises(AuditChainBroken) as err:
        store.verify_audit()
    assert err.value.seq == 2


def test_reveal_only_of_the_alerts_own_people(store, users, alert_factory):
    a = alert_factory(
        path=[
            {"from": "S1001", "to": "+447700900999", "relation": "called"},
            {"from": "+447700900999", "to": "P-9001", "relation": "phone_of"},
        ]
    )
    store.upsert_alert(a)
    store.assign(a.id, "analyst", users[Role.ANALYST])
    store.reveal(a.id, "P-9001", "path check for the OCG link", users[Role.ANALYST],
                 reference="OP-HALYARD/14")  # fmt: skip
    with pytest.raises(NotFound):
        store.reveal(a.id, "P-0000", "fishing for someone else", users[Role.ANALYST],
                     reference="OP-HALYARD/14")  # fmt: skip


def test_metrics_figures(store, users, alert_factory):
    assert store.oldest_unassigned() is None
    a = alert_factory()
    store.upsert_alert(a)
    assert store.oldest_unassigned() is not None
    assert store.status_counts() == {
        "new": 1, "assigned": 0, "in_review": 0, "pending_closure": 0, "closed": 0}  # fmt: skip


def test_migrations_match_the_models(store):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from triage.tables import Base

    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert [d for d in diff if d[0] not in ("modify_type",)] == []


def test_store_rejects_naive_times(sqlite_store: Store):
    sqlite_store.clock = lambda: datetime(2026, 1, 1)
    with pytest.raises(Exception, match="naive"):
        sqlite_store.record(User(id=0, username="u", staff_id="S", role=Role.ADMIN), "x")


def test_failed_logins_never_lock_a_name_nor_keep_a_typed_name(sqlite_store: Store):
    """A stranger typing a name wrong cannot lock its owner out (the service throttles by
    client instead), and a name that is no account's may be a password: it is not kept."""
    store = sqlite_store
    store.create_user("ana", "correct horse battery staple", Role.ANALYST, "S1")
    for _ in range(store.policy.login_max_failures + 5):
        assert store.authenticate("ana", "wrong guess number") is None
    assert store.authenticate("ana", "correct horse battery staple") is not None
    assert store.authenticate("my secret passphrase", "") is None
    last = store.audit_entries()[-1]
    assert (last.action, last.username, last.staff_id) == ("login_failed", "(unknown)",
                                                          "(unknown)")  # fmt: skip
    assert "my secret passphrase" not in str([e.model_dump() for e in store.audit_entries()])


def test_suppressions_of_hidden_alerts_are_hidden_too(store, users, alert_factory):
    head, analyst, sup = users[Role.HEAD_OF_UNIT], users[Role.ANALYST], users[Role.SUPERVISOR]
    reviewer = users[Role.REVIEWER]
    acu = alert_factory(officer="S5005", facts={"officer_unit": "acu"})
    store.upsert_alert(acu)
    now = store.clock()
    s = Suppression(detector=acu.detector, officer=acu.officer, expires_at=now + timedelta(days=1),
                    reason="the unit's own test account", created_by="reviewer", created_at=now,
                    source_alert=acu.id)  # fmt: skip
    store.close(acu.id, Outcome.FALSE_POSITIVE, "the unit's own test account", reviewer,
                suppression=s)  # fmt: skip
    assert len(store.suppressions(reviewer)) == 1
    assert store.suppressions(analyst) == [] and store.suppressions(sup) == []
    assert store.suppressions(head) == []  # an ACU member's: the reviewer's alone
    [sid] = [x.id for x in store.suppressions(reviewer)]
    for other in (sup, head):
        with pytest.raises(NotFound):
            store.remove_suppression(sid, other)
        with pytest.raises(NotFound):
            store.approve_suppression(sid, other)
    deputy = store.create_user("deputy", "correct horse battery staple", Role.REVIEWER, "S-D")
    store.approve_suppression(sid, deputy)
    assert len(store.active_suppressions()) == 1  # the worker still honours it


def test_concurrent_appends_keep_one_linear_chain(store):
    from concurrent.futures import ThreadPoolExecutor

    who = [User(id=0, username=f"u{i}", staff_id=f"S{i}", role=Role.ANALYST) for i in range(4)]

    def work(user: User) -> None:
        for _ in range(10):
            store.record(user, "audit.viewed")

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(work, who))
    assert store.verify_audit() == 40
    assert [e.seq for e in store.audit_entries()] == list(range(1, 41))
