"""Rotating an environment-held master key under two running `serve` processes on one PostgreSQL:
at no step can either instance stop working or fail to start again with the ring it was told to use.

The Intacct passwords live only in the database (stored by `setup --from-env`); each instance gets
ML_CONNECTOR_MASTER_KEY and nothing else secret. Phase 1 shows a new key and re-encrypts nothing;
instance a restarts with NEW,OLD; phase 2 is refused while b still runs with OLD alone (it reports
its key ring), then runs once b restarted with NEW,OLD; both keep serving throughout; `check`
names the key that opens the data and says the old one is no longer needed; a restart with NEW
alone works, and one with OLD alone stops with one line naming the fix.
"""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest

from ops.vault import fingerprint, generate_key
from store.sql import open_store
from tests.fakes.postgres import PostgresServer
from tests.fakes.sandbox import running_sandbox
from tests.fakes.service_process import WALL_CLOCK, ServiceProcess, sandbox_service_environment, wait_until
from tests.ops.cli_harness import run

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

PASSWORDS = ("INTACCT_SENDER_PASSWORD", "INTACCT_USER_PASSWORD")
DEADLINE = 60.0


async def ready(http: aiohttp.ClientSession, instance: ServiceProcess) -> bool:
    """/readyz 200: the store answered and the settings, stored passwords included, were opened."""
    if not instance.running:
        raise AssertionError(f"{instance.name} exited with {instance.exit_code()}:\n{instance.log_tail()}")
    try:
        async with http.get(f"{instance.url}/readyz", timeout=aiohttp.ClientTimeout(total=2)) as response:
            return response.status == 200
    except (aiohttp.ClientError, asyncio.TimeoutError):
        return False


async def test_two_phase_rotation_never_locks_out_a_running_instance(postgres_server: PostgresServer, tmp_path: Path, capsys):
    database_url = postgres_server.url(await postgres_server.create_database())
    old = generate_key()
    async with running_sandbox(WALL_CLOCK) as sandbox, aiohttp.ClientSession() as http:
        full = sandbox_service_environment(tmp_path / "setup", sandbox.gateway_url, database_url=database_url)
        base = {k: v for k, v in full.items() if k not in PASSWORDS}  # the passwords only ever in the database
        store = open_store(database_url, data_dir=tmp_path)

        def instance(name: str, ring: str) -> ServiceProcess:
            env = sandbox_service_environment(tmp_path / name, sandbox.gateway_url, database_url=database_url)
            return ServiceProcess(name, {**{k: v for k, v in env.items() if k not in PASSWORDS}, "ML_CONNECTOR_MASTER_KEY": ring},
                                  tmp_path / f"{name}.log")

        async def reported(pid: int, fingerprints: tuple[str, ...]) -> bool:
            reports = await store.key_ring_reports(since=WALL_CLOCK() - timedelta(minutes=15))
            return any(r.holder.split(":")[1] == str(pid) and r.fingerprints == fingerprints for r in reports)

        async def restarted(running: ServiceProcess, ring: str, *keys: str) -> ServiceProcess:
            """`running` stopped and started again with ML_CONNECTOR_MASTER_KEY=ring; ready, and its ring reported."""
            await running.stop()
            again = instance(running.name, ring)
            await again.start(http)
            await wait_until(lambda: ready(http, again), timeout=DEADLINE, what=f"{again.name} ready with keys {keys}")
            fingerprints = tuple(fingerprint(k) for k in keys)
            await wait_until(lambda: reported(again.pid, fingerprints), timeout=DEADLINE, what=f"{again.name} reported its ring")
            return again

        a, b = instance("a", old), instance("b", old)
        try:
            # (at the default schedules: `every 1s` would fail check's monthly-cost line, so setup would store nothing)
            code, out, err = await run(capsys, ["setup", "--from-env"], {**{k: v for k, v in full.items() if not k.endswith("_SCHEDULE")},
                                                                          "ML_CONNECTOR_MASTER_KEY": old})
            assert code == 0, out + err
            await asyncio.gather(a.start(http), b.start(http))
            await wait_until(lambda: ready(http, a), timeout=DEADLINE, what="a ready with OLD")
            await wait_until(lambda: ready(http, b), timeout=DEADLINE, what="b ready with OLD")

            # Phase 1: a new key, shown; nothing re-encrypted.
            code, out, err = await run(capsys, ["setup", "--rotate-key"], {**base, "ML_CONNECTOR_MASTER_KEY": old})
            assert code == 0, out + err
            new = next(line for line in out.splitlines() if re.fullmatch(r"[A-Za-z0-9_-]{43}=", line))
            both = f"{new},{old}"

            # a restarts with NEW,OLD; b still runs with OLD alone: phase 2 is refused, nothing changes.
            a = await restarted(a, both, new, old)
            before = await store.load_secrets()
            code, out, err = await run(capsys, ["setup", "--rotate-key"], {**base, "ML_CONNECTOR_MASTER_KEY": both})
            assert code == 1 and f":{b.pid}:" in err and f"hold no key {fingerprint(new)}" in err, out + err
            assert await store.load_secrets() == before
            code, out, err = await run(capsys, ["check"], {**base, "ML_CONNECTOR_MASTER_KEY": both})
            assert f"the older key {fingerprint(old)} is still needed" in out and "1 of 2 hold no key" in out, out

            # b restarts with NEW,OLD; phase 2 re-encrypts; both keep serving.
            b = await restarted(b, both, new, old)
            code, out, err = await run(capsys, ["setup", "--rotate-key"], {**base, "ML_CONNECTOR_MASTER_KEY": both})
            assert code == 0 and "re-encrypted 6 of 6 stored value(s)" in out, out + err
            assert await ready(http, a) and await ready(http, b)
            code, out, err = await run(capsys, ["check"], {**base, "ML_CONNECTOR_MASTER_KEY": both})
            assert f"by key {fingerprint(new)}" in out and f"the older key {fingerprint(old)} is no longer needed" in out, out

            # The old key retired: a restart with NEW alone works; one with OLD alone stops, naming the fix.
            a = await restarted(a, new, new)
            stale = instance("stale", old)
            await stale.spawn()
            assert await asyncio.wait_for(stale.process.wait(), DEADLINE) == 2
            lines = [line for line in stale.log_tail().splitlines() if "cannot be opened" in line]
            assert len(lines) == 1 and "setup --reset" in lines[0] and "Traceback" not in stale.log_tail()
        finally:
            for each in (a, b):
                await each.stop()
            await store.close()
