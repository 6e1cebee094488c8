"""The notifier's two per-row commits, merged across its lanes: one transaction for many rows.

Every row costs two commits: "sending" before its send and the delivery record after it. Lanes
that commit one row at a time queue on SQLite's single writer (the store takes write transactions
in turn), and a transaction costs about the same whatever it carries: a dozen round trips to the
database thread, each waiting for a busy event loop. So requests are merged: one flush runs at a
time per kind, and every request that arrives meanwhile goes in the next flush. Batches grow with
load; a lone request goes at once. A batch the store refuses is retried row by row, so one bad
row (or a flaky moment) fails only its own request. Nothing changes what is committed when:
a row's "sending" is still committed before its send, and its record after.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Awaitable, Callable, Generic, Sequence, TypeVar

from store.api import Store, StoreError
from store.types import Delivery

log = logging.getLogger("mlc.notifier")

Clock = Callable[[], datetime]
Req = TypeVar("Req")
Res = TypeVar("Res")


class Coalescer(Generic[Req, Res]):
    """Runs `flush(batch)` for requests submitted concurrently: at most one flush at a time, and
    requests that arrive during one wait for the next, which takes them all. When a flush raises
    StoreError, `single(request)` runs for each request of that batch instead."""

    def __init__(self, flush: Callable[[list[Req]], Awaitable[Sequence[Res]]], single: Callable[[Req], Awaitable[Res]]) -> None:
        self._flush = flush
        self._single = single
        self._waiting: list[tuple[Req, asyncio.Future[Res]]] = []
        self._runner: asyncio.Task[None] | None = None

    async def submit(self, request: Req) -> Res:
        """The result of `request`, once the flush that carried it has committed."""
        result: asyncio.Future[Res] = asyncio.get_running_loop().create_future()
        self._waiting.append((request, result))
        if self._runner is None or self._runner.done():
            self._runner = asyncio.create_task(self._run(), name="notifier store writes")
        return await result

    async def _run(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, []
                await self._commit(batch)
        except asyncio.CancelledError:
            for _, result in self._waiting:
                result.cancel()
            self._waiting = []
            raise

    async def _commit(self, batch: list[tuple[Req, asyncio.Future[Res]]]) -> None:
        requests = [request for request, _ in batch]
        try:
            results = await self._flush(requests) if len(batch) > 1 else [await self._single(requests[0])]
        except StoreError as exc:
            if len(batch) == 1:
                _fail(batch[0][1], exc)
                return
            log.debug("a batch of %d store writes failed (%s); writing them one by one", len(batch), exc)
            await asyncio.gather(*(self._one(request, result) for request, result in batch))
            return
        except asyncio.CancelledError:
            for _, result in batch:
                result.cancel()
            raise
        except Exception as exc:  # noqa: BLE001 - a bug: each waiter raises it in its own lane
            for _, result in batch:
                _fail(result, exc)
            return
        for (_, result), value in zip(batch, results, strict=True):
            if not result.done():
                result.set_result(value)

    async def _one(self, request: Req, result: asyncio.Future[Res]) -> None:
        try:
            value = await self._single(request)
        except Exception as exc:  # noqa: BLE001 - handed to the waiter, who handles or logs it
            _fail(result, exc)
        else:
            if not result.done():
                result.set_result(value)


def _fail(result: asyncio.Future[Res], exc: Exception) -> None:
    if not result.done():
        result.set_exception(exc)


class StoreWrites:
    """mark_sending and record_delivery for one holder, each merged across concurrent lanes."""

    def __init__(self, store: Store, holder: str, clock: Clock) -> None:
        self._store = store
        self._holder = holder
        self._clock = clock
        self._sending: Coalescer[int, bool] = Coalescer(self._mark_sending_many, self._mark_sending_one)
        self._delivered: Coalescer[Delivery, None] = Coalescer(self._record_many, self._record_one)

    async def mark_sending(self, item_id: int) -> bool:
        """Commit "about to send" for the row (see Store.mark_sending); False if its claim is lost."""
        return await self._sending.submit(item_id)

    async def record_delivery(self, delivery: Delivery) -> None:
        """Commit a delivered row, its posted card and its audit line (see Store.record_delivery)."""
        await self._delivered.submit(delivery)

    async def _mark_sending_many(self, item_ids: list[int]) -> list[bool]:
        # The claim is checked against the clock of the commit, not of each request.
        marked = await self._store.mark_sending_many(item_ids, self._holder, now=self._clock())
        return [item_id in marked for item_id in item_ids]

    async def _mark_sending_one(self, item_id: int) -> bool:
        return await self._store.mark_sending(item_id, self._holder, now=self._clock())

    async def _record_many(self, deliveries: list[Delivery]) -> list[None]:
        await self._store.record_deliveries(deliveries)
        return [None] * len(deliveries)

    async def _record_one(self, delivery: Delivery) -> None:
        await self._store.record_delivery(delivery.item_id, now=delivery.at, activity_id=delivery.activity_id,
                                          posted_card=delivery.posted_card, audit=delivery.audit)
