"""Keyed audit chain; no TRUNCATE of the audit log on PostgreSQL.

* ``audit_head.keyed_from``: the first row hashed with the audit key (HMAC). Rows before
  it (written before this revision) stay plain SHA-256 and verify as such; the store sets
  it at its first keyed append.
* PostgreSQL: a ``BEFORE TRUNCATE`` trigger joins the row trigger of 0001, so the log's
  owner cannot empty it by accident or by a script either. A runtime role that may only
  INSERT and SELECT on it is in ``triage/sql/runtime_role.sql`` (docs/security.md).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 09:55:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("audit_head", sa.Column("keyed_from", sa.BigInteger(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
            "FOR EACH STATEMENT EXECUTE FUNCTION probity_audit_append_only()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log")
    op.drop_column("audit_head", "keyed_from")
