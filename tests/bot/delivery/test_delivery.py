"""Pacer + connector + a fake that enforces Teams' limits: paced posts are never throttled and take
the theoretical minimum time; unpaced ones are, and a penalty from Retry-After recovers."""

from __future__ import annotations

from datetime import datetime

import pytest

from bot.teams import errors
from bot.teams.connector import thread_reference
from bot.pacing import CONVERSATION_LIMITS, ConversationPacer
from tests.bot.conftest import CHANNEL_ID, TEAM_ID, TENANT_ID
from tests.fakes.bot_connector import FakeBotConnector
from tests.fakes.clock import FakeClock

CARD = {"type": "AdaptiveCard", "version": "1.5", "body": [{"type": "TextBlock", "text": "Bill"}]}


def earliest_schedule(count: int) -> list[float]:
    """Earliest times of `count` writes under Teams' windows, from first principles:
    the k-th write can go no earlier than the (k − limit)-th write plus the window."""
    times: list[float] = []
    for k in range(count):
        bounds = [times[-1]] if times else [0.0]
        bounds += [times[k - w.limit] + w.seconds for w in CONVERSATION_LIMITS if k >= w.limit]
        times.append(max(bounds))
    return times


def elapsed(start: datetime, clock: FakeClock) -> float:
    return round((clock() - start).total_seconds(), 6)


@pytest.fixture
async def strict(clock: FakeClock):
    """A fake connector that answers 429 past Teams' published limits."""
    async with FakeBotConnector(clock=clock, tenant_id=TENANT_ID, enforce_rate_limits=True) as connector:
        connector.add_team(TEAM_ID, channels={CHANNEL_ID: "Announcements"})
        yield connector


async def test_paced_posts_and_updates_are_never_throttled_and_take_the_minimum_time(clock, strict, teams, channel_ref):
    reference = {**channel_ref, "serviceUrl": strict.service_url}
    pacer = ConversationPacer(clock, clock.sleep)
    start = clock()
    posted = []

    for n in range(70):
        await pacer.acquire(CHANNEL_ID, tenant_id=TENANT_ID)
        posted.append(await teams.create_thread(reference, CARD, text_fallback=f"bill {n}"))
    for post in posted[:30]:  # updates go to the thread but count against the channel
        await pacer.acquire(post.thread_conversation_id, tenant_id=TENANT_ID)
        await teams.update_card(thread_reference(reference, post.thread_conversation_id), post.activity_id, CARD)

    assert [c.status for c in strict.calls if c.status == 429] == []
    assert len(strict.posts_in(CHANNEL_ID)) == 70
    assert elapsed(start, clock) == earliest_schedule(100)[-1]


async def test_an_unpaced_burst_is_throttled_and_penalize_recovers(clock, strict, teams, channel_ref):
    reference = {**channel_ref, "serviceUrl": strict.service_url}
    pacer = ConversationPacer(clock, clock.sleep)
    for _ in range(7):
        await teams.send(reference, text="x")

    with pytest.raises(errors.ThrottledError) as caught:
        await teams.send(reference, text="x")
    assert caught.value.retry_after == 1.0

    pacer.penalize(CHANNEL_ID, caught.value.retry_after)
    waited = await pacer.acquire(CHANNEL_ID)
    await teams.send(reference, text="x")

    assert waited == 1.0
    assert [c.status for c in strict.calls] == [201] * 7 + [429, 201]


def test_earliest_schedule_matches_the_published_pattern():
    times = earliest_schedule(61)

    assert times[:9] == [0.0] * 7 + [1.0, 2.0]
    assert times[59] == 14.0 and times[60] == 30.0
