"""The Intacct sandbox on a random port, with admin-API shortcuts and a client factory for tests."""

from __future__ import annotations

from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, AsyncIterator

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer

from intacct.client import IntacctClient
from intacct.credentials import IntacctCredentials
from sandbox import SANDBOX_STATE, create_sandbox_app
from tests.fakes.clock import FakeClock

DEMO_CREDENTIALS = IntacctCredentials("mlc-sandbox", "sandbox-secret", "DEMO-CO", "ap-admin", "demo-pass")
GATEWAY_PATH = "/ia/xml/xmlgw.phtml"


@dataclass
class RunningSandbox:
    """A sandbox served over real HTTP, and an aiohttp session to reach it."""

    server: TestServer
    http: aiohttp.ClientSession

    @property
    def url(self) -> str:
        """Base URL, e.g. http://127.0.0.1:41234."""
        return str(self.server.make_url("")).rstrip("/")

    @property
    def gateway_url(self) -> str:
        """Where the XML gateway listens."""
        return self.url + GATEWAY_PATH

    @property
    def state(self):
        """The in-memory company (for the rare test that must change data behind Intacct's back)."""
        return self.server.app[SANDBOX_STATE]

    def client(self, clock: FakeClock, credentials: IntacctCredentials = DEMO_CREDENTIALS, **options: Any) -> IntacctClient:
        """An IntacctClient pointed at this sandbox, on the test's clock."""
        options.setdefault("sleep", clock.sleep)
        options.setdefault("jitter", lambda: 0.5)
        return IntacctClient(credentials, http=self.http, endpoint_url=self.gateway_url, clock=clock, **options)

    async def admin(self, method: str, path: str, payload: Any = None) -> Any:
        """Call the admin API and return its JSON, asserting success."""
        async with self.http.request(method, self.url + path, json=payload) as response:
            body = await response.json()
            assert response.status < 300, (response.status, body)
            return body

    async def add_bill(self, **fields: Any) -> dict:
        """POST /sandbox/bills → {record_no, bill_number}."""
        return await self.admin("POST", "/sandbox/bills", fields)

    async def set_bill_state(self, record_no: int, state: str) -> dict:
        """Move a bill (Approved, Declined, Paid…)."""
        return await self.admin("POST", f"/sandbox/bills/{record_no}/state", {"state": state})

    async def add_payment(self, **fields: Any) -> dict:
        """POST /sandbox/payments (state Submitted)."""
        return await self.admin("POST", "/sandbox/payments", fields)

    async def set_payment_state(self, record_no: int, state: str) -> dict:
        """Move a payment."""
        return await self.admin("POST", f"/sandbox/payments/{record_no}/state", {"state": state})

    async def set_vendor_status(self, vendor_id: str, **fields: Any) -> dict:
        """Change a vendor's status and/or hold flag."""
        return await self.admin("POST", f"/sandbox/vendors/{vendor_id}/status", fields)

    async def fault(self, kind: str, **fields: Any) -> dict:
        """Inject a fault into the next gateway request(s)."""
        return await self.admin("POST", "/sandbox/faults", {"kind": kind, **fields})

    async def stats(self) -> dict:
        """{requests, functions: {name: count}, sessions_issued}."""
        return await self.admin("GET", "/sandbox/stats")


@asynccontextmanager
async def running_sandbox(clock: FakeClock, seed: str = "demo", **options: Any) -> AsyncIterator[RunningSandbox]:
    """Serve a sandbox on a random port for the duration of the block."""
    options.setdefault("clock", clock)
    options.setdefault("sleep", clock.sleep)
    async with serving_sandbox(create_sandbox_app(seed, **options)) as sandbox:
        yield sandbox


@asynccontextmanager
async def serving_sandbox(app: web.Application) -> AsyncIterator[RunningSandbox]:
    """Serve a sandbox application on a random loopback port for the duration of the block."""
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    http = aiohttp.ClientSession()
    try:
        yield RunningSandbox(server, http)
    finally:
        await http.close()
        await server.close()
