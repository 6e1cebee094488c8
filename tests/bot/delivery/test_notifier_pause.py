"""Teams refusing the bot itself (401 BotNotRegistered: an expired or wrong bot secret) pauses
posting instead of failing cards: every row stays pending, operators hear once, one card probes
at growing intervals, and posting resumes by itself when Teams accepts the bot again. A 400
BadArgument stays a failure of that one card."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

import pytest

from bot import messages as texts
from poller.events import AlertKind
from tests.bot.delivery.notifier_world import AP, AP2, AP_TEAM, OPS, OPS_TEAM, World, created, make_world


@pytest.fixture
async def world(clock, tmp_path):
    async for built in make_world(clock, tmp_path):
        await built.install(AP, AP_TEAM, name="AP bills")
        await built.install(AP2, AP_TEAM, name="AP payments")
        await built.install(OPS, OPS_TEAM, name="Ops")
        await built.subscribe(AP, name="AP bills")
        await built.subscribe(AP2, name="AP payments")
        await built.subscribe(OPS, frozenset({"alerts"}), name="Ops")
        yield built


def bills(posts) -> list[int]:
    return [int(n) for p in posts for n in re.findall(r"INV-(\d+)", p.card["fallbackText"])[:1]]


def errors(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


async def paused_world(world: World, caplog):
    """Three bills in two channels meet an expired bot secret; returns (notifier, fault, start)."""
    caplog.set_level(logging.DEBUG, logger="mlc.notifier")
    fault = world.fake.fail_next(401, times=1000)  # every request, every channel
    await world.queue(created(350), created(351), created(352))
    notifier = world.notifier()
    start = world.clock()
    report = await notifier.drain_once()
    assert (report.failed, report.posted, report.paused) == (0, 0, 6)
    return notifier, fault, start


async def test_a_refused_bot_pauses_posting_keeps_every_card_and_alerts_once(world: World, caplog):
    notifier, _, start = await paused_world(world, caplog)

    refused = world.ops("create")
    assert {c.status for c in refused} == {401} and len({c.conversation_id.partition(";")[0] for c in refused}) == len(refused)
    pause = notifier.delivery_pause
    assert pause is not None and (pause.since, pause.probes) == (start, 0)
    assert pause.until == start + timedelta(seconds=225)  # 5 min nominal, equal jitter at 0.5
    assert pause.reason == texts.NOTIFIER_REASON_CREDENTIALS and "401 BotNotRegistered" in pause.error
    cards = [r for r in await world.rows() if r.record_kind == "bill"]
    assert [(r.status, r.attempts, r.not_before) for r in cards] == [("pending", 0, pause.until)] * 6, "none failed, no attempt used"
    assert all(texts.NOTIFIER_PAUSED.format(reason=pause.reason) == r.last_error or "401" in r.last_error for r in cards)
    assert await world.audit() == [], "nothing final happened"
    [alert] = await world.alerts(OPS)
    assert alert.alert is AlertKind.DELIVERY_PAUSED and alert.at == start and "401 BotNotRegistered" in alert.detail
    assert "APP_PASSWORD" in alert.fix and "30 minutes" in alert.fix
    assert world.posts(OPS) == [], "the alert waits with the cards: Teams refuses the bot for it too"
    [line] = errors(caplog)
    assert "posting paused" in line and "401" in line
    assert world.context.metrics.deliveries.labels("post", "paused")._value.get() == len(refused)
    assert world.context.metrics.delivery_paused._value.get() == 1, "what an operator's monitoring can alert on"

    world.clock.advance(200)  # before the next try: a drain claims and sends nothing
    again = await notifier.drain_once()
    assert (again.claimed, len(world.fake.calls)) == (0, len(refused))


async def test_a_probe_still_refused_keeps_the_pause_with_a_longer_wait_and_no_new_alert(world: World, caplog):
    notifier, _, start = await paused_world(world, caplog)
    sent = len(world.fake.calls)
    first = notifier.delivery_pause
    world.clock.set(first.until)

    report = await notifier.drain_once()

    assert len(world.fake.calls) == sent + 1, "one card probes; the others wait for its answer"
    assert (report.posted, report.failed, report.paused) == (0, 0, 7)
    pause = notifier.delivery_pause
    assert (pause.since, pause.probes) == (start, 1)
    assert pause.until == first.until + timedelta(seconds=450)  # 10 min nominal: the wait doubles
    assert {(r.status, r.attempts) for r in await world.rows()} == {("pending", 0)}
    assert len(await world.alerts(OPS)) == 1 and len(errors(caplog)) == 1, "said once, not once per probe"


async def test_posting_resumes_by_itself_once_teams_accepts_the_bot_again(world: World, caplog):
    notifier, fault, _ = await paused_world(world, caplog)
    fault.remaining = 0  # an operator fixed APP_PASSWORD
    world.clock.set(notifier.delivery_pause.until)

    report = await notifier.drain_once()

    assert notifier.delivery_pause is None and world.context.metrics.delivery_paused._value.get() == 0
    assert (report.posted, report.failed) == (7, 0)  # six cards and the alert about the pause
    assert bills(world.posts(AP)) == [350, 351, 352] and bills(world.posts(AP2)) == [350, 351, 352]
    [alert] = world.posts(OPS)
    assert "Posting to Teams is paused" in alert.card["fallbackText"]
    assert {(r.status, r.attempts) for r in await world.rows()} == {("delivered", 1)}
    assert any("posting to Teams resumed" in r.getMessage() for r in caplog.records if r.levelno == logging.INFO)
    assert len(errors(caplog)) == 1


async def test_a_card_teams_finds_malformed_fails_alone_and_posting_goes_on(world: World):
    world.fake.fail_next(400, conversation_id=AP)
    await world.queue(created(360), created(361))
    notifier = world.notifier()

    report = await notifier.drain_once()

    assert notifier.delivery_pause is None
    assert report.failed == 1 and bills(world.posts(AP)) == [361] and bills(world.posts(AP2)) == [360, 361]
    [bad] = [r for r in await world.rows() if r.conversation_id == AP and r.record_no == 360]
    assert bad.status == "failed" and "400 BadArgument" in bad.last_error
    [line] = [a for a in await world.audit() if a.outcome == "failed"]
    assert (line.action, line.record_no, line.conversation_id) == ("post", 360, AP)
    [alert] = await world.alerts(OPS)
    assert alert.alert is AlertKind.DELIVERY_FAILED and alert.fix == texts.NOTIFIER_FIX_PAYLOAD
    assert len(world.posts(OPS)) == 1


async def test_a_probe_meeting_another_failure_proves_nothing_and_the_next_card_probes(world: World, caplog):
    notifier, fault, _ = await paused_world(world, caplog)
    fault.remaining = 0
    world.fake.fail_next(503, times=1)  # the bot is accepted again, but the probe meets a passing 503
    world.clock.set(notifier.delivery_pause.until)

    report = await notifier.drain_once()

    [unavailable] = [c for c in world.fake.calls if c.status == 503]
    held = unavailable.conversation_id.partition(";")[0]
    assert notifier.delivery_pause is None, "the next card probed, and Teams took it"
    assert report.failed == 0 and report.posted >= 3
    for row in await world.rows():
        assert row.status == ("pending" if row.conversation_id == held else "delivered"), row
