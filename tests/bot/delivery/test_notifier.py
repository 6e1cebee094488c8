"""The notifier's everyday path over real HTTP and SQLite: a new bill becomes one new thread, its
state changes update that card in place, details-only changes are skipped, deleted cards are
posted anew, oversized cards shrink, and a burst to one channel stays within Teams' limits."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from tests.bot.delivery.notifier_world import ap_and_ops_world, AP, AP2, AP_TEAM, OPS, World, bill, changed, created, make_world, vendor_held
from tests.bot.delivery.test_delivery import earliest_schedule  # checked there against the published pattern
from tests.cards.harness import card_text


world = pytest.fixture(ap_and_ops_world, name="world")


async def test_a_new_bill_becomes_exactly_one_new_thread_in_the_subscribed_channel(world: World):
    modified = world.clock() - timedelta(seconds=90)
    await world.queue(created(101, modified=modified))

    report = await world.notifier().drain_once()

    assert (report.claimed, report.posted, report.failed) == (1, 1, 0)
    [post] = world.posts(AP)
    assert post.conversation_id == f"{AP};messageid={post.activity_id}", "a new top-level post opens its own thread"
    assert "INV-101" in card_text(post.card) and post.payload["summary"] == post.card["fallbackText"]
    assert world.posts(OPS) == [] and len(world.ops("create")) == 1
    [row] = await world.rows()
    assert (row.status, row.attempts) == ("delivered", 1)
    card = await world.store.get_posted_card("DEMO-CO", "bill", 101, AP)
    assert (card.thread_conversation_id, card.activity_id) == (post.conversation_id, post.activity_id)
    [line] = await world.audit()
    assert (line.action, line.outcome, line.event_key, line.activity_id, line.error) == ("post", "ok", row.event_key, post.activity_id, None)
    metrics = world.context.metrics
    assert metrics.deliveries.labels("post", "ok")._value.get() == 1
    assert metrics.outbox_depth._value.get() == 0
    assert metrics.delivery_latency._sum.get() == pytest.approx(90.0)


async def test_its_approval_updates_that_same_card_in_place(world: World):
    await world.queue(created(102))
    # The approval is already in the outbox: the store holds it back until the post is out.
    world.clock.advance(60)
    await world.queue(changed(102, "Submitted", "Posted", at=world.clock()))

    report = await world.notifier().drain_once()

    assert (report.posted, report.updated) == (1, 1)
    [post] = world.posts(AP)
    [put] = world.ops("update")
    assert put.method == "PUT" and put.activity_id == post.activity_id and put.conversation_id == post.conversation_id
    assert len(post.history) == 2 and "Posted" in card_text(post.card) and "Posted" not in card_text(post.history[0])
    assert [(a.action, a.outcome, a.activity_id) for a in await world.audit()] == [
        ("post", "ok", post.activity_id),
        ("update", "ok", post.activity_id),
    ]
    card = await world.store.get_posted_card("DEMO-CO", "bill", 102, AP)
    assert card.activity_id == post.activity_id and card.updated_at == world.clock()


async def test_a_details_only_change_updates_a_card_but_is_skipped_without_one(world: World):
    await world.queue(changed(103, "Submitted", "Submitted", at=world.clock()))
    skipped = await world.notifier().drain_once()

    assert (skipped.skipped, skipped.posted) == (1, 0) and world.fake.calls == []
    assert [r.status for r in await world.rows()] == ["delivered"]
    assert [(a.action, a.outcome) for a in await world.audit()] == [("skip", "skipped")]

    await world.queue(created(104))
    world.clock.advance(30)
    await world.queue(changed(104, "Submitted", "Submitted", at=world.clock(), due_date=bill(1).due_date + timedelta(days=7)))
    updated = await world.notifier().drain_once()
    assert (updated.posted, updated.updated) == (1, 1) and len(world.ops("update")) == 1


async def test_vendor_changes_are_new_posts_and_channels_get_only_what_they_subscribed(world: World):
    await world.install(AP2, AP_TEAM, name="AP payments")
    await world.subscribe(AP2, frozenset({"vendors"}), name="AP payments")
    await world.queue(created(105), vendor_held(world.clock()))
    world.clock.advance(60)
    await world.queue(vendor_held(world.clock()))

    report = await world.notifier().drain_once()

    assert report.posted == 5  # AP: the bill and both vendor changes; AP2: both vendor changes
    assert len(world.posts(AP)) == 3 and len(world.posts(AP2)) == 2 and world.posts(OPS) == []
    assert world.ops("update") == []
    assert await world.store.get_posted_card("DEMO-CO", "vendor", 77, AP) is None


async def test_a_deleted_card_is_posted_anew_when_its_bill_changes(world: World):
    await world.queue(created(106))
    notifier = world.notifier()
    await notifier.drain_once()
    [first] = world.posts(AP)
    first.deleted = True  # someone deleted the message in Teams

    world.clock.advance(60)
    await world.queue(changed(106, "Submitted", "Posted", at=world.clock()))
    report = await notifier.drain_once()

    assert (report.posted, report.updated, report.failed) == (1, 0, 0)
    [put] = world.ops("update")
    assert put.status == 404
    second = [p for p in world.posts(AP) if not p.deleted]
    assert len(second) == 1 and second[0].activity_id != first.activity_id and "Posted" in card_text(second[0].card)
    card = await world.store.get_posted_card("DEMO-CO", "bill", 106, AP)
    assert card.activity_id == second[0].activity_id
    assert [(a.action, a.outcome) for a in await world.audit()] == [("post", "ok"), ("update", "gone"), ("post", "ok")]


async def test_a_card_too_big_for_teams_is_shrunk_and_delivered(clock, tmp_path):
    async for world in make_world(clock, tmp_path, max_payload_bytes=6_000):
        await world.install(AP, AP_TEAM, name="AP bills")
        await world.subscribe(AP)
        await world.queue(created(107, lines=40))

        report = await world.notifier().drain_once()

        assert (report.posted, report.shrunk) == (1, 1)
        assert [c.status for c in world.ops("create")] == [413, 201]
        [post] = world.posts(AP)
        assert "INV-107" in card_text(post.card)
        [line] = await world.audit()
        assert (line.action, line.outcome) == ("post", "shrunk")
        [row] = await world.rows()
        assert (row.status, row.attempts) == ("delivered", 2)


async def test_a_burst_to_one_channel_stays_within_teams_limits_and_loses_nothing(clock, tmp_path):
    async for world in make_world(clock, tmp_path, enforce_rate_limits=True):
        await world.install(AP, AP_TEAM, name="AP bills")
        await world.subscribe(AP)
        await world.queue(*(created(200 + n) for n in range(45)))
        start = clock()

        report = await world.notifier().drain_once()

        assert (report.posted, report.throttled, report.failed) == (45, 0, 0)
        assert [c.status for c in world.fake.calls if c.status != 201] == []
        numbers = sorted(int(m) for p in world.posts(AP) for m in re.findall(r"INV-(\d+)", p.card["fallbackText"]))
        assert numbers == list(range(200, 245))
        assert (clock() - start).total_seconds() == pytest.approx(earliest_schedule(45)[-1])  # and no slower
        assert await world.rows("delivered") == await world.rows()


async def test_a_channel_sends_its_next_card_only_once_the_previous_one_is_recorded(clock, tmp_path):
    # A crash between Teams taking a card and its record committing repeats that card on restart;
    # were the next card sent before the record, a crash there would repeat two.
    async for world in make_world(clock, tmp_path):
        await world.install(AP, AP_TEAM, name="AP bills")
        await world.subscribe(AP)
        await world.queue(*(created(300 + n) for n in range(12)))
        unrecorded_at_send: list[int] = []

        async def look(operation: str, conversation_id: str | None) -> None:
            if operation == "create":
                unrecorded_at_send.append(len(await world.rows("sending")))

        world.fake.on_request = look
        report = await world.notifier().drain_once()

        assert report.posted == 12
        assert unrecorded_at_send == [1] * 12, "only the card being sent may be sent-but-unrecorded"
