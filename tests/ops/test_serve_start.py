"""`serve` with its database down: it listens, answers /readyz 503, retries with back-off, recovers.

Against a real PostgreSQL the test stops and starts (its own cluster, so no other test's
database goes away); the retry waits go through a sleep the test releases one by one, on a fake
clock, so nothing waits on the wall clock.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from datetime import datetime, timezone

import aiohttp

import app
from tests.fakes.clock import FakeClock
from tests.fakes.service_process import free_port
from tests.ops.cli_harness import run


class SteppedSleep:
    """A sleep that records what was asked, advances the fake clock, and returns when the test says so."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.delays: list[float] = []
        self._waiting: asyncio.Queue[asyncio.Event] = asyncio.Queue()

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        self.clock.advance(seconds)
        gate = asyncio.Event()
        await self._waiting.put(gate)
        await gate.wait()

    async def next(self) -> asyncio.Event:
        """The next sleep asked for (waits until serve asks); set it to let serve go on."""
        return await asyncio.wait_for(self._waiting.get(), 60)


async def get(http: aiohttp.ClientSession, url: str) -> tuple[int, str, dict]:
    async with http.get(url) as response:
        return response.status, await response.text(), dict(response.headers)


async def test_serve_waits_for_its_database_and_recovers_by_itself(capsys, environ, own_postgres, tmp_path):
    database = await own_postgres.create_database()
    environ = environ | {"DATABASE_URL": own_postgres.url(database), "HOST": "127.0.0.1", "PORT": str(free_port()),
                         "POLL_SCHEDULE": "0 0 1 1 *", "DIGEST_SCHEDULE": "0 0 1 1 *", "RECONCILE_SCHEDULE": "0 0 1 1 *",
                         "REFERENCE_SCHEDULE": "0 0 1 1 *"}
    # The passwords live in the database (setup), so serve cannot even know its company until it answers.
    code, out, err = await run(capsys, ["setup", "--from-env"], environ)
    assert code == 0, out + err
    without_passwords = {k: v for k, v in environ.items() if not k.endswith("PASSWORD")}
    own_postgres.halt()

    clock = FakeClock(datetime.now(timezone.utc))
    sleep = SteppedSleep(clock)
    stop, ready, ports = asyncio.Event(), asyncio.Event(), []
    serving = asyncio.create_task(app.serve(without_passwords, stop=stop, clock=clock, sleep=sleep,
                                            on_listening=ports.append, on_ready=ready.set))
    try:
        first = await sleep.next()  # attempt 1 failed: serve listens and waits
        base = f"http://127.0.0.1:{ports[0]}"
        async with aiohttp.ClientSession() as http:
            status, text, _ = await get(http, f"{base}/readyz")
            body = json.loads(text)
            assert status == 503 and body["starting"] is True and body["attempts"] == 1
            assert body["store"].startswith("unreachable: ") and "cannot reach the database" in body["store"]
            assert (await get(http, f"{base}/healthz"))[0] == 200  # alive: no restart loop
            async with http.post(f"{base}/api/messages", json={}) as response:
                assert response.status == 503 and response.headers["Retry-After"] == "5"

            first.set()
            second = await sleep.next()  # attempt 2 failed too: the wait doubled
            assert sleep.delays == [1.0, 2.0]
            assert json.loads((await get(http, f"{base}/readyz"))[1])["attempts"] == 2

            own_postgres.resume()
            second.set()
            await asyncio.wait_for(ready.wait(), 60)  # attempt 3 reached it: the real app took the socket over
            status, text, _ = await get(http, f"{base}/readyz")
            assert status == 200 and json.loads(text)["store"] == "ok"
            assert sleep.delays == [1.0, 2.0]
    finally:
        stop.set()
        await asyncio.wait_for(serving, 60)
    assert not serving.exception()


def test_a_database_that_refuses_for_another_reason_is_not_waited_for(environ, tmp_path):
    # Not "unreachable": the database is there but cannot be used (SQLite cannot open a directory).
    (tmp_path / "dir.db").mkdir()
    env = environ | {"DATABASE_URL": f"sqlite:///{tmp_path / 'dir.db'}", "HOST": "127.0.0.1", "PORT": str(free_port()),
                     "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "app.py", "serve"], cwd=app.ROOT, env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and done.stdout == "" and "Traceback" not in done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("ml-connector: ") and "see the database's log, and check DATABASE_URL" in last
