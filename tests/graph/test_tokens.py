"""Entra tokens through msal against the fake Entra: caching, refresh, and clear failure messages."""

from __future__ import annotations

import asyncio
import logging

import aiohttp
import pytest

from graph.client import GraphClient
from graph.errors import (
    GraphConsentError,
    GraphTransientError,
    GraphUnknownClientError,
    GraphUnknownTenantError,
    GraphWrongSecretError,
)
from graph.tokens import EntraTokenProvider, GraphCredentials
from tests.fakes.entra_graph import CLIENT_ID, CLIENT_SECRET, TENANT_ID, RunningEntraGraph
from tests.graph.conftest import TEAM_A


async def test_one_token_request_serves_many_calls(
    tokens: EntraTokenProvider, graph: GraphClient, env: RunningEntraGraph
):
    for _ in range(3):
        await graph.list_channels(TEAM_A)
    await asyncio.gather(*(tokens.get_token() for _ in range(5)))

    assert env.fake.token_requests == 1
    discovery = [r for r in env.fake.requests if r.path.endswith("/.well-known/openid-configuration")]
    assert len(discovery) == 1  # one msal app, built once
    assert tokens.tokens_fetched == 1


async def test_concurrent_first_calls_share_one_fetch(tokens: EntraTokenProvider, env: RunningEntraGraph):
    results = await asyncio.gather(*(tokens.get_token() for _ in range(8)))

    assert len(set(results)) == 1
    assert env.fake.token_requests == 1


async def test_token_request_is_client_credentials_for_graph(tokens: EntraTokenProvider, env: RunningEntraGraph):
    await tokens.get_token()

    form = dict(item.split("=", 1) for item in env.fake.requests[-1].body.decode().split("&"))
    assert form["grant_type"] == "client_credentials"
    assert form["scope"] == "https%3A%2F%2Fgraph.microsoft.com%2F.default"
    assert form["client_id"] == CLIENT_ID


async def test_short_lived_tokens_are_fetched_again(tokens: EntraTokenProvider, env: RunningEntraGraph):
    # msal reads time.time(), not our clock, and treats a token as expired 5 minutes before its
    # expires_in runs out; a 240 s token is therefore already stale when cached.
    env.fake.token_lifetime = 240
    first = await tokens.get_token()
    second = await tokens.get_token()

    assert env.fake.token_requests == 2
    assert first != second

    env.fake.token_lifetime = 3599
    third = await tokens.get_token()
    assert await tokens.get_token() == third
    assert env.fake.token_requests == 3


async def test_token_rejected_by_graph_is_replaced_once(graph: GraphClient, env: RunningEntraGraph):
    await graph.list_channels(TEAM_A)
    env.fake.revoke_tokens()  # Entra revoked it; msal's cache still thinks it is good

    channels = await graph.list_channels(TEAM_A)

    assert [c.display_name for c in channels] == ["General", "Payables"]
    assert env.fake.token_requests == 2
    bearers = [r.headers["Authorization"] for r in env.fake.graph_requests("GET")]
    assert bearers[1] != bearers[2]  # the retry carried the new token


async def test_expired_token_by_the_fake_clock_is_replaced(graph: GraphClient, env: RunningEntraGraph, clock):
    await graph.list_channels(TEAM_A)
    clock.advance(hours=2)  # Graph now sees the token as expired

    await graph.list_channels(TEAM_A)

    assert env.fake.token_requests == 2


async def test_wrong_secret_says_what_to_fix_without_the_secret(
    env: RunningEntraGraph, http: aiohttp.ClientSession, caplog
):
    caplog.set_level(logging.DEBUG)
    wrong = "not-the-right-secret-value-123"
    provider = EntraTokenProvider(
        GraphCredentials(TENANT_ID, CLIENT_ID, wrong, authority_host=env.authority_host), http=http
    )

    with pytest.raises(GraphWrongSecretError) as caught:
        await provider.get_token()

    message = str(caught.value)
    assert "AADSTS7000215" in message
    assert "Value (not its Secret ID)" in message
    assert wrong not in message and wrong not in repr(caught.value)
    assert wrong not in repr(provider)
    assert all(wrong not in record.getMessage() for record in caplog.records)


