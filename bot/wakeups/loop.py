"""The wake-ups' background loop: start due wake-up polls, hear other instances' wake-ups each second."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import AsyncIterator, Callable

from aiohttp import web

from bot.waiting import Sleep, sleep_or_wake
from poller.wakeups import WakeUps

log = logging.getLogger("mlc.wakeups")

Clock = Callable[[], datetime]

# How often every instance reads the store for wake-ups another instance received (one small
# query): the worst extra delay of a wake-up that reached an instance without the poll lease.
SYNC_INTERVAL = timedelta(seconds=1)
# Like the scheduler's stop (poller/runner.py): running polls get this long to commit.
STOP_GRACE_SECONDS = 5.0


async def run_wakeups(wakeups: WakeUps, *, clock: Clock, sleep: Sleep, sync_interval: timedelta = SYNC_INTERVAL) -> None:
    """Until cancelled: start each due poll as its own task, sleep until the next due poll, the
    next sync or a new wake-up, whichever comes first."""
    running: set[asyncio.Task] = set()
    next_sync = clock()
    try:
        while True:
            wakeups.changed.clear()
            if clock() >= next_sync:
                await wakeups.sync()
                next_sync = clock() + sync_interval
            for task in wakeups.start_due():
                running.add(task)
                task.add_done_callback(running.discard)
            due = wakeups.next_due()
            until = min(due, next_sync) if due is not None else next_sync
            await sleep_or_wake(sleep, max(0.0, (until - clock()).total_seconds()), wakeups.changed)
    finally:
        if running:
            _, late = await asyncio.wait(set(running), timeout=STOP_GRACE_SECONDS)
            if late:
                log.warning("stopping: %d wake-up poll(s) still running are cancelled; their work is done again at the next start",
                            len(late))
        await wakeups.stop()


def wakeups_context(wakeups: WakeUps, *, clock: Clock, sleep: Sleep = asyncio.sleep) -> Callable[[web.Application], AsyncIterator[None]]:
    """A cleanup_ctx entry running the loop while the app runs."""

    async def run(app: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(run_wakeups(wakeups, clock=clock, sleep=sleep), name="intacct wake-ups")
        yield
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass

    return run
