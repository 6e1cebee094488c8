"""People's reads of Intacct (unfurled links, compose-box searches, card refreshes, chat commands):
paced per company, shared while fresh, and counted in the company's Intacct usage.

Why: a card's refresh runs each time someone opens it, and Teams may ask for 60 of them at once
when a busy channel is viewed; searches run at every keystroke. Every read is billed by Intacct
and shares the company's one request in flight with the poller. So:

- **shared**: the same read (the same record, the same search) asked again within SHARE_SECONDS
  returns the first answer, and one asked while it runs waits for it — 60 refreshes of one card
  are one read;
- **paced**: reads that do cost a request take a token from the company's bucket
  (`per_minute`, at most a quarter of it at once); with none left the read is refused with
  `LiveReadsBusyError` (how long to wait), which the caller answers politely — the poller and
  the monthly transaction budget come first;
- **counted**: what each read cost (IntacctClient.counting) is added to the store's usage of that
  company, day (UTC) and source, which `status` shows for every instance, and to
  `mlc_intacct_live_functions{company,source}`. A store failure loses the count, never the answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import AsyncIterator, Awaitable, Callable, Hashable, TypeVar

from intacct.client import IntacctClient
from intacct.stats import ClientStats
from observability.metrics import Metrics
from store.api import Store, StoreError

log = logging.getLogger(__name__)

T = TypeVar("T")
Clock = Callable[[], datetime]

SOURCES = ("command", "link", "search", "refresh")
DEFAULT_PER_MINUTE = 60
SHARE_SECONDS = 15.0  # an answer this fresh is shown again instead of read again
MAX_SHARED = 256  # answers kept at most (a search's holds up to 1,000 bills); older than SHARE_SECONDS are dropped

# Set inside `counted`: reads within it are counted once, by it, not again by `read`.
_COUNTED_OUTSIDE: contextvars.ContextVar[bool] = contextvars.ContextVar("live_reads_counted_outside", default=False)


class LiveReadsBusyError(Exception):
    """The company's budget of people's reads is used up for now; `retry_after` seconds until the next."""

    def __init__(self, company: str, retry_after: float) -> None:
        super().__init__(f"company {company}: no Intacct read left for people's requests for {retry_after:.0f} s")
        self.company = company
        self.retry_after = retry_after

    @property
    def wait_seconds(self) -> int:
        """`retry_after` as a person reads it: whole seconds, at least 1."""
        return max(1, round(self.retry_after))


@dataclass
class _Bucket:
    tokens: float
    at: datetime


@dataclass(frozen=True)
class _Shared:
    at: datetime
    value: object


class LiveReads:
    """See the module docstring. One per app (BotContext.live_reads), shared by every invoke and command."""

    def __init__(self, store: Store, clock: Clock, metrics: Metrics, *, per_minute: int = DEFAULT_PER_MINUTE,
                 share_seconds: float = SHARE_SECONDS) -> None:  # fmt: skip
        if per_minute < 1:
            raise ValueError("per_minute must be at least 1")
        self._store = store
        self._clock = clock
        self._metrics = metrics
        self.per_minute = per_minute
        self._capacity = max(1.0, per_minute / 4)
        self._share_seconds = share_seconds
        self._buckets: dict[str, _Bucket] = {}
        self._shared: OrderedDict[Hashable, _Shared] = OrderedDict()
        self._running: dict[Hashable, asyncio.Future] = {}

    async def read(self, company: str, client: IntacctClient, source: str, key: Hashable, work: Callable[[], Awaitable[T]]) -> T:
        """`work()` (reads through `client`), shared by `key` while fresh, paced and counted per `company`."""
        if source not in SOURCES:
            raise ValueError(f"unknown source {source!r}")
        shared_key = (company, key)
        now = self._clock()
        fresh = self._shared.get(shared_key)
        if fresh is not None and (now - fresh.at).total_seconds() < self._share_seconds:
            return fresh.value  # type: ignore[return-value]
        running = self._running.get(shared_key)
        if running is not None:
            return await asyncio.shield(running)
        self._take(company, now)
        future: asyncio.Future = asyncio.get_running_loop().create_future()
        self._running[shared_key] = future
        cost = ClientStats()
        try:
            with client.counting() as cost:
                value = await work()
        except Exception as error:
            await self._count_here(company, source, cost)
            future.set_exception(error)
            future.exception()  # those waiting get it; nobody else need retrieve it
            raise
        except BaseException:
            # Cut short (a deadline): those waiting on it may simply ask again.
            self._metrics.intacct_live_functions.labels(company=company, source=source).inc(cost.functions)
            future.set_exception(LiveReadsBusyError(company, 1.0))
            future.exception()
            raise
        finally:
            self._running.pop(shared_key, None)
        await self._count_here(company, source, cost)
        future.set_result(value)
        self._share(shared_key, _Shared(self._clock(), value))
        return value

    @contextlib.asynccontextmanager
    async def counted(self, company: str, client: IntacctClient, source: str) -> AsyncIterator[None]:
        """Count everything read through `client` inside the block (reads by `read` included, once)."""
        token = _COUNTED_OUTSIDE.set(True)
        try:
            with client.counting() as cost:
                yield
        finally:
            _COUNTED_OUTSIDE.reset(token)
            await self.count(company, source, cost)

    async def _count_here(self, company: str, source: str, cost: ClientStats) -> None:
        if not _COUNTED_OUTSIDE.get():
            await self.count(company, source, cost)

    async def count(self, company: str, source: str, cost: ClientStats) -> None:
        """Add what a read cost to the company's usage (store and metrics); never raises for the store."""
        if not cost.functions and not cost.requests:
            return
        self._metrics.intacct_live_functions.labels(company=company, source=source).inc(cost.functions)
        try:
            await self._store.add_intacct_usage(company, day=self._clock().date(), source=source, requests=cost.requests,
                                                functions=cost.functions)  # fmt: skip
        except StoreError as error:
            log.warning("company %s: could not count %d Intacct function(s) of a %s read: %s", company, cost.functions, source, error)

    def _take(self, company: str, now: datetime) -> None:
        bucket = self._buckets.get(company)
        if bucket is None:
            bucket = self._buckets[company] = _Bucket(self._capacity, now)
        rate = self.per_minute / 60.0
        bucket.tokens = min(self._capacity, bucket.tokens + max(0.0, (now - bucket.at).total_seconds()) * rate)
        bucket.at = now
        if bucket.tokens < 1:
            raise LiveReadsBusyError(company, (1 - bucket.tokens) / rate)
        bucket.tokens -= 1

    def _share(self, key: Hashable, entry: _Shared) -> None:
        """Keep an answer; drop those no longer fresh (oldest first: entries are in the order they
        were kept), so at most the last SHARE_SECONDS of answers, and never more than MAX_SHARED, stay."""
        self._shared[key] = entry
        self._shared.move_to_end(key)
        while self._shared:
            oldest = next(iter(self._shared.values()))
            if len(self._shared) <= MAX_SHARED and (entry.at - oldest.at).total_seconds() < self._share_seconds:
                break
            self._shared.popitem(last=False)

    @property
    def shared_answers(self) -> int:
        """How many answers are kept for sharing now (bounded by time and count)."""
        return len(self._shared)
