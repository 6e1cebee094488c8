"""The throwaway PostgreSQL server fixture: runs as `postgres`, hands out databases, cleans up."""

from __future__ import annotations

import os
import pwd
import select

import asyncpg
import pytest

from tests.fakes.postgres import SOCKET_PORT, PostgresServer

pytestmark = pytest.mark.postgres


def exited(pid: int, *, timeout: float) -> bool:
    """Wait (without polling) until a process that is not our child has ended."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        return bool(select.select([fd], [], [], timeout)[0])  # readable once it terminated
    finally:
        os.close(fd)


async def test_the_server_hands_out_fresh_databases(postgres_server: PostgresServer):
    name = await postgres_server.create_database()
    conn = await asyncpg.connect(host=str(postgres_server.socket_dir), port=SOCKET_PORT, user="postgres", database=name)
    try:
        version = await conn.fetchval("SHOW server_version_num")
        fsync = await conn.fetchval("SHOW fsync")
        tables = await conn.fetchval("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")
    finally:
        await conn.close()
    await postgres_server.drop_database(name)

    assert int(version) >= 150000 and fsync == "off" and tables == 0
    # PostgreSQL refuses to run as root: then the cluster belongs to the `postgres` account.
    owner = pwd.getpwnam("postgres").pw_uid if os.geteuid() == 0 else os.geteuid()
    assert (postgres_server.socket_dir / "data").stat().st_uid == owner


def test_the_server_is_stopped_and_removed_even_if_the_test_process_dies():
    server = PostgresServer()
    server.start()
    base = server.socket_dir
    postmaster = int((base / "data" / "postmaster.pid").read_text().split()[0])

    # What the watchdog sees when the test process is killed: its pipe closes without a stop().
    watchdog = server._watchdog
    assert watchdog is not None and watchdog.stdin is not None
    watchdog.stdin.close()
    watchdog.wait(timeout=60)

    assert not base.exists()
    assert exited(postmaster, timeout=30)
    server._watchdog = None
    server.stop()  # nothing left to do, and it says so by not failing
