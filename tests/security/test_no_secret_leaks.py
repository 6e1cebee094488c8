"""Every secret stays off every surface, in authenticated mode.

One whole life of the app against the fakes, each a strict counterpart: `setup` stores every
credential encrypted after the real credential test (`check`'s, through the fake Entra, Intacct
and Graph); the app starts from the stored values alone as a single-tenant Azure Bot — inbound
activities carry Bot Framework tokens checked against the fake login.botframework.com, outbound
sends carry tokens the fake Entra issued, which the fake Bot Connector checks; Graph subscribes
with a clientState and delivers a notification; Intacct is polled and a card posted; a forged
token is refused. Then `check` runs with a wrong bot secret and a wrong Intacct password, and the
audit trail is exported both ways.

Searched, for every secret: the raw log records (before masking), the operator's log in text and
in JSON, the SQLite database with its WAL and shared-memory files (read while the app runs, and
after), both audit exports, /metrics, /readyz, the HTTP answers to refused requests, and every
line `setup` and `check` printed. Secrets: APP_PASSWORD, GRAPH_CLIENT_SECRET, the Intacct sender
and user passwords, the Intacct events secret, the master key, every Intacct session id the
gateway issued, every access token Entra issued (the bot's and Graph's), the inbound channel
tokens, and Graph's clientState (everywhere but the database, which must keep it to check it).
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import io
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

import app
from sandbox import SANDBOX_STATE, create_sandbox_app
from observability.logs import MASKER, JsonFormatter
from ops.setup import QUESTIONS, Interactive, run_setup
from store.engine import SQLITE_FILE_NAME
from store.sql import open_store
from tests.fakes.bot_connector import BotRegistration, FakeBotConnector
from tests.fakes.bot_openid import HOST as BOT_OPENID_HOST
from tests.fakes.bot_openid import channel_token, keypair, running_bot_openid
from tests.fakes.entra_graph import ENTRA_HOST, TENANT_ID, make_test_tls, running_entra_graph
from tests.fakes.network import RedirectingResolver, redirected_session
from tests.fakes.service_process import free_port

PLAYGROUND = Path(__file__).resolve().parents[1] / "fixtures" / "teams-samples" / "playground"
CHANNEL = "channel-announcements-id"
TEAM_GRAPH_ID = "00000000-0000-0000-0000-000000000031"  # the Playground team's aadGroupId
OWNER = "1d2c3b4a-5e6f-4a7b-8c9d-0e1f2a3b4c5d"  # the person in the activities, a team owner in Graph
BOT_APP, GRAPH_APP = "5b1f0f8e-2d7c-4f31-9a55-1c0de0b0a7e1", "9c2e4d6f-8a1b-4c3d-9e5f-7a6b5c4d3e21"
MASTER_KEY_NAME = "master.key"


@dataclass
class Secrets:
    """Every secret of the run, by kind (what a failing assertion names)."""

    named: dict[str, str] = field(default_factory=dict)
    kinds: dict[str, list[str]] = field(default_factory=dict)

    def add(self, kind: str, *values: str) -> None:
        self.kinds.setdefault(kind, []).extend(v for v in values if v)

    def all(self, *, except_kinds: tuple[str, ...] = ()) -> list[tuple[str, str]]:
        found = [(kind, value) for kind, values in self.kinds.items() if kind not in except_kinds for value in values]
        found += [(kind, value) for kind, value in self.named.items() if kind not in except_kinds]
        return found


CREDENTIALS = {
    "INTACCT_SENDER_ID": "mlc-sandbox", "INTACCT_SENDER_PASSWORD": "sandbox-secret", "INTACCT_COMPANY_ID": "DEMO-CO",
    "INTACCT_USER_ID": "ap-admin", "INTACCT_USER_PASSWORD": "demo-pass",  # what the sandbox accepts
    "APP_ID": BOT_APP, "APP_PASSWORD": "bot~Secret.Value_4k5l6m7n", "APP_TENANTID": TENANT_ID,
    "GRAPH_CLIENT_SECRET": "graph~Secret.Value_1q2w3e4r",
}
SECRET_SETTINGS = ("INTACCT_SENDER_PASSWORD", "INTACCT_USER_PASSWORD", "APP_PASSWORD", "GRAPH_CLIENT_SECRET")
EVENTS_SECRET = "events-secret-0123456789abcdef"


class RawRecords(logging.Handler):
    """What the code hands to logging, copied as it is emitted: the masker edits records in place
    in the operator's handlers, so records kept by reference (caplog's) are masked by the time a
    test reads them."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        trace = logging.Formatter().formatException(record.exc_info) if record.exc_info else ""
        self.lines.append(f"{record.getMessage()} {trace} " + json.dumps({k: str(v) for k, v in vars(record).items()}))


def activity(name: str, service_url: str, **changes) -> dict:
    """A recorded Playground activity aimed at the fake connector, in the bot's own tenant."""
    body = copy.deepcopy(json.loads((PLAYGROUND / name).read_text()))
    body["serviceUrl"] = service_url
    body["conversation"]["tenantId"] = TENANT_ID
    body["channelData"]["tenant"]["id"] = TENANT_ID
    body["from"]["aadObjectId"] = OWNER  # the Playground's mock id is not a GUID, which Graph would refuse
    body.update(changes)
    return body


