"""A throwaway PostgreSQL server for tests, started from the machine's binaries in a temp dir.

`PostgresServer` runs `initdb` (no fsync) and `pg_ctl start` in a fresh temp dir, listening only
on a unix socket inside that dir (no TCP port to collide with anything), as the `postgres` system
user when the tests run as root (PostgreSQL refuses root). `stop()` runs `pg_ctl stop -m fast`
and deletes the dir; it also runs at interpreter exit, and a small watchdog process stops the
server if the test process dies without either (SIGKILL), so no cluster outlives its test run.

`postgres_server` is the session-scoped pytest fixture; a test package registers it by importing
it into its conftest.py (`from tests.fakes.postgres import postgres_server`). Each test should work
in its own database: `await server.create_database(template=…)`, then `server.url(name)`.
"""

from __future__ import annotations

import atexit
import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Iterator

import asyncpg
import pytest

PG_BIN_ENV = "ML_CONNECTOR_PG_BIN"
DEFAULT_PG_BIN = Path("/usr/lib/postgresql/15/bin")

# Only the socket file name depends on the port; the socket lives in our own temp dir, so the
# standard number cannot collide with another server (no TCP listener is opened).
SOCKET_PORT = 5432

# Speed over durability: the cluster is thrown away after the run.
_SETTINGS = {
    "listen_addresses": "''",
    "port": str(SOCKET_PORT),
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "shared_buffers": "'16MB'",
    "max_connections": "100",
    "log_min_messages": "warning",
}

# Runs beside the tests in its own session: blocks until its stdin closes (the test process
# stopped the server or died), then makes sure the server is down and the dir is gone.
_WATCHDOG = """
import json, shutil, subprocess, sys
sys.stdin.read()
subprocess.run(json.loads(sys.argv[1]), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
shutil.rmtree(sys.argv[2], ignore_errors=True)
"""


class PostgresServerError(RuntimeError):
    """The throwaway server could not be set up."""


def find_pg_bin() -> Path:
    """The PostgreSQL binaries: $ML_CONNECTOR_PG_BIN, else 15, else the newest installed."""
    candidates = [Path(os.environ[PG_BIN_ENV])] if os.environ.get(PG_BIN_ENV) else []
    candidates.append(DEFAULT_PG_BIN)
    installed = Path("/usr/lib/postgresql")
    if installed.is_dir():
        versions = sorted(
            (p for p in installed.iterdir() if p.name.isdigit()), key=lambda p: int(p.name), reverse=True
        )
        candidates.extend(p / "bin" for p in versions)
    for candidate in candidates:
        if (candidate / "initdb").is_file() and (candidate / "pg_ctl").is_file():
            return candidate
    raise PostgresServerError(
        f"no PostgreSQL server binaries (initdb, pg_ctl) in {', '.join(map(str, candidates))}; "
        f"install postgresql or set {PG_BIN_ENV}"
    )


