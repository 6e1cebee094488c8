"""GraphClient against the fake Graph: requests on the wire, retries, throttling and error mapping."""

from __future__ import annotations

from datetime import timedelta

import aiohttp
import pytest

from graph.client import GraphClient
from graph.errors import (
    GraphNetworkError,
    GraphNotFoundError,
    GraphPermissionError,
    GraphProtocolError,
    GraphThrottledError,
    GraphTransientError,
    GraphValidationError,
)
from graph.tokens import EntraTokenProvider
from tests.fakes.entra_graph import RunningEntraGraph
from tests.graph.conftest import GENERAL, PAYABLES, TEAM_A

CHANNELS = rf"/v1.0/teams/{TEAM_A}/channels$"


async def test_list_channels_returns_typed_channels(graph: GraphClient, env: RunningEntraGraph):
    channels = await graph.list_channels(TEAM_A)

    assert [(c.id, c.display_name, c.membership_type) for c in channels] == [
        (GENERAL, "General", "standard"), (PAYABLES, "Payables", "standard")]
    request = env.fake.graph_requests("GET")[-1]
    token = request.headers["Authorization"].removeprefix("Bearer ")
    assert token in env.fake.tokens  # the one Entra issued


async def test_list_channels_follows_next_links(graph: GraphClient, env: RunningEntraGraph):
    env.fake.channel_page_size = 1
    env.fake.add_channel(TEAM_A, "Approvals")

    channels = await graph.list_channels(TEAM_A)

    assert [c.display_name for c in channels] == ["General", "Payables", "Approvals"]
    assert len(env.fake.graph_requests("GET")) == 3


async def test_get_channel_url_encodes_the_channel_id(graph: GraphClient, env: RunningEntraGraph):
    channel = await graph.get_channel(TEAM_A, PAYABLES)

    assert channel.display_name == "Payables"
    raw = env.fake.graph_requests("GET")[-1].raw_path
    assert raw == f"/v1.0/teams/{TEAM_A}/channels/19%3A9b1deb4d3b7d4bad9bdd2b0d7b3dcb6d%40thread.tacv2"


async def test_429_waits_for_retry_after_then_succeeds(graph: GraphClient, env: RunningEntraGraph, clock):
    env.fake.fail_next(CHANNELS, 429, retry_after=7)

    channels = await graph.list_channels(TEAM_A)

    assert len(channels) == 2
    assert clock.sleeps == [7.0]
    assert len(env.fake.graph_requests("GET")) == 2
    assert graph.stats.retries == 1


async def test_503_without_retry_after_backs_off_exponentially(graph: GraphClient, env: RunningEntraGraph, clock):
    env.fake.fail_next(CHANNELS, 503, count=2)

    await graph.list_channels(TEAM_A)

    assert clock.sleeps == [1.0, 2.0]  # jitter fixed at 1.0 → full backoff


def test_backoff_jitter_stays_within_half_to_full(env: RunningEntraGraph, tokens: EntraTokenProvider, http):
    low = GraphClient(tokens, http=http, base_url=env.graph_url, jitter=lambda: 0.0)

    delay = low._retry_delay(GraphTransientError("x", status=500), attempt=3, creates=False)

    assert delay == 2.0  # 4 s backoff at attempt 3, halved by the lowest jitter


async def test_throttling_gives_up_after_max_attempts(graph: GraphClient, env: RunningEntraGraph, clock):
    env.fake.fail_next(CHANNELS, 429, retry_after=3, count=10)

    with pytest.raises(GraphThrottledError) as caught:
        await graph.list_channels(TEAM_A)

    assert caught.value.retry_after == 3.0
    assert clock.sleeps == [3.0, 3.0, 3.0]
    assert len(env.fake.graph_requests("GET")) == 4


