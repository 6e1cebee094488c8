"""Microsoft Graph faults through the whole service: throttling (429) and a lost subscription.

The service runs with Graph on (the bridge's routes served by the bot's own HTTP server, which the
fake Graph validates and notifies over real HTTP), while AP changes keep flowing to the channel.
Graph trouble must never hold up a card, and the subscription must come back by itself — with a
resync, since channel changes made while no subscription existed were never notified.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import AsyncIterator

import aiohttp
import pytest

from app import build_graph_bridge
from cards.views import GraphState
from settings import load_settings
from tests.fakes.ap_workload import ApWorkload, read_truth
from tests.fakes.entra_graph import CLIENT_ID, CLIENT_SECRET, TENANT_ID, RunningEntraGraph, make_test_tls, running_entra_graph
from tests.fakes.teams_activities import AAD_GROUP_ID, CHANNEL_ID, TEAM_ID
from tests.reliability.conftest import make_workload
from tests.reliability.harness import HOLDER, OPS_CHANNEL, Service, running_service
from tests.reliability.oracle import check_delivery

SUBSCRIPTIONS = r"/v1.0/subscriptions$"


@pytest.fixture(scope="module")
def tls():
    """One throwaway CA for the module (msal insists on https)."""
    return make_test_tls()


@pytest.fixture
async def graph(clock, tls) -> AsyncIterator[RunningEntraGraph]:
    """The fake Entra + Graph, with the Playground's team under its Graph id."""
    async with running_entra_graph(clock=clock, tls=tls, require_https=False) as running:
        running.fake.add_team(AAD_GROUP_ID, {TEAM_ID: "General", CHANNEL_ID: "Announcements", OPS_CHANNEL: "Ops"})
        yield running


@pytest.fixture
async def service(clock, tmp_path, tls, graph) -> AsyncIterator[Service]:
    """The service with Graph on, subscribed, its baseline committed, the notification worker running."""
    http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=tls.client))

    def bridge(context, store, public_url):
        settings = load_settings({"GRAPH_TENANT_ID": TENANT_ID, "GRAPH_CLIENT_ID": CLIENT_ID, "GRAPH_CLIENT_SECRET": CLIENT_SECRET,
                                  "GRAPH_AUTHORITY_HOST": graph.authority_host, "GRAPH_BASE_URL": graph.graph_url,
                                  "PUBLIC_URL": public_url})
        return build_graph_bridge(settings, store, http, context, holder=HOLDER, clock=clock, sleep=clock.sleep)

    try:
        async with running_service(clock, tmp_path, graph=bridge) as running:
            await running.subscribe()
            worker = asyncio.create_task(running.extras["bridge"].worker.run())
            try:
                yield running
            finally:
                worker.cancel()
                await asyncio.gather(worker, return_exceptions=True)
    finally:
        await http.close()


async def deliver_changes(service: Service, workload: ApWorkload) -> None:
    """A few more AP changes, run until the channel shows every change of the test once (Graph's
    state must not matter to that)."""
    await workload.burst(6)
    truth = await read_truth(service.sandbox.client(service.clock))

    async def delivered() -> bool:
        return check_delivery(truth, workload, service.ledger()).complete and await service.outbox_settled()

    await service.run_until(delivered, what="the AP changes delivered")
    check = check_delivery(truth, workload, service.ledger())
    assert check.duplicates == 0, check.describe()


def creations(graph: RunningEntraGraph) -> list[int | None]:
    """The statuses Graph answered to each subscription creation, in order."""
    return [r.status for r in graph.fake.graph_requests("POST") if r.path == "/v1.0/subscriptions"]


async def test_throttled_subscription_is_created_after_retry_after_and_a_removed_one_comes_back_with_a_resync(service: Service, graph, clock):
    bridge, workload = service.extras["bridge"], await make_workload(service)
    graph.fake.fail_next(SUBSCRIPTIONS, 429, method="POST", count=2, retry_after=5)
    started = clock()

    await bridge.sync()  # the hourly job

    [subscription] = graph.fake.live_subscriptions()
    assert creations(graph) == [429, 429, 201] and (clock() - started).total_seconds() >= 10, "Retry-After honoured"
    assert subscription.team_id == AAD_GROUP_ID and bridge.last_error is None
    await deliver_changes(service, workload)

    # Graph removes the subscription; meanwhile the channel is renamed, which nobody notifies.
    graph.fake.rename_channel(AAD_GROUP_ID, CHANNEL_ID, "AP approvals")
    graph.fake.fail_next(SUBSCRIPTIONS, 429, method="POST", count=1, retry_after=3)
    assert await graph.fake.send_lifecycle_event(subscription.id, "subscriptionRemoved") == 202
    await bridge.worker.join()

    [again] = graph.fake.live_subscriptions()
    assert again.id != subscription.id and again.team_id == AAD_GROUP_ID
    assert [s.id for s in await service.store.list_subscriptions()] == [again.id]
    [route] = [r for r in await service.store.list_routes() if r.conversation_id == CHANNEL_ID]
    assert route.channel_name == "AP approvals" and route.active, "the resync after recreating caught the rename"
    await deliver_changes(service, workload)


async def test_graph_throttling_for_an_hour_fails_the_sync_but_no_card_and_the_next_sync_heals(service: Service, graph, clock):
    bridge, workload = service.extras["bridge"], await make_workload(service)
    graph.fake.fail_next(SUBSCRIPTIONS, 429, method="POST", count=4, retry_after=30)

    await bridge.sync()

    assert graph.fake.live_subscriptions() == [] and creations(graph) == [429] * 4
    status = await bridge.status()
    assert status.state is GraphState.FAILING and "HTTP 429" in (status.detail or ""), status
    await deliver_changes(service, workload)  # cards do not wait for Graph

    clock.advance(timedelta(hours=1).total_seconds())
    await bridge.sync()

    [subscription] = graph.fake.live_subscriptions()
    assert (await bridge.status()).state is GraphState.OK

    # Lost without a word (no lifecycle event): found at renewal time, recreated, resynced.
    graph.fake.drop_subscription(subscription.id)
    graph.fake.delete_channel(AAD_GROUP_ID, OPS_CHANNEL)
    clock.advance(timedelta(days=2, hours=1).total_seconds())  # inside the 24 h renewal window
    await bridge.sync()

    [again] = graph.fake.live_subscriptions()
    assert again.id != subscription.id
    [ops] = [r for r in await service.store.list_routes() if r.conversation_id == OPS_CHANNEL]
    assert not ops.active and ops.inactive_reason == "channel deleted", "the resync caught the deletion"
    await deliver_changes(service, workload)
