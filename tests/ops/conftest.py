"""The command line's test world: the sandbox gateway over HTTP and an environment pointing at it."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestServer

import app
from sandbox import create_sandbox_app
from tests.fakes.postgres import PostgresServer

SANDBOX_CREDENTIALS = {
    "INTACCT_SENDER_ID": "mlc-sandbox", "INTACCT_SENDER_PASSWORD": "sandbox-secret", "INTACCT_COMPANY_ID": "DEMO-CO",
    "INTACCT_USER_ID": "ap-admin", "INTACCT_USER_PASSWORD": "demo-pass",
}


@pytest.fixture
async def gateway():
    """The Intacct sandbox (demo seed) on a free port."""
    sandbox = TestServer(create_sandbox_app("demo", clock=app.utc_now, web_url=None))
    await sandbox.start_server()
    yield sandbox
    await sandbox.close()


@pytest.fixture
def bare_environ(tmp_path):
    """What every command needs besides Intacct: its own data dir, no developer's .env, quiet logs."""
    return {"DATA_DIR": str(tmp_path / "data"), "ML_CONNECTOR_ENV_FILE": str(tmp_path / "absent.env"), "LOG_LEVEL": "WARNING",
            "HOST": "127.0.0.1"}  # anonymous mode, as the Playground runs it, is for loopback only


@pytest.fixture
def environ(gateway, bare_environ):
    """The sandbox's demo company as the one configured company."""
    return {**SANDBOX_CREDENTIALS, "INTACCT_ENDPOINT_URL": str(gateway.make_url("/ia/xml/xmlgw.phtml")), **bare_environ}


@pytest.fixture
def own_postgres():
    """A PostgreSQL cluster of the test's own, for tests that stop and start it."""
    server = PostgresServer()
    server.start()
    yield server
    server.stop()
