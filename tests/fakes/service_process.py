"""`python app.py serve` as a real OS process: its own environment, a free port, SIGKILL, its log.

The reliability and scale-out tests run the service exactly as an operator does, so a kill is a
real SIGKILL of a real process (no `finally`, no cleanup context, sockets torn down by the
kernel). Output goes to a log file per instance, never to a pipe: a pipe nobody reads fills up and
blocks the child. Waiting is always on the process (its HTTP port or its exit), bounded by a
deadline, with short awaits in between: the counterpart is another process, there is no event to
await.
"""

from __future__ import annotations

import asyncio
import ctypes
import functools
import os
import signal
import socket
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Awaitable, Callable, Mapping

import aiohttp

REPO = Path(__file__).resolve().parents[2]
POLL_INTERVAL = 0.05  # between two looks at another process (a socket, a database row)
_PORT_IN_USE = ("address already in use", "errno 98")
_PR_SET_PDEATHSIG = 1  # linux/prctl.h


class ServiceProcessError(AssertionError):
    """The service did not start, or a condition on it did not come true in time (a test failure)."""


class WallClock:
    """The real clock with FakeClock's interface (`clock()`, `await clock.sleep(s)`), for the
    helpers a test shares with a real process, which lives on real time."""

    def __call__(self) -> datetime:
        return datetime.now(timezone.utc)

    async def sleep(self, seconds: float) -> None:
        """Really wait (only the systems under test call this, never test logic)."""
        await asyncio.sleep(seconds)


WALL_CLOCK = WallClock()


def free_port() -> int:
    """A loopback port nobody listens on right now (the child binds it a moment later)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def base_environment(data_dir: Path) -> dict[str, str]:
    """What every test instance needs besides its configuration: no `.env` of the developer's,
    no inherited ML_CONNECTOR_* / INTACCT_* keys, logs at INFO, anonymous mode on loopback, and
    anyone in a team may subscribe (the Playground's people are mock users no Graph knows)."""
    keep = {key: os.environ[key] for key in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "ML_CONNECTOR_PG_BIN") if key in os.environ}
    return {**keep, "ML_CONNECTOR_ENV_FILE": str(data_dir / "no.env"), "DATA_DIR": str(data_dir), "LOG_LEVEL": "INFO",
            "HOST": "127.0.0.1", "ROUTE_ADMINS": "anyone", "PYTHONUNBUFFERED": "1"}


def sandbox_service_environment(data_dir: Path, gateway_url: str, *, lease_seconds: int = 3, claim_seconds: int = 3,
                                database_url: str | None = None) -> dict[str, str]:
    """`serve` against the sandbox's demo company: a poll every second, digest, reconciliation and
    reference refresh out of the way (1 January), short poll leases and outbox claims so a dead
    instance's work is taken over within seconds, and no summary card (every change is its own
    card, which the oracles count)."""
    env = {
        **base_environment(data_dir),
        "INTACCT_SENDER_ID": "mlc-sandbox", "INTACCT_SENDER_PASSWORD": "sandbox-secret", "INTACCT_COMPANY_ID": "DEMO-CO",
        "INTACCT_USER_ID": "ap-admin", "INTACCT_USER_PASSWORD": "demo-pass", "INTACCT_ENDPOINT_URL": gateway_url,
        "POLL_SCHEDULE": "every 1s", "DIGEST_SCHEDULE": "0 0 1 1 *", "RECONCILE_SCHEDULE": "0 0 1 1 *",
        "REFERENCE_SCHEDULE": "0 0 1 1 *", "POLL_LEASE_SECONDS": str(lease_seconds), "OUTBOX_CLAIM_SECONDS": str(claim_seconds),
        "MAX_EVENTS_PER_CYCLE_PER_CHANNEL": "1000",
    }
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


async def wait_until(condition: Callable[[], Awaitable[bool] | bool], *, timeout: float, what: str,
                     interval: float = POLL_INTERVAL) -> float:
    """Look at `condition` until it holds; returns the seconds it took, fails the test after `timeout`."""
    started = time.monotonic()
    deadline = started + timeout
    while True:
        outcome = condition()
        if not isinstance(outcome, bool):
            outcome = await outcome
        if outcome:
            return time.monotonic() - started
        if time.monotonic() >= deadline:
            raise ServiceProcessError(f"{what}: not true after {timeout:g} s")
        await asyncio.sleep(interval)


async def app_serving(http: aiohttp.ClientSession, url: str) -> bool:
    """Whether `serve` at `url` answers from the app itself, past its starting page (ops/serving.py):
    /healthz is 200 from both, but only the starting page's /readyz says `"starting": true`."""
    try:
        async with http.get(f"{url}/healthz", timeout=aiohttp.ClientTimeout(total=1)) as response:
            if response.status != 200:
                return False
        async with http.get(f"{url}/readyz", timeout=aiohttp.ClientTimeout(total=2)) as response:
            body = await response.json(content_type=None)
    except (aiohttp.ClientError, asyncio.TimeoutError, ValueError):
        return False
    return not body.get("starting", False)


