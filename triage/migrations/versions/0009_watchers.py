"""Who watches the ACU: people of an alert for conflict rules; two-person reveals.

* ``alerts.people``: every person an alert shows pseudonymised (subjects, path nodes, people
  of its evidence), one per line, so the conflict-of-interest clause covers them in SQL;
  filled for the alerts already held.
* ``reveal_requests``: a reveal of a covert, VIP, canary or vulnerable-victim subject waits
  for a second person's approval.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-08 09:00:00
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_TZ = sa.DateTime(timezone=True)


def _people(officer: str, subjects: Any, path: Any, extra: Any) -> str:
    """As ``triage.store.alerts.officer_people`` wrote it at this revision."""
    out = {s for s in subjects or [] if isinstance(s, str)}
    for ev in (extra or {}).get("evidence_events") or []:
        if isinstance(ev, dict):
            out |= {s for s in ev.get("subjects") or [] if isinstance(s, str) and s != officer}
            if ev.get("record_type") == "person" and isinstance(ev.get("record_id"), str):
                out.add(ev["record_id"])
    for hop in path or []:
        for key in ("from", "to"):
            if isinstance(hop, dict) and isinstance(hop.get(key), str):
                out.add(hop[key])
    out.discard(officer)
    return "\n" + "".join(p.replace("\n", " ") + "\n" for p in sorted(out))


def upgrade() -> None:
    with op.batch_alter_table("alerts") as batch_op:
        batch_op.add_column(sa.Column("people", sa.Text(), nullable=False, server_default="\n"))
    alerts = sa.table(
        "alerts", sa.column("id", sa.String), sa.column("officer", sa.String),
        sa.column("subjects", sa.JSON), sa.column("path", sa.JSON),
        sa.column("extra", sa.JSON), sa.column("people", sa.Text),
    )  # fmt: skip
    conn = op.get_bind()
    rows = conn.execute(
        sa.select(alerts.c.id, alerts.c.officer, alerts.c.subjects, alerts.c.path, alerts.c.extra)
    ).all()
    for r in rows:
        conn.execute(
            alerts.update()
            .where(alerts.c.id == r.id)
            .values(people=_people(r.officer, r.subjects, r.path, r.extra))
        )
    op.create_table(
        "reveal_requests",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("alert_id", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=128), nullable=False),
        sa.Column("requested_by", sa.String(length=128), nullable=False),
        sa.Column("requested_at", _TZ, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decided_by", sa.String(length=128), nullable=True),
        sa.Column("decided_at", _TZ, nullable=True),
        sa.ForeignKeyConstraint(["alert_id"], ["alerts.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("reveal_requests") as batch_op:
        batch_op.create_index("ix_reveal_requests_alert_id", ["alert_id"], unique=False)
        batch_op.create_index("ix_reveal_requests_requested_by", ["requested_by"], unique=False)
        batch_op.create_index("ix_reveal_requests_status", ["status"], unique=False)


def downgrade() -> None:
    op.drop_table("reveal_requests")
    with op.batch_alter_table("alerts") as batch_op:
        batch_op.drop_column("people")
