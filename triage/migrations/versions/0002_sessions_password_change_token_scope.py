"""Revocable sessions, forced password change, API token scopes.

* ``sessions``: one row per logged-in browser (the SHA-256 of the session id the signed
  cookie carries); deleting the row ends the session at once.
* ``users.must_change_password``: set by an admin's reset (and for accounts an admin
  creates), cleared when the user sets their own password.
* ``api_tokens.scope``: ``full`` (acts with the owner's role) or ``metrics`` (``/metrics``
  only). Existing tokens keep ``full``.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 18:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sessions",
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id_hash"),
    )
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sessions_user_id"), ["user_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_sessions_expires_at"), ["expires_at"], unique=False)
    # Plain ALTER TABLE, not a batch: SQLite's batch mode copies and drops the table, which
    # its foreign keys (api_tokens, sessions -> users) refuse once the table holds rows.
    op.add_column(
        "users",
        sa.Column("must_change_password", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column(
        "api_tokens",
        sa.Column("scope", sa.String(length=16), nullable=False, server_default="full"),
    )


def downgrade() -> None:
    op.drop_column("api_tokens", "scope")  # SQLite >= 3.35 drops a column in place
    op.drop_column("users", "must_change_password")
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sessions_expires_at"))
        batch_op.drop_index(batch_op.f("ix_sessions_user_id"))
    op.drop_table("sessions")