@dataclass
class ServiceProcess:
    """One `python app.py serve` instance; `start()` picks a free port and waits until the app answers."""

    name: str
    env: Mapping[str, str] = field(repr=False)  # holds passwords
    log_file: Path
    python: str = sys.executable
    port: int = 0
    process: asyncio.subprocess.Process | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        """http://127.0.0.1:<port>."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        """The running process's id (None when not started)."""
        return self.process.pid if self.process is not None else None

    @property
    def running(self) -> bool:
        """Started and not exited."""
        return self.process is not None and self.process.returncode is None

    async def start(self, http: aiohttp.ClientSession, *, timeout: float = 30.0) -> float:
        """Spawn the process and return the seconds until the app answered (`app_serving`). A port taken
        between choosing and binding it is retried with another port."""
        for _ in range(3):
            await self.spawn()
            try:
                return await self.wait_healthy(http, timeout=timeout)
            except ServiceProcessError:
                if self.running or not any(text in self.log_tail().lower() for text in _PORT_IN_USE):
                    raise
        raise ServiceProcessError(f"{self.name}: no free port after 3 tries\n{self.log_tail()}")

    async def spawn(self) -> None:
        """Start the process on a fresh free port (returns once it is forked)."""
        if self.running:
            raise ServiceProcessError(f"{self.name} is already running (pid {self.pid})")
        self.port = free_port()
        self.starts += 1
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        die_with_parent = _parent_death_signal()
        with self.log_file.open("ab") as log:
            log.write(f"\n===== {self.name} start #{self.starts} on port {self.port} =====\n".encode())
            # The child gets its own copy of the descriptor: it keeps writing after we close ours.
            self.process = await asyncio.create_subprocess_exec(
                self.python, "app.py", "serve", cwd=REPO, env={**self.env, "PORT": str(self.port)},
                stdin=asyncio.subprocess.DEVNULL, stdout=log.fileno(), stderr=log.fileno(),
                start_new_session=True,  # a Ctrl-C to pytest must not reach it before the test's own cleanup
                preexec_fn=die_with_parent,
            )

    async def wait_healthy(self, http: aiohttp.ClientSession, *, timeout: float = 30.0) -> float:
        """Seconds until the app itself answers (`app_serving`); fails when the process exits first."""

        async def healthy() -> bool:
            if not self.running:
                raise ServiceProcessError(f"{self.name} exited with {self.exit_code()} before it was healthy:\n{self.log_tail()}")
            return await app_serving(http, self.url)

        return await wait_until(healthy, timeout=timeout, what=f"{self.name} healthy on {self.url}")

    def kill(self) -> None:
        """SIGKILL, synchronously (safe to call from inside a fake's request handler)."""
        if self.running:
            assert self.process is not None
            os.kill(self.process.pid, signal.SIGKILL)

    async def reap(self, timeout: float = 10.0) -> int | None:
        """Wait for the process to be gone after a kill; its exit code."""
        if self.process is None:
            return None
        try:
            return await asyncio.wait_for(self.process.wait(), timeout)
        except asyncio.TimeoutError:
            raise ServiceProcessError(f"{self.name} (pid {self.pid}) did not exit within {timeout:g} s") from None

    async def stop(self, timeout: float = 15.0) -> int | None:
        """SIGTERM (a clean shutdown), SIGKILL if it does not end in time; the exit code."""
        if not self.running:
            return self.exit_code()
        assert self.process is not None
        self.process.terminate()
        try:
            return await asyncio.wait_for(self.process.wait(), timeout)
        except asyncio.TimeoutError:
            self.kill()
            return await self.reap()

    def exit_code(self) -> int | None:
        """The last process's exit code (None while it runs or before a start)."""
        return self.process.returncode if self.process is not None else None

    def log_tail(self, lines: int = 60) -> str:
        """The end of the instance's log, for failure messages."""
        if not self.log_file.exists():
            return "(no log)"
        return "\n".join(self.log_file.read_text("utf-8", "replace").splitlines()[-lines:])


@functools.cache
def _parent_death_signal() -> Callable[[], None] | None:
    """What the child runs before exec so that it gets SIGKILL when the test process dies,
    however it dies (Linux's PR_SET_PDEATHSIG): no instance outlives an interrupted run. Looked up
    here, in the parent: between fork and exec only the call itself is safe. None off Linux (the
    tests' own cleanup still stops every instance)."""
    prctl = getattr(ctypes.CDLL(None), "prctl", None) if sys.platform.startswith("linux") else None
    if prctl is None:
        return None

    def die_with_parent() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)

    return die_with_parent
