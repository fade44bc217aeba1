"""Expiring, attributable API tokens; privileged accounts await a second admin.

* ``api_tokens.expires_at`` / ``created_by``: every new token expires. Tokens issued before
  this revision never expired; they are given 30 days from the upgrade, so integrations
  (a Prometheus scrape token) keep working while their owners issue new ones.
* ``users.awaiting_approval`` / ``created_by`` / ``approved_by``: an admin or head of unit
  account created once an admin exists stays inactive until a second admin approves it.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 09:45:00
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

GRACE = timedelta(days=30)


def upgrade() -> None:
    # Plain ADD COLUMN (see 0002): SQLite's batch mode would copy tables with foreign keys.
    op.add_column("api_tokens", sa.Column("created_by", sa.String(length=64), nullable=True))
    op.add_column("api_tokens", sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_api_tokens_expires_at", "api_tokens", ["expires_at"], unique=False)
    op.add_column(
        "users",
        sa.Column("awaiting_approval", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column("users", sa.Column("created_by", sa.String(length=64), nullable=True))
    op.add_column("users", sa.Column("approved_by", sa.String(length=64), nullable=True))
    deadline = datetime.now(UTC) + GRACE
    if op.get_bind().dialect.name == "sqlite":
        deadline = deadline.replace(tzinfo=None)  # as triage.tables.UTCDateTime stores it
    tokens = sa.table("api_tokens", sa.column("expires_at", sa.DateTime(timezone=True)))
    op.execute(tokens.update().values(expires_at=deadline))


def downgrade() -> None:
    op.drop_column("users", "approved_by")
    op.drop_column("users", "created_by")
    op.drop_column("users", "awaiting_approval")
    op.drop_index("ix_api_tokens_expires_at", table_name="api_tokens")
    op.drop_column("api_tokens", "expires_at")
    op.drop_column("api_tokens", "created_by")
