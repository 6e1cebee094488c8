"""The whole app (app.build_runtime + build_web_app) with wake-ups on: a wake-up makes the new bill a
card within seconds, with the regular poll far away; the route exists only when wake-ups are set."""

from __future__ import annotations

import asyncio
import json
from contextlib import asynccontextmanager
from typing import AsyncIterator

import aiohttp
from aiohttp.test_utils import TestServer

import app
from bot.teams.server import EVENTS_PATH
from settings import DEFAULT_WAKEUP_POLL_SCHEDULE, load_settings
from tests.bot.teams.test_observability import CHANNEL, environ, gateway, subscribe  # noqa: F401  (gateway: the sandbox fixture)
from tests.fakes.bot_connector import FakeBotConnector

SECRET = "demo-events-secret-0123456789"


@asynccontextmanager
async def running_app(gateway, tmp_path, clock) -> AsyncIterator[tuple[FakeBotConnector, object, object, TestServer]]:
    """The whole app with Smart Event wake-ups on and a channel subscribed on a fake connector;
    yields (connector, runtime, bot context, server) once its start-up poll took the baseline."""
    settings = load_settings(environ(gateway, tmp_path, INTACCT_EVENTS_SECRET=SECRET))
    async with FakeBotConnector() as connector:
        runtime = await app.build_runtime(settings)
        await subscribe(runtime.store, connector, clock)
        web_app, context = await app.build_web_app(runtime)
        server = TestServer(web_app)
        await server.start_server()
        try:
            async with asyncio.timeout(30):
                while not await runtime.store.has_baseline("DEMO-CO"):
                    await asyncio.sleep(0.05)
            yield connector, runtime, context, server
        finally:
            await server.close()
            await runtime.close()


async def test_a_wake_up_turns_a_new_bill_into_a_card_without_waiting_for_the_poll(gateway, tmp_path, clock):
    async with running_app(gateway, tmp_path, clock) as (connector, runtime, context, server), aiohttp.ClientSession() as http:
        [before] = (await context.status.status_view()).companies
        assert before.wakeups == ("smart_event",) and before.last_wakeup_at is None
        assert before.schedule is not None and before.schedule.expression.startswith("0 0 1 1 *")
        async with http.post(str(gateway.make_url("/sandbox/bills")), json={"amount": "2718.28"}) as response:
            bill = await response.json()
        url = str(server.make_url(f"{EVENTS_PATH}?company=DEMO-CO"))
        async with http.post(url, json={"secret": SECRET, "object": "APBILL", "event": "add"}) as response:
            assert response.status == 200
        async with asyncio.timeout(10):
            while not connector.posts_in(CHANNEL):
                await asyncio.sleep(0.05)
        async with http.post(url, json={"secret": "guessed-wrong-secret-000"}) as response:
            assert response.status == 401
        [after] = (await context.status.status_view()).companies
        assert after.last_wakeup_at is not None
    [post] = connector.posts_in(CHANNEL)
    assert bill["bill_number"] in json.dumps(post.cards)


async def test_without_wake_ups_the_route_is_absent_and_the_poll_keeps_its_default(gateway, tmp_path):
    settings = load_settings({k: v for k, v in environ(gateway, tmp_path).items() if k != "POLL_SCHEDULE"})
    assert settings.companies[0].poll_schedule != DEFAULT_WAKEUP_POLL_SCHEDULE
    runtime = await app.build_runtime(settings)
    web_app, _ = await app.build_web_app(runtime)
    server = TestServer(web_app)
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as http:
            async with http.post(str(server.make_url(EVENTS_PATH)), json={"secret": SECRET}) as response:
                assert response.status == 404
    finally:
        await server.close()
        await runtime.close()


async def test_the_sandbox_wired_as_in_the_demo_makes_each_change_a_card_within_seconds(gateway, tmp_path, clock):
    async with running_app(gateway, tmp_path, clock) as (connector, _, _, server), aiohttp.ClientSession() as http:
        await app.wire_sandbox_wakeups(http, str(gateway.make_url("")).rstrip("/"), str(server.make_url("")).rstrip("/"),
                                       company="DEMO-CO", secret=SECRET)
        numbers = []
        for amount in ("100.00", "200.00", "300.00"):
            async with http.post(str(gateway.make_url("/sandbox/bills")), json={"amount": amount}) as response:
                numbers.append((await response.json())["bill_number"])
        async with asyncio.timeout(10):
            while len(connector.posts_in(CHANNEL)) < len(numbers):
                await asyncio.sleep(0.05)
        async with http.get(str(gateway.make_url("/sandbox/webhooks"))) as response:
            attempts = (await response.json())["attempts"]
    posted = json.dumps([m.cards for m in connector.posts_in(CHANNEL)])
    assert all(number in posted for number in numbers) and len(connector.posts_in(CHANNEL)) == 3
    assert attempts and {a["status"] for a in attempts} == {200}