class PostgresServer:
    """One throwaway PostgreSQL cluster: start(), url(dbname), create_database(), stop()."""

    def __init__(self, bin_dir: Path | None = None) -> None:
        self._bin = bin_dir  # resolved by start() when None
        self._dir: Path | None = None
        self._watchdog: subprocess.Popen[bytes] | None = None

    @property
    def socket_dir(self) -> Path:
        """The directory holding the server's unix socket (and its data and log)."""
        if self._dir is None:
            raise PostgresServerError("the server is not started")
        return self._dir

    @property
    def log_file(self) -> Path:
        """The server log (read it when a test fails oddly)."""
        return self.socket_dir / "server.log"

    def url(self, dbname: str = "postgres") -> str:
        """A SQLAlchemy URL (asyncpg driver) for database `dbname`, as the superuser `postgres`."""
        return f"postgresql+asyncpg://postgres@/{dbname}?host={self.socket_dir}&port={SOCKET_PORT}"

    def start(self) -> None:
        """initdb and start the server; returns when it accepts connections."""
        if self._dir is not None:
            raise PostgresServerError("the server is already started")
        self._bin = bin_dir = self._bin or find_pg_bin()
        # Not pytest's tmp dirs: those are root-only (0700) and the server runs as `postgres`.
        # Memory (tmpfs) when there is one: CREATE DATABASE copies files and checkpoints, 15 ms
        # there against 0.3-0.6 s on a busy disk. A short path too: a socket path must stay
        # under ~100 bytes.
        shm = Path("/dev/shm")
        parent = shm if shm.is_dir() and os.access(shm, os.W_OK | os.X_OK) else None
        base = Path(tempfile.mkdtemp(prefix="mlc-pg-", dir=parent))
        self._dir = base
        data = base / "data"
        ctl = [*_RUN_AS, str(bin_dir / "pg_ctl"), "-D", str(data)]
        atexit.register(self.stop)
        try:
            self._watchdog = subprocess.Popen(
                [sys.executable, "-c", _WATCHDOG, json.dumps([*ctl, "-m", "immediate", "stop"]), str(base)],
                stdin=subprocess.PIPE,
                start_new_session=True,  # a Ctrl-C to the test's process group must not kill it first
            )
            _hand_to_server_account(base)
            _run([*_RUN_AS, str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
                  "-E", "UTF8", "--no-locale", "--no-sync"], cwd=base)
            with (data / "postgresql.conf").open("a") as conf:
                conf.write(f"unix_socket_directories = '{base}'\n")
                conf.writelines(f"{key} = {value}\n" for key, value in _SETTINGS.items())
            _run([*ctl, "-l", str(self.log_file), "-w", "-t", "60", "start"], cwd=base)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop the server (fast shutdown) and delete its directory; safe to call twice."""
        base, self._dir = self._dir, None
        if base is None:
            return
        atexit.unregister(self.stop)
        data = base / "data"
        if self._bin is not None and (data / "postmaster.pid").exists():
            subprocess.run(
                [*_RUN_AS, str(self._bin / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
                cwd=base, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False,
            )
        if self._watchdog is not None:
            assert self._watchdog.stdin is not None
            self._watchdog.stdin.close()
            self._watchdog.wait(timeout=30)
            self._watchdog = None
        shutil.rmtree(base, ignore_errors=True)

    def halt(self) -> None:
        """Stop the server (fast shutdown: open connections are cut) but keep its data and socket
        directory, as a database outage; `resume()` starts it again."""
        assert self._bin is not None
        _run([*_RUN_AS, str(self._bin / "pg_ctl"), "-D", str(self.socket_dir / "data"), "-m", "fast", "-w", "stop"],
             cwd=self.socket_dir)

    def resume(self) -> None:
        """Start a halted server on the same data; returns when it accepts connections."""
        assert self._bin is not None
        _run([*_RUN_AS, str(self._bin / "pg_ctl"), "-D", str(self.socket_dir / "data"), "-l", str(self.log_file),
              "-w", "-t", "60", "start"], cwd=self.socket_dir)

    async def create_database(self, name: str | None = None, *, template: str | None = None) -> str:
        """Create a database (a copy of `template` when given, else empty); returns its name."""
        name = name or f"t_{uuid.uuid4().hex[:16]}"
        clause = f" TEMPLATE {_quote(template)}" if template else ""
        await self._admin(f"CREATE DATABASE {_quote(name)}{clause}")
        return name

    async def drop_database(self, name: str) -> None:
        """Drop a database, disconnecting whoever is still connected."""
        await self._admin(f"DROP DATABASE IF EXISTS {_quote(name)} WITH (FORCE)")

    async def _admin(self, sql: str) -> None:
        conn = await asyncpg.connect(host=str(self.socket_dir), port=SOCKET_PORT, user="postgres", database="postgres")
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    def __enter__(self) -> PostgresServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()



# PostgreSQL refuses to run as root: then every server binary runs as the `postgres` account.
_RUN_AS = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def _hand_to_server_account(directory: Path) -> None:
    if not _RUN_AS:
        return
    try:
        account = pwd.getpwnam("postgres")
    except KeyError:
        raise PostgresServerError("running as root needs a `postgres` system account to run the server") from None
    os.chown(directory, account.pw_uid, account.pw_gid)


def _run(command: list[str], *, cwd: Path) -> None:
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise PostgresServerError(f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One throwaway PostgreSQL server for the whole test session."""
    server = PostgresServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
