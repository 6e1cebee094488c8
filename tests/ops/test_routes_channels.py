"""`routes add` to any standard channel of an installed team, and `routes channels`, against the
fake Bot Connector (the Playground's team, installed through the real inbound path) and the fake
Graph (channel kinds)."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

import pytest

import app
from bot.teams.connector import TeamsConnector, close_adapter, create_adapter
from bot.teams.team_channels import ChannelCatalog
from ops.cli import CommandError, ExitCode
from ops.routes_cli import add_route
from tests.bot.bot_harness import AAD_GROUP_ID, bot_harness, running_graph
from tests.bot.conftest import CHANNEL_ID, TEAM_ID, TENANT_ID
from tests.fakes.entra_graph import make_test_tls

PAYABLES = "19:9b1deb4d3b7d4bad9bdd2b0d7b3dcb6d@thread.tacv2"  # a channel the bot never saw a message in
BOARD = "19:5c0ffee5c0ffee5c0ffee5c0ffee5c0f@thread.tacv2"  # a private channel the bot is not in
CARD = {"type": "AdaptiveCard", "version": "1.5", "body": [{"type": "TextBlock", "text": "Bill 1234"}]}


async def routes(capsys, tmp_path: Path, *argv: str) -> tuple[int, str, str]:
    """`python app.py routes …` on the harness's SQLite store, anonymous as the Playground runs."""
    environ = {"DATA_DIR": str(tmp_path), "ML_CONNECTOR_ENV_FILE": str(tmp_path / "none.env"), "HOST": "127.0.0.1",
               "LOG_LEVEL": "WARNING"}
    code = await asyncio.to_thread(app.main, ["routes", *argv], environ)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


async def test_a_standard_channel_the_bot_never_saw_gets_a_route_and_then_cards(clock, fixtures_dir: Path, tmp_path: Path, capsys):
    async with bot_harness(clock, fixtures_dir, tmp_path) as harness:
        await harness.install()  # installed in the team; it never saw a message in Payables
        harness.fake.add_channel(TEAM_ID, PAYABLES, "Payables")

        listed_code, listed, _ = await routes(capsys, tmp_path, "channels")
        added_code, added, _ = await routes(capsys, tmp_path, "add", "--channel", PAYABLES, "--kinds", "bills")
        unknown_code, _, unknown = await routes(capsys, tmp_path, "add", "--channel", "19:nowhere@thread.tacv2", "--kinds", "bills")
        [route] = await harness.store.list_routes()
        record = await harness.store.get_conversation(PAYABLES)

        posted = await harness.post_card(record.reference, CARD)
        [post] = harness.fake.posts_in(PAYABLES)
        service_url = harness.fake.service_url

    assert listed_code == 0
    assert f"team {TEAM_ID} (Graph id {AAD_GROUP_ID}, tenant {TENANT_ID}) — channels from the Bot Connector" in listed
    payables_line = next(line for line in listed.splitlines() if PAYABLES in line)
    assert "Payables" in payables_line and "yes" in payables_line
    assert any(CHANNEL_ID in line and "Announcements" in line for line in listed.splitlines())
    assert added_code == 0 and f"→ {PAYABLES}" in added and "through its team's reference" in added
    assert (route.conversation_id, route.team_id, route.tenant_id, route.channel_name) == (PAYABLES, AAD_GROUP_ID, TENANT_ID, "Payables")
    assert record.scope == "channel" and record.reference["conversation"]["id"] == PAYABLES
    assert record.reference["serviceUrl"] == service_url
    assert post.activity_id == posted.activity_id and post.card == CARD
    assert unknown_code == 2 and "is not a channel of any team the bot is installed in" in unknown


async def test_routes_channels_without_any_installed_team_says_how_to_get_one(tmp_path: Path, capsys):
    code, out, _ = await routes(capsys, tmp_path, "channels")

    assert code == 0 and out.startswith("no team the bot is installed in")


async def test_with_graph_a_private_channel_is_refused_until_the_bot_is_added_there(clock, fixtures_dir: Path, tmp_path: Path):
    async with bot_harness(clock, fixtures_dir, tmp_path) as harness, running_graph(clock, make_test_tls()) as (env, graph):
        await harness.install()
        env.fake.add_team(AAD_GROUP_ID, {TEAM_ID: "General", PAYABLES: "Payables"})
        env.fake.add_channel(AAD_GROUP_ID, "Board", BOARD, membership_type="private")
        adapter = create_adapter("", "")
        catalog = ChannelCatalog(harness.store, TeamsConnector(adapter, clock=clock), clock, graph=graph)
        try:
            [team] = await catalog.installed_teams()
            kinds = {c.channel_id: (c.membership, c.postable) for c in await catalog.channels(team)}
            options = {"kinds": "bills", "company": None, "team": None, "name": None, "department": None,
                       "location": None, "vendor": None, "over": None, "entity": None}
            with pytest.raises(CommandError) as refused:  # exit 2 from the command line
                await add_route(harness.store, argparse.Namespace(channel=BOARD, **options), now=clock(), catalog=catalog)
            added = await add_route(harness.store, argparse.Namespace(channel=PAYABLES, **options), now=clock(), catalog=catalog)
        finally:
            await close_adapter(adapter)
        routes_now = await harness.store.list_routes()

    assert kinds[BOARD] == ("private", False) and kinds[PAYABLES] == ("standard", True)
    assert "is a private channel: add the bot to that channel in Teams first" in str(refused.value)
    assert refused.value.code == ExitCode.USAGE
    assert [r.conversation_id for r in routes_now] == [PAYABLES] and "route" in added


async def test_routes_channels_for_one_team_takes_its_teams_id_or_its_graph_id_in_any_case(clock, fixtures_dir: Path, tmp_path: Path,
                                                                                          capsys):
    async with bot_harness(clock, fixtures_dir, tmp_path) as harness:
        await harness.install()
        by_graph_id = await routes(capsys, tmp_path, "channels", "--team", AAD_GROUP_ID)
        by_teams_id = await routes(capsys, tmp_path, "channels", "--team", TEAM_ID.upper())
        other = await routes(capsys, tmp_path, "channels", "--team", "19:another-team@thread.tacv2")

    assert by_graph_id[0] == by_teams_id[0] == other[0] == 0
    assert f"team {TEAM_ID} (Graph id {AAD_GROUP_ID}" in by_graph_id[1] and f"team {TEAM_ID} (Graph id {AAD_GROUP_ID}" in by_teams_id[1]
    assert other[1].startswith("no team the bot is installed in matches '19:another-team@thread.tacv2'")
