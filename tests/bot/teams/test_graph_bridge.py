"""Graph on the bot side, end to end: the fake Graph subscribes to our real endpoint (handshake),
delivers channel changes, and the routes follow; wrong clientState is refused."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from app import build_graph_bridge
from bot.context import BotContext, BotPolicy
from bot.teams.server import create_web_app
from settings import load_settings
from store.sql import open_store
from store.types import RouteFilter
from tests.fakes.entra_graph import CLIENT_ID, CLIENT_SECRET, TENANT_ID, make_test_tls, running_entra_graph

TEAM = "5d3f9a10-2b7c-4e8d-9f01-a1b2c3d4e5f6"
GENERAL = "19:3f2504e04f8911d39a0c0305e82c3301@thread.tacv2"
PAYABLES = "19:9b1deb4d3b7d4bad9bdd2b0d7b3dcb6d@thread.tacv2"


@pytest.fixture(scope="module")
def tls():
    return make_test_tls()


@pytest.fixture
async def world(clock, tls, tmp_path) -> AsyncIterator[dict]:
    store = open_store(None, data_dir=tmp_path)
    await store.migrate()
    async with running_entra_graph(clock=clock, tls=tls, require_https=False) as graph:
        graph.fake.add_team(TEAM, {GENERAL: "General", PAYABLES: "Payables"})
        context = BotContext(store=store, companies={}, clock=clock, policy=BotPolicy(allowed_tenant_ids=frozenset({TENANT_ID})))

        async def no_messages(request: web.Request) -> web.Response:
            return web.Response(status=404)

        # The bot's own server; PUBLIC_URL must be known before the bridge is built, so bind first.
        holder: dict = {}

        async def graph_route(request: web.Request) -> web.StreamResponse:
            return await holder["bridge"].handle_request(request)

        app = create_web_app(context, messages=no_messages, graph_notifications=graph_route, graph_lifecycle=graph_route)
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        public_url = str(server.make_url("")).rstrip("/")
        settings = load_settings({
            "GRAPH_TENANT_ID": TENANT_ID, "GRAPH_CLIENT_ID": CLIENT_ID, "GRAPH_CLIENT_SECRET": CLIENT_SECRET,
            "GRAPH_AUTHORITY_HOST": graph.authority_host, "GRAPH_BASE_URL": graph.graph_url, "PUBLIC_URL": public_url,
        })
        http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=tls.client))
        bridge = build_graph_bridge(settings, store, http, context, holder="instance-a", clock=clock, sleep=clock.sleep)
        holder["bridge"] = bridge
        worker = asyncio.create_task(bridge.worker.run())
        await store.add_route(PAYABLES, frozenset({"bills"}), filter=RouteFilter(), company=None, team_id=TEAM,
                              tenant_id=None, channel_name="Payables", created_by=None, now=clock())
        try:
            yield {"store": store, "graph": graph, "bridge": bridge, "url": public_url, "http": http, "settings": settings}
        finally:
            worker.cancel()
            await asyncio.gather(worker, return_exceptions=True)
            await http.close()
            await server.close()
            await store.close()


async def test_sync_subscribes_teams_with_routes_after_the_real_handshake(world):
    await world["bridge"].sync()
    (subscription,) = world["graph"].fake.live_subscriptions()
    assert subscription.team_id == TEAM
    assert subscription.notification_url == world["url"] + "/api/graph/notifications"
    assert subscription.lifecycle_url == world["url"] + "/api/graph/lifecycle"
    (stored,) = await world["store"].list_subscriptions()
    assert stored.client_state == subscription.client_state
    status = await world["bridge"].status()
    assert status.state.value == "ok" and status.subscriptions == 1


async def test_renamed_channel_updates_the_route_name(world):
    await world["bridge"].sync()
    world["graph"].fake.rename_channel(TEAM, PAYABLES, "AP approvals")
    assert await world["graph"].fake.notify_channel_change(TEAM, PAYABLES, "updated") == [202]
    await world["bridge"].worker.join()
    (route,) = await world["store"].list_routes()
    assert route.channel_name == "AP approvals" and route.active


async def test_deleted_channel_turns_its_routes_inactive(world):
    await world["bridge"].sync()
    world["graph"].fake.delete_channel(TEAM, PAYABLES)
    assert await world["graph"].fake.notify_channel_change(TEAM, PAYABLES, "deleted") == [202]
    await world["bridge"].worker.join()
    (route,) = await world["store"].list_routes()
    assert not route.active and route.inactive_reason == "channel deleted"


async def test_wrong_or_missing_client_state_is_refused(world):
    await world["bridge"].sync()
    (subscription,) = world["graph"].fake.live_subscriptions()
    item = {"subscriptionId": subscription.id, "changeType": "deleted", "resource": f"teams('{TEAM}')/channels('{PAYABLES}')",
            "clientState": "forged", "tenantId": TENANT_ID}
    for body in ({"value": [item]}, {"value": [{k: v for k, v in item.items() if k != "clientState"}]}):
        async with world["http"].post(world["url"] + "/api/graph/notifications", data=json.dumps(body),
                                      headers={"Content-Type": "application/json"}) as response:
            assert response.status == 403
    (route,) = await world["store"].list_routes()
    assert route.active, "a forged deletion must change nothing"


async def test_notifications_from_a_tenant_not_allowed_are_refused_even_with_the_right_client_state(world, caplog):
    await world["bridge"].sync()
    (subscription,) = world["graph"].fake.live_subscriptions()
    item = {"subscriptionId": subscription.id, "changeType": "deleted", "resource": f"teams('{TEAM}')/channels('{PAYABLES}')",
            "clientState": subscription.client_state, "tenantId": "99999999-8888-7777-6666-555555555555"}
    url = world["url"] + "/api/graph/notifications"
    with caplog.at_level(logging.WARNING, logger="bot.tenant_gate"):
        statuses = []
        for body in ({"value": [item]}, {"value": [item]}, {"value": [{k: v for k, v in item.items() if k != "tenantId"}]}):
            async with world["http"].post(url, data=json.dumps(body), headers={"Content-Type": "application/json"}) as response:
                statuses.append(response.status)
    await world["bridge"].worker.join()
    metrics = world["bridge"].context.metrics.render().decode()

    assert statuses == [403, 403, 403]
    (route,) = await world["store"].list_routes()
    assert route.active, "a deletion from another tenant must change nothing"
    assert len([r for r in caplog.records if "99999999-8888-7777-6666-555555555555" in r.getMessage()]) == 1
    assert 'mlc_tenant_refusals_total{surface="graph"} 3.0' in metrics
    assert 'mlc_graph_notifications_total{outcome="refused_tenant"} 3.0' in metrics


async def test_validation_handshake_echoes_the_token_as_text(world):
    async with world["http"].post(world["url"] + "/api/graph/notifications?validationToken=Validation%3A%20Testing%20client",
                                  headers={"Content-Type": "text/plain; charset=utf-8"}) as response:
        assert response.status == 200 and response.content_type == "text/plain"
        assert await response.text() == "Validation: Testing client"


async def test_malformed_notification_is_a_400(world):
    async with world["http"].post(world["url"] + "/api/graph/notifications", data=b"not json",
                                  headers={"Content-Type": "application/json"}) as response:
        assert response.status == 400


async def test_last_route_of_a_team_gone_deletes_its_subscription(world):
    await world["bridge"].sync()
    assert world["graph"].fake.live_subscriptions()
    await world["store"].remove_routes(PAYABLES)
    await world["bridge"].sync()
    assert world["graph"].fake.live_subscriptions() == []
    assert await world["store"].list_subscriptions() == []


async def test_removed_subscription_is_recreated_from_the_lifecycle_event(world):
    await world["bridge"].sync()
    (first,) = world["graph"].fake.live_subscriptions()
    assert await world["graph"].fake.send_lifecycle_event(first.id, "subscriptionRemoved") == 202
    await world["bridge"].worker.join()
    (second,) = world["graph"].fake.live_subscriptions()
    assert second.id != first.id and second.team_id == TEAM


async def test_graph_failure_is_reported_in_status_once(world, caplog):
    world["graph"].fake.fail_next("/v1.0/subscriptions", 403, method="POST", count=5)
    await world["bridge"].sync()
    await world["bridge"].sync()
    status = await world["bridge"].status()
    assert status.state.value == "failing" and status.detail
    assert len([r for r in caplog.records if "Graph subscriptions failing" in r.getMessage()]) == 1


async def test_a_route_change_syncs_subscriptions_without_waiting_for_the_hourly_run(world):
    never = asyncio.Event()
    waits: list[float] = []

    async def hour_that_never_ends(seconds: float) -> None:
        waits.append(seconds)
        await never.wait()

    bridge = world["bridge"]
    bridge.sleep = hour_that_never_ends
    loop = asyncio.create_task(bridge._sync_loop())
    try:
        async with asyncio.timeout(10):
            while not waits:
                await asyncio.sleep(0.01)  # the first run, at start-up, is done: the loop waits for the hour
            (created,) = world["graph"].fake.live_subscriptions()
            await world["store"].remove_routes(PAYABLES)
            bridge.request_sync()  # what the command service calls after `unsubscribe`
            while len(waits) < 2:
                await asyncio.sleep(0.01)  # the second run is done: the loop waits for the next hour
    finally:
        loop.cancel()
        await asyncio.gather(loop, return_exceptions=True)

    assert waits == [3600.0, 3600.0] and not never.is_set(), "the second run came while the first hour was still running"
    assert world["graph"].fake.live_subscriptions() == []
    deletes = world["graph"].fake.graph_requests("DELETE", "/v1.0/subscriptions")
    assert [r.path for r in deletes] == [f"/v1.0/subscriptions/{created.id}"]
    assert await world["store"].list_subscriptions() == []
    assert bridge.last_error is None


def _forged_batch(subscription_id: str, items: int) -> bytes:
    item = {"subscriptionId": subscription_id, "changeType": "deleted", "clientState": "forged",
            "resource": f"teams/{TEAM}/channels/{PAYABLES}"}  # 1000 of them fit under MAX_REQUEST_BYTES
    return json.dumps({"value": [item] * items}).encode()


async def test_a_flood_of_forged_batches_is_one_log_line_and_changes_nothing(world, caplog):
    # 100 bodies × 1000 items: each item used to be its own WARNING line (100,000 lines).
    await world["bridge"].sync()
    (subscription,) = world["graph"].fake.live_subscriptions()
    body = _forged_batch(subscription.id, 1000)
    statuses = []
    for _ in range(100):
        async with world["http"].post(world["url"] + "/api/graph/notifications", data=body,
                                      headers={"Content-Type": "application/json"}) as response:
            statuses.append(response.status)

    assert statuses == [403] * 100
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("mlc") or r.name.startswith("graph")]
    assert len(lines) == 1, lines[:3]
    assert lines[0].startswith("refused a request to /api/graph/notifications from 127.0.0.1: every item refused: "
                               "dropped 1000 Graph notification(s): 1000 wrong clientState")
    assert "forged" not in lines[0]
    (route,) = await world["store"].list_routes()
    assert route.active


async def test_deep_nesting_and_partly_forged_batches_get_one_line_each(world, caplog):
    await world["bridge"].sync()
    (subscription,) = world["graph"].fake.live_subscriptions()
    good = {"subscriptionId": subscription.id, "changeType": "updated", "clientState": subscription.client_state,
            "resource": f"teams('{TEAM}')/channels('{PAYABLES}')", "tenantId": TENANT_ID}
    mixed = json.loads(_forged_batch(subscription.id, 3))
    mixed["value"].append(good)
    url = world["url"] + "/api/graph/notifications"
    async with world["http"].post(url, data=b"[" * 100_000, headers={"Content-Type": "application/json"}) as response:
        assert response.status == 400
    world["bridge"].context.clock.advance(3600)  # a quiet hour: the next refusal is logged in full again
    async with world["http"].post(url, json=mixed) as response:
        assert response.status == 202

    lines = [r.getMessage() for r in caplog.records if r.name == "mlc.bot.refused"]
    assert len(lines) == 2
    assert "JSON nested deeper than 64 levels" in lines[0]
    assert "dropped 3 Graph notification(s): 3 wrong clientState" in lines[1]
    assert not [r for r in caplog.records if "Recursion" in r.getMessage() or r.exc_info]
