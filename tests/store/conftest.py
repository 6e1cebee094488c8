"""Store fixtures: a fresh database per test on each backend (SQLite file, throwaway PostgreSQL).

`backend` is parametrized over both dialects and `store` is a migrated store on it; `empty_backend`
is a database no migration has touched (the migration tests). Migrated databases are copies of a
template migrated once per session (a file copy for SQLite, CREATE DATABASE … TEMPLATE for
PostgreSQL), so a test pays for a copy, not for the migrations. SQLite files live on tmpfs when
the machine has one: the contract does not depend on the disk, and fsync-per-commit on a shared
disk would double the suite's time.

The `postgres_server` fixture is registered once for every test package in tests/conftest.py,
so one server serves the whole run.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import AsyncIterator, Coroutine, Iterator, TypeVar

import pytest

from store.engine import SQLITE_FILE_NAME
from store.sql import SqlStore, open_store
from tests.fakes.postgres import PostgresServer
from tests.store.builders import Backend

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
T = TypeVar("T")


def run_in_own_loop(coroutine: Coroutine[object, object, T]) -> T:
    """Run a coroutine to completion from sync code that may sit inside a test's running loop."""
    with ThreadPoolExecutor(max_workers=1) as thread:
        return thread.submit(asyncio.run, coroutine).result()


@pytest.fixture(scope="session")
def scratch_root() -> Iterator[Path]:
    """A session directory for SQLite files, on tmpfs when there is one."""
    shm = Path("/dev/shm")
    parent = shm if shm.is_dir() and os.access(shm, os.W_OK | os.X_OK) else None
    root = Path(tempfile.mkdtemp(prefix="mlc-store-tests-", dir=parent))
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def migrated_sqlite_file(scratch_root: Path) -> Path:
    """A SQLite database migrated to head, copied into each test's data dir."""
    data_dir = scratch_root / "template"

    async def build() -> Path:
        store = open_store(None, data_dir=data_dir)
        try:
            await store.migrate()
        finally:
            await store.close()  # the last connection out folds the WAL into the file
        return data_dir / SQLITE_FILE_NAME

    return run_in_own_loop(build())


@pytest.fixture(scope="session")
def migrated_template(postgres_server: PostgresServer) -> str:  # noqa: F811
    """A PostgreSQL database migrated to head, copied by each test's CREATE DATABASE."""

    async def build() -> str:
        name = await postgres_server.create_database("mlc_migrated_template")
        store = open_store(postgres_server.url(name), data_dir=Path("."))
        try:
            await store.migrate()
        finally:
            await store.close()  # CREATE DATABASE … TEMPLATE needs it free of connections
        return name

    return run_in_own_loop(build())


async def _sqlite_backend(request: pytest.FixtureRequest, *, migrated: bool) -> AsyncIterator[Backend]:
    data_dir = request.getfixturevalue("scratch_root") / uuid.uuid4().hex / "data"
    backend = Backend("sqlite", None, data_dir)
    if migrated:
        data_dir.mkdir(mode=0o700, parents=True)
        target = data_dir / SQLITE_FILE_NAME
        shutil.copyfile(request.getfixturevalue("migrated_sqlite_file"), target)
        target.chmod(0o600)
    try:
        yield backend
    finally:
        await backend.close_all()
        shutil.rmtree(data_dir.parent, ignore_errors=True)


async def _postgres_backend(request: pytest.FixtureRequest, *, migrated: bool) -> AsyncIterator[Backend]:
    server: PostgresServer = request.getfixturevalue("postgres_server")
    template = request.getfixturevalue("migrated_template") if migrated else None
    name = await server.create_database(template=template)
    backend = Backend("postgres", server.url(name), Path("unused-by-postgres"))
    try:
        yield backend
    finally:
        await backend.close_all()
        await server.drop_database(name)


def _backend(request: pytest.FixtureRequest, *, migrated: bool) -> AsyncIterator[Backend]:
    if request.param == "sqlite":
        return _sqlite_backend(request, migrated=migrated)
    return _postgres_backend(request, migrated=migrated)


@pytest.fixture(params=BACKENDS)
async def backend(request: pytest.FixtureRequest) -> AsyncIterator[Backend]:
    """A fresh, migrated database on each backend."""
    async for value in _backend(request, migrated=True):
        yield value


@pytest.fixture(params=BACKENDS)
async def empty_backend(request: pytest.FixtureRequest) -> AsyncIterator[Backend]:
    """A fresh database on each backend that no migration has touched."""
    async for value in _backend(request, migrated=False):
        yield value


@pytest.fixture
async def store(backend: Backend) -> SqlStore:
    """A migrated store on a fresh database (SQLite and PostgreSQL)."""
    return backend.open()
