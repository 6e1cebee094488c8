"""create_adapter: configuration checks, anonymous mode, and inbound JWT validation pointed at a
local OpenID endpoint (botbuilder fetches keys with blocking `requests`, so that endpoint runs in
its own thread)."""

from __future__ import annotations

import copy
import functools
import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from botbuilder.core import ActivityHandler, TurnContext

from bot import errors
from bot.connector import close_adapter, create_adapter, strip_mention
from tests.bot.conftest import load_sample
from tests.fakes.bot_openid import channel_token, keypair, running_bot_openid

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


# --- outbound: the bot's own token ------------------------------------------------------------


class _Answer:
    """The response shape msal expects from an injected http_client."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        self.status_code = status
        self.text = json.dumps(body)
        self.headers = {"Content-Type": "application/json"}

    def raise_for_status(self) -> None:
        if self.status_code >= 400:
            raise RuntimeError(f"HTTP {self.status_code}")


class FakeEntra:
    """Entra ID as msal sees it through `http_client`: OIDC discovery and the token endpoint."""

    def __init__(self, *, accept_secret: str, token: str) -> None:
        self.accept_secret = accept_secret
        self.token = token
        self.token_requests: list[dict[str, Any]] = []
        self.threads: set[str] = set()

    def get(self, url: str, params: Any = None, headers: Any = None, **kwargs: Any) -> _Answer:
        if "/discovery/instance" in url:  # msal looks up the authority's aliases after an error
            hosts = ["login.microsoftonline.com", "login.windows.net"]
            return _Answer(200, {"metadata": [{"preferred_network": hosts[0], "preferred_cache": hosts[1], "aliases": hosts}]})
        tenant = url.split("/")[3]
        base = f"https://login.microsoftonline.com/{tenant}"
        return _Answer(200, {
            "token_endpoint": f"{base}/oauth2/v2.0/token",
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "issuer": f"{base}/v2.0",
        })

    def post(self, url: str, params: Any = None, data: Any = None, headers: Any = None, **kwargs: Any) -> _Answer:
        self.token_requests.append(dict(data or {}))
        self.threads.add(threading.current_thread().name)
        if (data or {}).get("client_secret") != self.accept_secret:
            return _Answer(401, {"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided."})
        return _Answer(200, {"access_token": self.token, "token_type": "Bearer", "expires_in": 3599})


async def test_the_bot_fetches_one_token_off_the_event_loop_and_sends_it_with_every_request(clock, channel_ref):
    from bot.connector import TeamsConnector, close_adapter
    from tests.bot.conftest import CHANNEL_ID, TEAM_ID
    from tests.fakes.bot_connector import FakeBotConnector

    entra = FakeEntra(accept_secret="pw-secret-value", token="bot-token-1")
    adapter = create_adapter("11111111-2222-3333-4444-555555555555", "pw-secret-value", "SingleTenant", BOT_TENANT,
                             token_http_client=entra)
    teams = TeamsConnector(adapter, app_id="11111111-2222-3333-4444-555555555555", clock=clock)
    async with FakeBotConnector(clock=clock, required_token="bot-token-1") as guarded:
        guarded.add_team(TEAM_ID, channels={CHANNEL_ID: "Announcements"})
        reference = {**channel_ref, "serviceUrl": guarded.service_url}
        try:
            posted = await teams.create_thread(reference, {"type": "AdaptiveCard", "version": "1.5", "body": []}, text_fallback="x")
            await teams.send(reference, text="one")
            await teams.send(reference, text="two")
        finally:
            await close_adapter(adapter)

    assert posted.activity_id
    assert [c.authorized for c in guarded.calls] == [True, True, True]
    assert len(entra.token_requests) == 1  # botbuilder alone would ask Entra before every send
    assert entra.token_requests[0]["scope"] == "https://api.botframework.com/.default"
    assert threading.main_thread().name not in entra.threads


async def test_a_refused_secret_is_a_config_error_that_never_shows_the_secret(clock, channel_ref, fake):
    from bot.connector import TeamsConnector, close_adapter

    entra = FakeEntra(accept_secret="the-right-one", token="t")
    adapter = create_adapter("11111111-2222-3333-4444-555555555555", "a-wrong-secret", "SingleTenant", BOT_TENANT,
                             token_http_client=entra)
    teams = TeamsConnector(adapter, app_id="11111111-2222-3333-4444-555555555555", clock=clock)
    try:
        with pytest.raises(errors.ConnectorAuthError) as caught:
            await teams.send(channel_ref, text="x")
    finally:
        await close_adapter(adapter)

    assert caught.value.config_error and not caught.value.retryable
    assert "AADSTS7000215" in str(caught.value)
    assert "a-wrong-secret" not in str(caught.value) and "a-wrong-secret" not in repr(caught.value)
    assert fake.calls == []  # nothing was sent without a token