def mention(text: str, service_url: str) -> dict:
    return activity("message-channel-mention.json", service_url, text=f"<at>Test Bot</at> {text}")


pytestmark = [pytest.mark.usefixtures("restore_root_logger"), pytest.mark.slow]


async def test_no_secret_reaches_any_surface_in_authenticated_mode(tmp_path, capsys):
    raw = RawRecords()
    logging.getLogger().addHandler(raw)  # before the operator's handlers, which mask
    logging.getLogger().setLevel(logging.DEBUG)
    secrets = Secrets()
    data_dir = tmp_path / "data"
    tls = make_test_tls(ENTRA_HOST, BOT_OPENID_HOST)
    signing, public = keypair()
    stranger, _ = keypair()
    sandbox = TestServer(create_sandbox_app("demo", clock=app.utc_now, web_url=None))
    await sandbox.start_server()
    public_port = free_port()
    said: list[str] = []
    answers: dict[str, int] = {}
    async with running_entra_graph(clock=app.utc_now, tls=tls, require_https=False) as entra, \
            running_bot_openid([public], tls=tls) as openid, \
            FakeBotConnector(tenant_id=TENANT_ID, auth=BotRegistration(BOT_APP, TENANT_ID)) as connector:
        entra.fake.register_app(BOT_APP, CREDENTIALS["APP_PASSWORD"])
        entra.fake.register_app(GRAPH_APP, CREDENTIALS["GRAPH_CLIENT_SECRET"])
        entra.fake.roles.add("TeamMember.Read.All")
        entra.fake.add_team(TEAM_GRAPH_ID, {CHANNEL: "Announcements"})
        entra.fake.add_team_member(TEAM_GRAPH_ID, OWNER, "Alex Wilber", roles=("owner",))
        connector.add_team("team-id", name="My Team", aad_group_id=TEAM_GRAPH_ID, channels={CHANNEL: "Announcements"})
        resolver = RedirectingResolver({ENTRA_HOST: int(entra.url.rsplit(":", 1)[1]), BOT_OPENID_HOST: openid.port})

        def network() -> aiohttp.ClientSession:
            return redirected_session(resolver, tls)

        environ = {
            "DATA_DIR": str(data_dir), "ML_CONNECTOR_ENV_FILE": str(tmp_path / "none.env"),
            "INTACCT_ENDPOINT_URL": str(sandbox.make_url("/ia/xml/xmlgw.phtml")), "INTACCT_EVENTS_SECRET": EVENTS_SECRET,
            "GRAPH_CLIENT_ID": GRAPH_APP, "GRAPH_TENANT_ID": TENANT_ID, "GRAPH_BASE_URL": entra.graph_url,
            "PUBLIC_URL": f"http://127.0.0.1:{public_port}", "HOST": "127.0.0.1", "PORT": str(public_port),
            "POLL_SCHEDULE": "0 0 1 1 *", "LOG_LEVEL": "DEBUG", "LOG_FORMAT": "text",
        }

        # 1. setup stores everything encrypted, after the real credential test (key file created 0600).
        async def credential_test(values):
            return await app._checks(app.load_settings({**environ, **values}), http=network())

        store = open_store(None, data_dir=data_dir)
        await store.migrate()
        questions = {q.prompt: q.key for q in QUESTIONS}
        given = {**CREDENTIALS, "INTACCT_ENDPOINT_URL": environ["INTACCT_ENDPOINT_URL"]}
        await run_setup(store, master_key="", key_file=data_dir / MASTER_KEY_NAME, say=said.append, test=credential_test,
                        now=app.utc_now, source=Interactive(lambda prompt, secret: next(
                            (given.get(key, "") for text, key in questions.items() if prompt.startswith(text)), "")))
        await store.close()
        assert said[-1].startswith("Stored "), said
        assert not [line for line in said if line.startswith("  FAIL")], said  # the real test passed: every system answered
        assert any(r.path == f"/{TENANT_ID}/oauth2/v2.0/token" for r in entra.fake.requests), "setup asked Entra for real"
        assert (data_dir / MASTER_KEY_NAME).stat().st_mode & 0o777 == 0o600
        secrets.named["master key"] = (data_dir / MASTER_KEY_NAME).read_text().strip()
        for key in SECRET_SETTINGS:
            secrets.named[key] = CREDENTIALS[key]
        secrets.named["INTACCT_EVENTS_SECRET"] = EVENTS_SECRET

        # 2. the app starts from the stored values alone, authenticated, logging in both formats.
        settings = await asyncio.to_thread(app.load_runtime_settings, environ)
        assert settings.bot_authenticated and settings.app_password.reveal() == CREDENTIALS["APP_PASSWORD"]
        text_log, json_log = io.StringIO(), io.StringIO()
        app.configure_logs(settings, stream=text_log)
        json_handler = logging.StreamHandler(json_log)
        json_handler.setFormatter(JsonFormatter())
        json_handler.addFilter(MASKER)
        logging.getLogger().addHandler(json_handler)
        runtime = await app.build_runtime(settings, http=network())
        web_app, context = await app.build_web_app(runtime)
        server = TestServer(web_app, host="127.0.0.1", port=public_port)
        await server.start_server()
        files_while_running: dict[str, bytes] = {}
        try:
            messages_url = str(server.make_url("/api/messages"))
            async with aiohttp.ClientSession() as http:

                async def post(body: dict, key=signing) -> int:
                    token = channel_token(key, body["serviceUrl"], app_id=BOT_APP)
                    secrets.add("inbound channel token", token)
                    async with http.post(messages_url, json=body, headers={"Authorization": f"Bearer {token}"}) as response:
                        answers[f"{response.status} {body.get('text') or body['type']}"] = response.status
                        said.append(await response.text())
                        return response.status

                for name in ("installation-update-add.json", "conversation-update-bot-added.json"):
                    assert await post(activity(name, connector.service_url)) == 201
                for text in ("subscribe all", "show pending bills", "show vendor ' OR 1=1 --"):
                    assert await post(mention(text, connector.service_url)) == 201
                assert await post(mention("status", connector.service_url), key=stranger) == 401  # forged: refused

                company = next(iter(runtime.companies.values()))
                await company.coordinator.poll()  # baseline
                async with http.post(str(sandbox.make_url("/sandbox/bills")), json={"amount": "77.70"}) as response:
                    assert response.status == 201
                assert (await company.coordinator.poll()).ok
                async with asyncio.timeout(30):
                    while not connector.posts_in(CHANNEL) or not entra.fake.live_subscriptions():
                        await asyncio.sleep(0.05)  # the notifier posts; the Graph bridge subscribes the routed team
                (subscription,) = entra.fake.live_subscriptions()
                secrets.add("Graph clientState", subscription.client_state)
                assert await entra.fake.notify_channel_change(TEAM_GRAPH_ID, CHANNEL, "updated") == [202]
                assert all(call.authorized for call in connector.calls), "every send carried the bot's Entra token"

                for path in ("/metrics", "/readyz"):
                    async with http.get(str(server.make_url(path))) as response:
                        said.append(await response.text())
                        answers[path] = response.status
            for suffix in ("", "-wal", "-shm"):  # the WAL exists while connections are open
                part = data_dir / f"{SQLITE_FILE_NAME}{suffix}"
                if part.exists():
                    files_while_running[part.name] = part.read_bytes()
        finally:
            await server.close()
            secrets.add("Intacct session id", *sandbox.app[SANDBOX_STATE].sessions.live_ids())
            await runtime.close()
        assert answers["/metrics"] == 200 and answers["/readyz"] == 200
        assert f"{SQLITE_FILE_NAME}-wal" in files_while_running, "the running store had a WAL to search"

        # 3. check with a wrong bot secret and a wrong Intacct password: error messages.
        for wrong in ({"APP_PASSWORD": "wrong~Bot.Secret_00000"}, {"INTACCT_USER_PASSWORD": "wrong-user-pass"}):
            lines = await app._checks(app.load_settings({**environ, **CREDENTIALS, **wrong}), http=network())
            said += [text for _, text in lines]
            assert any(ok is False for ok, _ in lines), lines
            secrets.add("a wrong password tried", *wrong.values())
        secrets.add("Entra access token", *entra.fake.tokens)
    await sandbox.close()
    assert secrets.kinds["Intacct session id"] and len(secrets.kinds["Entra access token"]) >= 2

    # 4. the audit trail exported both ways (the commands run their own loop: a thread).
    for form in ("csv", "json"):
        await asyncio.to_thread(app.cmd_audit, argparse.Namespace(since=None, until=None, format=form), environ)
    printed = capsys.readouterr()
    assert "post" in printed.out

    # 5. search everything written for every secret.
    surfaces = {
        "raw log records": "\n".join(raw.lines),
        "the operator's text log": text_log.getvalue(),
        "the operator's JSON log": json_log.getvalue(),
        "the audit exports and commands' stdout/stderr": printed.out + printed.err,
        "setup's and check's lines, HTTP answers, /metrics, /readyz": "\n".join(said),
    }
    assert len(raw.lines) > 50 and json_log.getvalue().count("\n") > 20 and "mlc_" in surfaces[
        "setup's and check's lines, HTTP answers, /metrics, /readyz"]
    files_after = {p.name: p.read_bytes() for p in data_dir.rglob("*") if p.is_file() and p.name != MASTER_KEY_NAME}
    database = {f"{name} (while running)": content for name, content in files_while_running.items()}
    database.update({f"{name} (after)": content for name, content in files_after.items()})
    leaks = [f"{kind} in {surface}" for kind, secret in secrets.all() for surface, text in surfaces.items() if secret in text]
    leaks += [f"{kind} in {name}" for kind, secret in secrets.all(except_kinds=("Graph clientState",))
              for name, content in database.items() if secret.encode() in content]
    assert leaks == []
