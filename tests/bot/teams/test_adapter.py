"""create_adapter: configuration checks, anonymous mode, and inbound JWT validation pointed at a
local OpenID endpoint (botbuilder fetches keys with blocking `requests`, so that endpoint runs in
its own thread)."""

from __future__ import annotations

import asyncio
import copy
import functools
import time
import urllib.parse
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from botbuilder.core import ActivityHandler, TurnContext

from bot.teams import errors
from bot.teams.connector import close_adapter, create_adapter, fetch_bot_token, strip_mention
from graph.msal_http import LoopHttpClient
from tests.bot.conftest import CHANNEL_ID, TEAM_ID, load_sample
from tests.fakes.bot_connector import BotRegistration, FakeBotConnector
from tests.fakes.bot_openid import channel_token, keypair, running_bot_openid
from tests.fakes.entra_graph import BOTFRAMEWORK_TENANT_ID, ENTRA_HOST, make_test_tls, running_entra_graph
from tests.fakes.network import entra_session

APP_ID = "00000000-0000-0000-0000-00000000000011"  # the Playground's bot id, as in the sample
BOT_TENANT = "7f3c1a52-3d2e-4b8a-9d61-0c8e2f4a9b10"


@pytest.mark.parametrize(
    ("args", "kwargs", "problem"),
    [
        (("", "", "Sideways"), {}, "APP_TYPE must be one of"),
        (("id", "pw"), {}, "SingleTenant needs"),  # the default type
        (("id", "pw", "SingleTenant"), {}, "SingleTenant needs"),
        (("id", "", "UserAssignedMSI"), {}, "UserAssignedMSI needs"),
        (("id", "", "MultiTenant"), {}, "MultiTenant needs both"),
        (("", "pw"), {}, "APP_PASSWORD is set but APP_ID is empty"),
        (("", ""), {"timeout_seconds": 0}, "timeout_seconds"),
    ],
)
def test_incomplete_configuration_is_refused_with_a_clear_message(args, kwargs, problem):
    with pytest.raises(errors.BadArgumentError) as caught:
        create_adapter(*args, **kwargs)

    assert problem in str(caught.value)
    assert caught.value.config_error
    assert "pw" not in str(caught.value).replace("pw'", "")  # never echoes a password


@pytest.mark.parametrize("app_type", ["SingleTenant", "singletenant", "MultiTenant", "UserAssignedMSI"])
def test_valid_configurations_build_an_adapter(app_type):
    adapter = create_adapter("app", "" if app_type == "UserAssignedMSI" else "secret-value", app_type, "tenant")

    assert type(adapter).__name__ == "CloudAdapter"
    assert "secret-value" not in repr(vars(adapter.bot_framework_authentication))


