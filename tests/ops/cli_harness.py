"""Running a command as from the shell, in-process."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path

import app
from store.sql import open_store
from store.types import ConversationRecord

TENANT_ID = "0f2d8f49-862a-493b-9ca8-82a10637e17d"  # the tenant of tests/fixtures' recorded Graph channel
GROUP_ID = "3c6b6f1e-8d2a-4b7e-9f10-2a3b4c5d6e7f"  # a team's Graph id


async def run(capsys, argv, environ) -> tuple[int, str, str]:
    """One command as from the shell (it runs its own event loop, so in a thread): (exit code, stdout, stderr)."""
    code = await asyncio.to_thread(app.main, argv, environ)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


async def bot_heard_from(data_dir: Path, channel: str, *, now: datetime, team_group_id: str = GROUP_ID) -> None:
    """Store the channel's conversation reference, as the bot does on any message there (so
    `routes add` may route to it without asking Teams for the team's channels)."""
    store = open_store(None, data_dir=data_dir)
    try:
        await store.migrate()
        reference = {"serviceUrl": "https://smba.trafficmanager.net/amer/", "channelId": "msteams",
                     "conversation": {"id": channel, "conversationType": "channel", "tenantId": TENANT_ID}}
        await store.save_conversation(ConversationRecord(channel, reference, "channel", team_id="19:team@thread.tacv2",
                                                         aad_group_id=team_group_id, channel_id=channel, tenant_id=TENANT_ID,
                                                         service_url=reference["serviceUrl"], updated_at=now))
    finally:
        await store.close()
