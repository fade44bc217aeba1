"""Four eyes: closures awaiting approval and approved suppressions.

* ``alerts.proposed_by`` / ``alerts.approved_by``: a closure of a high or critical alert as
  a false positive or no further action waits in ``pending_closure`` with its proposer
  until a second person approves it.
* ``suppressions.approved_by`` / ``approved_at``: a suppression is in force only once a
  second person approved it. Suppressions that existed before this revision were in force
  without one; they keep working and name the approver ``(before four eyes)`` so a review
  can find them.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06 09:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

LEGACY_APPROVER = "(before four eyes)"


def upgrade() -> None:
    # Plain ADD COLUMN (see 0002): SQLite's batch mode would copy tables with foreign keys.
    op.add_column("alerts", sa.Column("proposed_by", sa.String(length=128), nullable=True))
    op.add_column("alerts", sa.Column("approved_by", sa.String(length=128), nullable=True))
    op.add_column("suppressions", sa.Column("approved_by", sa.String(length=128), nullable=True))
    op.add_column(
        "suppressions", sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True)
    )
    sup = sa.table(
        "suppressions",
        sa.column("approved_by", sa.String),
        sa.column("approved_at", sa.DateTime(timezone=True)),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    op.execute(sup.update().values(approved_by=LEGACY_APPROVER, approved_at=sup.c.created_at))


def downgrade() -> None:
    op.drop_column("suppressions", "approved_at")
    op.drop_column("suppressions", "approved_by")
    op.drop_column("alerts", "approved_by")
    op.drop_column("alerts", "proposed_by")
