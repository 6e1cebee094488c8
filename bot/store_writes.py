"""The notifier's view of the store: on SQLite, its write transactions queue in-process, one at a
time, and the commit that precedes a send goes before bookkeeping.

SQLite admits one writer. When the notifier's lanes commit concurrently, every transaction but
one waits inside SQLite's busy handler, which sleeps in growing steps (1, 2, 5, 10 … 100 ms)
and retries: measured with ten concurrent writers on this store, 2 ms commits took up to 0.2 s at
the 95th percentile and 1.3 s at worst, against 0.06 s and 0.07 s when the same writers first
queue on an asyncio lock. In that queue `mark_sending` (the commit a send waits for) and claims
overtake the bookkeeping of rows already sent (posted card, delivered, audit), which nothing
waits for. PostgreSQL (row locks, no busy sleeps) is passed through untouched.

Writers in other processes, or in other parts of this one, still meet the busy handler: the
proper place for this queue is the store itself (then this module can go).
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any, cast

from store.api import Store

# Store methods that open a write transaction, as the notifier and its alerts call them.
URGENT_WRITES = frozenset({"mark_sending", "claim_outbox"})
WRITES = URGENT_WRITES | frozenset({
    "mark_delivered", "mark_retry", "mark_failed", "enqueue_outbox", "save_posted_card",
    "forget_posted_card", "append_audit", "set_routes_active",
})  # fmt: skip


class WriteQueue:
    """One holder at a time; urgent waiters first, then in arrival order."""

    def __init__(self) -> None:
        self._busy = False
        self._waiting: tuple[deque[asyncio.Future[None]], deque[asyncio.Future[None]]] = (deque(), deque())

    async def acquire(self, *, urgent: bool) -> None:
        """Wait for the turn (urgent waiters go before the others)."""
        if not self._busy and not any(self._waiting):
            self._busy = True
            return
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        queue = self._waiting[0 if urgent else 1]
        queue.append(turn)
        try:
            await turn  # release() hands the turn over with _busy still True
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self.release()  # the turn arrived together with the cancellation: pass it on
            else:
                queue.remove(turn)
            raise

    def release(self) -> None:
        """End the turn and hand it to the next waiter, if any."""
        for queue in self._waiting:
            while queue:
                turn = queue.popleft()
                if not turn.done():
                    turn.set_result(None)
                    return
        self._busy = False


class _SerializedWrites:
    """Proxy: the store's write methods take turns on a WriteQueue; reads go straight through."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._queue = WriteQueue()

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._store, name)
        if name not in WRITES:
            return attribute
        queue, urgent = self._queue, name in URGENT_WRITES

        async def in_turn(*args: Any, **kwargs: Any) -> Any:
            await queue.acquire(urgent=urgent)
            try:
                return await attribute(*args, **kwargs)
            finally:
                queue.release()

        return in_turn

    def __repr__(self) -> str:
        return f"serialized writes to {self._store!r}"


def serialize_sqlite_writes(store: Store) -> Store:
    """`store` with its write transactions queued in-process when it is SQLite; else `store`."""
    if getattr(store, "dialect_name", None) != "sqlite":
        return store
    return cast(Store, _SerializedWrites(store))
