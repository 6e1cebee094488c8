"""ConversationPacer on a fake clock: exact limits, bursts, penalties, parallel conversations,
bounded memory, and a long random run in which no window ever holds more than its limit."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import random
from datetime import datetime, timedelta

import pytest

from bot.pacing import CONVERSATION_LIMITS, TENANT_LIMITS, ConversationPacer, RateWindow, conversation_key
from tests.fakes.clock import FakeClock

CHANNEL = "19:ap@thread.tacv2"


def seconds_since(start: datetime, moment: datetime) -> float:
    return round((moment - start).total_seconds(), 6)


class VirtualTime:
    """Runs coroutines on a FakeClock: time jumps to the next wake-up only once every task waits.

    FakeClock.sleep alone would add up the sleeps of concurrent tasks; this lets them overlap as
    on a real loop, without any wall-clock waiting.
    """

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self._sleepers: list[tuple[datetime, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    async def sleep(self, seconds: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.clock() + _delta(seconds), next(self._order), future))
        await future

    async def run(self, *coroutines) -> list:
        tasks = [asyncio.create_task(c) for c in coroutines]
        while not all(t.done() for t in tasks):
            for _ in range(1000):  # let every runnable task reach its next sleep (no I/O here)
                await asyncio.sleep(0)
                if sum(not t.done() for t in tasks) == len(self._sleepers):
                    break
            else:
                raise AssertionError("a task neither finished nor slept")
            if self._sleepers:
                wake, _, _ = self._sleepers[0]
                self.clock.set(max(wake, self.clock()))
                while self._sleepers and self._sleepers[0][0] <= self.clock():
                    heapq.heappop(self._sleepers)[2].set_result(None)
        return [t.result() for t in tasks]


def _delta(seconds: float) -> timedelta:
    return timedelta(seconds=seconds)


def assert_within_limits(times: list[float], limits) -> None:
    """No half-open window (t − W, t] over the recorded times holds more than its limit.

    Times are compared in whole microseconds, as the pacer keeps them, so that float rounding
    cannot move a write across a window boundary in either direction.
    """
    ordered = sorted(round(t * 1_000_000) for t in times)
    for window in limits:
        length = round(window.seconds * 1_000_000)
        start = 0
        for end, moment in enumerate(ordered):
            while ordered[start] <= moment - length:
                start += 1
            assert end - start + 1 <= window.limit, f"{end - start + 1} writes in {window.seconds}s ending at {moment}µs"


async def test_seven_writes_in_a_second_then_the_eighth_waits_exactly_to_the_boundary(clock: FakeClock):
    pacer = ConversationPacer(clock, clock.sleep)
    start = clock()

    waits = [await pacer.acquire(CHANNEL) for _ in range(7)]
    assert waits == [0.0] * 7
    assert pacer.delay_for(CHANNEL) == 1.0

    assert await pacer.acquire(CHANNEL) == 1.0
    assert seconds_since(start, clock()) == 1.0
    # 8 in (0, 2]: the ninth waits until the first second's writes leave the 2 s window.
    assert pacer.delay_for(CHANNEL) == 1.0


async def test_a_burst_drains_in_the_theoretical_minimum(clock: FakeClock):
    pacer = ConversationPacer(clock, clock.sleep)
    start = clock()
    times = []
    for _ in range(61):
        await pacer.acquire(CHANNEL)
        times.append(seconds_since(start, clock()))

    # 7 at 0 s, 1 at 1 s (8 per 2 s), and so on: 60 writes end at 14 s; the 61st waits for 30 s.
    assert times[:9] == [0.0] * 7 + [1.0, 2.0]
    assert times[59] == 14.0
    assert times[60] == 30.0
    assert_within_limits(times, CONVERSATION_LIMITS)


async def test_the_hourly_limit_holds_back_the_1801st_write(clock: FakeClock):
    pacer = ConversationPacer(clock, clock.sleep)
    start = clock()
    for _ in range(1800):
        await pacer.acquire(CHANNEL)
    assert seconds_since(start, clock()) < 900  # 60 per 30 s: the hour's budget goes in 14.5 min

    waited = await pacer.acquire(CHANNEL)

    assert seconds_since(start, clock()) == 3600.0
    assert waited > 2600


async def test_threads_count_against_their_channel(clock: FakeClock):
    pacer = ConversationPacer(clock, clock.sleep)
    for n in range(7):
        await pacer.acquire(f"{CHANNEL};messageid={n}")

    assert pacer.delay_for(CHANNEL) == 1.0
    assert pacer.delay_for(f"{CHANNEL};messageid=99") == 1.0
    assert pacer.delay_for("19:other@thread.tacv2") == 0.0
    assert conversation_key(f"{CHANNEL};messageid=5") == CHANNEL


async def test_penalize_blocks_the_conversation_for_retry_after(clock: FakeClock):
    pacer = ConversationPacer(clock, clock.sleep)
    start = clock()
    pacer.penalize(f"{CHANNEL};messageid=1", 5)

    assert pacer.delay_for(CHANNEL) == 5.0
    assert pacer.delay_for("19:other@thread.tacv2") == 0.0
    pacer.penalize(CHANNEL, 2)  # a shorter penalty never shortens the block
    assert await pacer.acquire(CHANNEL) == 5.0
    assert seconds_since(start, clock()) == 5.0
    assert pacer.delay_for(CHANNEL) == 0.0


async def test_penalize_refuses_nan(clock: FakeClock):
    with pytest.raises(ValueError):
        ConversationPacer(clock, clock.sleep).penalize(CHANNEL, float("nan"))


async def test_many_conversations_in_parallel_share_the_tenant_budget(clock: FakeClock):
    time = VirtualTime(clock)
    pacer = ConversationPacer(clock, time.sleep)
    start = clock()
    sent: dict[str, list[float]] = {f"19:c{n}@thread.tacv2": [] for n in range(20)}

    async def drain(conversation: str) -> None:
        for _ in range(10):
            await pacer.acquire(conversation, tenant_id="tenant-a")
            sent[conversation].append(seconds_since(start, clock()))

    await time.run(*(drain(c) for c in sent))

    everything = [t for times in sent.values() for t in times]
    assert len(everything) == 200
    assert_within_limits(everything, TENANT_LIMITS)
    for times in sent.values():
        assert_within_limits(times, CONVERSATION_LIMITS)
    # 200 writes at 50/s: the last goes at 3 s, when the fourth second's budget opens (first come,
    # first served would take 5 s: early conversations burst 7 and then idle under 8 per 2 s).
    assert max(everything) == 3.0


async def test_tenants_have_separate_budgets(clock: FakeClock):
    pacer = ConversationPacer(clock, clock.sleep)
    for n in range(50):
        await pacer.acquire(f"19:c{n}@thread.tacv2", tenant_id="tenant-a")

    assert pacer.delay_for("19:new@thread.tacv2", tenant_id="tenant-a") == 1.0
    assert pacer.delay_for("19:new@thread.tacv2", tenant_id="tenant-b") == 0.0


async def test_a_cancelled_acquire_leaves_no_waiter_behind(clock: FakeClock):
    time = VirtualTime(clock)
    pacer = ConversationPacer(clock, time.sleep)
    pacer.penalize(CHANNEL, 60)
    blocked = asyncio.create_task(pacer.acquire(CHANNEL))
    await asyncio.sleep(0)
    assert pacer.waiting == 1

    blocked.cancel()
    with pytest.raises(asyncio.CancelledError):
        await blocked

    assert pacer.waiting == 0
    assert await pacer.acquire("19:other@thread.tacv2") == 0.0  # nobody to defer to


async def test_idle_conversations_are_forgotten(clock: FakeClock):
    pacer = ConversationPacer(clock, clock.sleep)
    for n in range(500):
        await pacer.acquire(f"19:c{n}@thread.tacv2")
        pacer.penalize(f"19:c{n}@thread.tacv2", 10)
    assert pacer.tracked_conversations == 500

    clock.advance(3601)
    await pacer.acquire("19:fresh@thread.tacv2")

    assert pacer.tracked_conversations == 1


async def test_a_clock_stepping_back_never_loosens_the_limits(clock: FakeClock):
    pacer = ConversationPacer(clock, clock.sleep)
    for _ in range(7):
        await pacer.acquire(CHANNEL)
    clock.advance(-30)  # e.g. an NTP correction of the wall clock

    assert pacer.delay_for(CHANNEL) > 0


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_a_long_random_run_never_exceeds_any_window(clock: FakeClock, seed: int):
    rng = random.Random(seed)
    time = VirtualTime(clock)
    pacer = ConversationPacer(clock, time.sleep)
    start = clock()
    conversations = [f"19:c{n}@thread.tacv2" for n in range(6)]
    sent: dict[str, list[float]] = {c: [] for c in conversations}

    async def worker(n: int) -> None:
        for _ in range(150):
            conversation = rng.choice(conversations)
            if rng.random() < 0.3:  # sometimes a thread of it
                conversation = f"{conversation};messageid={rng.randrange(5)}"
            await time.sleep(rng.choice([0, 0, 0, 0.001, 0.3, 1.7, 12]))
            await pacer.acquire(conversation, tenant_id="t")
            sent[conversation_key(conversation)].append(seconds_since(start, clock()))

    await time.run(*(worker(n) for n in range(8)))

    everything = [t for times in sent.values() for t in times]
    assert len(everything) == 8 * 150
    assert_within_limits(everything, TENANT_LIMITS)
    for times in sent.values():
        assert_within_limits(times, CONVERSATION_LIMITS)


def test_limits_must_be_positive(clock: FakeClock):
    with pytest.raises(ValueError):
        ConversationPacer(clock, clock.sleep, conversation_limits=[RateWindow(0, 5)])
    with pytest.raises(ValueError):
        ConversationPacer(clock, clock.sleep, tenant_limits=[])


async def test_a_reserved_write_counts_from_its_answer_not_its_grant(clock: FakeClock):
    # Teams counts a write when it arrives, at the latest when its answer comes back: a window
    # measured from the grant could let the next write arrive inside it.
    pacer = ConversationPacer(clock, clock.sleep)
    start = clock()
    writes = [await pacer.reserve(CHANNEL) for _ in range(7)]
    assert [write.waited for write in writes] == [0.0] * 7
    clock.advance(0.25)  # the answers come back a quarter of a second later
    for write in writes:
        pacer.sent(write)
    pacer.sent(writes[0])  # a second report of the same write changes nothing

    assert pacer.delay_for(CHANNEL) == 1.0
    assert await pacer.acquire(CHANNEL) == 1.0
    assert seconds_since(start, clock()) == 1.25


async def test_a_write_still_on_its_way_holds_its_slot_until_its_answer(clock: FakeClock):
    virtual = VirtualTime(clock)
    pacer = ConversationPacer(clock, virtual.sleep, conversation_limits=(RateWindow(1, 1),))
    start = clock()
    slow = await pacer.reserve(CHANNEL)  # its answer takes 1.5 s
    granted: list[float] = []

    async def next_write() -> None:
        await pacer.acquire(CHANNEL)
        granted.append(seconds_since(start, clock()))

    async def answer() -> None:
        await virtual.sleep(1.5)
        pacer.sent(slow)

    await virtual.run(next_write(), answer())

    # Not at 1.0 s, a window after the grant: a window after the answer.
    assert granted == [2.5]
    assert_within_limits([1.5, 2.5], [RateWindow(1, 1)])


async def test_a_conversation_with_a_write_on_its_way_is_never_forgotten(clock: FakeClock):
    pacer = ConversationPacer(clock, clock.sleep)
    write = await pacer.reserve(CHANNEL)
    clock.advance(7200)  # far past every window, but the answer is not in yet

    assert pacer.delay_for("19:other@thread.tacv2") == 0.0  # a sweep-triggering look elsewhere
    assert pacer.tracked_conversations == 1
    pacer.sent(write)
    clock.advance(3601)
    assert pacer.delay_for(CHANNEL) == 0.0
    assert pacer.tracked_conversations == 0


async def test_a_write_granted_now_does_not_wait_but_counts(clock: FakeClock):
    pacer = ConversationPacer(clock, clock.sleep)
    for _ in range(7):
        await pacer.acquire(CHANNEL)
    clock.advance(0.5)

    write = pacer.grant_now(f"{CHANNEL};messageid=42")  # a reply in a thread of the full channel

    assert write.waited == 0.0 and clock.sleeps == []
    pacer.sent(write)
    # Eight writes now sit in the 2 s window: the next one waits for the first to leave it (2.0 s).
    assert pacer.delay_for(CHANNEL) == 1.5
