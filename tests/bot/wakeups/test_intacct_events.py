"""POST /api/intacct/events over HTTP: the real endpoint and wake-ups, the sandbox as Intacct, SQLite.

Wrong secrets and forged tokens get 401, one log line each (a flood one summary), a count, and
never a request to Intacct; authentic wake-ups are answered 200 and become few polls; repeats of
a delivery ask for nothing.
"""

from __future__ import annotations

import base64
import json
import logging

import jwt
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.wakeups.intacct_events import IntacctEventsEndpoint, WakeUpAccess, events_url
from bot.refusals import RefusalLog
from bot.teams.server import EVENTS_PATH
from intacct.wakeups import PlatformTriggerKeys
from observability.metrics import Metrics
from poller.coordinator import PollCoordinator, PollerConfig
from poller.wakeups import WakeUps
from store.sql import open_store
from tests.fakes.sandbox import running_sandbox

SECRET_US = "us-events-secret-0123456789abcdef"
SECRET_UK = "uk-events-secret-0123456789abcdef"
CLIENT_ID = "f2b5a1c9d3e8.app.sage.com"
CLIENT_SECRET = "c4d1b0a7e9f2435b8a6c1d0e9f8a7b6c5d4e3f2a"


class World:
    """Two companies on one sandbox; "us" takes Smart Events and Platform Triggers, "uk" Smart Events."""

    def __init__(self, sandbox, store, wakeups: WakeUps, client: TestClient, metrics: Metrics, pollers) -> None:
        self.sandbox, self.store, self.wakeups, self.client, self.metrics, self.pollers = sandbox, store, wakeups, client, metrics, pollers

    async def post(self, query: str = "", body: bytes | str = b"", headers: dict | None = None) -> tuple[int, dict]:
        response = await self.client.post(EVENTS_PATH + query, data=body, headers=headers or {})
        return response.status, await response.json()

    async def requests_to_intacct(self) -> int:
        return (await self.sandbox.stats())["requests"]

    def metric(self, company: str, kind: str, outcome: str) -> float:
        return self.metrics.wakeups.labels(company, kind, outcome)._value.get()


@pytest.fixture
async def world(clock, tmp_path):
    store = open_store(None, data_dir=tmp_path)
    await store.migrate()
    async with running_sandbox(clock, "demo") as sandbox:
        pollers = {key: PollCoordinator(PollerConfig(key, "instance-a"), sandbox.client(clock), store, clock=clock, jitter=lambda: 0.5)
                   for key in ("us", "uk")}
        for poller in pollers.values():
            assert (await poller.poll()).ok  # baselines
        metrics = Metrics()
        wakeups = WakeUps(pollers, store, clock=clock)
        access = WakeUpAccess.build({"us": SECRET_US, "uk": SECRET_UK}, PlatformTriggerKeys(CLIENT_ID, CLIENT_SECRET))
        app = web.Application()
        endpoint = IntacctEventsEndpoint(wakeups, access, clock=clock, metrics=metrics, refusals=RefusalLog(clock))
        app.router.add_post(EVENTS_PATH, endpoint.handle)
        client = TestClient(TestServer(app, host="127.0.0.1", port=0))
        await client.start_server()
        try:
            yield World(sandbox, store, wakeups, client, metrics, pollers)
        finally:
            await client.close()
    await store.close()


async def test_a_hundred_wrong_secrets_get_a_hundred_401s_and_no_intacct_request(world: World, clock, caplog):
    before = await world.requests_to_intacct()
    caplog.set_level(logging.WARNING, logger="mlc.bot.refused")

    statuses = [(await world.post("?company=us&secret=wrong-secret-guess-number-" + str(n)))[0] for n in range(100)]
    clock.advance(61)
    await world.post("?company=us&secret=one-more-after-a-minute")  # closes the flood's minute: its summary line

    assert statuses == [401] * 100
    assert world.wakeups.next_due() is None and await world.wakeups.run_due() == []
    assert await world.requests_to_intacct() == before
    assert await world.store.wakeup_states() == []
    assert world.metric("us", "smart_event", "refused") == 101
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 3, lines  # the first in full, the other 99 counted in one line, the one after the quiet minute
    assert "refused a request to /api/intacct/events from 127.0.0.1: Intacct wake-up refused (401): the secret is wrong" in lines[0]
    assert lines[1].startswith("refused 99 more request(s) in ") and "/api/intacct/events: 99 wrong_secret" in lines[1]
    assert not any("wrong-secret-guess" in line for line in lines)


@pytest.mark.parametrize(
    ("query", "body", "content_type"),
    [
        (f"?company=us&secret={SECRET_US}", b"", "text/plain"),
        ("?company=us", json.dumps({"secret": SECRET_US, "object": "APBILL", "id": "1234"}), "application/json"),
        ("", f"company=us&secret={SECRET_US}&object=APBILL&event=add", "application/x-www-form-urlencoded"),
        ("?company=us", f"<ignored>{SECRET_US}</ignored>&secret={SECRET_US}", "text/xml"),
    ],
)
async def test_a_smart_event_with_the_secret_in_the_url_or_body_asks_for_a_poll(world: World, clock, query, body, content_type):
    bill = await world.sandbox.add_bill(amount="315.00")

    status, answer = await world.post(query, body, {"Content-Type": content_type})

    assert (status, answer) == (200, {"status": "accepted"})
    clock.advance(0.5)
    [outcome] = await world.wakeups.run_due()
    assert [e.bill.record_no for e in outcome.events] == [bill["record_no"]]
    assert world.metric("us", "smart_event", "accepted") == 1


