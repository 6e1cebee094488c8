"""Alembic configured in code (no alembic.ini): bring a database to the newest migration, once.

`upgrade_to_head` runs inside the caller's transaction on a sync connection (the async store calls
it through `AsyncConnection.run_sync`), so the whole upgrade commits or rolls back as one. Two
instances starting together are serialised: on PostgreSQL by a transaction-scoped advisory lock
taken before alembic looks at the version table, on SQLite by the `BEGIN IMMEDIATE` write lock the
caller's transaction holds. The second one then finds the database at head and does nothing.

New migration: add a file to store/migrations/versions/ (copy the style of 0001; never edit an
applied one). To draft it from the metadata in store/schema.py:
`alembic.command.revision(alembic_config("sqlite:////tmp/draft.db"), "what changed",
autogenerate=True)` against a database migrated to the previous head, then review it.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import func, select
from sqlalchemy.engine import Connection

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

# Our own name, so a database shared with another alembic-managed application does not clash.
VERSION_TABLE = "mlc_alembic_version"

# pg_advisory_xact_lock key (any bigint; the ASCII of "mlc-migr"), held until the upgrade commits.
POSTGRES_MIGRATION_LOCK = 0x6D6C632D6D696772


def alembic_config(database_url: str | None = None, *, connection: Connection | None = None) -> Config:
    """An alembic Config for our migrations, bound to a live connection or to a URL."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if database_url is not None:
        # ConfigParser interpolation would choke on a %-escaped password.
        config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest migration this code knows."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, f"no migrations in {MIGRATIONS_DIR}"
    return head


def current_revision(connection: Connection) -> str | None:
    """The migration the database is at (None when never migrated)."""
    context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
    return context.get_current_revision()


def lock_for_migration(connection: Connection) -> None:
    """On PostgreSQL, wait until no other instance migrates and hold that lock until commit.

    (On SQLite the caller's `BEGIN IMMEDIATE` already holds the only write lock there is.)
    """
    if not connection.in_transaction():
        raise RuntimeError("migrations need a connection inside a transaction")
    if connection.dialect.name == "postgresql":
        connection.execute(select(func.pg_advisory_xact_lock(POSTGRES_MIGRATION_LOCK)))


def upgrade_to_head(connection: Connection) -> None:
    """Apply every missing migration on `connection`, which must be inside a transaction."""
    lock_for_migration(connection)
    command.upgrade(alembic_config(connection=connection), "head")