class RecordingBot(ActivityHandler):
    """Records the command text of every message it receives."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        self.texts.append(strip_mention(turn_context.activity))


async def _client(adapter: Any, bot: RecordingBot) -> TestClient:
    async def messages(request: web.Request) -> web.StreamResponse:
        response = await adapter.process(request, bot)
        return response if response is not None else web.Response(status=201)

    app = web.Application()
    app.router.add_post("/api/messages", messages)
    client = TestClient(TestServer(app, host="127.0.0.1", port=0))
    await client.start_server()
    return client


_token = functools.partial(channel_token, app_id=APP_ID)


async def test_inbound_tokens_are_checked_against_the_bot_framework_keys(fixtures_dir: Path):
    signing_key, public = keypair("k1")
    stranger_key, _ = keypair("k1")
    activity = load_sample(fixtures_dir, "playground/message-channel-mention.json")
    service_url = activity["serviceUrl"]
    bot = RecordingBot()

    async with running_bot_openid([public]) as openid:
        adapter = create_adapter(APP_ID, "not-used-here", "SingleTenant", "tenant", http=openid.session)
        client = await _client(adapter, bot)
        try:
            async def post(headers: dict[str, str]) -> int:
                response = await client.post("/api/messages", json=copy.deepcopy(activity), headers=headers)
                return response.status

            statuses = {
                "valid": await post({"Authorization": f"Bearer {_token(signing_key, service_url)}"}),
                "missing": await post({}),
                "forged": await post({"Authorization": f"Bearer {_token(stranger_key, service_url)}"}),
                "unknown key": await post({"Authorization": f"Bearer {_token(signing_key, service_url, kid='k9')}"}),
                "other bot": await post({"Authorization": f"Bearer {_token(signing_key, service_url, aud='someone-else')}"}),
                "other service": await post({"Authorization": f"Bearer {_token(signing_key, 'https://evil.example/')}"}),
                "expired": await post({"Authorization": f"Bearer {_token(signing_key, service_url, exp=int(time.time()) - 3600)}"}),
                "garbage": await post({"Authorization": "Bearer not.a.jwt"}),
            }
        finally:
            await client.close()
            await close_adapter(adapter)

    assert statuses == {
        "valid": 201,
        "missing": 401,
        "forged": 401,
        "unknown key": 401,
        "other bot": 401,
        "other service": 401,
        "expired": 401,
        "garbage": 401,
    }
    assert bot.texts == ["show pending bills"]


async def test_anonymous_mode_answers_only_a_local_bot_connector(fixtures_dir: Path):
    bot = RecordingBot()
    adapter = create_adapter("", "")
    client = await _client(adapter, bot)
    activity = load_sample(fixtures_dir, "playground/message-channel-mention.json")
    try:
        local = await client.post("/api/messages", json=activity)
        elsewhere = await client.post("/api/messages", json={**activity, "serviceUrl": "https://attacker.example/_connector/"})
        with_token = await client.post("/api/messages", json=activity, headers={"Authorization": "Bearer x.y.z"})
    finally:
        await client.close()
        await close_adapter(adapter)

    assert (local.status, elsewhere.status, with_token.status) == (201, 401, 401)
    assert bot.texts == ["show pending bills"]


# --- outbound: the bot's own token, from Entra (login.microsoftonline.com = the fake Entra) ------


BOT_APP = "11111111-2222-3333-4444-555555555555"
BOT_SECRET = "pw-secret-value"
CARD = {"type": "AdaptiveCard", "version": "1.5", "body": []}


@pytest.fixture
async def entra(clock):
    """The fake Entra as login.microsoftonline.com, with the bot registered single-tenant in BOT_TENANT,
    and an msal http client that reaches it the way production's does (through an aiohttp session)."""
    tls = make_test_tls(ENTRA_HOST)
    async with running_entra_graph(clock=clock, tls=tls, tenant_id=BOT_TENANT) as running:
        running.fake.register_app(BOT_APP, BOT_SECRET)
        session = entra_session(running.url, tls)
        yield SimpleNamespace(fake=running.fake, msal_http=LoopHttpClient(session, asyncio.get_running_loop(), timeout_seconds=10))
        await session.close()


def token_requests(entra) -> list[dict]:
    return [dict(urllib.parse.parse_qsl(r.body.decode())) | {"path": r.path} for r in entra.fake.requests if r.path.endswith("/token")]


async def test_the_bot_fetches_one_token_off_the_event_loop_and_sends_it_with_every_request(clock, channel_ref, entra):
    from bot.teams.connector import TeamsConnector

    adapter = create_adapter(BOT_APP, BOT_SECRET, "SingleTenant", BOT_TENANT, token_http_client=entra.msal_http)
    teams = TeamsConnector(adapter, app_id=BOT_APP, clock=clock)
    async with FakeBotConnector(clock=clock, auth=BotRegistration(BOT_APP, BOT_TENANT)) as guarded:
        guarded.add_team(TEAM_ID, channels={CHANNEL_ID: "Announcements"})
        reference = {**channel_ref, "serviceUrl": guarded.service_url}
        try:
            posted = await teams.create_thread(reference, CARD, text_fallback="x")
            await teams.send(reference, text="one")
            await teams.send(reference, text="two")
        finally:
            await close_adapter(adapter)

    assert posted.activity_id
    assert [c.authorized for c in guarded.calls] == [True, True, True]
    [request] = token_requests(entra)  # botbuilder alone would ask Entra before every send
    assert request["scope"] == "https://api.botframework.com/.default"
    assert request["path"] == f"/{BOT_TENANT}/oauth2/v2.0/token"  # single-tenant: the bot's own tenant
    # LoopHttpClient refuses to run on the event loop's thread: the token was fetched off it.


