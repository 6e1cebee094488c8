"""Intacct wake-ups: one row per company (last arrival, count, the broken-trigger alert).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27

Written out in full (no import of store.schema): a migration is a frozen record of what it did.
"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: Union[str, Sequence[str], None] = "0001"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

_TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the `wakeups` table."""
    op.create_table(
        "wakeups",
        sa.Column("company", sa.Text(), nullable=False),
        sa.Column("last_at", _TZ, nullable=True),
        sa.Column("last_kind", sa.Text(), nullable=True),
        sa.Column("received", sa.BigInteger(), nullable=False),
        sa.Column("trigger_alert_at", _TZ, nullable=True),
        sa.PrimaryKeyConstraint("company", name="pk_wakeups"),
    )


def downgrade() -> None:
    """Drop the `wakeups` table."""
    op.drop_table("wakeups")
