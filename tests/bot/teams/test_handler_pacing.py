"""Chat replies share the notifier's pacer: Teams' per-channel limits count cards and replies alike.

A reply waits for room in its channel (then the cards wait for it), but never longer than
REPLY_WAIT_SECONDS: a person is waiting for it, and nobody would retry a refused reply.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.teams.handler import REPLY_WAIT_SECONDS
from bot.pacing import ConversationPacer
from tests.bot.bot_harness import BotHarness, bot_harness
from tests.bot.conftest import CHANNEL_ID, TENANT_ID
from tests.fakes.clock import FakeClock


@pytest.fixture
async def harness(clock: FakeClock, fixtures_dir: Path, tmp_path: Path):
    async with bot_harness(clock, fixtures_dir, tmp_path, pacer=ConversationPacer(clock, clock.sleep)) as running:
        yield running


def pacer_of(harness: BotHarness) -> ConversationPacer:
    assert harness.context.pacer is not None
    return harness.context.pacer


async def test_replies_count_in_their_channels_budget(harness: BotHarness):
    for _ in range(7):
        assert len(await harness.say("help")) == 1

    # Seven answers in the channel's threads within a second: a card would now wait.
    assert pacer_of(harness).delay_for(CHANNEL_ID, tenant_id=TENANT_ID) == 1.0
    assert pacer_of(harness).writes_on_their_way == 0


async def test_a_reply_waits_for_room_in_its_channel_then_goes(harness: BotHarness, clock: FakeClock):
    for _ in range(7):  # the notifier has just posted seven cards into the channel
        await pacer_of(harness).acquire(CHANNEL_ID, tenant_id=TENANT_ID)
    start = clock()

    [reply] = await harness.say("help")

    assert (clock() - start).total_seconds() == 1.0 and 1.0 in clock.sleeps
    assert harness.fake.calls[-1].status == 201


async def test_a_reply_never_waits_longer_than_its_bound(harness: BotHarness, clock: FakeClock):
    pacer_of(harness).penalize(CHANNEL_ID, 30)  # Teams said Retry-After: 30 to a card
    start = clock()

    [reply] = await harness.say("help")

    assert clock() == start and not [s for s in clock.sleeps if s > REPLY_WAIT_SECONDS]
    assert pacer_of(harness).delay_for(CHANNEL_ID, tenant_id=TENANT_ID) == 30.0  # the penalty still holds for cards
    assert pacer_of(harness).writes_on_their_way == 0