async def test_a_repeated_delivery_is_answered_200_and_asks_for_nothing(world: World, clock):
    headers = {"Idempotency-Key": "0b9e7c1a-retry-1"}
    assert (await world.post(f"?company=us&secret={SECRET_US}", headers=headers))[1] == {"status": "accepted"}
    assert (await world.post(f"?company=us&secret={SECRET_US}", headers=headers))[1] == {"status": "repeat"}
    clock.advance(0.5)
    await world.wakeups.run_due()
    recheck = world.wakeups.next_due()  # that poll found nothing: it looks once more later
    clock.advance(10)  # Intacct's first retry
    assert (await world.post(f"?company=us&secret={SECRET_US}", headers=headers))[1] == {"status": "repeat"}

    assert world.wakeups.next_due() == recheck
    assert (await world.store.wakeup_states())[0].received == 1
    assert world.metric("us", "smart_event", "repeat") == 2
    # The same key for another company is that company's own delivery.
    assert (await world.post(f"?company=uk&secret={SECRET_UK}", headers=headers))[1] == {"status": "accepted"}


def platform_headers(clock, *, secret: str = CLIENT_SECRET, client_id: str = CLIENT_ID, key: str = "pt-1") -> dict[str, str]:
    now = int(clock().timestamp())
    token = jwt.encode({"iss": "https://api.intacct.com", "iat": now, "exp": now + 300}, secret, algorithm="HS256")
    context = base64.b64encode(json.dumps({"clientId": client_id}).encode()).decode()
    return {"Authorization": f"Bearer {token}", "X-Trusted-Context": context, "Idempotency-Key": key}


async def test_a_platform_trigger_is_checked_by_its_token_and_trusted_context(world: World, clock):
    assert await world.post("?company=us", b'{"APBILL": {"RECORDNO": "1"}}', platform_headers(clock)) == (200, {"status": "accepted"})
    assert (await world.post("?company=us", headers=platform_headers(clock, secret="someone-elses-secret-of-40-characters!!", key="2")))[0] == 401
    assert (await world.post("?company=us", headers=platform_headers(clock, client_id="another-client", key="3")))[0] == 401
    # "uk" takes Platform Triggers too (the REST client is shared by every company).
    assert (await world.post("?company=uk", headers=platform_headers(clock, key="4")))[0] == 200

    assert world.metric("us", "platform_trigger", "accepted") == 1 and world.metric("us", "platform_trigger", "refused") == 2
    assert [s.last_kind for s in await world.store.wakeup_states()] == ["platform_trigger", "platform_trigger"]


async def test_the_company_must_be_named_known_and_its_own_secret_used(world: World):
    assert (await world.post(f"?secret={SECRET_US}"))[0] == 401  # two companies: the URL must say which
    assert (await world.post(f"?company=fr&secret={SECRET_US}"))[0] == 401
    assert (await world.post(f"?company=uk&secret={SECRET_US}"))[0] == 401
    assert (await world.post("?company=us"))[0] == 401
    assert world.metric("unknown", "unknown", "refused") == 2  # a forged name never becomes a label
    assert await world.store.wakeup_states() == []


async def test_a_body_too_big_to_be_a_wake_up_is_refused_unread(world: World, clock):
    status, _ = await world.post(f"?company=us&secret={SECRET_US}", b"x" * (16 * 1024 + 1))
    assert status == 413 and world.wakeups.next_due() is None

    # A Platform Trigger may send a whole record: its body is read (up to 1 MiB) and ignored.
    record = json.dumps({"APBILL": {"RECORDNO": "1", "DESCRIPTION": "x" * 300_000, "company": "uk"}})
    assert await world.post("?company=us", record, platform_headers(clock)) == (200, {"status": "accepted"})
    assert [s.company for s in await world.store.wakeup_states()] == ["us"]
    assert (await world.post("?company=us", b"x" * (1024 * 1024 + 1), platform_headers(clock, key="big")))[0] == 413


async def test_a_hundred_valid_wake_ups_in_one_second_are_at_most_a_few_polls(world: World, clock):
    before = await world.requests_to_intacct()
    for n in range(100):
        assert (await world.post(f"?company=us&secret={SECRET_US}", headers={"Idempotency-Key": f"k{n}"}))[0] == 200
        clock.advance(0.01)
    outcomes = []
    while world.wakeups.next_due() is not None:
        clock.set(max(clock(), world.wakeups.next_due()))
        outcomes += await world.wakeups.run_due()

    assert len(outcomes) <= 2  # one poll; a recheck because it found nothing new
    assert await world.requests_to_intacct() - before == len(outcomes)  # an idle poll is one request


def test_the_url_to_paste_names_the_company():
    assert events_url("https://bot.example.com/", "ACME/UK") == "https://bot.example.com/api/intacct/events?company=ACME%2FUK"
