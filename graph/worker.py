"""A background queue for accepted Graph notifications, so the route can answer 202 within 3 s.

The route calls `submit(items)` (never blocks, never does I/O) and answers; `run()` — started and
stopped with the app — hands each item to the handler (SubscriptionManager.handle) one at a time,
logging any failure with its traceback and carrying on. A full queue drops the new items with an
error log; the next scheduled resync repairs what they would have told us.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Awaitable, Callable, Iterable

from graph.notifications import Notification

log = logging.getLogger(__name__)


class NotificationWorker:
    """Runs notification handling off the request path."""

    def __init__(self, handler: Callable[[Notification], Awaitable[object]], *, max_queued: int = 10_000) -> None:
        self._handler = handler
        self._queue: asyncio.Queue[Notification] = asyncio.Queue(maxsize=max_queued)
        self.handled = 0
        self.failed = 0
        self.dropped = 0

    def submit(self, items: Iterable[Notification]) -> None:
        """Queue items for `run` (returns at once)."""
        for item in items:
            try:
                self._queue.put_nowait(item)
            except asyncio.QueueFull:
                self.dropped += 1
                log.error("Graph notification queue full; dropped %r (a resync will catch up)", item)

    async def run(self) -> None:
        """Handle queued items until cancelled; a failing item is logged and skipped."""
        while True:
            item = await self._queue.get()
            try:
                await self._handler(item)
                self.handled += 1
            except asyncio.CancelledError:
                raise
            except Exception:  # one bad item must not stop the worker; it is logged in full
                self.failed += 1
                log.exception("handling Graph notification %r failed", item)
            finally:
                self._queue.task_done()

    async def join(self) -> None:
        """Wait until every submitted item has been handled (shutdown, tests)."""
        await self._queue.join()
