"""The tables (SQLAlchemy Core metadata); alembic migrations in store/migrations/ create them.

| table | one row per | holds |
| --- | --- | --- |
| `watermarks` | company, Intacct object | newest WHENMODIFIED processed (only moves forward) |
| `snapshots` | company, object, record | the fields whose change makes an event (JSON) |
| `baselines` | company | when the first (baseline) cycle and the latest cycle were committed |
| `reference_maps` | company, reference object | cached id → name map (JSON) and when it was loaded |
| `poll_states` | company | last poll outcome, shared by every instance |
| `leases` | lease name | holder and expiry (one poller per company across instances) |
| `wakeups` | company | the last Intacct wake-up, how many arrived, whether "the trigger is broken" was alerted |
| `outbox` | event, conversation | a notification to deliver: payload, status, attempts, claim |
| `routes` | channel subscription | event kinds, filter, company, channel name, active flag |
| `conversations` | conversation | Bot Framework conversation reference (JSON) |
| `posted_cards` | company, record, channel | where a record's card sits, to update it in place |
| `audit` | audit line | append-only trail of posts, updates, replies, failures |
| `secrets` | secret name | ciphertext only (encryption lives outside the store) |
| `key_rings` | running instance | fingerprints of the master keys it holds (key rotation checks them) |
| `graph_subscriptions` | Graph subscription | team, resource, clientState, expiry |
| `channel_names` | team, channel | cached display name |
| `record_links` | company, link key | the record a card's link opens (RECORD_URL token or list view), kept by the poller |
| `intacct_usage` | company, day, source | Intacct requests and functions people's reads cost (commands, links, searches, refreshes) |

Every instant is a `UtcDateTime` (aware UTC in and out), every amount a `DecimalText` (exact),
every free text `Text` (no length limit on either dialect, so both behave alike). This module is
the source of truth for autogenerate; a schema change is a new migration, never a rewrite of an
applied one, and a contract test fails when the migrations and this metadata drift apart.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Table,
    Text,
    UniqueConstraint,
)

from store.columns import DecimalText, UtcDateTime

# Deterministic constraint names on both dialects, so later migrations can name what they alter.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

OUTBOX_STATUSES = ("pending", "sending", "delivered", "failed")

metadata = MetaData(naming_convention=NAMING_CONVENTION)

watermarks = Table(
    "watermarks",
    metadata,
    Column("company", Text, primary_key=True),
    Column("object_name", Text, primary_key=True),
    Column("watermark", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

snapshots = Table(
    "snapshots",
    metadata,
    Column("company", Text, primary_key=True),
    Column("object_name", Text, primary_key=True),
    Column("record_no", BigInteger, primary_key=True, autoincrement=False),
    Column("when_modified", UtcDateTime, nullable=True),
    Column("fields", JSON, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

baselines = Table(
    "baselines",
    metadata,
    Column("company", Text, primary_key=True),
    Column("first_cycle_at", UtcDateTime, nullable=False),
    Column("last_cycle_at", UtcDateTime, nullable=False),
)

reference_maps = Table(
    "reference_maps",
    metadata,
    Column("company", Text, primary_key=True),
    Column("kind", Text, primary_key=True),
    Column("names", JSON, nullable=False),
    Column("loaded_at", UtcDateTime, nullable=False),
)

poll_states = Table(
    "poll_states",
    metadata,
    Column("company", Text, primary_key=True),
    Column("last_attempt_at", UtcDateTime, nullable=True),
    Column("last_success_at", UtcDateTime, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("last_error_at", UtcDateTime, nullable=True),
    Column("consecutive_failures", Integer, nullable=False),
    Column("functions_last_cycle", Integer, nullable=False),
    Column("events_last_cycle", Integer, nullable=False),
)

wakeups = Table(
    "wakeups",
    metadata,
    Column("company", Text, primary_key=True),
    Column("last_at", UtcDateTime, nullable=True),
    Column("last_kind", Text, nullable=True),
    Column("received", BigInteger, nullable=False),
    Column("trigger_alert_at", UtcDateTime, nullable=True),
)

leases = Table(
    "leases",
    metadata,
    Column("name", Text, primary_key=True),
    Column("holder", Text, nullable=False),
    Column("acquired_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
)

# A row is due when pending (or sending, i.e. its holder died mid-send) with not_before <= now and
# no live claim (claimed_until NULL or past). route_id has no foreign key on purpose: a route
# removed between planning and commit must not make the whole poll cycle's transaction fail.
outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("company", Text, nullable=False),
    Column("event_key", Text, nullable=False),
    Column("event_kind", Text, nullable=False),
    Column("record_kind", Text, nullable=False),
    Column("record_no", BigInteger, nullable=False),
    Column("conversation_id", Text, nullable=False),
    Column("route_id", Integer, nullable=True),
    Column("payload", JSON, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("source_modified_at", UtcDateTime, nullable=True),
    Column("status", Text, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("not_before", UtcDateTime, nullable=False),
    Column("claimed_by", Text, nullable=True),
    Column("claimed_until", UtcDateTime, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("activity_id", Text, nullable=True),
    Column("finished_at", UtcDateTime, nullable=True),
    # At most one delivery per event per conversation, across retries, restarts and instances.
    UniqueConstraint("event_key", "conversation_id"),
    CheckConstraint(
        "status IN (" + ", ".join(f"'{s}'" for s in OUTBOX_STATUSES) + ")", name="status_known"
    ),
    # The claim query: due rows by status and time.
    Index(None, "status", "not_before"),
    # The claim's "no earlier undelivered row for the same record in the same channel" probe.
    Index(None, "conversation_id", "company", "record_kind", "record_no", "id"),
)

# `identity` is the canonical JSON of what makes two routes the same subscription (company,
# sorted kinds, filter); unique per channel, so "add the same route twice" is one upsert.
routes = Table(
    "routes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("conversation_id", Text, nullable=False),
    Column("identity", Text, nullable=False),
    Column("event_kinds", Text, nullable=False),  # sorted, comma-separated
    Column("company", Text, nullable=True),
    Column("department", Text, nullable=True),
    Column("location", Text, nullable=True),
    Column("vendor", Text, nullable=True),
    Column("min_amount", DecimalText, nullable=True),
    Column("entity", Text, nullable=True),
    Column("team_id", Text, nullable=True),
    Column("tenant_id", Text, nullable=True),
    Column("channel_name", Text, nullable=True),
    Column("active", Boolean, nullable=False),
    Column("inactive_reason", Text, nullable=True),
    Column("created_by", Text, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("conversation_id", "identity"),
    Index(None, "team_id"),
)

conversations = Table(
    "conversations",
    metadata,
    Column("conversation_id", Text, primary_key=True),
    Column("reference", JSON, nullable=False),
    Column("scope", Text, nullable=False),
    Column("team_id", Text, nullable=True),
    Column("aad_group_id", Text, nullable=True),
    Column("channel_id", Text, nullable=True),
    Column("tenant_id", Text, nullable=True),
    Column("service_url", Text, nullable=True),
    Column("updated_at", UtcDateTime, nullable=True),
    Index(None, "team_id"),
)

posted_cards = Table(
    "posted_cards",
    metadata,
    Column("company", Text, primary_key=True),
    Column("record_kind", Text, primary_key=True),
    Column("record_no", BigInteger, primary_key=True, autoincrement=False),
    Column("conversation_id", Text, primary_key=True),
    Column("thread_conversation_id", Text, nullable=False),
    Column("activity_id", Text, nullable=False),
    Column("posted_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=True),
)

audit = Table(
    "audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UtcDateTime, nullable=False),
    Column("action", Text, nullable=False),
    Column("outcome", Text, nullable=False),
    Column("company", Text, nullable=True),
    Column("event_key", Text, nullable=True),
    Column("record_kind", Text, nullable=True),
    Column("record_no", BigInteger, nullable=True),
    Column("conversation_id", Text, nullable=True),
    Column("activity_id", Text, nullable=True),
    Column("error", Text, nullable=True),
    Index(None, "at"),
)

secrets = Table(
    "secrets",
    metadata,
    Column("name", Text, primary_key=True),
    Column("ciphertext", LargeBinary, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

key_rings = Table(
    "key_rings",
    metadata,
    Column("holder", Text, primary_key=True),
    Column("fingerprints", Text, nullable=False),  # comma-separated, newest key first
    Column("reported_at", UtcDateTime, nullable=False),
)

graph_subscriptions = Table(
    "graph_subscriptions",
    metadata,
    Column("id", Text, primary_key=True),
    Column("team_id", Text, nullable=False),
    Column("resource", Text, nullable=False),
    Column("client_state", Text, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

channel_names = Table(
    "channel_names",
    metadata,
    Column("team_id", Text, primary_key=True),
    Column("channel_id", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

# Keyed by company and link key; looked up by key alone (a pasted link names no company).
record_links = Table(
    "record_links",
    metadata,
    Column("company", Text, primary_key=True),
    Column("link_key", Text, primary_key=True),
    Column("object_name", Text, nullable=False),
    Column("record_no", BigInteger, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Index(None, "link_key"),
)

intacct_usage = Table(
    "intacct_usage",
    metadata,
    Column("company", Text, primary_key=True),
    Column("day", Date, primary_key=True),
    Column("source", Text, primary_key=True),
    Column("requests", BigInteger, nullable=False),
    Column("functions", BigInteger, nullable=False),
)
