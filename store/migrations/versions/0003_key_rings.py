"""Key rings: which master keys each running instance holds, so a key rotation can check them.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07

Written out in full (no import of store.schema): a migration is a frozen record of what it did.
"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: Union[str, Sequence[str], None] = "0002"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Create the `key_rings` table."""
    op.create_table(
        "key_rings",
        sa.Column("holder", sa.Text(), nullable=False),
        sa.Column("fingerprints", sa.Text(), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("holder", name="pk_key_rings"),
    )


def downgrade() -> None:
    """Drop the `key_rings` table."""
    op.drop_table("key_rings")
