"""Fixtures for the Intacct client tests: a scripted fake gateway on a random port and clients of it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, AsyncIterator, Callable

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from intacct.client import READS, IntacctClient
from intacct.credentials import IntacctCredentials
from intacct.schema import FieldInfo, ObjectCheck, SchemaReport
from sandbox.objects import OBJECTS as RECORDED_OBJECTS
from tests.fakes.clock import FakeClock
from tests.fakes.intacct_gateway import GATEWAY_PATH, FakeIntacctGateway


@pytest.fixture
async def gateway(clock: FakeClock) -> AsyncIterator[FakeIntacctGateway]:
    """A fake gateway on a random port, sharing the test's fake clock."""
    fake = FakeIntacctGateway(clock)
    server = TestServer(fake.app())
    await server.start_server()
    fake.base_url = str(server.make_url("")).rstrip("/")
    try:
        yield fake
    finally:
        await server.close()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """The aiohttp session a client is given."""
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def credentials(gateway: FakeIntacctGateway) -> IntacctCredentials:
    """The credentials the fake gateway accepts."""
    company_id, user_id, user_password = gateway.login_credentials
    return IntacctCredentials(gateway.sender[0], gateway.sender[1], company_id, user_id, user_password)


@pytest.fixture
def make_client(
    gateway: FakeIntacctGateway, http: aiohttp.ClientSession, clock: FakeClock, credentials: IntacctCredentials
) -> Callable[..., IntacctClient]:
    """Build a client of the fake gateway; keyword arguments override the defaults."""

    def build(*, credentials: IntacctCredentials = credentials, schema: SchemaReport | None = RECORDED, **overrides: Any) -> IntacctClient:
        """``schema``: the definitions installed up front (the recorded ones by default, so a test
        sees only its own requests); None makes the client `lookup` before its first read."""
        options: dict[str, Any] = {
            "http": http,
            "endpoint_url": gateway.base_url + GATEWAY_PATH,
            "clock": clock,
            "sleep": clock.sleep,
            "jitter": lambda: 1.0,
            "gmt_offset": timedelta(hours=-8),
        }
        client = IntacctClient(credentials, **{**options, **overrides})
        if schema is not None:
            client.use_schema(schema)
        return client

    return build


def recorded_schema() -> SchemaReport:
    """Every object the client reads as the recorded real definitions have it (what `lookup`
    answers for a company with every module): installed without a request."""
    return SchemaReport({
        spec.object: ObjectCheck(spec, {f.name: FieldInfo(f.recorded.get("DATATYPE", "")) for f in RECORDED_OBJECTS[spec.object].fields})
        for spec in READS
    })


RECORDED = recorded_schema()
