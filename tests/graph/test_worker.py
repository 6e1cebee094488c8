"""The notification worker: the route returns at once, the work runs in the background, failures are logged."""

from __future__ import annotations

import asyncio
import logging

from graph.notifications import ChannelChanged, Notification
from graph.worker import NotificationWorker


async def test_submitted_items_are_handled_in_order_and_failures_do_not_stop_it(caplog):
    handled: list[Notification] = []

    async def handler(item: Notification) -> None:
        if item.channel_id == "bad":
            raise RuntimeError("boom")
        handled.append(item)

    worker = NotificationWorker(handler)
    task = asyncio.create_task(worker.run())
    items = [ChannelChanged("t", cid, "updated") for cid in ("a", "bad", "b")]

    worker.submit(items)  # returns without awaiting anything
    await worker.join()
    task.cancel()

    assert handled == [items[0], items[2]]
    assert (worker.handled, worker.failed) == (2, 1)
    assert any("handling Graph notification" in r.getMessage() and r.exc_info for r in caplog.records)


async def test_a_full_queue_drops_and_logs(caplog):
    async def handler(item: Notification) -> None:
        return None

    worker = NotificationWorker(handler, max_queued=1)
    caplog.set_level(logging.ERROR)

    worker.submit([ChannelChanged("t", "a", "created"), ChannelChanged("t", "b", "created")])

    assert worker.dropped == 1
    assert any("queue full" in r.getMessage() for r in caplog.records)