async def test_a_very_long_retry_after_is_left_to_the_scheduler(graph: GraphClient, env: RunningEntraGraph, clock):
    env.fake.fail_next(CHANNELS, 429, retry_after=3600)

    with pytest.raises(GraphThrottledError, match="wait 3600 s"):
        await graph.list_channels(TEAM_A)

    assert clock.sleeps == []


async def test_retry_after_as_http_date(graph: GraphClient, env: RunningEntraGraph, clock):
    when = clock() + timedelta(seconds=42)
    env.fake.fail_next(CHANNELS, 503, retry_after=when.strftime("%a, %d %b %Y %H:%M:%S GMT"))

    await graph.list_channels(TEAM_A)

    assert clock.sleeps == [42.0]


async def test_missing_permission_names_it(graph: GraphClient, env: RunningEntraGraph):
    env.fake.roles.clear()

    with pytest.raises(GraphPermissionError) as caught:
        await graph.list_channels(TEAM_A)

    assert caught.value.permission == "Channel.ReadBasic.All"
    assert "needs the application permission Channel.ReadBasic.All with admin consent" in str(caught.value)
    assert len(env.fake.graph_requests("GET")) == 1  # not retried


async def test_unknown_team_is_not_found(graph: GraphClient):
    with pytest.raises(GraphNotFoundError, match="No team found"):
        await graph.list_channels("00000000-0000-4000-8000-000000000000")


async def test_server_errors_are_retried_for_reads(graph: GraphClient, env: RunningEntraGraph, clock):
    env.fake.fail_next(CHANNELS, 500)

    await graph.list_channels(TEAM_A)

    assert len(clock.sleeps) == 1


async def test_creating_post_is_not_repeated_after_a_500(graph: GraphClient, env: RunningEntraGraph, clock):
    env.fake.fail_next(r"/v1.0/subscriptions$", 500, method="POST")

    with pytest.raises(GraphTransientError):
        await graph.create_subscription(f"/teams/{TEAM_A}/channels", "https://bot.example.test/n", None,
                                        "state", clock() + timedelta(minutes=30))

    assert len(env.fake.graph_requests("POST")) == 1


async def test_creating_post_is_repeated_after_a_429(graph: GraphClient, env: RunningEntraGraph, clock):
    env.fake.validate_urls = False
    env.fake.fail_next(r"/v1.0/subscriptions$", 429, method="POST", retry_after=2)

    subscription = await graph.create_subscription(f"/teams/{TEAM_A}/channels", "https://bot.example.test/n", None,
                                                   "state", clock() + timedelta(minutes=30))

    assert subscription.resource == f"/teams/{TEAM_A}/channels"
    assert len(env.fake.graph_requests("POST")) == 2
    assert len(env.fake.live_subscriptions()) == 1


async def test_graph_refuses_long_subscription_without_lifecycle_url(graph: GraphClient, env: RunningEntraGraph, clock):
    env.fake.validate_urls = False

    with pytest.raises(GraphValidationError, match="lifecycleNotificationUrl is a required property"):
        await graph.create_subscription(f"/teams/{TEAM_A}/channels", "https://bot.example.test/n", None,
                                        "state", clock() + timedelta(hours=2))


async def test_graph_refuses_more_than_4320_minutes(graph: GraphClient, env: RunningEntraGraph, clock):
    env.fake.validate_urls = False

    with pytest.raises(GraphValidationError, match="4320 minutes"):
        await graph.create_subscription(f"/teams/{TEAM_A}/channels", "https://bot.example.test/n",
                                        "https://bot.example.test/l", "state", clock() + timedelta(minutes=4321))


async def test_client_state_is_never_quoted_in_an_error(graph: GraphClient, env: RunningEntraGraph, clock):
    secret_state = "s3cr3t-client-state-value"
    env.fake.fail_next(r"/v1.0/subscriptions$", 400, method="POST", body={
        "error": {"code": "BadRequest", "message": f"clientState {secret_state} is not acceptable"}})

    with pytest.raises(GraphValidationError) as caught:
        await graph.create_subscription(f"/teams/{TEAM_A}/channels", "https://bot.example.test/n",
                                        "https://bot.example.test/l", secret_state, clock() + timedelta(hours=2))

    assert secret_state not in str(caught.value)
    assert "clientState *** is not acceptable" in str(caught.value)


