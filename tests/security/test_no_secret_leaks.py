"""A full cycle with known secrets — setup stores them, the app polls, posts, answers a command,
takes Intacct wake-ups (and refuses a wrong secret and a forged token), the audit is exported —
then every log line, the database files and the exports are searched for each secret (Intacct
passwords, the master key, every session id the gateway issued, the wake-up secrets and tokens)."""

from __future__ import annotations

import argparse
import asyncio
import copy
import io
import json
import logging
from pathlib import Path

import aiohttp
import jwt
import pytest
from aiohttp.test_utils import TestServer

import app
from intacct.sandbox import SANDBOX_STATE, create_sandbox_app
from ops.setup import run_setup
from store.sql import open_store
from tests.fakes.bot_connector import FakeBotConnector

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
PLAYGROUND_TENANT = "00000000-0000-0000-0000-0000000000001"
CHANNEL = "channel-announcements-id"
SENDER_PASSWORD, USER_PASSWORD = "sandbox-secret", "demo-pass"  # what the sandbox accepts
MASTER_KEY_NAME = "master.key"
EVENTS_SECRET, CLIENT_SECRET = "wake-up-secret-0123456789abcdef", "rest-client-secret-0123456789abcdef"
GUESSED_SECRET = "wake-up-secret-0123456789abcdeX"  # a caller's near miss must not be logged either
TOKEN = jwt.encode({"iss": "x", "iat": 1, "exp": 2}, "a-forger-key-of-thirty-two-bytes!", algorithm="HS256")


def mention(text: str, service_url: str) -> dict:
    activity = json.loads((FIXTURES / "teams-samples/playground/message-channel-mention.json").read_text())
    activity = copy.deepcopy(activity)
    activity["serviceUrl"] = service_url
    activity["text"] = f"<at>Test Bot</at> {text}"
    return activity


pytestmark = pytest.mark.usefixtures("restore_root_logger")


