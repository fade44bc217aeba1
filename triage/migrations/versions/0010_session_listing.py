"""Users list and end their own sessions.

* ``sessions.handle``: a random public name for each session, what the sessions page and
  API show and take (the id and its hash never leave the store); sessions live at the
  upgrade get one each.
* ``sessions.client`` / ``user_agent``: where the login came from, so its owner can tell
  their sessions apart. Unknown (NULL) for sessions opened before the upgrade.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 17:20:00
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sessions") as batch_op:
        batch_op.add_column(sa.Column("handle", sa.String(length=24), nullable=True))
        batch_op.add_column(sa.Column("client", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("user_agent", sa.String(length=256), nullable=True))
    sessions = sa.table("sessions", sa.column("id_hash", sa.String), sa.column("handle", sa.String))
    conn = op.get_bind()
    for (id_hash,) in conn.execute(sa.select(sessions.c.id_hash)).all():
        conn.execute(
            sessions.update()
            .where(sessions.c.id_hash == id_hash)
            .values(handle=secrets.token_urlsafe(12))
        )
    with op.batch_alter_table("sessions") as batch_op:
        batch_op.alter_column("handle", existing_type=sa.String(length=24), nullable=False)
        batch_op.create_index("ix_sessions_handle", ["handle"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("sessions") as batch_op:
        batch_op.drop_index("ix_sessions_handle")
        batch_op.drop_column("user_agent")
        batch_op.drop_column("client")
        batch_op.drop_column("handle")
