"""The notifier when Teams says no: throttling, transient failures, gone channels, missing
references and cards that cannot shrink — against the fake Bot Connector (a refused bot:
test_notifier_pause.py)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from bot import messages as texts
from poller.events import AlertKind
from tests.bot.delivery.notifier_world import ap_and_ops_world, AP, AP2, AP_TEAM, OPS, TENANT, World, changed, created, vendor_held


world = pytest.fixture(ap_and_ops_world, name="world")


async def rows_of(world: World, channel: str):
    return [r for r in await world.rows() if r.conversation_id == channel]


async def route_of(world: World, channel: str):
    [route] = await world.store.list_routes(conversation_id=channel)
    return route


# --- throttling ---------------------------------------------------------------------------------


async def test_a_429_waits_for_its_retry_after_then_delivers_exactly_one_card(world: World):
    world.fake.fail_next(429, retry_after=3, conversation_id=AP)
    await world.queue(created(301))

    report = await world.notifier().drain_once()

    assert (report.posted, report.throttled, report.retried) == (1, 1, 0)
    refused, accepted = world.ops("create", AP)
    assert (refused.status, accepted.status) == (429, 201)
    assert (accepted.at - refused.at).total_seconds() == 3.0 and 3.0 in world.clock.sleeps
    assert len(world.posts(AP)) == 1
    [row] = await world.rows()
    assert (row.status, row.attempts) == ("delivered", 2)
    assert [(a.action, a.outcome) for a in await world.audit()] == [("post", "ok")]
    assert world.context.metrics.deliveries.labels("post", "throttled")._value.get() == 1
    assert world.pacer.writes_on_their_way == 0  # the refused write was stamped at its answer too


async def test_a_long_retry_after_gives_the_channel_back_until_then_while_others_go_on(world: World):
    await world.install(AP2, AP_TEAM, name="AP payments")
    await world.subscribe(AP2, name="AP payments")
    world.fake.fail_next(429, retry_after=120, conversation_id=AP)
    await world.queue(created(302), created(303))
    start = world.clock()
    notifier = world.notifier()

    report = await notifier.drain_once()

    assert (report.posted, report.throttled, report.retried) == (2, 1, 2)
    assert len(world.posts(AP2)) == 2 and world.posts(AP) == []
    assert len(world.ops("create", AP)) == 1, "the second bill was held back, not sent into the 429"
    first, second = await rows_of(world, AP)
    assert first.status == second.status == "pending" and first.not_before == second.not_before == start + timedelta(seconds=120)
    assert "429" in first.last_error and second.last_error.startswith("not sent yet")

    world.clock.set(start + timedelta(seconds=120))
    again = await notifier.drain_once()
    assert again.posted == 2
    assert [re.search(r"INV-\d+", p.card["fallbackText"])[0] for p in world.posts(AP)] == ["INV-302", "INV-303"]


# --- transient failures ---------------------------------------------------------------------------


@pytest.mark.parametrize("status", [412, 502, 503, 504])
async def test_transient_failures_back_off_and_are_delivered_later(world: World, status: int):
    world.fake.fail_next(status, conversation_id=AP)
    await world.queue(created(310))
    start = world.clock()
    notifier = world.notifier()

    first = await notifier.drain_once()

    assert (first.posted, first.retried) == (0, 1)
    assert world.pacer.writes_on_their_way == 0
    [row] = await world.rows()
    assert (row.status, row.attempts) == ("pending", 1) and f"HTTP {status}" in row.last_error
    assert row.not_before == start + timedelta(seconds=3.75)  # 5 s nominal, equal jitter at 0.5
    assert (await notifier.drain_once()).claimed == 0, "not due before its back-off"

    world.clock.set(row.not_before)
    second = await notifier.drain_once()

    assert second.posted == 1 and len(world.posts(AP)) == 1
    assert [(a.action, a.outcome) for a in await world.audit()] == [("post", "ok")]


async def test_retries_are_bounded_then_the_card_fails_audited_and_alerted(world: World):
    world.fake.fail_next(503, times=100, conversation_id=AP)
    await world.queue(created(311), created(312))
    notifier = world.notifier(max_attempts=4)
    start = world.clock()
    schedule = []

    for _ in range(4):
        await notifier.drain_once()
        row = (await rows_of(world, AP))[0]
        schedule.append((row.not_before - start).total_seconds())
        world.clock.set(max(world.clock(), row.not_before))

    first, second = await rows_of(world, AP)
    assert (first.status, first.attempts) == ("failed", 4) and "HTTP 503" in first.last_error
    assert schedule[:3] == [3.75, 3.75 + 7.5, 3.75 + 7.5 + 15], "exponential back-off"
    assert second.status == "pending" and second.attempts == 1, "the channel's next card keeps its own budget"
    assert len(world.ops("create", AP)) == 5
    failures = [a for a in await world.audit() if a.conversation_id == AP]
    assert [(a.action, a.outcome, a.record_no) for a in failures] == [("post", "failed", 311)]
    assert "HTTP 503" in failures[0].error
    [alert] = await world.alerts(OPS)
    assert alert.alert is AlertKind.DELIVERY_FAILED and alert.subject == AP
    assert "4 attempts" in alert.summary and "AP bills" in alert.summary and alert.fix == texts.NOTIFIER_FIX_RETRIES
    assert len(world.posts(OPS)) == 1, "the alert itself went out in the same drain"


# --- gone channels -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make_gone", "status", "code"),
    [
        (lambda fake: fake.uninstall(AP_TEAM), 403, "BotNotInConversationRoster"),
        (lambda fake: fake.delete_channel(AP), 404, "ConversationNotFound"),
    ],
)
async def test_a_gone_channel_is_deactivated_its_rows_fail_and_operators_hear_once(world: World, make_gone, status, code):
    await world.queue(created(320), created(321))
    world.clock.advance(60)
    await world.queue(changed(320, "Submitted", "Posted", at=world.clock()))
    make_gone(world.fake)
    notifier = world.notifier()

    report = await notifier.drain_once()

    assert report.failed == 3 and report.posted == 1  # the posted one is the operators' alert
    assert world.pacer.writes_on_their_way == 0
    [refused] = world.ops("create", AP)
    assert (refused.status, world.ops("update", AP)) == (status, [])
    assert [r.status for r in await rows_of(world, AP)] == ["failed"] * 3
    route = await route_of(world, AP)
    assert not route.active and route.inactive_reason == texts.NOTIFIER_GONE_REASONS[code]
    trail = [(a.action, a.outcome) for a in await world.audit() if a.conversation_id == AP]
    assert trail == [("post", "gone"), ("failure", "gone"), ("failure", "gone")]
    [alert] = await world.alerts(OPS)
    assert alert.alert is AlertKind.CHANNEL_GONE and alert.subject == AP and "“AP bills”" in alert.summary
    assert code in alert.detail and len(world.posts(OPS)) == 1

    assert (await notifier.drain_once()).claimed == 0
    assert len(world.ops("create", AP)) == 1, "no more attempts"


async def test_a_channel_without_a_stored_reference_fails_deactivates_and_alerts(world: World):
    await world.subscribe(AP2, name="AP payments")  # subscribed, but the bot never stored its reference
    await world.queue(created(330), created(331))

    report = await world.notifier().drain_once()

    assert len(world.posts(AP)) == 2 and world.ops("create", AP2) == []
    assert report.failed == 2
    failed = await rows_of(world, AP2)
    assert [r.status for r in failed] == ["failed", "failed"] and texts.NOTIFIER_NO_REFERENCE in failed[0].last_error
    route = await route_of(world, AP2)
    assert not route.active and route.inactive_reason == texts.NOTIFIER_NO_REFERENCE
    [alert] = await world.alerts(OPS)
    assert alert.alert is AlertKind.CHANNEL_GONE and alert.subject == AP2
    assert [(a.action, a.outcome) for a in await world.audit() if a.conversation_id == AP2] == [("failure", "gone")] * 2


async def test_a_reinstalled_channel_takes_cards_again(world: World):
    await world.queue(created(340))
    world.fake.uninstall(AP_TEAM)
    notifier = world.notifier()
    await notifier.drain_once()
    assert not (await route_of(world, AP)).active

    world.clock.advance(3600)
    world.fake.add_team(AP_TEAM, channels={AP: "AP bills"}, tenant_id=TENANT)  # the app is added back
    await world.install(AP, AP_TEAM, name="AP bills")  # …and the handler stores a fresh reference
    await world.subscribe(AP, name="AP bills")  # the identical route is switched back on
    await world.queue(created(341))

    report = await notifier.drain_once()

    assert report.posted == 1 and "INV-341" in world.posts(AP)[0].card["fallbackText"]


# --- refusals ------------------------------------------------------------------------------------


async def test_a_card_that_cannot_shrink_enough_fails_for_good(world: World):
    world.fake.fail_next(413, times=10, conversation_id=AP)
    await world.queue(vendor_held(world.clock()))

    report = await world.notifier().drain_once()

    assert report.failed == 1 and len(world.ops("create", AP)) == 1
    [line] = [a for a in await world.audit() if a.conversation_id == AP]
    assert (line.action, line.outcome) == ("post", "failed") and "MessageSizeTooBig" in line.error
    [alert] = await world.alerts(OPS)
    assert texts.NOTIFIER_REASON_TOO_LARGE in alert.summary


async def test_an_unreadable_row_fails_audited_instead_of_blocking_the_channel(world: World):
    from store.types import NewOutboxItem

    await world.store.enqueue_outbox([NewOutboxItem("DEMO-CO", "DEMO-CO|bill|360|created", "bills", "bill", 360, AP, None,
                                                    {"type": "BillFromTheFuture", "data": {}}, world.clock())])
    await world.queue(created(361))

    report = await world.notifier().drain_once()

    assert (report.failed, report.posted) == (1, 2)  # the bill, and the alert about the bad row
    bad, good = await rows_of(world, AP)
    assert bad.status == "failed" and "undecodable payload" in bad.last_error and good.status == "delivered"
    [alert] = await world.alerts(OPS)
    assert alert.alert is AlertKind.DELIVERY_FAILED and texts.NOTIFIER_REASON_UNREADABLE in alert.summary
