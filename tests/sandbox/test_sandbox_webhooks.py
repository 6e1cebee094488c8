"""The sandbox's outbound wake-up calls (sandbox/webhooks.py) against a receiver served here.

After every change it makes (admin API, demo activity) the sandbox POSTs, as Intacct's triggers
do: a Smart-Event-style body with the secret, an idempotency key its retries repeat, retries after
10, 30 and 90 s on 408/429/5xx or no answer, and nothing more after any other answer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from sandbox import SANDBOX_STATE, WebhookConfig
from sandbox.activity import make_change
from tests.fakes.clock import FakeClock
from tests.sandbox.conftest import MakeSandbox

SECRET = "sandbox-webhook-secret-123"


@dataclass
class Receiver:
    """An HTTP endpoint that records each call and answers from a script (then 200)."""

    statuses: list[int] = field(default_factory=list)
    calls: list[tuple[dict, dict]] = field(default_factory=list)  # (headers, body)
    server: TestServer | None = None

    async def handle(self, request: web.Request) -> web.Response:
        self.calls.append((dict(request.headers), json.loads(await request.read())))
        return web.Response(status=self.statuses.pop(0) if self.statuses else 200)

    @property
    def url(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("/api/intacct/events?company=DEMO-CO"))


@pytest.fixture
async def receiver():
    found = Receiver()
    app = web.Application()
    app.router.add_post("/api/intacct/events", found.handle)
    found.server = TestServer(app, host="127.0.0.1")
    await found.server.start_server()
    yield found
    await found.server.close()


async def sent(sandbox) -> None:
    await sandbox.client.app[SANDBOX_STATE].webhooks.drain()


async def test_every_change_the_admin_api_makes_is_one_call_with_the_secret_and_its_own_key(make_sandbox: MakeSandbox, receiver):
    sandbox = await make_sandbox("demo", webhook=WebhookConfig(receiver.url, SECRET))

    _, bill = await sandbox.admin("POST", "/sandbox/bills", {"amount": "250.00"})
    await sandbox.admin("POST", f"/sandbox/bills/{bill['record_no']}/state", {"state": "Approved"})
    _, payment = await sandbox.admin("POST", "/sandbox/payments", {"bill_record_no": bill["record_no"]})
    await sandbox.admin("POST", f"/sandbox/vendors/{bill['vendor_id']}/status", {"on_hold": True})
    await sent(sandbox)

    bodies = sorted((b["object"], b["event"], b["id"]) for _, b in receiver.calls)
    bill_no = str(bill["record_no"])
    assert bodies == sorted([
        ("APBILL", "add", bill_no), ("APBILL", "set", bill_no),  # created; approved
        ("APPYMT", "add", str(payment["record_no"])), ("APBILL", "set", bill_no),  # the payment request selects the bill
        ("VENDOR", "set", _vendor_record_no(sandbox, bill["vendor_id"])),
    ])
    assert {b["secret"] for _, b in receiver.calls} == {SECRET}
    keys = [h["Idempotency-Key"] for h, _ in receiver.calls]
    assert len(set(keys)) == len(keys) == 5


def _vendor_record_no(sandbox, vendor_id: str) -> str:
    return str(sandbox.client.app[SANDBOX_STATE].company.vendor(vendor_id)[0])


async def test_failed_calls_are_retried_after_10_30_and_90_seconds_with_the_same_key(make_sandbox: MakeSandbox, receiver, clock: FakeClock):
    sandbox = await make_sandbox("demo", webhook=WebhookConfig(receiver.url, SECRET))
    receiver.statuses = [503, 429, 500, 503]

    await sandbox.admin("POST", "/sandbox/bills", {"amount": "10.00"})
    await sent(sandbox)

    assert len(receiver.calls) == 4 and len({h["Idempotency-Key"] for h, _ in receiver.calls}) == 1
    assert clock.sleeps == [10.0, 30.0, 90.0]
    _, log = await sandbox.admin("GET", "/sandbox/webhooks")
    assert [(a["attempt"], a["status"]) for a in log["attempts"]] == [(1, 503), (2, 429), (3, 500), (4, 503)]
    assert log["webhook"] == {"url": receiver.url, "objects": ["APBILL", "APPYMT", "VENDOR"], "events": ["add", "set"]}


async def test_a_call_answered_200_or_refused_for_good_is_not_retried(make_sandbox: MakeSandbox, receiver, clock: FakeClock):
    sandbox = await make_sandbox("demo", webhook=WebhookConfig(receiver.url, SECRET))
    receiver.statuses = [408, 200, 401, 404]

    await sandbox.admin("POST", "/sandbox/bills", {"amount": "10.00"})  # 408, then 200
    await sent(sandbox)
    await sandbox.admin("POST", "/sandbox/bills", {"amount": "11.00"})  # 401: a wrong secret is not retried
    await sent(sandbox)
    await sandbox.admin("POST", "/sandbox/bills", {"amount": "12.00"})  # 404
    await sent(sandbox)

    assert len(receiver.calls) == 4 and clock.sleeps == [10.0]


async def test_no_answer_is_retried_too(make_sandbox: MakeSandbox, clock: FakeClock):
    closed = TestServer(web.Application(), host="127.0.0.1")
    await closed.start_server()
    url = str(closed.make_url("/api/intacct/events"))
    await closed.close()  # nothing listens there any more
    sandbox = await make_sandbox("demo", webhook=WebhookConfig(url, SECRET))

    await sandbox.admin("POST", "/sandbox/bills", {"amount": "10.00"})
    await sent(sandbox)

    _, log = await sandbox.admin("GET", "/sandbox/webhooks")
    assert [(a["attempt"], a["status"], a["error"]) for a in log["attempts"]] == [
        (n, None, "ClientConnectorError") for n in (1, 2, 3, 4)]
    assert clock.sleeps == [10.0, 30.0, 90.0]


async def test_the_admin_api_starts_narrows_and_stops_the_calls_and_hides_the_secret(make_sandbox: MakeSandbox, receiver):
    sandbox = await make_sandbox("demo")
    await sandbox.admin("POST", "/sandbox/bills", {"amount": "1.00"})  # not configured: no call

    status, body = await sandbox.admin("POST", "/sandbox/webhooks", {"url": receiver.url, "secret": SECRET, "objects": ["VENDOR"]})
    assert status == 201 and SECRET not in json.dumps(body)
    _, bill = await sandbox.admin("POST", "/sandbox/bills", {"amount": "2.00"})  # APBILL is not watched now
    await sandbox.admin("POST", f"/sandbox/vendors/{bill['vendor_id']}/status", {"on_hold": True})
    await sent(sandbox)
    assert [(b["object"], b["event"]) for _, b in receiver.calls] == [("VENDOR", "set")]

    assert (await sandbox.admin("DELETE", "/sandbox/webhooks"))[0] == 200
    await sandbox.admin("POST", f"/sandbox/vendors/{bill['vendor_id']}/status", {"on_hold": False})
    await sent(sandbox)
    assert len(receiver.calls) == 1


@pytest.mark.parametrize(
    "payload",
    [
        {"secret": SECRET},
        {"url": "ftp://example.com", "secret": SECRET},
        {"url": "http://example.com"},
        {"url": "http://example.com", "secret": ""},
        {"url": "http://example.com", "secret": SECRET, "objects": ["APBILLITEM"]},
        {"url": "http://example.com", "secret": SECRET, "events": []},
        {"url": "http://example.com", "secret": SECRET, "retries": 9},
    ],
)
async def test_bad_webhook_settings_are_refused_with_400(make_sandbox: MakeSandbox, payload):
    sandbox = await make_sandbox("demo")
    status, body = await sandbox.admin("POST", "/sandbox/webhooks", payload)
    assert status == 400 and "error" in body


async def test_demo_activity_and_a_reset_keep_calling(make_sandbox: MakeSandbox, receiver):
    sandbox = await make_sandbox("demo", webhook=WebhookConfig(receiver.url, SECRET))
    state = sandbox.client.app[SANDBOX_STATE]

    make_change(state)
    await sent(sandbox)
    assert len(receiver.calls) >= 1
    await sandbox.admin("POST", "/sandbox/reset")  # the seed's rows are not changes
    await sent(sandbox)
    calls = len(receiver.calls)
    await sandbox.admin("POST", "/sandbox/bills", {"amount": "3.00"})
    await sent(sandbox)
    assert len(receiver.calls) == calls + 1
