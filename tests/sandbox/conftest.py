"""Fixtures: sandbox apps on random ports sharing the test's fake clock (time moves only by hand)."""

from __future__ import annotations

from typing import Any, AsyncIterator, Awaitable, Callable

import pytest
from aiohttp.test_utils import TestClient, TestServer

from sandbox import create_sandbox_app
from tests.fakes.clock import FakeClock
from tests.sandbox.helpers import Sandbox

MakeSandbox = Callable[..., Awaitable[Sandbox]]


@pytest.fixture
async def make_sandbox(clock: FakeClock) -> AsyncIterator[MakeSandbox]:
    """Start sandboxes (seed and create_sandbox_app options as arguments); all closed at the end."""
    clients: list[TestClient] = []

    async def start(seed: str = "demo", **options: Any) -> Sandbox:
        options.setdefault("clock", clock)
        options.setdefault("sleep", clock.sleep)
        client = TestClient(TestServer(create_sandbox_app(seed, **options)))
        await client.start_server()
        clients.append(client)
        return Sandbox(client)

    yield start
    for client in clients:
        await client.close()


@pytest.fixture
async def sandbox(make_sandbox: MakeSandbox) -> Sandbox:
    """The demo company."""
    return await make_sandbox("demo")


@pytest.fixture
async def empty_sandbox(make_sandbox: MakeSandbox) -> Sandbox:
    """The empty company (same credentials and dimensions, no vendors, bills or payments)."""
    return await make_sandbox("empty")
