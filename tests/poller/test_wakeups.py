"""Wake-ups turned into polls (poller/wakeups.py) against the sandbox over HTTP and a real SQLite store.

Debounced and coalesced (a burst is one or two polls), rate-bounded, a recheck for Intacct's lag,
one poller among instances (the store carries wake-ups to the lease holder), and one alert when
the regular poll finds changes that no wake-up announced.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from poller.coordinator import LEASE_HELD, PollCoordinator, PollerConfig
from poller.events import AlertKind, AlertRaised, BillCreated
from poller.wakeups import RECHECK, WAKE_UP, WakeUpPolicy, WakeUps
from store.sql import open_store
# The coordinator tests' fixtures: the demo sandbox, and `routed`, a SQLite store with a channel
# subscribed to bills, payments and vendors and an operators' channel (OPS) for alerts.
from tests.poller.test_coordinator import OPS, routed, sandbox, store  # noqa: F401  (fixtures)
from tests.poller.test_coordinator import outbox_events as cards

COMPANY = "DEMO-CO"


def coordinator(sandbox, store, clock, holder="instance-a") -> PollCoordinator:
    return PollCoordinator(PollerConfig(COMPANY, holder, lease_seconds=300), sandbox.client(clock), store, clock=clock, jitter=lambda: 0.5)


async def baseline(poller: PollCoordinator, clock) -> None:
    assert (await poller.poll()).ok
    clock.advance(60)


async def gateway_requests(sandbox) -> int:
    return (await sandbox.stats())["requests"]


async def test_a_wake_up_polls_after_the_debounce_and_the_new_bill_becomes_one_card(sandbox, routed, clock):
    poller = coordinator(sandbox, routed, clock)
    await baseline(poller, clock)
    wakeups = WakeUps({COMPANY: poller}, routed, clock=clock)

    bill = await sandbox.add_bill(amount="980.00")
    await wakeups.receive(COMPANY, "smart_event")
    assert await wakeups.run_due() == []  # not before the debounce
    assert wakeups.next_due() == clock() + timedelta(seconds=0.5)

    clock.advance(0.5)
    [outcome] = await wakeups.run_due()

    assert outcome.reason == WAKE_UP and [type(e) for e in outcome.events] == [BillCreated]
    assert [e.bill.record_no for e in await cards(routed)] == [bill["record_no"]]
    [state] = await routed.wakeup_states()
    assert (state.company, state.received, state.last_kind, state.last_at) == (COMPANY, 1, "smart_event", clock() - timedelta(seconds=0.5))


async def test_a_hundred_wake_ups_in_one_second_cost_at_most_a_few_polls(sandbox, routed, clock):
    """One poll after the debounce, one more for the wake-ups that came while it ran, and a recheck
    only if that last one found nothing (when the first poll happened to read every bill)."""
    poller = coordinator(sandbox, routed, clock)
    await baseline(poller, clock)
    wakeups = WakeUps({COMPANY: poller}, routed, clock=clock)
    before = await gateway_requests(sandbox)
    created = []
    running: list[asyncio.Task] = []

    for n in range(100):  # 50 bills, each announced twice, over one second; polls start when due
        if n % 2 == 0:
            created.append((await sandbox.add_bill(amount=f"{100 + n}.00"))["record_no"])
        await wakeups.receive(COMPANY, "smart_event")
        clock.advance(0.01)
        running += wakeups.start_due()
    outcomes = list(await asyncio.gather(*running))
    while wakeups.next_due() is not None:  # the poll asked for by wake-ups during a running one
        clock.set(max(clock(), wakeups.next_due()))
        outcomes += await wakeups.run_due()

    polls = [o for o in outcomes if o.ok]
    assert [o.reason for o in polls] in ([WAKE_UP, WAKE_UP], [WAKE_UP, WAKE_UP, RECHECK])
    assert wakeups.polls_run(COMPANY) == len(polls) and (len(polls) == 2 or polls[1].events == [])
    # Each poll: 1 request reading the three objects (+ a readMore page) and 1 for the new bills' lines.
    assert await gateway_requests(sandbox) - before <= 3 * len(polls)
    announced = [e.bill.record_no for o in polls for e in o.events if isinstance(e, BillCreated)]
    assert sorted(announced) == sorted(created), "every bill once, whichever poll found it"
    assert (await routed.wakeup_states())[0].received == 100


async def test_a_wake_up_during_a_running_poll_asks_for_exactly_one_more(sandbox, routed, clock):
    poller = coordinator(sandbox, routed, clock)
    await baseline(poller, clock)
    wakeups = WakeUps({COMPANY: poller}, routed, clock=clock, policy=WakeUpPolicy(recheck=None))

    await wakeups.receive(COMPANY, "smart_event")
    clock.advance(0.5)
    started = clock()
    [first] = wakeups.start_due()
    bill = await sandbox.add_bill(amount="77.00")  # made while the first poll may already have read
    for _ in range(5):
        wakeups.note(COMPANY)
    assert (await first).ok
    assert wakeups.next_due() == started + timedelta(seconds=2)  # the minimum interval after the first start

    clock.set(wakeups.next_due())
    assert len(await wakeups.run_due()) == 1

    assert wakeups.polls_run(COMPANY) == 2 and wakeups.next_due() is None
    assert [e.bill.record_no for e in await cards(routed)] == [bill["record_no"]]


async def test_wake_up_polls_keep_the_minimum_interval_and_the_hourly_budget(sandbox, routed, clock):
    poller = coordinator(sandbox, routed, clock)
    await baseline(poller, clock)
    policy = WakeUpPolicy(debounce=timedelta(0), min_interval=timedelta(seconds=10), max_per_hour=3, recheck=None)
    wakeups = WakeUps({COMPANY: poller}, routed, clock=clock, policy=policy)
    starts = []

    for _ in range(4):
        await wakeups.receive(COMPANY, "smart_event")
        starts.append(wakeups.next_due())
        clock.set(wakeups.next_due())
        await wakeups.run_due()

    gaps = [(b - a).total_seconds() for a, b in zip(starts, starts[1:])]
    assert gaps[:2] == [10.0, 10.0]
    # The hour's 3 polls are spent: the 4th waits for one poll's refill (20 minutes) after the 3rd.
    assert gaps[2] == pytest.approx(20 * 60 - 20, abs=1)
    assert wakeups.polls_run(COMPANY) == 4


async def test_a_change_the_poll_cannot_see_yet_still_ends_in_exactly_one_card(sandbox, routed, clock):
    """Intacct may call before its change is readable: the wake-up poll finds nothing, its recheck
    (or, failing that, the next wake-up or the regular poll) finds it once."""
    poller = coordinator(sandbox, routed, clock)
    await baseline(poller, clock)
    wakeups = WakeUps({COMPANY: poller}, routed, clock=clock)

    await wakeups.receive(COMPANY, "platform_trigger")  # the wake-up arrives first...
    clock.advance(0.5)
    [early] = await wakeups.run_due()
    assert early.ok and early.events == []
    assert wakeups.next_due() == clock() + timedelta(seconds=15)

    clock.advance(3)
    bill = await sandbox.add_bill(amount="431.00")  # ...the change becomes readable later
    clock.set(wakeups.next_due())
    [recheck] = await wakeups.run_due()
    assert recheck.reason == RECHECK and [e.bill.record_no for e in recheck.events] == [bill["record_no"]]
    assert wakeups.next_due() is None  # a recheck does not ask for another

    await wakeups.receive(COMPANY, "platform_trigger")  # a late retry of the same change
    clock.advance(2)
    await wakeups.run_due()
    clock.advance(15 * 60)
    assert (await poller.poll()).events == []  # the regular poll re-reads it in its overlap

    assert [e.bill.record_no for e in await cards(routed)] == [bill["record_no"]]


async def test_a_lagging_change_missed_by_the_recheck_is_found_by_the_regular_poll_once(sandbox, routed, clock):
    poller = coordinator(sandbox, routed, clock)
    await baseline(poller, clock)
    wakeups = WakeUps({COMPANY: poller}, routed, clock=clock, policy=WakeUpPolicy(recheck=None))

    await wakeups.receive(COMPANY, "smart_event")
    clock.advance(0.5)
    assert (await wakeups.run_due())[0].events == []
    clock.advance(20)
    bill = await sandbox.add_bill(amount="52.00")
    clock.advance(15 * 60)

    found = await poller.poll()

    assert [e.bill.record_no for e in found.events] == [bill["record_no"]]
    assert [e.bill.record_no for e in await cards(routed)] == [bill["record_no"]]


async def test_a_wake_up_received_by_another_instance_reaches_the_lease_holder_within_a_sync(sandbox, routed, clock):
    holder = coordinator(sandbox, routed, clock, "instance-b")
    await baseline(holder, clock)  # b polls, so b holds the company's lease
    other = coordinator(sandbox, routed, clock, "instance-a")
    at_a = WakeUps({COMPANY: other}, routed, clock=clock)
    at_b = WakeUps({COMPANY: holder}, routed, clock=clock)
    await at_a.sync()
    await at_b.sync()

    bill = await sandbox.add_bill(amount="640.00")
    await at_a.receive(COMPANY, "smart_event")
    clock.advance(0.5)
    [skipped] = await at_a.run_due()
    assert skipped.skipped == LEASE_HELD and at_a.polls_run(COMPANY) == 0

    await at_b.sync()
    clock.advance(0.5)
    [polled] = await at_b.run_due()

    assert [e.bill.record_no for e in polled.events] == [bill["record_no"]]
    await at_a.sync()
    assert at_a.next_due() is None, "a's own wake-up, read back from the routed, is not asked for twice"
    assert [e.bill.record_no for e in await cards(routed)] == [bill["record_no"]]


async def test_wake_ups_from_before_an_instance_started_ask_for_nothing(sandbox, routed, clock):
    poller = coordinator(sandbox, routed, clock)
    await routed.record_wakeup(COMPANY, kind="smart_event", now=clock())
    wakeups = WakeUps({COMPANY: poller}, routed, clock=clock)

    await wakeups.sync()

    assert wakeups.next_due() is None


async def alerts(routed) -> list[AlertRaised]:
    return [e for e in await cards(routed, OPS) if isinstance(e, AlertRaised)]


async def test_changes_no_wake_up_announced_raise_one_alert_until_wake_ups_return(sandbox, routed, clock):
    poller = coordinator(sandbox, routed, clock)
    await baseline(poller, clock)
    wakeups = WakeUps({COMPANY: poller}, routed, clock=clock, fallback_url=lambda key: f"https://bot.example/api/intacct/events?company={key}")
    poller.after_poll = wakeups.check_announced
    clock.advance(5 * 60)

    await sandbox.add_bill(amount="10.00")  # nobody calls us
    clock.advance(15 * 60)
    await poller.poll()
    await sandbox.set_vendor_status((await sandbox.add_bill(amount="11.00"))["vendor_id"], on_hold=True)
    clock.advance(15 * 60)
    await poller.poll()

    [alert] = await alerts(routed)
    assert alert.alert is AlertKind.WAKEUPS_MISSING
    assert "APBILL" in alert.summary and "https://bot.example/api/intacct/events?company=DEMO-CO" in alert.fix

    await wakeups.receive(COMPANY, "smart_event")  # the trigger works again: the alert is cleared
    assert (await routed.wakeup_states())[0].trigger_alert_at is None
    clock.advance(5 * 60)
    await sandbox.add_bill(amount="12.00")
    clock.advance(15 * 60)
    await poller.poll()
    assert len(await alerts(routed)) == 2


async def test_announced_changes_and_changes_from_before_the_start_raise_no_alert(sandbox, routed, clock):
    poller = coordinator(sandbox, routed, clock)
    await baseline(poller, clock)
    await sandbox.add_bill(amount="20.00")  # made before this instance listened
    wakeups = WakeUps({COMPANY: poller}, routed, clock=clock)
    poller.after_poll = wakeups.check_announced
    assert (await poller.poll()).events

    clock.advance(10 * 60)
    await sandbox.add_bill(amount="21.00")
    await wakeups.receive(COMPANY, "smart_event")  # announced; the wake-up poll is not run here
    clock.advance(15 * 60)
    assert (await poller.poll()).events

    assert await alerts(routed) == []


async def test_a_store_that_cannot_record_wake_ups_still_gets_the_poll_and_one_warning(sandbox, routed, clock, tmp_path, caplog):
    poller = coordinator(sandbox, routed, clock)
    unreachable = open_store("postgresql://nobody:nothing@127.0.0.1:1/none", data_dir=tmp_path)  # refused at once
    wakeups = WakeUps({COMPANY: poller}, unreachable, clock=clock)
    try:
        with caplog.at_level("WARNING", logger="mlc.poller"):
            for _ in range(3):
                await wakeups.receive(COMPANY, "smart_event")
    finally:
        await unreachable.close()

    assert wakeups.next_due() == clock() + timedelta(seconds=0.5)
    assert [r.getMessage()[:40] for r in caplog.records] == ["could not record Intacct wake-ups (other"]
