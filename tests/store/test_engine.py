"""Which URLs open which database, how SQLite files are protected, and how failures surface."""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import pytest
from sqlalchemy import event, text

from store.api import StoreError
from store.engine import SQLITE_FILE_NAME, normalize_url
from store.sql import SqlStore, open_store
from tests.fakes.clock import FakeClock
from tests.fakes.postgres import PostgresServer
from store.types import AuditEntry
from tests.store.builders import T0, commit, new_item

DATA = Path("/srv/mlc/data")


def mode_of(path: Path) -> int:
    """The permission bits of a file."""
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (None, "sqlite+aiosqlite:////srv/mlc/data/ml-connector.db"),
        ("sqlite:////var/lib/mlc/store.db", "sqlite+aiosqlite:////var/lib/mlc/store.db"),
        ("sqlite+aiosqlite:////var/lib/mlc/store.db", "sqlite+aiosqlite:////var/lib/mlc/store.db"),
        ("postgres://mlc:pw@db.example.com/mlc", "postgresql+asyncpg://mlc:pw@db.example.com/mlc"),
        ("postgresql://mlc:pw@db.example.com:6432/mlc", "postgresql+asyncpg://mlc:pw@db.example.com:6432/mlc"),
        ("postgresql+asyncpg://mlc@/mlc?host=/run/postgresql", "postgresql+asyncpg://mlc@/mlc?host=%2Frun%2Fpostgresql"),
        ("postgres://mlc:pw@db.example.com/mlc?sslmode=require", "postgresql+asyncpg://mlc:pw@db.example.com/mlc?ssl=require"),
    ],
)
def test_urls_are_normalised_to_the_async_drivers(given, expected):
    assert normalize_url(given, data_dir=DATA).render_as_string(hide_password=False) == expected


def test_a_relative_sqlite_path_is_made_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)

    url = normalize_url("sqlite:///state/mlc.db", data_dir=DATA)

    assert url.database == str(tmp_path / "state" / "mlc.db")


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("mysql://root:hunter2@db/mlc", "scheme 'mysql' is not supported"),
        ("not a url at all :hunter2", "not a valid database URL"),
        ("postgresql://mlc:hunter2@db:notaport/mlc", "not a valid database URL"),
        ("sqlite://", "SQLite needs a file path"),
        ("sqlite:///:memory:", "SQLite needs a file path"),
        ("sqlite:///x.db?mode=ro", "not supported"),
    ],
)
def test_bad_urls_are_refused_without_showing_the_password(given, message):
    with pytest.raises(StoreError, match=message) as caught:
        normalize_url(given, data_dir=DATA)

    assert "hunter2" not in str(caught.value)
    assert caught.value.__cause__ is None or "hunter2" not in str(caught.value.__cause__)


def test_repr_masks_the_password(tmp_path: Path):
    store = open_store("postgresql://mlc:hunter2@db.example.com/mlc", data_dir=tmp_path)

    assert "hunter2" not in repr(store) and "db.example.com" in repr(store)


async def test_the_default_database_is_an_owner_only_file_in_a_new_data_dir(tmp_path: Path, clock: FakeClock):
    data_dir = tmp_path / "nested" / "data"
    store = open_store(None, data_dir=data_dir)
    try:
        await store.migrate()
        await commit(store, outbox=[new_item("k1")])
        database = data_dir / SQLITE_FILE_NAME
        wal, shm = database.with_name(database.name + "-wal"), database.with_name(database.name + "-shm")

        assert mode_of(database) == 0o600
        assert wal.exists() and mode_of(wal) == 0o600 and mode_of(shm) == 0o600
        assert mode_of(data_dir) == 0o700
    finally:
        await store.close()


async def test_a_too_open_existing_file_is_tightened(tmp_path: Path, caplog: pytest.LogCaptureFixture):
    database = tmp_path / "mlc.db"
    database.touch(mode=0o644)
    database.chmod(0o644)

    with caplog.at_level(logging.WARNING, logger="store.engine"):
        store = open_store(f"sqlite:///{database}", data_dir=tmp_path)
    await store.close()

    assert mode_of(database) == 0o600
    assert "tightening permissions" in caplog.text


async def test_sqlite_connections_use_wal_foreign_keys_and_a_busy_timeout(tmp_path: Path):
    store = open_store(None, data_dir=tmp_path)
    try:
        async with store.engine.connect() as conn:
            pragmas = [(await conn.execute(text(f"PRAGMA {name}"))).scalar_one()
                       for name in ("journal_mode", "foreign_keys", "busy_timeout", "synchronous")]
    finally:
        await store.close()

    assert pragmas == ["wal", 1, 10_000, 2]  # synchronous 2 = FULL


async def test_sqlite_writes_begin_immediate_and_reads_deferred(tmp_path: Path, clock: FakeClock):
    store = open_store(None, data_dir=tmp_path)
    executed: list[str] = []  # what SQLite itself ran (BEGIN bypasses SQLAlchemy's cursor events)
    event.listen(store.engine.sync_engine, "connect",
                 lambda dbapi, _record: dbapi.run_async(lambda driver: driver.set_trace_callback(executed.append)))
    try:
        await store.migrate()
        executed.clear()
        await store.claim_outbox("a", now=clock(), limit=5, claim_seconds=30)
        await store.outbox_depth()
    finally:
        await store.close()

    begins = [s for s in executed if s.startswith("BEGIN")]
    assert begins == ["BEGIN IMMEDIATE", "BEGIN DEFERRED"]
    assert not any(s.startswith("ROLLBACK") for s in executed), "a committed connection is returned without a ROLLBACK"


async def test_a_connection_returned_inside_a_transaction_is_rolled_back(tmp_path: Path):
    store = open_store(None, data_dir=tmp_path)
    try:
        await store.migrate()
        async with store.engine.connect() as conn:
            raw = await conn.get_raw_connection()
            await raw.driver_connection.execute_fetchall("BEGIN IMMEDIATE")  # behind SQLAlchemy's back
        async with store.engine.connect() as conn:
            assert not (await conn.get_raw_connection()).driver_connection.in_transaction
        await store.append_audit(AuditEntry(at=T0, action="post", outcome="ok"))  # the write lock is free
    finally:
        await store.close()


def test_an_sqlite_file_that_cannot_be_created_raises_store_error(tmp_path: Path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")

    with pytest.raises(StoreError, match="cannot create the SQLite database"):
        open_store(None, data_dir=blocker / "data")


async def test_a_file_that_is_not_a_database_raises_store_error(tmp_path: Path):
    (tmp_path / SQLITE_FILE_NAME).write_bytes(b"this is not SQLite" * 100)

    with pytest.raises(StoreError, match="SQLite"):
        store = open_store(None, data_dir=tmp_path)
        await store.ping()


@pytest.mark.postgres
async def test_an_unreachable_postgres_raises_store_error(tmp_path: Path):
    # A socket directory with no server behind it: the connection is refused at once.
    store = open_store(f"postgresql://mlc:hunter2@/mlc?host={tmp_path}&port=5432", data_dir=tmp_path)
    try:
        with pytest.raises(StoreError, match="ping failed") as caught:
            await store.ping()
    finally:
        await store.close()

    assert "hunter2" not in str(caught.value)


@pytest.mark.postgres
async def test_a_missing_postgres_database_raises_store_error(postgres_server: PostgresServer, tmp_path: Path):
    store: SqlStore = open_store(postgres_server.url("no_such_database"), data_dir=tmp_path)
    try:
        with pytest.raises(StoreError, match="no_such_database"):
            await store.migrate()
    finally:
        await store.close()