@pytest.mark.slow
async def test_a_full_cycle_leaves_no_secret_in_logs_files_or_exports(tmp_path, capsys, caplog):
    caplog.set_level(logging.DEBUG)  # raw records, before any masking
    data_dir = tmp_path / "data"
    sandbox = TestServer(create_sandbox_app("demo", clock=app.utc_now, web_url=None))
    await sandbox.start_server()
    gateway = str(sandbox.make_url("/ia/xml/xmlgw.phtml"))
    environ = {"DATA_DIR": str(data_dir), "INTACCT_ENDPOINT_URL": gateway, "POLL_SCHEDULE": "0 0 1 1 *",
               "LOG_LEVEL": "DEBUG", "LOG_FORMAT": "json", "ML_CONNECTOR_ENV_FILE": str(tmp_path / "none.env"),
               "ROUTE_ADMINS": "anyone",  # the Playground's mock people: no Graph knows them
               "INTACCT_EVENTS_SECRET": EVENTS_SECRET, "INTACCT_EVENTS_CLIENT_ID": "mlc.app.sage.com",
               "INTACCT_EVENTS_CLIENT_SECRET": CLIENT_SECRET}
    answers = {"Intacct Web Services sender id": "mlc-sandbox", "Intacct sender password": SENDER_PASSWORD,
               "Intacct company id": "DEMO-CO", "Intacct web-services user id": "ap-admin", "Intacct user password": USER_PASSWORD}

    def ask(prompt: str, secret: bool) -> str:
        return next((v for k, v in answers.items() if prompt.startswith(k)), "")

    async def test_values(values):
        return [(True, "not tested here")]

    # 1. setup stores the credentials encrypted (key file created with mode 0600).
    store = open_store(None, data_dir=data_dir)
    await store.migrate()
    await run_setup(store, master_key="", key_file=data_dir / MASTER_KEY_NAME, ask=ask, say=lambda _: None, test=test_values, now=app.utc_now)
    await store.close()
    assert (data_dir / MASTER_KEY_NAME).stat().st_mode & 0o777 == 0o600
    master_key = (data_dir / MASTER_KEY_NAME).read_text().strip()

    # 2. the app starts from stored secrets alone, logs as an operator would see them.
    settings = await _settings(environ)
    assert settings.companies[0].user_password.reveal() == USER_PASSWORD
    log_stream = io.StringIO()
    app.configure_logs(settings, stream=log_stream)
    async with FakeBotConnector(tenant_id=PLAYGROUND_TENANT) as connector:
        connector.add_team("team-id", name="My Team", channels={CHANNEL: "Announcements"})
        runtime = await app.build_runtime(settings)
        web_app, context = await app.build_web_app(runtime)
        server = TestServer(web_app)
        await server.start_server()
        try:
            messages_url = str(server.make_url("/api/messages"))
            async with aiohttp.ClientSession() as http:
                for text in ("subscribe all", "show pending bills", "show vendor ' OR 1=1 --"):
                    async with http.post(messages_url, json=mention(text, connector.service_url)) as response:
                        assert response.status in (200, 201), await response.text()
                company = next(iter(runtime.companies.values()))
                await company.coordinator.poll()  # baseline (the start-up poll may have run it already)
                async with http.post(str(sandbox.make_url("/sandbox/bills")), json={"amount": "77.70"}) as response:
                    assert response.status == 201
                events = str(server.make_url("/api/intacct/events?company=DEMO-CO"))
                for body, headers, status in ((json.dumps({"secret": EVENTS_SECRET}), {}, 200),
                                              (json.dumps({"secret": GUESSED_SECRET}), {}, 401),
                                              ("", {"Authorization": f"Bearer {TOKEN}", "X-Trusted-Context": "e30="}, 401)):
                    async with http.post(events, data=body, headers=headers) as response:
                        assert response.status == status
                outcome = await company.coordinator.poll()
                assert outcome.ok  # (or the scheduler's start-up poll queued it first)
                # The app's own notifier (started with the app) posts it; wait for the real delivery.
                async with asyncio.timeout(30):
                    while not connector.posts_in(CHANNEL):
                        await asyncio.sleep(0.05)
        finally:
            await server.close()
            session_ids = sandbox.app[SANDBOX_STATE].sessions.live_ids()
            await runtime.close()
    await sandbox.close()
    assert session_ids, "the gateway issued sessions"

    # 3. the audit trail exported both ways.
    # (the commands run their own event loop, as from the shell: give them a thread)
    await asyncio.to_thread(app.cmd_audit, argparse.Namespace(since=None, until=None, format="csv"), environ)
    await asyncio.to_thread(app.cmd_audit, argparse.Namespace(since=None, until=None, format="json"), environ)
    exports = capsys.readouterr().out
    assert "post" in exports

    # 4. search everything written for every secret.
    secrets = [SENDER_PASSWORD, USER_PASSWORD, master_key, *session_ids, EVENTS_SECRET, CLIENT_SECRET, GUESSED_SECRET, TOKEN]
    raw_logs = "\n".join(r.getMessage() + " " + json.dumps({k: str(v) for k, v in vars(r).items()}) for r in caplog.records)
    files = {p.name: p.read_bytes() for p in data_dir.rglob("*") if p.is_file() and p.name != MASTER_KEY_NAME}
    assert any(name.endswith(".db") for name in files)
    for secret in secrets:
        assert secret not in raw_logs, f"a log record carries a secret ({secret[:3]}…)"
        assert secret not in log_stream.getvalue(), "the operator's log carries a secret"
        assert secret not in exports, "an audit export carries a secret"
        for name, content in files.items():
            assert secret.encode() not in content, f"{name} holds a secret in clear ({secret[:3]}…)"
    assert len(caplog.records) > 20, "the cycle was logged (at DEBUG)"


async def _settings(environ):
    # load_runtime_settings runs its own event loop for the store; give it a thread here.
    return await asyncio.to_thread(app.load_runtime_settings, environ)