async def test_a_refused_secret_is_a_config_error_that_never_shows_the_secret(clock, channel_ref, fake, entra):
    from bot.teams.connector import TeamsConnector

    adapter = create_adapter(BOT_APP, "a-wrong-secret", "SingleTenant", BOT_TENANT, token_http_client=entra.msal_http)
    teams = TeamsConnector(adapter, app_id=BOT_APP, clock=clock)
    try:
        with pytest.raises(errors.ConnectorAuthError) as caught:
            await teams.send(channel_ref, text="x")
    finally:
        await close_adapter(adapter)

    assert caught.value.config_error and not caught.value.retryable
    assert "AADSTS7000215" in str(caught.value)
    assert "a-wrong-secret" not in str(caught.value) and "a-wrong-secret" not in repr(caught.value)
    assert fake.calls == []  # nothing was sent without a token


async def test_a_single_tenant_bot_configured_as_multi_tenant_gets_no_token_and_check_says_so(clock, channel_ref, fake, entra):
    from bot.teams.connector import TeamsConnector

    adapter = create_adapter(BOT_APP, BOT_SECRET, "MultiTenant", "", token_http_client=entra.msal_http)
    teams = TeamsConnector(adapter, app_id=BOT_APP, clock=clock)
    try:
        with pytest.raises(errors.ConnectorAuthError) as sent:
            await teams.send(channel_ref, text="x")
        with pytest.raises(errors.ConnectorAuthError) as checked:
            await fetch_bot_token(adapter)
    finally:
        await close_adapter(adapter)

    # The same credentials object answers both: `check` cannot pass while every send fails.
    assert "AADSTS700016" in str(sent.value) and "AADSTS700016" in str(checked.value)
    assert {r["path"] for r in token_requests(entra)} == {"/botframework.com/oauth2/v2.0/token"}
    assert fake.calls == []


async def test_the_bot_connector_takes_only_tokens_from_the_tenant_of_the_registration(clock, channel_ref, entra):
    from bot.teams.connector import TeamsConnector

    entra.fake.register_app(BOT_APP, BOT_SECRET, multi_tenant=True)  # a bot registered multi-tenant before 2025-08
    adapter = create_adapter(BOT_APP, BOT_SECRET, "MultiTenant", "", token_http_client=entra.msal_http)
    teams = TeamsConnector(adapter, app_id=BOT_APP, clock=clock)
    outcomes = {}
    try:
        for name, registration in {"multi-tenant": BotRegistration(BOT_APP, BOTFRAMEWORK_TENANT_ID),
                                   "single-tenant": BotRegistration(BOT_APP, BOT_TENANT),
                                   "another bot": BotRegistration("99999999-2222-3333-4444-555555555555", BOTFRAMEWORK_TENANT_ID)}.items():
            async with FakeBotConnector(clock=clock, auth=registration) as guarded:
                guarded.add_team(TEAM_ID, channels={CHANNEL_ID: "Announcements"})
                try:
                    await teams.send({**channel_ref, "serviceUrl": guarded.service_url}, text="x")
                    outcomes[name] = "sent"
                except errors.BotNotRegisteredError:
                    outcomes[name] = "401"
    finally:
        await close_adapter(adapter)

    assert outcomes == {"multi-tenant": "sent", "single-tenant": "401", "another bot": "401"}
