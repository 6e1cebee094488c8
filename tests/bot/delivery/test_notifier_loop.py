"""The notifier across crashes, instances and time: a holder dying mid-send, two instances on one
store, the run loop's wake-up, stop and survival of a failing store."""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import timedelta

import pytest
from sqlalchemy import text

from bot import messages as texts
from bot.pacing import ConversationPacer
from tests.bot.delivery.notifier_world import ap_and_ops_world, AP, AP2, AP_TEAM, GatedSleep, World, changed, created, vendor_held


world = pytest.fixture(ap_and_ops_world, name="world")


def numbers(posts) -> list[int]:
    return sorted(int(n) for p in posts for n in re.findall(r"INV-(\d+)", p.card["fallbackText"]))


# --- a holder dies mid-send -------------------------------------------------------------------------


async def test_a_holder_that_died_before_sending_is_replaced_and_the_card_goes_out_once(world: World):
    await world.queue(created(401))
    [claimed] = await world.store.claim_outbox("dead", now=world.clock(), limit=10, claim_seconds=120)
    assert await world.store.mark_sending(claimed.id, "dead", now=world.clock())  # …and the process died
    survivor = world.notifier("alive")

    assert (await survivor.drain_once()).claimed == 0, "the dead holder's claim still stands"
    world.clock.advance(121)
    report = await survivor.drain_once()

    assert report.posted == 1 and numbers(world.posts(AP)) == [401]
    [row] = await world.rows()
    assert (row.status, row.attempts) == ("delivered", 2)


async def test_a_bill_posted_by_a_holder_that_died_before_finishing_is_updated_not_posted_twice(world: World):
    await world.queue(created(402))
    [claimed] = await world.store.claim_outbox("dead", now=world.clock(), limit=10, claim_seconds=120)
    await world.store.mark_sending(claimed.id, "dead", now=world.clock())
    record = await world.store.get_conversation(AP)
    posted = await world.teams.create_thread(record.reference, {"type": "AdaptiveCard", "version": "1.5", "body": []},
                                             text_fallback="INV-402")
    from store.types import PostedCard

    await world.store.save_posted_card(PostedCard("DEMO-CO", "bill", 402, AP, posted.thread_conversation_id, posted.activity_id,
                                                  posted_at=world.clock()))  # …then died before mark_delivered
    world.clock.advance(121)

    report = await world.notifier("alive").drain_once()

    assert (report.posted, report.updated) == (0, 1)
    [post] = world.posts(AP)
    assert post.activity_id == posted.activity_id and "INV-402" in post.card["fallbackText"], "the real card replaced the stub"
    [row] = await world.rows()
    assert (row.status, row.attempts) == ("delivered", 2)


async def test_a_vendor_card_whose_holder_died_after_teams_answered_is_posted_twice_as_documented(world: World):
    await world.queue(vendor_held(world.clock()))
    [claimed] = await world.store.claim_outbox("dead", now=world.clock(), limit=10, claim_seconds=120)
    await world.store.mark_sending(claimed.id, "dead", now=world.clock())
    record = await world.store.get_conversation(AP)
    await world.teams.create_thread(record.reference, {"type": "AdaptiveCard", "version": "1.5", "body": []}, text_fallback="x")
    world.clock.advance(121)

    report = await world.notifier("alive").drain_once()

    # The at-most-one-repeat trade-off (bot/delivery/notifier.py): nothing marks where a vendor card went.
    assert report.posted == 1 and len(world.posts(AP)) == 2


# --- two instances --------------------------------------------------------------------------------


async def test_two_notifiers_on_one_store_deliver_every_row_exactly_once_and_in_order(world: World, clock):
    await world.install(AP2, AP_TEAM, name="AP payments")
    await world.subscribe(AP2, name="AP payments")
    await world.queue(*(created(500 + n) for n in range(16)))
    clock.advance(60)
    await world.queue(*(changed(500 + n, "Submitted", "Posted", at=clock()) for n in range(0, 16, 3)))
    a = world.notifier("instance-a", batch_size=6, pacer=ConversationPacer(clock, clock.sleep))
    b = world.notifier("instance-b", batch_size=6, pacer=ConversationPacer(clock, clock.sleep))

    first, second = await asyncio.gather(a.drain_once(), b.drain_once())

    assert first.claimed and second.claimed, "both instances worked"
    assert first.posted + second.posted == 32 and first.updated + second.updated == 12
    assert first.failed + second.failed + first.lost + second.lost == 0
    for channel in (AP, AP2):
        assert numbers(world.posts(channel)) == list(range(500, 516)), "each bill exactly once per channel"
        approved = [p for p in world.posts(channel) if len(p.history) == 2]
        assert numbers(approved) == list(range(500, 516, 3)) and all("Posted" in str(p.card) for p in approved)
    assert await world.rows("delivered") == await world.rows()