async def test_unknown_tenant(env: RunningEntraGraph, http: aiohttp.ClientSession):
    provider = EntraTokenProvider(
        GraphCredentials("contoso-typo.onmicrosoft.com", CLIENT_ID, CLIENT_SECRET, authority_host=env.authority_host),
        http=http,
    )

    with pytest.raises(GraphUnknownTenantError) as caught:
        await provider.get_token()

    assert "contoso-typo.onmicrosoft.com" in str(caught.value)
    assert "GRAPH_TENANT_ID" in str(caught.value)
    assert caught.value.code == "AADSTS90002"


async def test_unknown_client_id(env: RunningEntraGraph, http: aiohttp.ClientSession):
    provider = EntraTokenProvider(
        GraphCredentials(TENANT_ID, "11111111-2222-3333-4444-555555555555", CLIENT_SECRET,
                         authority_host=env.authority_host),
        http=http,
    )

    with pytest.raises(GraphUnknownClientError, match="AADSTS700016.*GRAPH_CLIENT_ID"):
        await provider.get_token()


async def test_missing_consent(tokens: EntraTokenProvider, env: RunningEntraGraph):
    env.fake.consented = False

    with pytest.raises(GraphConsentError, match="admin consent"):
        await tokens.get_token()


async def test_entra_unavailable_is_transient(tokens: EntraTokenProvider, env: RunningEntraGraph):
    env.fake.fail_next(r"/oauth2/v2\.0/token$", 503)

    with pytest.raises(GraphTransientError):
        await tokens.get_token()


async def test_entra_unreachable_is_a_network_error(http: aiohttp.ClientSession, unused_tcp_port: int):
    provider = EntraTokenProvider(
        GraphCredentials(TENANT_ID, CLIENT_ID, CLIENT_SECRET, authority_host=f"https://127.0.0.1:{unused_tcp_port}"),
        http=http,
        timeout_seconds=5,
    )

    with pytest.raises(GraphTransientError, match="could not reach Entra"):
        await provider.get_token()


def test_credentials_hide_the_secret_and_insist_on_https():
    credentials = GraphCredentials(TENANT_ID, CLIENT_ID, CLIENT_SECRET)

    assert CLIENT_SECRET not in repr(credentials)
    assert credentials.authority == f"https://login.microsoftonline.com/{TENANT_ID}"
    with pytest.raises(ValueError, match="https"):
        GraphCredentials(TENANT_ID, CLIENT_ID, CLIENT_SECRET, authority_host="http://login.example.test")
    with pytest.raises(ValueError, match="client_secret"):
        GraphCredentials(TENANT_ID, CLIENT_ID, " ")


async def test_neither_secret_nor_token_reaches_a_log_line(tokens: EntraTokenProvider, graph: GraphClient,
                                                            env: RunningEntraGraph, caplog):
    caplog.set_level(logging.DEBUG)  # msal's own debug logging included
    env.fake.fail_next(r"/channels$", 429, retry_after=1)
    await graph.list_channels(TEAM_A)
    token = await tokens.get_token()

    text = "\n".join(record.getMessage() for record in caplog.records)
    assert "Entra issued a Graph token" in text and "retrying in 1.0 s" in text
    assert CLIENT_SECRET not in text
    assert token not in text


async def test_graph_takes_only_its_own_audience_from_its_own_tenant(env, http, credentials):
    # The fake is as strict as Graph: a Bot Connector token, or a Graph token of another tenant
    # (a multi-tenant app asking botframework.com), is refused with 401.
    env.fake.register_app(CLIENT_ID, CLIENT_SECRET, multi_tenant=True)
    url = f"{env.graph_url}/teams/{TEAM_A}/channels"

    async def token(tenant: str, scope: str) -> str:
        form = {"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "scope": scope}
        async with http.post(f"{env.authority_host}/{tenant}/oauth2/v2.0/token", data=form) as response:
            return (await response.json())["access_token"]

    async def status(bearer: str) -> int:
        async with http.get(url, headers={"Authorization": f"Bearer {bearer}"}) as response:
            return response.status

    statuses = {
        "graph token": await status(await token(TENANT_ID, "https://graph.microsoft.com/.default")),
        "bot connector token": await status(await token(TENANT_ID, "https://api.botframework.com/.default")),
        "other tenant": await status(await token("botframework.com", "https://graph.microsoft.com/.default")),
    }

    assert statuses == {"graph token": 200, "bot connector token": 401, "other tenant": 401}
