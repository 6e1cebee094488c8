"""Alembic environment: run the store's migrations on the connection the store hands over.

The store passes its own connection (already in a transaction, see store/migrate.py) in
`config.attributes["connection"]`. Without one (a developer drafting a revision with
`alembic_config(url)`), this opens an async engine on `sqlalchemy.url` and runs the migrations
through a sync connection with `run_sync`. Offline mode renders the SQL instead.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import context
from sqlalchemy.engine import Connection

from store.engine import create_engine, normalize_url
from store.migrate import VERSION_TABLE, lock_for_migration
from store.schema import metadata


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table=VERSION_TABLE,
        # SQLite cannot ALTER most things: later migrations use batch mode (copy and move) there.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )


def _run_on(connection: Connection) -> None:
    lock_for_migration(connection)  # the store took it already; taking it again is a no-op
    _configure(connection)
    with context.begin_transaction():  # a no-op when the caller's transaction is open
        context.run_migrations()


async def _run_with_own_engine(url: str) -> None:
    # data_dir only matters for a missing URL, which cannot happen here.
    engine = create_engine(normalize_url(url, data_dir=Path(".")))
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_run_on)
    finally:
        await engine.dispose()


def _run_offline(url: str) -> None:
    context.configure(url=url, target_metadata=metadata, version_table=VERSION_TABLE, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


_connection = context.config.attributes.get("connection")
if _connection is not None:
    _run_on(_connection)
elif context.is_offline_mode():
    _run_offline(context.config.get_main_option("sqlalchemy.url") or "sqlite://")
else:
    _url = context.config.get_main_option("sqlalchemy.url")
    if not _url:
        raise RuntimeError("no connection and no sqlalchemy.url: use store.migrate.alembic_config(url)")
    asyncio.run(_run_with_own_engine(_url))