# --- the run loop ---------------------------------------------------------------------------------


async def test_wake_delivers_new_rows_without_waiting_for_the_idle_pause_and_stop_ends_run(world: World):
    sleep = GatedSleep()
    notifier = world.notifier(sleep=sleep, idle_seconds=30)
    task = asyncio.create_task(notifier.run())
    await sleep.next_wait()  # the first drain found nothing: pausing for 30 s

    await world.queue(created(410))
    notifier.wake()  # what the poller does after its commit
    await sleep.next_wait()

    assert numbers(world.posts(AP)) == [410] and sleep.calls == [30, 30]
    await asyncio.wait_for(notifier.stop(), 5)
    assert task.done() and task.exception() is None


async def test_stop_during_a_pacer_wait_returns_and_gives_the_row_back_unsent(world: World, clock):
    pacer_sleep = GatedSleep()
    pacer = ConversationPacer(clock, pacer_sleep)
    pacer.penalize(AP, 60)  # an earlier 429 said: a minute
    notifier = world.notifier(sleep=GatedSleep(), pacer=pacer)
    await world.queue(created(420))
    task = asyncio.create_task(notifier.run())
    await pacer_sleep.next_wait()  # the lane waits for the pacer

    await asyncio.wait_for(notifier.stop(), 5)

    assert task.done() and world.fake.calls == []
    [row] = await world.rows()
    assert (row.status, row.last_error) == ("pending", texts.NOTIFIER_RELEASED_AT_STOP)
    assert [r.id for r in await world.store.claim_outbox("other", now=clock(), limit=5, claim_seconds=60)] == [row.id]


async def test_a_pacer_wait_longer_than_the_claim_gives_the_row_back_until_then(world: World, clock):
    world.pacer.penalize(AP, 600)  # ten minutes: the claim (120 s) would expire while waiting
    await world.queue(created(421))
    start = clock()

    report = await world.notifier().drain_once()

    assert (report.retried, world.fake.calls) == (1, [])
    [row] = await world.rows()
    assert (row.status, row.attempts, row.last_error) == ("pending", 0, texts.NOTIFIER_WAITING_PACER)
    assert row.not_before == start + timedelta(seconds=600)


async def test_the_loop_survives_a_failing_store_logs_once_and_recovers(world: World, caplog):
    await world.queue(created(430))
    async with world.store.engine.begin() as conn:  # the outbox is unreachable (a real SQL failure)
        await conn.execute(text("ALTER TABLE outbox RENAME TO outbox_away"))
    pauses: list[float] = []
    delivered = asyncio.Event()

    async def sleep(seconds: float) -> None:
        pauses.append(seconds)
        if len(pauses) == 3:
            async with world.store.engine.begin() as conn:
                await conn.execute(text("ALTER TABLE outbox_away RENAME TO outbox"))
        if world.posts(AP):
            delivered.set()
            await asyncio.get_running_loop().create_future()  # park until stop()
        await asyncio.sleep(0)

    notifier = world.notifier(sleep=sleep, idle_seconds=1.0)
    caplog.set_level(logging.DEBUG, logger="mlc.notifier")
    task = asyncio.create_task(notifier.run())
    await asyncio.wait_for(delivered.wait(), 10)
    await asyncio.wait_for(notifier.stop(), 5)

    assert task.done() and task.exception() is None
    assert pauses[:4] == [0.75, 1.5, 3.0, 1.0], "exponential back-off while failing, then the idle pause"
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "StoreError" in errors[0].getMessage()
    assert any("works again after 3 failed drains" in r.getMessage() for r in caplog.records)
    assert numbers(world.posts(AP)) == [430]
