"""End to end: the Intacct sandbox → PollCoordinator → outbox (SQLite) → the notifier's run loop
→ the real TeamsConnector → the fake Bot Connector; the poller wakes the notifier after its commit."""

from __future__ import annotations

import asyncio

import pytest

from bot.context import CompanyContext
from cards.links import IntacctLinks
from poller.coordinator import PollCoordinator, PollerConfig
from poller.events import AlertKind
from tests.bot.delivery.notifier_world import AP, AP_TEAM, COMPANY, OPS, OPS_TEAM, GatedSleep, make_world
from tests.fakes.sandbox import running_sandbox


@pytest.fixture
async def sandbox(clock):
    async with running_sandbox(clock, "demo") as sandbox:
        yield sandbox


@pytest.fixture
async def world(clock, tmp_path, sandbox):
    async for built in make_world(clock, tmp_path):
        await built.install(AP, AP_TEAM, name="AP bills")
        await built.install(OPS, OPS_TEAM, name="Ops")
        await built.subscribe(AP, name="AP bills")
        await built.subscribe(OPS, frozenset({"alerts"}), name="Ops")
        client = sandbox.client(clock)
        built.context.companies = {COMPANY: CompanyContext(COMPANY, client, IntacctLinks(sandbox.url, COMPANY), "America/Los_Angeles")}
        yield built


async def test_a_new_bill_reaches_its_channel_and_its_approval_updates_the_card(world, sandbox, clock):
    sleep = GatedSleep()
    notifier = world.notifier(sleep=sleep, idle_seconds=60)
    poller = PollCoordinator(PollerConfig(COMPANY, "instance-a"), world.context.companies[COMPANY].client, world.store,
                             clock=clock, jitter=lambda: 0.5, on_outbox=notifier.wake)
    running = asyncio.create_task(notifier.run())
    await sleep.next_wait()
    assert (await poller.poll()).ok  # the baseline: nothing is posted

    clock.advance(60)
    bill = await sandbox.add_bill(amount="1250.00", department_id="D300")
    assert (await poller.poll()).outbox_rows == 1
    await sleep.next_wait()  # woken by the poller's commit, drained, idle again: no 60 s wait

    [post] = world.posts(AP)
    assert bill["bill_number"] in post.card["fallbackText"]

    clock.advance(60)
    await sandbox.set_bill_state(bill["record_no"], "Approved")
    assert (await poller.poll()).outbox_rows == 1
    await sleep.next_wait()

    [card] = world.posts(AP)
    [put] = world.ops("update", AP)
    assert card.activity_id == post.activity_id == put.activity_id and len(card.history) == 2
    assert card.history[0] != card.history[1]
    assert [(a.action, a.outcome) for a in await world.audit()] == [("post", "ok"), ("update", "ok")]
    assert sleep.calls == [60, 60, 60], "every drain after a commit came from wake(), not from the pause"
    await asyncio.wait_for(notifier.stop(), 5)
    assert running.done()


async def test_the_pollers_alert_reaches_the_operators_channel(world, sandbox, clock):
    notifier = world.notifier()
    poller = PollCoordinator(PollerConfig(COMPANY, "instance-a"), world.context.companies[COMPANY].client, world.store,
                             clock=clock, jitter=lambda: 0.5, on_outbox=notifier.wake)
    await poller.poll()
    await sandbox.fault("http_503", count=10)
    clock.advance(60)
    assert not (await poller.poll()).ok

    report = await notifier.drain_once()

    assert report.posted == 1 and world.posts(AP) == []
    [alert] = world.posts(OPS)
    assert "Polling Sage Intacct is failing" in str(alert.card)
    [row] = await world.rows()
    assert row.status == "delivered" and row.record_kind == "alert"
    assert (await world.alerts(OPS))[0].alert is AlertKind.POLLING_FAILED
