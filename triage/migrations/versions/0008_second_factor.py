"""Second factor and single sign-on.

* ``users.totp_secret`` / ``totp_pending``: the TOTP secret (and one being enrolled),
  Fernet-encrypted with the MFA key; ``totp_last_step``: the last accepted code's step, so
  a code is good once; ``mfa_reset_by``: the admin who asked for a reset a second admin
  must approve; ``oidc_subject``: the provider's ``sub`` bound at the first OIDC login.
* ``sessions.mfa_at``: when the session last proved a second factor.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 10:00:00
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_USER_COLUMNS: tuple[sa.Column[Any], ...] = (
    sa.Column("totp_secret", sa.Text(), nullable=True),
    sa.Column("totp_pending", sa.Text(), nullable=True),
    sa.Column("totp_last_step", sa.BigInteger(), nullable=True),
    sa.Column("mfa_reset_by", sa.String(length=64), nullable=True),
    sa.Column("oidc_subject", sa.String(length=255), nullable=True),
)


def upgrade() -> None:
    # plain ALTER TABLE (not a batch): SQLite's batch copy would trip the foreign keys
    for column in _USER_COLUMNS:
        op.add_column("users", column)
    op.add_column("sessions", sa.Column("mfa_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("sessions", "mfa_at")
    for column in reversed(_USER_COLUMNS):
        op.drop_column("users", column.name)
