"""Fixtures for the bot tests: the fake Bot Connector with the Playground's team installed, an
anonymous CloudAdapter talking to it over HTTP, and the recorded channel messages."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.teams.connector import TeamsConnector, channel_reference, close_adapter, create_adapter
from tests.fakes.bot_connector import FakeBotConnector
from tests.fakes.clock import FakeClock

# The Playground's mock team (teams-samples/playground): General = the team id, one more channel.
TEAM_ID = "team-id"
CHANNEL_ID = "channel-announcements-id"
TENANT_ID = "00000000-0000-0000-0000-0000000000001"


def load_sample(fixtures_dir: Path, name: str) -> dict[str, Any]:
    """One recorded activity from tests/fixtures/teams-samples."""
    return json.loads((fixtures_dir / "teams-samples" / name).read_text(encoding="utf-8"))


@pytest.fixture
async def fake(clock: FakeClock):
    """A started fake connector with the Playground's team installed."""
    async with FakeBotConnector(clock=clock, tenant_id=TENANT_ID) as connector:
        connector.add_team(
            TEAM_ID, name="My Team", aad_group_id="00000000-0000-0000-0000-000000000031", channels={CHANNEL_ID: "Announcements"}
        )
        yield connector


@pytest.fixture
async def teams(clock: FakeClock):
    """The real connector over an anonymous CloudAdapter (APP_ID empty, as with the Playground)."""
    adapter = create_adapter("", "", "MultiTenant", "")
    yield TeamsConnector(adapter, app_id="", clock=clock)
    await close_adapter(adapter)


@pytest.fixture
def playground_message(fixtures_dir: Path, fake: FakeBotConnector) -> dict[str, Any]:
    """The Playground's channel @mention, re-pointed at the fake connector."""
    message = load_sample(fixtures_dir, "playground/message-channel-mention.json")
    message["serviceUrl"] = fake.service_url
    return message


@pytest.fixture
def channel_ref(playground_message: dict[str, Any]) -> dict[str, Any]:
    """The bare Announcements channel's reference (wire JSON), as the handler would store it."""
    return channel_reference(playground_message)
