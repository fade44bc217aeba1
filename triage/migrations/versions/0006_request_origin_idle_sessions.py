"""Audit rows carry the request's origin; sessions end when idle.

* ``audit_log.client`` / ``user_agent``: where an action done through the service came
  from. Hashed into the row only when present, so older rows verify unchanged.
* ``sessions.last_seen_at``: a session unused for ``triage.session_idle_s`` has ended.
  Live sessions at the upgrade count as seen then.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 10:05:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("audit_log", sa.Column("client", sa.String(length=64), nullable=True))
    op.add_column("audit_log", sa.Column("user_agent", sa.String(length=256), nullable=True))
    op.add_column("sessions", sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True))
    sessions = sa.table(
        "sessions",
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("last_seen_at", sa.DateTime(timezone=True)),
    )
    op.execute(sessions.update().values(last_seen_at=sessions.c.created_at))


def downgrade() -> None:
    op.drop_column("sessions", "last_seen_at")
    op.drop_column("audit_log", "user_agent")
    op.drop_column("audit_log", "client")
