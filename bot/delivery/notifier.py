"""The notifier: drains the outbox into Teams — paced lanes per channel, retries, cards updated in place.

One row = one event for one channel. Its life, each step committed before the next:

    claim (holder, expiry) → mark_sending → pacer.acquire → create_thread | update_card
        → record_delivery (posted card for bills and payments, delivered, audit line: one commit)

At least once, one repeat per channel at most: `mark_sending` is committed before the network call and `record_delivery` after
it, and a channel's next send waits for that record, so a crash can only repeat one send per
channel: the one in flight or just answered. Another holder finds such a row claimed in
status "sending" once the claim expires, and sends it again: a missing card is worse than a
repeated one. Where the card sits, the row's delivery and its audit line commit together, so a
row is either finished with its card recorded or still "sending" (a later change of a bill finds
the card recorded by its earlier row and updates it in place; updates are idempotent). A 504 or
a network failure is ambiguous the same way (Teams may have posted the card although no answer
came) and is retried, with the same trade-off. A send only starts when the pacer's wait and the
send itself fit in what is left of the claim, so no other holder can take a row while this one
may still send it.

When Teams refuses the bot itself (401, or no token for it) no row is failed: posting pauses,
every row stays pending, operators are alerted once, nothing is claimed until the pause's next
try, and then one card probes whether the credentials work again (bot/delivery/deliverer.py).

Order: the store hands out only the oldest unfinished row per (company, record, channel), so a
record's update never overtakes its first post; each channel is one sequential lane, so rows for
one channel go out in claim order, while channels are served concurrently and a slow or failing
channel holds up no other. The pacer keeps every lane below Teams' per-conversation and per-tenant
limits; a 429 still penalizes the conversation for its Retry-After.

Here: the run loop, the claims and the lanes. One row's delivery is bot/delivery/deliverer.py, the
decisions (retry, back-off, pause, update or post) bot/delivery/policy.py, the operators' alerts
bot/delivery/alerts.py, the lanes' commits merged into shared transactions bot/delivery/store_writes.py.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Awaitable, Callable

from bot.teams.connector import TeamsConnector
from bot.context import BotContext
from bot.delivery.deliverer import Channel, Deliverer, DrainReport
from bot.delivery.policy import DeliveryPause, DeliveryPolicy
from bot.pacing import ConversationPacer
from bot.waiting import sleep_or_wake
from store.api import StoreError
from store.types import OutboxItem

__all__ = ["DrainReport", "Notifier"]

log = logging.getLogger("mlc.notifier")

Sleep = Callable[[float], Awaitable[None]]

_QUEUE_BATCHES = 10  # rows claimed and waiting in lanes at once, in batches: bounds memory and claims


@dataclass
class _Lane:
    channel_id: str
    queue: deque[OutboxItem] = field(default_factory=deque)
    task: asyncio.Task[None] | None = None
    tails: set[asyncio.Task[None]] = field(default_factory=set)  # bookkeeping of rows already sent


@dataclass
class _Drain:
    report: DrainReport
    lanes: dict[str, _Lane] = field(default_factory=dict)
    claimed_until: dict[int, datetime] = field(default_factory=dict)  # rows waiting in lanes
    progress: asyncio.Event = field(default_factory=asyncio.Event)
    woken: bool = False  # new rows were committed: claim without waiting for reclaim_seconds

    def running(self) -> list[asyncio.Task[None]]:
        return [lane.task for lane in self.lanes.values() if lane.task is not None and not lane.task.done()]


class Notifier:
    """Delivers outbox rows to Teams; see the module docstring for the contract.

    `drain_once()` delivers everything due now (tests call it); `run()` drains until stopped,
    pausing `idle_seconds` between drains or until `wake()`; `stop()` ends `run()` after the sends
    in flight. Waits use the injected `sleep` (the pacer has its own).
    """

    def __init__(
        self,
        context: BotContext,
        connector: TeamsConnector,
        pacer: ConversationPacer,
        *,
        holder: str,
        sleep: Sleep,
        jitter: Callable[[], float] = random.random,
        batch_size: int = 50,
        claim_seconds: float = 120,
        max_attempts: int = 8,
        idle_seconds: float = 1.0,
        policy: DeliveryPolicy = DeliveryPolicy(),
    ) -> None:
        if batch_size < 1 or max_attempts < 1 or idle_seconds < 0:
            raise ValueError("batch_size and max_attempts must be ≥ 1, idle_seconds ≥ 0")
        if claim_seconds <= policy.send_budget_seconds:
            raise ValueError(f"claim_seconds must exceed the send budget ({policy.send_budget_seconds:g} s)")
        self._store = context.store
        self._clock = context.clock
        self._metrics = context.metrics
        self._holder = holder
        self._sleep = sleep
        self._jitter = jitter
        self._batch_size = batch_size
        self._claim_seconds = claim_seconds
        self._idle_seconds = idle_seconds
        self._policy = policy
        self._drain_lock = asyncio.Lock()
        self._drain: _Drain | None = None
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._run_task: asyncio.Task[Any] | None = None
        self._rows = Deliverer(context, self._store, connector, pacer, holder=holder, jitter=jitter,
                               max_attempts=max_attempts, policy=policy, stopping=self._stop)

    # --- the loop ------------------------------------------------------------------------------
    async def run(self) -> None:
        """Drain, pause, repeat until `stop()`; a failing drain is logged once and backed off."""
        self._run_task = asyncio.current_task()
        failures = 0
        try:
            while not self._stop.is_set():
                self._wake.clear()
                try:
                    report = await self.drain_once()
                    problem = report.errors[0] if report.errors else None
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # noqa: BLE001 - the loop must outlive any failure; logged here
                    problem = _describe(exc)
                if problem is None:
                    if failures:
                        log.info("notifier: draining works again after %d failed drains", failures)
                    failures, pause = 0, self._idle_seconds
                else:
                    failures += 1
                    if failures == 1:
                        log.error("notifier: draining the outbox failed, backing off: %s", problem)
                    else:
                        log.debug("notifier: draining still fails (%d): %s", failures, problem)
                    nominal = min(self._policy.run_backoff_max_seconds, max(self._idle_seconds, 1.0) * 2 ** (failures - 1))
                    pause = nominal / 2 + self._jitter() * nominal / 2
                await self._pause(pause)
        finally:
            self._run_task = None

    @property
    def delivery_pause(self) -> DeliveryPause | None:
        """Set while posting is paused because Teams refuses the bot (since, reason, next try);
        for the status view."""
        return self._rows.pause

    def wake(self) -> None:
        """New rows were committed: drain now instead of at the end of the idle pause."""
        self._wake.set()
        if self._drain is not None:
            self._drain.woken = True
            self._drain.progress.set()

    async def stop(self) -> None:
        """Stop claiming, give back rows not yet sent, and return once `run()` has ended (the
        sends in flight finish first, so none is left half-done)."""
        self._stop.set()
        self.wake()
        task = self._run_task
        if task is not None and task is not asyncio.current_task():
            await asyncio.wait({task})

    async def _pause(self, seconds: float) -> None:
        await sleep_or_wake(self._sleep, seconds, self._wake)

    # --- one drain -----------------------------------------------------------------------------
    async def drain_once(self) -> DrainReport:
        """Claim and deliver every row due now, channels concurrently; return what happened.
        Raises StoreError when rows cannot even be claimed (after the lanes already running end)."""
        async with self._drain_lock:
            drain = self._drain = _Drain(DrainReport())
            try:
                await self._dispatch(drain)
            finally:
                self._drain = None
            self._metrics.outbox_depth.set(await self._store.outbox_depth())
            return drain.report

    async def _dispatch(self, drain: _Drain) -> None:
        """Claim rows into per-channel lanes until nothing is due and every lane is idle. A
        finished row may make its record's next row due, so progress leads to another claim:
        at once when every lane is idle or rows were committed (`wake`), else at most every
        `reclaim_seconds` (a claim per finished row would cost more than the row itself).

        New lanes start once the backlog is claimed, so every channel's lane starts at once: the
        outbox is in id order, a poll cycle's rows channel by channel, and lanes started batch by
        batch would put the last channels behind by every claim before theirs (and their claims
        behind the first lanes' commits)."""
        max_queued = self._batch_size * _QUEUE_BATCHES
        want_rows = more = True  # more: the last claim was a full batch, so more rows may be due
        last_claim: datetime | None = None
        try:
            while True:
                drain.progress.clear()  # before looking, so no lane's signal can be missed
                now = self._clock()
                idle = not drain.running()
                due = more or idle or drain.woken or (now - last_claim).total_seconds() >= self._policy.reclaim_seconds
                paused = self._rows.paused_at(now)  # Teams refuses the bot: claim nothing until the probe
                if want_rows and due and not paused and not self._stop.is_set() and len(drain.claimed_until) < max_queued:
                    drain.woken = False
                    limit = min(self._batch_size, max_queued - len(drain.claimed_until))
                    items = await self._store.claim_outbox(self._holder, now=now, limit=limit, claim_seconds=self._claim_seconds)
                    last_claim = now
                    self._enqueue(drain, items, now + timedelta(seconds=self._claim_seconds))
                    more = len(items) == limit
                    if more and len(drain.claimed_until) < max_queued:
                        continue
                    want_rows = more
                await self._start_lanes(drain)
                if not drain.running():
                    return
                await drain.progress.wait()
                want_rows = True
        except asyncio.CancelledError:
            for task in drain.running():
                task.cancel()
            raise
        finally:
            await asyncio.gather(*drain.running(), return_exceptions=True)

    def _enqueue(self, drain: _Drain, items: list[OutboxItem], claimed_until: datetime) -> None:
        for item in items:
            queued = item.id in drain.claimed_until
            drain.claimed_until[item.id] = claimed_until
            if queued:
                continue  # our own claim expired while it waited in its lane; re-claiming renewed it
            drain.report.claimed += 1
            drain.lanes.setdefault(item.conversation_id, _Lane(item.conversation_id)).queue.append(item)

    async def _start_lanes(self, drain: _Drain) -> None:
        """Start a task for every lane with rows and none running (a running lane takes the rows
        queued behind it: it never ends between finding its queue empty and ending), their
        channels' references read in one query. If that read fails, their rows are given up to
        come back when their claims expire."""
        starting = [lane for lane in drain.lanes.values() if lane.queue and (lane.task is None or lane.task.done())]
        if not starting:
            return
        try:
            channels = await self._rows.open_channels([lane.channel_id for lane in starting])
        except StoreError as exc:
            self._store_failed(drain, f"opening {len(starting)} lanes", exc)
            for lane in starting:
                self._abandon(drain, lane)
            return
        for lane in starting:
            channel = channels[lane.channel_id]
            lane.task = asyncio.create_task(self._run_lane(drain, lane, channel), name=f"notifier lane {lane.channel_id}")

    async def _run_lane(self, drain: _Drain, lane: _Lane, channel: Channel) -> None:
        """Deliver one channel's rows in order. Once Teams took a row, the lane prepares the
        next while the row's bookkeeping commits (a tail); the next send waits for it. A store
        failure ends the lane (its rows keep their claims and come back when those expire); any
        other exception fails only its row."""
        rows = self._rows
        broken = False
        last_tail: asyncio.Task[None] | None = None
        try:
            while True:
                while lane.queue and not broken:
                    item = lane.queue.popleft()
                    tail = None
                    try:
                        ready = await rows.prepare(item, channel, drain.claimed_until, drain.report)
                        if ready is not None:
                            if last_tail is not None and not last_tail.done():
                                # The previous card's record commits before this card goes out, so
                                # a crash leaves at most one sent-but-unrecorded row per lane: one
                                # repeat, not two. It overlaps this row's "sending" commit and the
                                # pacer's wait, so it rarely costs time.
                                await asyncio.wait({last_tail})
                            tail = await rows.send(ready, channel, drain.claimed_until, drain.report)
                    except StoreError as exc:
                        self._store_failed(drain, f"delivering row {item.id} to {item.conversation_id}", exc)
                        broken = True
                    except Exception as exc:  # noqa: BLE001 - a bug must cost one row, not the lane
                        log.exception("notifier: internal error delivering row %s to %s", item.id, item.conversation_id)
                        broken = not await self._fail_internal(item, drain, exc)
                    if tail is None:
                        self._row_done(drain, item)
                    else:
                        last_tail = asyncio.create_task(self._settle(drain, lane, item, tail))
                        lane.tails.add(last_tail)
                if broken:
                    self._abandon(drain, lane)
                # No await between finding the queue empty and the end of the lane: see _start_lanes.
                if not lane.tails:
                    return
                await asyncio.wait(set(lane.tails))
        except asyncio.CancelledError:
            for task in lane.tails:
                task.cancel()
            raise
        finally:
            drain.progress.set()  # the lane's end is news too: the dispatcher may be done

    async def _settle(self, drain: _Drain, lane: _Lane, item: OutboxItem, tail: Awaitable[None]) -> None:
        try:
            await tail
        except StoreError as exc:
            self._store_failed(drain, f"recording the delivery of row {item.id}", exc)
        except Exception as exc:  # noqa: BLE001 - the card is out; the bookkeeping bug is logged
            log.exception("notifier: internal error recording the delivery of row %s", item.id)
            drain.report.errors.append(_describe(exc))
        finally:
            lane.tails.discard(asyncio.current_task())  # type: ignore[arg-type]
            self._row_done(drain, item)

    async def _fail_internal(self, item: OutboxItem, drain: _Drain, exc: Exception) -> bool:
        """Fail a row an internal error stopped; False when even that cannot be recorded."""
        try:
            await self._rows.fail_internal(item, drain.report, exc)
        except StoreError as store_exc:
            self._store_failed(drain, f"failing row {item.id}", store_exc)
            return False
        return True

    @staticmethod
    def _row_done(drain: _Drain, item: OutboxItem) -> None:
        drain.claimed_until.pop(item.id, None)
        drain.progress.set()

    @staticmethod
    def _abandon(drain: _Drain, lane: _Lane) -> None:
        """Drop the lane's unsent rows: their claims expire and they are claimed again."""
        for item in lane.queue:
            drain.claimed_until.pop(item.id, None)
        lane.queue.clear()
        drain.progress.set()

    @staticmethod
    def _store_failed(drain: _Drain, doing: str, exc: StoreError) -> None:
        drain.report.errors.append(_describe(exc))
        log.error("notifier: store failed while %s: %s", doing, exc)


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
