"""Initial schema: poller state, outbox, routes, conversations, cards, audit, secrets, Graph.

Revision ID: 0001
Revises:
Create Date: 2026-11-23

Written out in full (no import of store.schema): a migration is a frozen record of what it did.
UtcDateTime columns are DateTime(timezone=True) here, DecimalText columns are Text.
"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: Union[str, Sequence[str], None] = None
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

_TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create every table of the first release."""
    op.create_table(
        "watermarks",
        sa.Column("company", sa.Text(), nullable=False),
        sa.Column("object_name", sa.Text(), nullable=False),
        sa.Column("watermark", _TZ, nullable=False),
        sa.Column("updated_at", _TZ, nullable=False),
        sa.PrimaryKeyConstraint("company", "object_name", name="pk_watermarks"),
    )
    op.create_table(
        "snapshots",
        sa.Column("company", sa.Text(), nullable=False),
        sa.Column("object_name", sa.Text(), nullable=False),
        sa.Column("record_no", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("when_modified", _TZ, nullable=True),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("updated_at", _TZ, nullable=False),
        sa.PrimaryKeyConstraint("company", "object_name", "record_no", name="pk_snapshots"),
    )
    op.create_table(
        "baselines",
        sa.Column("company", sa.Text(), nullable=False),
        sa.Column("first_cycle_at", _TZ, nullable=False),
        sa.Column("last_cycle_at", _TZ, nullable=False),
        sa.PrimaryKeyConstraint("company", name="pk_baselines"),
    )
    op.create_table(
        "reference_maps",
        sa.Column("company", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("names", sa.JSON(), nullable=False),
        sa.Column("loaded_at", _TZ, nullable=False),
        sa.PrimaryKeyConstraint("company", "kind", name="pk_reference_maps"),
    )
    op.create_table(
        "poll_states",
        sa.Column("company", sa.Text(), nullable=False),
        sa.Column("last_attempt_at", _TZ, nullable=True),
        sa.Column("last_success_at", _TZ, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_error_at", _TZ, nullable=True),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("functions_last_cycle", sa.Integer(), nullable=False),
        sa.Column("events_last_cycle", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("company", name="pk_poll_states"),
    )
    op.create_table(
        "leases",
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("holder", sa.Text(), nullable=False),
        sa.Column("acquired_at", _TZ, nullable=False),
        sa.Column("expires_at", _TZ, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_leases"),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("company", sa.Text(), nullable=False),
        sa.Column("event_key", sa.Text(), nullable=False),
        sa.Column("event_kind", sa.Text(), nullable=False),
        sa.Column("record_kind", sa.Text(), nullable=False),
        sa.Column("record_no", sa.BigInteger(), nullable=False),
        sa.Column("conversation_id", sa.Text(), nullable=False),
        sa.Column("route_id", sa.Integer(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", _TZ, nullable=False),
        sa.Column("source_modified_at", _TZ, nullable=True),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("not_before", _TZ, nullable=False),
        sa.Column("claimed_by", sa.Text(), nullable=True),
        sa.Column("claimed_until", _TZ, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("activity_id", sa.Text(), nullable=True),
        sa.Column("finished_at", _TZ, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
        sa.UniqueConstraint("event_key", "conversation_id", name="uq_outbox_event_key_conversation_id"),
        sa.CheckConstraint(
            "status IN ('pending', 'sending', 'delivered', 'failed')", name="ck_outbox_status_known"
        ),
    )
    op.create_index("ix_outbox_status_not_before", "outbox", ["status", "not_before"])
    op.create_index(
        "ix_outbox_conversation_id_company_record_kind_record_no_id",
        "outbox",
        ["conversation_id", "company", "record_kind", "record_no", "id"],
    )
    op.create_table(
        "routes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("conversation_id", sa.Text(), nullable=False),
        sa.Column("identity", sa.Text(), nullable=False),
        sa.Column("event_kinds", sa.Text(), nullable=False),
        sa.Column("company", sa.Text(), nullable=True),
        sa.Column("department", sa.Text(), nullable=True),
        sa.Column("location", sa.Text(), nullable=True),
        sa.Column("vendor", sa.Text(), nullable=True),
        sa.Column("min_amount", sa.Text(), nullable=True),
        sa.Column("entity", sa.Text(), nullable=True),
        sa.Column("team_id", sa.Text(), nullable=True),
        sa.Column("tenant_id", sa.Text(), nullable=True),
        sa.Column("channel_name", sa.Text(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("inactive_reason", sa.Text(), nullable=True),
        sa.Column("created_by", sa.Text(), nullable=True),
        sa.Column("created_at", _TZ, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_routes"),
        sa.UniqueConstraint("conversation_id", "identity", name="uq_routes_conversation_id_identity"),
    )
    op.create_index("ix_routes_team_id", "routes", ["team_id"])
    op.create_table(
        "conversations",
        sa.Column("conversation_id", sa.Text(), nullable=False),
        sa.Column("reference", sa.JSON(), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("team_id", sa.Text(), nullable=True),
        sa.Column("aad_group_id", sa.Text(), nullable=True),
        sa.Column("channel_id", sa.Text(), nullable=True),
        sa.Column("tenant_id", sa.Text(), nullable=True),
        sa.Column("service_url", sa.Text(), nullable=True),
        sa.Column("updated_at", _TZ, nullable=True),
        sa.PrimaryKeyConstraint("conversation_id", name="pk_conversations"),
    )
    op.create_index("ix_conversations_team_id", "conversations", ["team_id"])
    op.create_table(
        "posted_cards",
        sa.Column("company", sa.Text(), nullable=False),
        sa.Column("record_kind", sa.Text(), nullable=False),
        sa.Column("record_no", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("conversation_id", sa.Text(), nullable=False),
        sa.Column("thread_conversation_id", sa.Text(), nullable=False),
        sa.Column("activity_id", sa.Text(), nullable=False),
        sa.Column("posted_at", _TZ, nullable=False),
        sa.Column("updated_at", _TZ, nullable=True),
        sa.PrimaryKeyConstraint(
            "company", "record_kind", "record_no", "conversation_id", name="pk_posted_cards"
        ),
    )
    op.create_table(
        "audit",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", _TZ, nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("company", sa.Text(), nullable=True),
        sa.Column("event_key", sa.Text(), nullable=True),
        sa.Column("record_kind", sa.Text(), nullable=True),
        sa.Column("record_no", sa.BigInteger(), nullable=True),
        sa.Column("conversation_id", sa.Text(), nullable=True),
        sa.Column("activity_id", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_audit"),
    )
    op.create_index("ix_audit_at", "audit", ["at"])
    op.create_table(
        "secrets",
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("updated_at", _TZ, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_secrets"),
    )
    op.create_table(
        "graph_subscriptions",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("team_id", sa.Text(), nullable=False),
        sa.Column("resource", sa.Text(), nullable=False),
        sa.Column("client_state", sa.Text(), nullable=False),
        sa.Column("expires_at", _TZ, nullable=False),
        sa.Column("created_at", _TZ, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_graph_subscriptions"),
    )
    op.create_table(
        "channel_names",
        sa.Column("team_id", sa.Text(), nullable=False),
        sa.Column("channel_id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("updated_at", _TZ, nullable=False),
        sa.PrimaryKeyConstraint("team_id", "channel_id", name="pk_channel_names"),
    )


def downgrade() -> None:
    """Drop every table of the first release (loses all data: for development only)."""
    for index, table in (
        ("ix_audit_at", "audit"),
        ("ix_conversations_team_id", "conversations"),
        ("ix_routes_team_id", "routes"),
        ("ix_outbox_conversation_id_company_record_kind_record_no_id", "outbox"),
        ("ix_outbox_status_not_before", "outbox"),
    ):
        op.drop_index(index, table_name=table)
    for table in (
        "channel_names",
        "graph_subscriptions",
        "secrets",
        "audit",
        "posted_cards",
        "conversations",
        "routes",
        "outbox",
        "leases",
        "poll_states",
        "reference_maps",
        "baselines",
        "snapshots",
        "watermarks",
    ):
        op.drop_table(table)
