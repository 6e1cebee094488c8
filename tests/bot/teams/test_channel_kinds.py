"""Private and shared channels (manifest supportedChannelTypes) on real-shaped activities
(tests/fixtures/teams-samples/bot-framework/message-{private,shared}-channel-mention.json): a
channel the bot was added to gets its reference, its routes and its cards; the tenant that counts
is the host team's; a channel the bot was not added to refuses posts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.teams import errors
from bot.teams.connector import channel_reference
from ops.package import Publisher, build_manifest, validate_manifest
from tests.bot.bot_harness import bot_harness

PRIVATE_SAMPLE = "bot-framework/message-private-channel-mention.json"
SHARED_SAMPLE = "bot-framework/message-shared-channel-mention.json"
TEAM = "19:66P469zibfbsGI-_a0aN_toLTZpyzS6u7CT3TsXdgPw1@thread.tacv2"  # the recorded team
TEAM_GRAPH_ID = "3b8e6f0a-2c4d-4e1f-9a7b-5c6d7e8f9a0b"
PRIVATE = "19:2f0a5c7e8b1d4a6f9e3c0b7d5a1e8f24@thread.tacv2"
SHARED = "19:7c3e9a1b5d2f4e8a0b6c4d2e9f1a3b5c@thread.tacv2"
HOST_TENANT = "50612dbb-0237-4969-b378-8d42590f9c00"
CARD = {"type": "AdaptiveCard", "version": "1.5", "body": [{"type": "TextBlock", "text": "Bill 1234"}]}


def test_the_manifest_lets_teams_add_the_app_to_private_and_shared_channels():
    manifest = build_manifest(Publisher("0b4e8a1c-5f6d-4e2a-8c3b-9a7d6e5f4c21", "Contoso Finance IT", "https://it.contoso.example/ap",
                                        "https://it.contoso.example/privacy", "https://it.contoso.example/terms"))

    assert sorted(manifest["supportedChannelTypes"]) == ["privateChannels", "sharedChannels"]
    assert validate_manifest(manifest) == []


async def test_a_private_channel_the_bot_was_added_to_is_subscribed_and_gets_cards(clock, fixtures_dir: Path, tmp_path: Path):
    async with bot_harness(clock, fixtures_dir, tmp_path) as harness:
        harness.fake.add_team(TEAM, name="Finance", aad_group_id=TEAM_GRAPH_ID, tenant_id=HOST_TENANT)
        harness.fake.add_channel(TEAM, PRIVATE, "AP approvers")  # the bot was added to it
        assert await harness.post(harness.sample(PRIVATE_SAMPLE)) == 201  # "subscribe bills"
        [route] = await harness.store.list_routes()
        record = await harness.store.get_conversation(PRIVATE)
        posted = await harness.post_card(record.reference, CARD)
        [post] = harness.fake.posts_in(PRIVATE)

    assert (route.conversation_id, route.team_id, route.tenant_id) == (PRIVATE, TEAM_GRAPH_ID, HOST_TENANT)
    assert record.scope == "channel" and record.reference["conversation"]["id"] == PRIVATE
    assert post.activity_id == posted.activity_id and post.card == CARD


async def test_posting_in_a_private_channel_the_bot_was_not_added_to_is_refused(clock, fixtures_dir: Path, tmp_path: Path):
    async with bot_harness(clock, fixtures_dir, tmp_path) as harness:
        harness.fake.add_team(TEAM, name="Finance", aad_group_id=TEAM_GRAPH_ID, tenant_id=HOST_TENANT)
        harness.fake.add_channel(TEAM, PRIVATE, "AP approvers", bot_added=False)
        reference = channel_reference(harness.sample(PRIVATE_SAMPLE))
        with pytest.raises(errors.ConnectorError) as caught:
            await harness.post_card(reference, CARD)

    assert caught.value.status == 403 and caught.value.route_gone  # the notifier switches such a route off


async def test_in_a_shared_channel_the_host_tenant_decides_whoever_writes(clock, fixtures_dir: Path, tmp_path: Path):
    async with bot_harness(clock, fixtures_dir, tmp_path) as harness:
        harness.fake.add_team(TEAM, name="Finance", aad_group_id=TEAM_GRAPH_ID, tenant_id=HOST_TENANT)
        harness.fake.add_channel(TEAM, SHARED, "Vendors with Contoso")
        external = harness.sample(SHARED_SAMPLE)
        external["channelData"]["tenant"]["id"] = "6f9a0b1c-2d3e-4f50-8a9b-0c1d2e3f4a5b"  # the writer's own organisation
        hosted_elsewhere = harness.sample(SHARED_SAMPLE)
        hosted_elsewhere["conversation"]["tenantId"] = "6f9a0b1c-2d3e-4f50-8a9b-0c1d2e3f4a5b"  # a channel another organisation hosts
        hosted_elsewhere["channelData"]["tenant"]["id"] = HOST_TENANT

        answered = await harness.post(external)
        replies_after_external = len(harness.new_messages())
        refused = await harness.post(hosted_elsewhere)
        replies_after_foreign = len(harness.new_messages())
        metrics = (await (await harness.client.get("/metrics")).read()).decode()

    assert (answered, refused) == (201, 201)
    assert replies_after_external == 1  # the pending-bills card, in the shared channel's thread
    assert replies_after_foreign == 0
    assert 'mlc_tenant_refusals_total{surface="activity"} 1.0' in metrics


def test_the_samples_say_what_their_channels_are(fixtures_dir: Path):
    private = json.loads((fixtures_dir / "teams-samples" / PRIVATE_SAMPLE).read_text())
    shared = json.loads((fixtures_dir / "teams-samples" / SHARED_SAMPLE).read_text())

    assert private["channelData"]["channel"] == {"id": PRIVATE, "type": "private"}
    assert shared["channelData"]["channel"] == {"id": SHARED, "type": "shared"}
    assert shared["conversation"]["tenantId"] == shared["channelData"]["team"]["tenantId"] == HOST_TENANT
