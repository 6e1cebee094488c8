"""Database URLs and engines: which URLs are accepted, and how each dialect is opened safely.

Accepted: `None` (SQLite file `data_dir/ml-connector.db`), `sqlite:///path`,
`sqlite+aiosqlite:///path`, `postgresql://…`, `postgres://…`, `postgresql+asyncpg://…`. Everything
is normalised to the async drivers (aiosqlite, asyncpg). No message here ever shows a password.

SQLite is opened in WAL mode (readers never block the writer), with foreign keys on, a busy
timeout (a second process or connection waits for the write lock instead of failing), and
`synchronous=FULL` (a committed outbox row or audit line survives a power cut). The file is
created 0600: it holds encrypted credentials and the audit trail. SQLAlchemy, not the sqlite3
module, emits BEGIN, so a transaction can ask for `BEGIN IMMEDIATE` (see `SQLITE_BEGIN`).

Every call on an aiosqlite connection is a round trip to that connection's thread, and under load
each one waits for the event loop's next turn, so a transaction costs about as many waits as it
has calls. The SQLite engine therefore adds none of its own: BEGIN goes to the driver directly
(one call, not three), no pre-ping, and a connection coming back to the pool is rolled back only
when SQLite says it is still inside a transaction.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import stat
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import PoolResetState

from store.api import StoreError

log = logging.getLogger(__name__)

SQLITE_FILE_NAME = "ml-connector.db"
SQLITE_DRIVER = "sqlite+aiosqlite"
POSTGRES_DRIVER = "postgresql+asyncpg"
SQLITE_BUSY_TIMEOUT_MS = 10_000
# The store queues SQLite writes on one connection at a time, so the pool serves the concurrent
# reads plus that one writer; each pooled aiosqlite connection is a thread of its own.
SQLITE_POOL_SIZE = 5
SQLITE_POOL_OVERFLOW = 5

# Execution option read by the SQLite "begin" hook: "IMMEDIATE" takes the write lock at BEGIN, so a
# read-then-write transaction cannot fail half-way with SQLITE_BUSY when another writer got there
# first (it waits for the busy timeout instead).
SQLITE_BEGIN = "mlc_sqlite_begin"
_SQLITE_BEGIN_MODES = frozenset({"DEFERRED", "IMMEDIATE"})

# asyncpg defaults, overridable from the URL query: fail a connect after 10 s and a statement
# after 60 s rather than hang a poll cycle or the notifier forever.
_POSTGRES_CONNECT_DEFAULTS: dict[str, Any] = {"timeout": 10, "command_timeout": 60}

_POSTGRES_SCHEMES = frozenset({"postgres", "postgresql", POSTGRES_DRIVER})
_SQLITE_SCHEMES = frozenset({"sqlite", SQLITE_DRIVER})


def normalize_url(database_url: str | None, *, data_dir: Path) -> URL:
    """The async-driver URL for `database_url` (None → the SQLite file in `data_dir`)."""
    if database_url is None:
        return URL.create(SQLITE_DRIVER, database=str((data_dir / SQLITE_FILE_NAME).resolve()))
    try:
        url = make_url(database_url)
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        # from None: SQLAlchemy's message repeats the whole string, password included.
        raise StoreError("DATABASE_URL is not a valid database URL") from None
    if url.drivername in _SQLITE_SCHEMES:
        return _normalize_sqlite(url)
    if url.drivername in _POSTGRES_SCHEMES:
        return _normalize_postgres(url)
    raise StoreError(
        f"DATABASE_URL scheme {url.drivername!r} is not supported: "
        "use sqlite:///path/to/file.db or postgresql://user:password@host/dbname"
    )


def _normalize_sqlite(url: URL) -> URL:
    if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
        raise StoreError("DATABASE_URL: SQLite needs a file path (in-memory and URI forms lose data)")
    if url.query:
        raise StoreError(f"DATABASE_URL: SQLite options {sorted(url.query)} are not supported")
    # Absolute, so a later change of working directory cannot open a second, empty database.
    return url.set(drivername=SQLITE_DRIVER, database=str(Path(url.database).resolve()))


def _normalize_postgres(url: URL) -> URL:
    query = dict(url.query)
    # libpq spells it sslmode (Heroku, Render, Azure connection strings); asyncpg calls it ssl.
    if "sslmode" in query:
        query["ssl"] = query.pop("sslmode")
    return url.set(drivername=POSTGRES_DRIVER, query=query)


def safe_url_text(url: URL) -> str:
    """The URL for logs and reprs, password masked."""
    return url.render_as_string(hide_password=True)


def prepare_sqlite_file(path: Path) -> None:
    """Create the database file (and its directory) owner-only, tighten a too-open existing one,
    and switch it to WAL mode once, before any pooled connection opens it."""
    try:
        if not path.parent.exists():
            path.parent.mkdir(mode=0o700, parents=True)
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            # The umask can narrow 0600 further (e.g. to read-only); set it exactly.
            os.fchmod(fd, 0o600)
            os.close(fd)
        # SQLite creates -wal/-shm with the database's mode, but an older file may be too open.
        for candidate in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            if candidate.exists() and stat.S_IMODE(candidate.stat().st_mode) & 0o077:
                log.warning("tightening permissions of %s to 0600 (it holds credentials)", candidate)
                os.chmod(candidate, 0o600)
    except OSError as exc:
        raise StoreError(f"cannot create the SQLite database {path}: {exc.strerror or exc}") from exc
    _enable_wal(path)


def _enable_wal(path: Path) -> None:
    # WAL mode is stored in the file. Switching needs an exclusive lock, and SQLite answers "database
    # is locked" at once, busy timeout or not, when another connection is writing (it would
    # deadlock otherwise); so it is done here, alone, and pooled connections only check it.
    try:
        conn = sqlite3.connect(path, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)
        try:
            if _journal_mode(conn) != "wal":
                conn.execute("PRAGMA journal_mode = WAL")
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open the SQLite database {path}: {exc}") from exc


def _journal_mode(conn: Any) -> str:
    cursor = conn.cursor()
    try:
        cursor.execute("PRAGMA journal_mode")
        return str(cursor.fetchone()[0]).lower()
    finally:
        cursor.close()


def create_engine(url: URL) -> AsyncEngine:
    """An async engine for a normalised URL, with the dialect's safety settings installed.

    `hide_parameters` keeps bound values (ciphertexts, payloads) out of SQLAlchemy's exception
    messages and logs.
    """
    if url.drivername == SQLITE_DRIVER:
        assert url.database is not None
        prepare_sqlite_file(Path(url.database))
        # Every call on an aiosqlite connection is a round trip to that connection's thread, so
        # the pool adds none of its own: no pre-ping (a local file does not drop connections),
        # and no blanket ROLLBACK when a connection comes back (see _install_sqlite_hooks).
        engine = create_async_engine(
            url,
            hide_parameters=True,
            pool_pre_ping=False,
            pool_reset_on_return=None,
            pool_size=SQLITE_POOL_SIZE,
            max_overflow=SQLITE_POOL_OVERFLOW,
        )
        _install_sqlite_hooks(engine)
        _terminate_sqlite_without_waiting(engine)
        return engine
    connect_args = {k: v for k, v in _POSTGRES_CONNECT_DEFAULTS.items() if k not in url.query}
    # pre-ping: after a database restart, pooled connections are replaced instead of failing once.
    return create_async_engine(url, hide_parameters=True, pool_pre_ping=True, connect_args=connect_args)


def _terminate_sqlite_without_waiting(engine: AsyncEngine) -> None:
    """Terminate an invalidated SQLite connection by stopping its aiosqlite thread, and nothing
    else. SQLAlchemy invalidates a connection whose task is cancelled mid-statement (a shutdown
    does that) and then closes it "gracefully" in a task of its own, falling back to aiosqlite's
    `stop()` when cancelled again. When both happen, aiosqlite's close waits for an answer from
    the thread that `stop()` already ended: the task never ends, and asyncio.run's clean-up, so the
    process, waits for it forever (tests/store/test_cancellation.py). A local file needs no
    graceful close: `stop()` closes the sqlite3 connection on its thread (SQLite rolls back what
    was not committed) without anyone waiting for it."""
    dialect = engine.sync_engine.dialect

    def terminate(dbapi_connection: Any) -> None:
        dialect.get_driver_connection(dbapi_connection).stop()

    dialect.do_terminate = terminate  # type: ignore[method-assign]


def _install_sqlite_hooks(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _configure_connection(dbapi_connection: Any, _record: Any) -> None:
        # Stop the sqlite3 module from issuing its own BEGIN (it skips SELECTs and DDL, and cannot
        # say IMMEDIATE); the "begin" hook below issues it instead.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute("PRAGMA synchronous = FULL")
        finally:
            cursor.close()
        mode = _journal_mode(dbapi_connection)  # set by prepare_sqlite_file; reading takes no lock
        if mode != "wal":
            log.warning("SQLite database is not in WAL mode (journal_mode=%s): readers block writers", mode)

    @event.listens_for(engine.sync_engine, "reset")
    def _reset(dbapi_connection: Any, _record: Any, state: PoolResetState) -> None:
        # Instead of pool_reset_on_return's unconditional ROLLBACK: the store always ends its
        # transactions itself, so a connection is rolled back only if SQLite says one is still
        # open (a failed COMMIT, a raw use in a test). Reading that flag costs no round trip.
        if state.asyncio_safe and not state.transaction_was_reset and dbapi_connection.driver_connection.in_transaction:
            dbapi_connection.rollback()

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(connection: Connection) -> None:
        mode = connection.get_execution_options().get(SQLITE_BEGIN, "DEFERRED")
        if mode not in _SQLITE_BEGIN_MODES:
            raise ValueError(f"unknown SQLite BEGIN mode {mode!r}")
        # Straight to aiosqlite: one round trip to the connection's thread, where a statement
        # through SQLAlchemy takes three (open a cursor, execute, close it).
        try:
            connection.connection.dbapi_connection.run_async(lambda driver: driver.execute_fetchall(f"BEGIN {mode}"))
        except BaseException:
            # Cancelled (or failed) with the BEGIN already queued on the connection's thread: it
            # may still run there after the connection is back in the pool, leaving an idle
            # connection inside a transaction (holding SQLite's write lock, and failing its next
            # BEGIN). SQLAlchemy's own error handling does not see this call, so invalidate here:
            # the connection is then closed on its thread, after the BEGIN, never reused.
            connection.invalidate()
            raise
