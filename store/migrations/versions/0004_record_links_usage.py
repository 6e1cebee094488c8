"""Record links (the record each card link opens, for link unfurling) and Intacct usage of people's reads.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-12

Written out in full (no import of store.schema): a migration is a frozen record of what it did.
"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: Union[str, Sequence[str], None] = "0003"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Create the `record_links` and `intacct_usage` tables."""
    op.create_table(
        "record_links",
        sa.Column("company", sa.Text(), nullable=False),
        sa.Column("link_key", sa.Text(), nullable=False),
        sa.Column("object_name", sa.Text(), nullable=False),
        sa.Column("record_no", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("company", "link_key", name="pk_record_links"),
    )
    op.create_index("ix_record_links_link_key", "record_links", ["link_key"])
    op.create_table(
        "intacct_usage",
        sa.Column("company", sa.Text(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("requests", sa.BigInteger(), nullable=False),
        sa.Column("functions", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("company", "day", "source", name="pk_intacct_usage"),
    )


def downgrade() -> None:
    """Drop both tables."""
    op.drop_table("intacct_usage")
    op.drop_index("ix_record_links_link_key", table_name="record_links")
    op.drop_table("record_links")