async def test_subscription_crud_on_the_wire(graph: GraphClient, env: RunningEntraGraph, clock):
    env.fake.validate_urls = False
    created = await graph.create_subscription(f"/teams/{TEAM_A}/channels", "https://bot.example.test/n",
                                              "https://bot.example.test/l", "state", clock() + timedelta(days=2))
    body = env.fake.graph_requests("POST")[-1].json()
    assert body == {
        "changeType": "created,updated,deleted", "notificationUrl": "https://bot.example.test/n",
        "resource": f"/teams/{TEAM_A}/channels", "expirationDateTime": "2026-11-25T14:00:00.000000Z",
        "clientState": "state", "lifecycleNotificationUrl": "https://bot.example.test/l",
    }
    assert created.expires_at == clock() + timedelta(days=2)
    assert "state" not in repr(created)

    renewed = await graph.renew_subscription(created.id, clock() + timedelta(days=3))
    await graph.reauthorize_subscription(created.id)
    listed = await graph.list_subscriptions()
    await graph.delete_subscription(created.id)

    assert renewed.expires_at == clock() + timedelta(days=3)
    assert [s.id for s in listed] == [created.id]
    assert env.fake.live_subscriptions() == []
    assert [(r.method, r.path) for r in env.fake.graph_requests()[-4:]] == [
        ("PATCH", f"/v1.0/subscriptions/{created.id}"),
        ("POST", f"/v1.0/subscriptions/{created.id}/reauthorize"),
        ("GET", "/v1.0/subscriptions"),
        ("DELETE", f"/v1.0/subscriptions/{created.id}"),
    ]
    with pytest.raises(GraphNotFoundError):
        await graph.renew_subscription(created.id, clock() + timedelta(days=3))


async def test_network_error_is_transient_and_retried(tokens: EntraTokenProvider, http, clock, unused_tcp_port: int):
    await tokens.get_token()  # the token works; Graph itself is unreachable
    client = GraphClient(tokens, http=http, base_url=f"https://127.0.0.1:{unused_tcp_port}/v1.0",
                         clock=clock, sleep=clock.sleep, jitter=lambda: 1.0, max_attempts=2)

    with pytest.raises(GraphNetworkError, match="could not reach Graph"):
        await client.list_channels(TEAM_A)

    assert clock.sleeps == [1.0]


async def test_next_link_to_another_host_is_refused(graph: GraphClient, env: RunningEntraGraph):
    env.fake.fail_next(CHANNELS, 200, body={"value": [], "@odata.nextLink": "https://evil.example.test/v1.0/x"})

    with pytest.raises(GraphProtocolError, match="nextLink outside"):
        await graph.list_channels(TEAM_A)


async def test_non_json_success_is_a_protocol_error(graph: GraphClient, env: RunningEntraGraph):
    env.fake.fail_next(CHANNELS, 200, body="<html>captive portal</html>")

    with pytest.raises(GraphProtocolError, match="not JSON"):
        await graph.list_channels(TEAM_A)


async def test_bearer_token_never_appears_in_errors(graph: GraphClient, env: RunningEntraGraph, tokens):
    env.fake.fail_next(CHANNELS, 403)
    token = await tokens.get_token()

    with pytest.raises(GraphPermissionError) as caught:
        await graph.list_channels(TEAM_A)

    assert token not in str(caught.value) and token not in repr(caught.value)


async def test_http_session_is_not_closed_by_the_client(graph: GraphClient, http: aiohttp.ClientSession):
    await graph.list_channels(TEAM_A)
    assert not http.closed
