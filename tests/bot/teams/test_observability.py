"""/healthz, /readyz and /metrics of the whole app (app.build_runtime + build_web_app) after real
polls and deliveries against the sandbox and the fake Bot Connector; readiness with the store down."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from prometheus_client.parser import text_string_to_metric_families

import app
from bot.teams.connector import channel_reference
from sandbox import create_sandbox_app
from settings import load_settings
from store.types import ConversationRecord, RouteFilter
from tests.fakes.bot_connector import FakeBotConnector

TEAM, CHANNEL = "19:ap-team@thread.tacv2", "19:ap-bills@thread.tacv2"


def environ(gateway: TestServer, data_dir, **extra) -> dict:
    return {
        "INTACCT_SENDER_ID": "mlc-sandbox", "INTACCT_SENDER_PASSWORD": "sandbox-secret", "INTACCT_COMPANY_ID": "DEMO-CO",
        "INTACCT_USER_ID": "ap-admin", "INTACCT_USER_PASSWORD": "demo-pass",
        "INTACCT_ENDPOINT_URL": str(gateway.make_url("/ia/xml/xmlgw.phtml")), "DATA_DIR": str(data_dir),
        "POLL_SCHEDULE": "0 0 1 1 *", **extra,
    }


async def subscribe(store, connector: FakeBotConnector, clock) -> None:
    """What the handler stores on install + `subscribe all` (reference to the fake connector)."""
    connector.add_team(TEAM, channels={CHANNEL: "AP bills"})
    activity = {"type": "message", "serviceUrl": connector.service_url, "channelId": "msteams",
                "conversation": {"id": f"{CHANNEL};messageid=1", "conversationType": "channel", "tenantId": connector.tenant_id},
                "recipient": {"id": "28:bot"}, "from": {"id": "29:user"},
                "channelData": {"channel": {"id": CHANNEL}, "team": {"id": TEAM}, "tenant": {"id": connector.tenant_id}}}
    await store.save_conversation(ConversationRecord(CHANNEL, channel_reference(activity), "channel", team_id=TEAM,
                                                     channel_id=CHANNEL, tenant_id=connector.tenant_id,
                                                     service_url=connector.service_url, updated_at=clock()))
    await store.add_route(CHANNEL, frozenset({"bills", "payments", "vendors", "digest"}), filter=RouteFilter(), company=None,
                          team_id=None, tenant_id=None, channel_name="AP bills", created_by=None, now=clock())


def samples(text: str) -> dict[tuple[str, tuple], float]:
    values = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            values[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return values


@pytest.fixture
async def gateway():
    server = TestServer(create_sandbox_app("demo", clock=app.utc_now, web_url=None))
    await server.start_server()
    yield server
    await server.close()


async def test_metrics_and_readiness_after_a_real_cycle(gateway, tmp_path, clock):
    settings = load_settings(environ(gateway, tmp_path))
    async with FakeBotConnector() as connector:
        runtime = await app.build_runtime(settings)
        await subscribe(runtime.store, connector, clock)
        web_app, _ = await app.build_web_app(runtime)
        server = TestServer(web_app)
        await server.start_server()
        try:
            company = next(iter(runtime.companies.values()))
            await company.coordinator.poll()
            async with aiohttp.ClientSession() as http:
                async with http.post(str(gateway.make_url("/sandbox/bills")), json={"amount": "12.00"}) as response:
                    assert response.status == 201
                # This poll or the scheduler's start-up poll queues it (they share the company's lock).
                assert (await company.coordinator.poll()).ok
                async with asyncio.timeout(30):  # the app's notifier posts it
                    while not connector.posts_in(CHANNEL):
                        await asyncio.sleep(0.05)
                async with http.get(str(server.make_url("/healthz"))) as response:
                    assert response.status == 200
                async with http.get(str(server.make_url("/readyz"))) as response:
                    ready = await response.json()
                    assert response.status == 200 and ready["store"] == "ok"
                    assert ready["companies"]["DEMO-CO"]["state"] == "ok" and ready["graph"]["state"] == "not configured"
                async with asyncio.timeout(30):  # the notifier records the delivery right after the post
                    while True:
                        async with http.get(str(server.make_url("/metrics"))) as response:
                            assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
                            metrics = samples(await response.text())
                        if metrics.get(("mlc_deliveries_total", (("action", "post"), ("outcome", "ok")))):
                            break
                        await asyncio.sleep(0.05)
        finally:
            await server.close()
            await runtime.close()
    assert metrics[("mlc_polls_total", (("company", "DEMO-CO"), ("job", "poll"), ("outcome", "ok")))] >= 2
    assert metrics[("mlc_events_total", (("company", "DEMO-CO"), ("kind", "bills")))] == 1
    assert metrics[("mlc_intacct_requests_total", (("company", "DEMO-CO"),))] >= 2
    assert metrics[("mlc_intacct_functions_total", (("company", "DEMO-CO"), ("function", "readByQuery")))] >= 6
    assert metrics[("mlc_delivery_latency_seconds_count", ())] == 1
    assert ("mlc_outbox_depth", ()) in metrics


async def test_intacct_errors_are_counted_by_code_and_readiness_fails_when_every_company_fails(gateway, tmp_path):
    settings = load_settings(environ(gateway, tmp_path, INTACCT_USER_PASSWORD="wrong"))
    runtime = await app.build_runtime(settings)
    web_app, _ = await app.build_web_app(runtime)
    server = TestServer(web_app)
    await server.start_server()
    try:
        company = next(iter(runtime.companies.values()))
        assert not (await company.coordinator.poll()).ok
        async with aiohttp.ClientSession() as http:
            async with http.get(str(server.make_url("/readyz"))) as response:
                body = await response.json()
                assert response.status == 503 and body["companies"]["DEMO-CO"]["state"] == "failing"
                assert "Sign-in information is incorrect" in body["companies"]["DEMO-CO"]["last_error"]
            async with http.get(str(server.make_url("/metrics"))) as response:
                metrics = samples(await response.text())
    finally:
        await server.close()
        await runtime.close()
    assert metrics[("mlc_intacct_errors_total", (("code", "XL03000006"), ("company", "DEMO-CO")))] >= 1
    assert metrics[("mlc_polls_total", (("company", "DEMO-CO"), ("job", "poll"), ("outcome", "failed")))] >= 1


@pytest.mark.postgres
async def test_readiness_is_503_when_the_store_is_unreachable(gateway, tmp_path, postgres_server):
    name = await postgres_server.create_database()
    settings = load_settings(environ(gateway, tmp_path, DATABASE_URL=postgres_server.url(name)))
    runtime = await app.build_runtime(settings)
    web_app, _ = await app.build_web_app(runtime)
    server = TestServer(web_app)
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(str(server.make_url("/readyz"))) as response:
                assert response.status == 200
            await runtime.store.engine.dispose()
            await postgres_server.drop_database(name)
            async with http.get(str(server.make_url("/readyz"))) as response:
                body = await response.json()
                assert response.status == 503 and body["store"].startswith("unreachable")
            async with http.get(str(server.make_url("/healthz"))) as response:
                assert response.status == 200, "alive even when not ready"
    finally:
        await server.close()
        await runtime.close()
