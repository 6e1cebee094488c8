"""run_sandbox: a real server on a free port, reachable until its task is cancelled."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from sandbox import GATEWAY_PATH, run_sandbox
from sandbox.app import SESSION_PATH
from tests.fakes.clock import FakeClock
from tests.sandbox.helpers import get_api_session, parse, request


async def test_run_sandbox_serves_until_cancelled(clock: FakeClock) -> None:
    ready: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(run_sandbox("127.0.0.1", 0, "empty", clock=clock, sleep=clock.sleep, on_ready=ready.set_result))
    base_url = await asyncio.wait_for(ready, timeout=10)
    async with aiohttp.ClientSession() as http:
        async with http.post(base_url + GATEWAY_PATH, data=request([get_api_session()])) as response:
            root = parse(await response.read())
        assert root.findtext("operation/result/status") == "success"
        assert root.findtext("operation/result/data/api/endpoint") == base_url + SESSION_PATH
        async with http.get(base_url + "/sandbox/stats") as response:
            assert (await response.json())["sessions_issued"] == 1
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        with pytest.raises(aiohttp.ClientConnectionError):
            async with http.get(base_url + "/sandbox/stats"):
                pass
