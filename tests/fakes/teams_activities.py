"""Teams activities for a running bot: the Agents Playground's recorded team, aimed at a fake
Bot Connector, and POSTed to a bot's /api/messages over HTTP (anonymous mode, as the Playground).

The recorded samples (tests/fixtures/teams-samples/playground) come from one team, `team-id`, whose
channel `channel-announcements-id` a person @mentions the bot in. `add_playground_team()` installs
the bot in that team on the fake, so the bot's replies and cards are accepted there.
"""

from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path
from typing import Any

import aiohttp

from tests.fakes.bot_connector import FakeBotConnector

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
TEAM_ID = "team-id"  # a team's id is also its General channel's id
CHANNEL_ID = "channel-announcements-id"
TENANT_ID = "00000000-0000-0000-0000-0000000000001"
AAD_GROUP_ID = "00000000-0000-0000-0000-000000000031"
INSTALL = ("playground/installation-update-add.json", "playground/conversation-update-bot-added.json")
MESSAGE = "playground/message-channel-mention.json"


def add_playground_team(fake: FakeBotConnector) -> None:
    """The bot is installed in the Playground's team (General + Announcements) on the fake."""
    fake.add_team(TEAM_ID, name="My Team", aad_group_id=AAD_GROUP_ID, channels={CHANNEL_ID: "Announcements"}, tenant_id=TENANT_ID)


def sample(name: str, service_url: str) -> dict[str, Any]:
    """A recorded activity whose replies go to `service_url` (the fake connector)."""
    activity = json.loads((FIXTURES / "teams-samples" / name).read_text(encoding="utf-8"))
    activity["serviceUrl"] = service_url
    return activity


def mention(text: str, service_url: str, *, channel_id: str = CHANNEL_ID) -> dict[str, Any]:
    """A person @mentions the bot with `text` in a thread of `channel_id` (Announcements unless
    told otherwise; another channel must exist in the team on the fake)."""
    activity = sample(MESSAGE, service_url)
    activity["text"] = f"<at>Test Bot</at> {text}"
    activity["id"] = str(uuid.uuid4())  # each message is a new activity
    if channel_id != CHANNEL_ID:
        thread = activity["conversation"]["id"].replace(CHANNEL_ID, channel_id)
        activity["conversation"]["id"] = thread
        activity["channelData"].update(teamsChannelId=channel_id, channel={"id": channel_id})
    return activity


async def post_activity(http: aiohttp.ClientSession, bot_url: str, activity: dict[str, Any]) -> int:
    """POST one activity to `bot_url`/api/messages; the HTTP status (the bot replies meanwhile)."""
    async with http.post(f"{bot_url}/api/messages", json=copy.deepcopy(activity), timeout=aiohttp.ClientTimeout(total=30)) as response:
        await response.read()
        return response.status


async def install_and_subscribe(http: aiohttp.ClientSession, bot_url: str, service_url: str, kinds: str = "all") -> None:
    """Install the bot in the Playground's team, then `subscribe <kinds>` in Announcements."""
    for name in INSTALL:
        status = await post_activity(http, bot_url, sample(name, service_url))
        assert status in (200, 201), f"{name}: HTTP {status}"
    status = await post_activity(http, bot_url, mention(f"subscribe {kinds}", service_url))
    assert status in (200, 201), f"subscribe: HTTP {status}"
