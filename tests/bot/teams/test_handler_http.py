"""/api/messages as an HTTP endpoint: body size, content type and malformed bodies (authentication:
tests/bot/teams/test_channel_auth.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.bot.bot_harness import BotHarness, bot_harness

@pytest.fixture
async def harness(clock, fixtures_dir: Path, tmp_path: Path):
    async with bot_harness(clock, fixtures_dir, tmp_path) as running:
        yield running


async def test_a_300_kb_body_is_refused_with_413_before_the_bot_sees_it(harness: BotHarness):
    activity = harness.message("show vendor " + "x" * 300_000)

    assert await harness.post(activity) == 413
    assert harness.fake.calls == [] and await harness.store.list_conversations() == []


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b"show pending bills", "text/plain", 415),
        (b"{not json", "application/json", 400),
        (b"[1, 2]", "application/json", 400),
        (b'{"text": "no type"}', "application/json", 400),
    ],
)
async def test_bodies_that_are_not_activities_are_refused(harness: BotHarness, body: bytes, content_type: str, status: int):
    response = await harness.client.post("/api/messages", data=body, headers={"Content-Type": content_type})

    assert response.status == status
    assert harness.fake.calls == []


async def test_only_post_is_served(harness: BotHarness):
    response = await harness.client.get("/api/messages")

    assert response.status == 405
