"""The wake-ups' loop (bot/wakeups/loop.py) on the test clock: it starts due polls and hears wake-ups that
another instance stored."""

from __future__ import annotations

import asyncio

from bot.wakeups.loop import run_wakeups
from poller.events import BillCreated
from poller.wakeups import WakeUps
from tests.poller.test_coordinator import outbox_events, routed, sandbox, store  # noqa: F401  (fixtures)
from tests.poller.test_wakeups import COMPANY, baseline, coordinator


async def until(check, *, rounds: int = 2000) -> None:
    for _ in range(rounds):
        if await check():
            return
        await asyncio.sleep(0)
    raise AssertionError("the loop did not get there")


async def test_the_loop_polls_for_a_wake_up_here_and_for_one_stored_by_another_instance(sandbox, routed, clock):
    poller = coordinator(sandbox, routed, clock)
    await baseline(poller, clock)
    wakeups = WakeUps({COMPANY: poller}, routed, clock=clock)
    loop = asyncio.create_task(run_wakeups(wakeups, clock=clock, sleep=clock.sleep))
    try:
        first = await sandbox.add_bill(amount="101.00")
        await wakeups.receive(COMPANY, "smart_event")
        await until(lambda: _carded(routed, first["record_no"]))

        second = await sandbox.add_bill(amount="202.00")
        await routed.record_wakeup(COMPANY, kind="platform_trigger", now=clock())  # received by another instance
        await until(lambda: _carded(routed, second["record_no"]))
    finally:
        loop.cancel()
        await asyncio.gather(loop, return_exceptions=True)

    assert sorted(e.bill.record_no for e in await outbox_events(routed) if isinstance(e, BillCreated)) == \
        sorted([first["record_no"], second["record_no"]])


async def _carded(store, record_no: int) -> bool:
    return any(isinstance(e, BillCreated) and e.bill.record_no == record_no for e in await outbox_events(store))
