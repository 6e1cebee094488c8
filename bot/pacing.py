"""Pacing of Bot Connector writes below Teams' rate limits, as tight as the limits allow.

Teams limits each bot per conversation — a chat or a channel; a channel's threads count as that
channel — to 7 sends in any 1 s, 8 in 2 s, 60 in 30 s and 1800 in 3600 s (creating a conversation
has the same limits; this pacer counts creates, sends, replies and updates in one budget), and each
app to 50 requests/s per tenant (teams-bot-and-graph.md §1.10). A window of W seconds holds the
writes in (now − W, now]: a write is allowed when every window has room, and `acquire` waits
exactly until the first instant that is true.

Teams counts a write when it arrives, which is some time after we grant it and before its answer
comes back. A write reserved with `reserve` is "on its way" until `sent` is called with it; then
its timestamp is the instant its answer came, the latest moment Teams can have counted it. So a
later write granted a window after that timestamp arrives more than a window after it, whatever
the network did in between, and no fixed safety margin is needed (a margin of 0.1 s cost 7% of a
burst's time). While a write is on its way it counts as the newest in every window; a write that
needs its slot looks again a window later, by when the answer is usually long in.

For one conversation, writing at the earliest allowed instant is optimal, so its backlog drains
in the theoretical minimum time. When several conversations compete for the tenant's budget,
first-come-first-served would let a few of them burst 7 each and then idle under their
8-per-2-s limit while the rest wait (20 conversations × 10 writes took 5 s instead of 3); so a
free tenant slot goes to the ready waiter whose conversation wrote least in the last 2 s (then
the earliest arrival), which spreads the budget round-robin.

Memory is bounded: timestamps older than the longest window are dropped, and a conversation with
nothing left in its windows and no penalty is forgotten (checked on use and by a sweep every
minute of clock time). Timestamps are whole microseconds, so waits land exactly on boundaries.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Awaitable, Callable, Sequence

from bot.origin import split_conversation_id

Clock = Callable[[], datetime]
Sleep = Callable[[float], Awaitable[None]]

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MICRO = timedelta(microseconds=1)
_SWEEP_EVERY = 60_000_000  # µs of clock time between sweeps of idle conversations
_FAIRNESS_WINDOW = 2_000_000  # µs: Teams' 8-per-2-s window is what bounds a conversation's pace
_MAX_DEFERRALS = 100  # yields a ready waiter grants to fairer rivals before writing anyway


@dataclass(frozen=True, slots=True)
class RateWindow:
    """At most `limit` requests in any `seconds`-long window."""

    seconds: float
    limit: int


CONVERSATION_LIMITS: tuple[RateWindow, ...] = (
    RateWindow(1, 7),
    RateWindow(2, 8),
    RateWindow(30, 60),
    RateWindow(3600, 1800),
)
TENANT_LIMITS: tuple[RateWindow, ...] = (RateWindow(1, 50),)


def conversation_key(conversation_id: str) -> str:
    """The conversation Teams counts a request against: a thread counts as its channel."""
    return split_conversation_id(conversation_id)[0]


@dataclass
class _Windows:
    limits: tuple[tuple[int, int], ...]  # (window µs, limit), ascending by window
    stamps: list[int] = field(default_factory=list)  # ascending µs
    blocked_until: int = 0
    in_flight: int = 0  # granted writes whose answer has not come back: newer than every stamp

    def prune(self, now: int) -> None:
        horizon = now - self.limits[-1][0]
        if self.stamps and self.stamps[0] <= horizon:
            del self.stamps[: bisect.bisect_right(self.stamps, horizon)]

    def delay(self, now: int) -> int:
        wait = self.blocked_until - now
        done = len(self.stamps)
        count = done + self.in_flight
        for window, limit in self.limits:
            inside = count - bisect.bisect_right(self.stamps, now - window)
            if inside >= limit:
                # Room appears when the limit-th newest write leaves the window; if that write is
                # still on its way, it will be stamped no earlier than now: look again a window on.
                oldest = count - limit
                wait = max(wait, (self.stamps[oldest] if oldest < done else now) + window - now)
        return max(0, wait)

    def idle(self, now: int) -> bool:
        return not self.stamps and not self.in_flight and self.blocked_until <= now

    def recent(self, now: int) -> int:
        return len(self.stamps) + self.in_flight - bisect.bisect_right(self.stamps, now - _FAIRNESS_WINDOW)


@dataclass(eq=False)
class Write:
    """A granted write to one conversation, on its way to Teams until `ConversationPacer.sent`."""

    key: str
    tenant: str
    waited: float  # seconds the grant waited
    answered: bool = False


@dataclass(eq=False)
class _Waiter:
    key: str
    arrival: int


class ConversationPacer:
    """Sliding-window limiter per conversation plus one per tenant; waits with the injected sleep.

    `write = await reserve(conversation_id)` before each create/send/reply/update and
    `sent(write)` as soon as its answer (or failure) is in; `acquire` for a write stamped at its
    grant; `penalize` after a 429 (with its Retry-After); `delay_for` to plan without recording.
    Not thread-safe: one event loop.
    """

    def __init__(
        self,
        clock: Clock,
        sleep: Sleep,
        *,
        conversation_limits: Sequence[RateWindow] = CONVERSATION_LIMITS,
        tenant_limits: Sequence[RateWindow] = TENANT_LIMITS,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._conversation_limits = _compile(conversation_limits)
        self._tenant_limits = _compile(tenant_limits)
        self._conversations: dict[str, _Windows] = {}
        self._tenants: dict[str, _Windows] = {}
        self._waiting: dict[str, list[_Waiter]] = {}  # per tenant, in arrival order
        self._arrivals = 0
        self._last = 0  # newest timestamp handed out: keeps stamps ordered if the clock steps back
        self._next_sweep = 0
        self._held_until = 0  # no reserved write before this (bot/delivery/tenant_share.py: a joining instance)

    def delay_for(self, conversation_id: str, *, tenant_id: str | None = None) -> float:
        """Seconds until a write to this conversation would be allowed (0.0: now). Records nothing."""
        return self._delay(conversation_key(conversation_id), tenant_id or "", self._now()) / 1_000_000

    async def acquire(self, conversation_id: str, *, tenant_id: str | None = None) -> float:
        """Wait until a write is allowed, record it as made at once, and return the seconds waited."""
        write = await self.reserve(conversation_id, tenant_id=tenant_id)
        self.sent(write)
        return write.waited

    async def reserve(self, conversation_id: str, *, tenant_id: str | None = None) -> Write:
        """Wait until a write is allowed and grant it; it counts as on its way until `sent`."""
        key, tenant = conversation_key(conversation_id), tenant_id or ""
        me = _Waiter(key, self._arrivals)
        self._arrivals += 1
        queue = self._waiting.setdefault(tenant, [])
        queue.append(me)
        waited = 0.0
        deferrals = 0
        try:
            while True:
                now = self._now()
                delay = self._delay(key, tenant, now)
                if delay > 0:
                    seconds = delay / 1_000_000
                    await self._sleep(seconds)
                    waited += seconds
                    deferrals = 0
                elif deferrals < _MAX_DEFERRALS and self._fairest_ready(queue, now) is not me:
                    # A rival is allowed now too and deserves the slot more; its wake-up is due,
                    # so yield to it and look again (bounded, in case its timer runs late).
                    deferrals += 1
                    await self._sleep(0)
                else:
                    # No await between the check and the record: concurrent callers cannot both pass.
                    return self._grant(key, tenant, now, waited)
        finally:
            queue.remove(me)
            if not queue and self._waiting.get(tenant) is queue:
                del self._waiting[tenant]

    def grant_now(self, conversation_id: str, *, tenant_id: str | None = None) -> Write:
        """Count a write that goes now whatever the windows say (an answer a person waits for);
        like a reserved one, it is on its way until `sent`."""
        return self._grant(conversation_key(conversation_id), tenant_id or "", self._now(), 0.0)

    def sent(self, write: Write) -> None:
        """Stamp a reserved write now: its answer (or its failure) is in. Idempotent."""
        if write.answered:
            return
        write.answered = True
        now = self._now()  # never earlier than any stamp: appending keeps the lists sorted
        for table, name, limits in ((self._conversations, write.key, self._conversation_limits),
                                    (self._tenants, write.tenant, self._tenant_limits)):  # fmt: skip
            state = self._windows(table, name, limits)
            state.in_flight = max(0, state.in_flight - 1)
            state.stamps.append(now)
        self._last = now

    def set_tenant_limits(self, limits: Sequence[RateWindow]) -> None:
        """Change every tenant's windows from now on (this instance's share of Teams' per-tenant
        budget when several instances post: bot/delivery/tenant_share.py)."""
        self._tenant_limits = _compile(limits)
        for state in self._tenants.values():
            state.limits = self._tenant_limits

    @property
    def tenant_limits(self) -> tuple[RateWindow, ...]:
        """The tenant windows in force."""
        return tuple(RateWindow(window / 1_000_000, limit) for window, limit in self._tenant_limits)

    def hold_until(self, moment: datetime) -> None:
        """Grant no reserved write before `moment` (`grant_now` still counts and goes)."""
        self._held_until = max(self._held_until, (moment - _EPOCH) // _MICRO)

    def penalize(self, conversation_id: str, seconds: float) -> None:
        """Block the conversation for `seconds` from now (a 429's Retry-After); never shortens a block."""
        if math.isnan(seconds):
            raise ValueError("penalty seconds must be a number")
        now = self._now()
        state = self._windows(self._conversations, conversation_key(conversation_id), self._conversation_limits)
        until = now + math.ceil(max(0.0, seconds) * 1_000_000) if math.isfinite(seconds) else now + 10**18
        state.blocked_until = max(state.blocked_until, until)

    @property
    def waiting(self) -> int:
        """How many `acquire` calls are waiting right now (all tenants)."""
        return sum(len(queue) for queue in self._waiting.values())

    @property
    def writes_on_their_way(self) -> int:
        """How many granted writes have not been reported `sent` (all conversations)."""
        return sum(state.in_flight for state in self._conversations.values())

    @property
    def tracked_conversations(self) -> int:
        """How many conversations the pacer currently remembers (bounded by the sweep)."""
        return len(self._conversations)

    def _delay(self, key: str, tenant: str, now: int) -> int:
        delay = max(0, self._held_until - now)
        for table, name in ((self._conversations, key), (self._tenants, tenant)):
            state = table.get(name)
            if state is None:
                continue
            state.prune(now)
            if state.idle(now):
                del table[name]  # forgotten: its windows are empty and it is not blocked
                continue
            delay = max(delay, state.delay(now))
        return delay

    def _fairest_ready(self, queue: list[_Waiter], now: int) -> _Waiter | None:
        """The waiter that should write next: allowed now, least recent writes, earliest arrival."""
        best: tuple[int, int] | None = None
        chosen = None
        for waiter in queue:
            state = self._conversations.get(waiter.key)
            if state is not None and state.delay(now) > 0:
                continue
            rank = (state.recent(now) if state is not None else 0, waiter.arrival)
            if best is None or rank < best:
                best, chosen = rank, waiter
        return chosen

    def _sweep(self, now: int) -> None:
        if now < self._next_sweep:
            return
        self._next_sweep = now + _SWEEP_EVERY
        for table in (self._conversations, self._tenants):
            for name in list(table):
                state = table[name]
                state.prune(now)
                if state.idle(now):
                    del table[name]

    def _grant(self, key: str, tenant: str, now: int, waited: float) -> Write:
        """Count a granted write as on its way in its conversation's and its tenant's windows."""
        self._windows(self._conversations, key, self._conversation_limits).in_flight += 1
        self._windows(self._tenants, tenant, self._tenant_limits).in_flight += 1
        self._last = now
        self._sweep(now)
        return Write(key, tenant, waited)

    def _now(self) -> int:
        return max(self._last, (self._clock() - _EPOCH) // _MICRO)

    @staticmethod
    def _windows(table: dict[str, _Windows], name: str, limits: tuple[tuple[int, int], ...]) -> _Windows:
        state = table.get(name)
        if state is None:
            state = table[name] = _Windows(limits)
        return state


def _compile(limits: Sequence[RateWindow]) -> tuple[tuple[int, int], ...]:
    if not limits:
        raise ValueError("at least one rate window is needed")
    compiled = sorted((round(w.seconds * 1_000_000), w.limit) for w in limits)
    if any(window <= 0 or limit <= 0 for window, limit in compiled):
        raise ValueError("rate windows need a positive length and limit")
    return tuple(compiled)
