"""Reading incoming activities: mention stripping and conversation references, on the recorded samples."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from botbuilder.core import TurnContext
from botbuilder.schema import Activity, ConversationReference

from bot.teams.connector import channel_reference, reference_from_activity, strip_mention, thread_reference
from bot.origin import split_conversation_id
from tests.bot.conftest import load_sample

TEAMS_MESSAGE = "bot-framework/message-channel-mention.json"
PLAYGROUND_MESSAGE = "playground/message-channel-mention.json"


@pytest.mark.parametrize(("sample", "command"), [(TEAMS_MESSAGE, "reply to thread"), (PLAYGROUND_MESSAGE, "show pending bills")])
def test_strip_mention_on_the_recorded_messages(fixtures_dir: Path, sample: str, command: str):
    raw = load_sample(fixtures_dir, sample)
    activity = Activity().deserialize(copy.deepcopy(raw))

    assert strip_mention(raw) == command
    assert strip_mention(activity) == command
    assert activity.text == raw["text"]  # unlike remove_recipient_mention, the activity is untouched


def test_strip_mention_ignores_the_html_attachment(fixtures_dir: Path):
    raw = load_sample(fixtures_dir, TEAMS_MESSAGE)
    raw["attachments"][0]["content"] = "<p>show status</p>"

    assert strip_mention(raw) == "reply to thread"


def test_strip_mention_removes_the_mention_once_not_every_occurrence_of_the_name(fixtures_dir: Path):
    raw = load_sample(fixtures_dir, PLAYGROUND_MESSAGE)
    raw["text"] = "<at>Test Bot</at> show vendor Test Bot Supplies"

    assert strip_mention(raw) == "show vendor Test Bot Supplies"
    # botbuilder's helper cuts the name everywhere, damaging the vendor name:
    assert TurnContext.remove_recipient_mention(Activity().deserialize(copy.deepcopy(raw))).strip() == "show vendor  Supplies"


def test_strip_mention_keeps_mentions_of_other_people(fixtures_dir: Path):
    raw = load_sample(fixtures_dir, PLAYGROUND_MESSAGE)
    raw["text"] = "<at>Test Bot</at> show vendor <at>Alex</at>"
    raw["entities"].append({"type": "mention", "mentioned": {"id": "user-id-0", "name": "Alex"}, "text": "<at>Alex</at>"})

    assert strip_mention(raw) == "show vendor <at>Alex</at>"


def test_strip_mention_with_a_name_full_of_regex_characters(fixtures_dir: Path):
    raw = load_sample(fixtures_dir, PLAYGROUND_MESSAGE)
    raw["recipient"]["name"] = raw["entities"][0]["mentioned"]["name"] = "AP (Bot) [v2]*"
    raw["entities"][0]["text"] = "<at>AP (Bot) [v2]*</at>"
    raw["text"] = "<at>AP (Bot) [v2]*</at>  show   status "

    assert strip_mention(raw) == "show   status"


def test_strip_mention_without_any_mention_just_trims(fixtures_dir: Path):
    raw = load_sample(fixtures_dir, PLAYGROUND_MESSAGE)
    raw["entities"] = []
    raw["text"] = "  help \u00a0"

    assert strip_mention(raw) == "help"


@pytest.mark.parametrize(
    ("sample", "channel"),
    [
        (TEAMS_MESSAGE, "19:6848757105754c8981c67612732d9aa7@thread.tacv2"),
        (PLAYGROUND_MESSAGE, "channel-announcements-id"),
    ],
)
def test_channel_reference_names_the_bare_channel(fixtures_dir: Path, sample: str, channel: str):
    raw = load_sample(fixtures_dir, sample)

    reference = channel_reference(raw)

    assert reference["conversation"]["id"] == channel
    assert "activityId" not in reference
    assert reference["serviceUrl"] == raw["serviceUrl"]
    assert reference["conversation"]["tenantId"] == raw["conversation"]["tenantId"]
    assert reference["conversation"]["conversationType"] == "channel"
    assert reference["bot"]["id"] == raw["recipient"]["id"]
    # wire JSON that both SDKs load back
    loaded = ConversationReference().deserialize(copy.deepcopy(reference))
    assert loaded.conversation.id == channel and loaded.service_url == raw["serviceUrl"]


def test_channel_reference_of_an_install_event_is_the_selected_channel(fixtures_dir: Path):
    raw = load_sample(fixtures_dir, "bot-framework/installation-update-add-team.json")

    assert channel_reference(raw)["conversation"]["id"] == "19:0b7f32667e064dd9b25d7969801541f4@thread.tacv2"


def test_channel_reference_without_channel_data_strips_the_thread_part(fixtures_dir: Path):
    raw = load_sample(fixtures_dir, TEAMS_MESSAGE)
    raw["channelData"] = {"tenant": raw["channelData"]["tenant"]}

    assert channel_reference(raw)["conversation"]["id"] == "19:6848757105754c8981c67612732d9aa7@thread.tacv2"


def test_channel_reference_of_a_personal_chat_is_the_chat(fixtures_dir: Path):
    raw = load_sample(fixtures_dir, "bot-framework/invoke-adaptive-card-action-execute.json")

    assert channel_reference(raw)["conversation"]["id"] == raw["conversation"]["id"]


def test_reference_from_activity_keeps_the_thread_and_teams_tenant_key(fixtures_dir: Path):
    raw = load_sample(fixtures_dir, TEAMS_MESSAGE)

    reference = reference_from_activity(raw)

    assert reference["conversation"]["id"] == raw["conversation"]["id"]
    assert reference["activityId"] == raw["id"]
    assert reference["conversation"]["tenantId"] == "50612dbb-0237-4969-b378-8d42590f9c00"
    assert "tenantID" not in reference["conversation"]  # botbuilder's own spelling is not stored
    assert set(reference) <= {"activityId", "user", "bot", "conversation", "channelId", "locale", "serviceUrl"}


def test_reference_from_a_team_install_uses_the_channel_data_tenant(fixtures_dir: Path):
    raw = load_sample(fixtures_dir, "bot-framework/conversation-update-bot-added-to-team.json")

    assert reference_from_activity(raw)["conversation"]["tenantId"] == "b28fdbfd-2b78-4f93-b0f8-8881793f0f8f"


def test_thread_reference_retargets_a_copy(fixtures_dir: Path):
    channel = channel_reference(load_sample(fixtures_dir, PLAYGROUND_MESSAGE))

    thread = thread_reference(channel, "channel-announcements-id;messageid=42")

    assert thread["conversation"]["id"] == "channel-announcements-id;messageid=42"
    assert thread["conversation"]["tenantId"] == channel["conversation"]["tenantId"]
    assert channel["conversation"]["id"] == "channel-announcements-id"
    with pytest.raises(ValueError):
        thread_reference(channel, "")


def test_split_conversation_id():
    assert split_conversation_id("19:a@thread.tacv2;messageid=17") == ("19:a@thread.tacv2", "17")
    assert split_conversation_id("19:a@thread.tacv2") == ("19:a@thread.tacv2", None)
    assert split_conversation_id("a:1x") == ("a:1x", None)
