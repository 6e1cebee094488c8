"""The activity handler end to end: recorded Teams and Playground activities POSTed to the aiohttp
app (real CloudAdapter, anonymous), replies read from the fake Bot Connector, data from the
Intacct sandbox, references and routes from a real SQLite store."""

from __future__ import annotations

import logging
import time
from decimal import Decimal
from pathlib import Path

import pytest

from bot import messages
from cards import texts as card_texts
from store.types import RouteFilter
from tests.bot.bot_harness import AAD_GROUP_ID, THREAD, USER_AAD_ID, BotHarness, bot_harness, playground_policy
from tests.bot.conftest import CHANNEL_ID, TEAM_ID, TENANT_ID
from tests.cards.harness import card_text

@pytest.fixture
async def harness(clock, fixtures_dir: Path, tmp_path: Path):
    async with bot_harness(clock, fixtures_dir, tmp_path) as running:
        yield running


def bill_rows(card: dict) -> int:
    """How many bill rows a list card shows (each row opens its bill)."""
    return sum(1 for element in card["body"] if element.get("type") == "Container" and "selectAction" in element)


# --- install and references ---------------------------------------------------------------------


async def test_install_stores_the_channel_reference_and_posts_one_welcome_card(harness: BotHarness):
    posted = await harness.install()

    assert len(posted) == 1, "Teams sends installationUpdate AND membersAdded: one welcome only"
    welcome = posted[0]
    assert welcome.is_thread_root and welcome.conversation_id.startswith(TEAM_ID + ";messageid=")
    assert "subscribe bills" in card_text(welcome.card)
    record = await harness.store.get_conversation(TEAM_ID)
    assert record is not None and record.scope == "channel"
    assert (record.team_id, record.aad_group_id, record.channel_id, record.tenant_id) == (TEAM_ID, AAD_GROUP_ID, TEAM_ID, TENANT_ID)
    assert record.service_url == harness.fake.service_url
    assert record.reference["conversation"]["id"] == TEAM_ID and "activityId" not in record.reference
    assert record.reference["conversation"]["tenantId"] == TENANT_ID

    await harness.install()  # add-upgrade, or Teams repeating itself: still no second welcome
    assert harness.new_messages() == []


async def test_teams_install_samples_store_the_selected_channel_once(harness: BotHarness):
    harness.fake.add_team("19:zFLSDFWsesfzcmKArqKJ-65aOXJz@sgf462H2wz41@thread.tacv2",
                          channels={"19:0b7f32667e064dd9b25d7969801541f4@thread.tacv2": "2021 Test Channel"})
    for name in ("bot-framework/installation-update-add-team.json", "bot-framework/conversation-update-bot-added-to-team.json"):
        assert await harness.post(harness.sample(name)) == 201

    posted = harness.new_messages()
    assert len(posted) == 1 and posted[0].conversation_id.startswith("19:0b7f32667e064dd9b25d7969801541f4@thread.tacv2;")
    record = await harness.store.get_conversation("19:0b7f32667e064dd9b25d7969801541f4@thread.tacv2")
    # The two doc samples name different aadGroupIds (captured apart); the latest event wins.
    assert record is not None and record.aad_group_id == "f3ec8cd2-e704-4344-8c47-9a3a21d683c0"
    assert record.tenant_id == "b28fdbfd-2b78-4f93-b0f8-8881793f0f8f"


async def test_a_message_stores_the_thread_apart_from_the_channel(harness: BotHarness):
    await harness.install()
    await harness.say("help")

    thread = await harness.store.get_conversation(THREAD)
    channel = await harness.store.get_conversation(CHANNEL_ID)
    assert thread is not None and thread.scope == "thread" and thread.reference["conversation"]["id"] == THREAD
    assert channel is not None and channel.scope == "channel" and channel.reference["conversation"]["id"] == CHANNEL_ID
    assert "activityId" not in channel.reference
    # messages carry no aadGroupId: both inherit it from the team's install record
    assert thread.aad_group_id == channel.aad_group_id == AAD_GROUP_ID
    assert channel.channel_id == thread.channel_id == CHANNEL_ID and channel.team_id == TEAM_ID


# --- commands ------------------------------------------------------------------------------------


async def test_show_pending_bills_replies_in_the_thread_within_3_seconds(harness: BotHarness, capsys):
    await harness.sandbox.add_bill(vendor_id="V1001", amount="1200.00")  # at least one pending
    started = time.perf_counter()
    status = await harness.post(harness.sample("playground/message-channel-mention.json"))
    elapsed_ms = (time.perf_counter() - started) * 1000
    with capsys.disabled():
        print(f"\n[reply time] show pending bills on the sandbox demo company: {elapsed_ms:.0f} ms")

    assert status == 201
    replies = harness.fake.replies_in(THREAD)
    assert len(replies) == 1
    card = replies[0].card
    assert card["body"][0]["text"] == card_texts.PENDING_BILLS
    assert bill_rows(card) >= 1
    states = {line.split(" · ")[-1] for line in card_text(card).splitlines() if line.startswith("Due ")}
    assert states and states <= {"Submitted", "Partially Approved"}  # waiting for approval, nothing else
    assert elapsed_ms < 3000


async def test_show_bill_by_number_answers_with_the_detail_card(harness: BotHarness):
    bill = await harness.sandbox.add_bill(vendor_id="V1001", amount="845.10", department_id="D300")

    [reply] = await harness.say(f"show bill {bill['bill_number']}")

    assert reply.conversation_id == THREAD
    assert bill["bill_number"] in card_text(reply.card)
    assert "845.10" in card_text(reply.card)


async def test_unknown_text_gets_the_help_card_with_what_was_not_understood(harness: BotHarness):
    [reply] = await harness.say("shwo bills")

    shown = card_text(reply.card)
    assert "shwo bills" in shown and "show pending bills" in shown
    assert reply.card["body"][0]["text"] == messages.HELP_TITLE


async def test_an_invalid_command_explains_itself_above_the_help(harness: BotHarness):
    [reply] = await harness.say("show pending bills over -5")

    assert "cannot be negative" in card_text(reply.card)


# --- routes --------------------------------------------------------------------------------------


async def test_subscribe_lists_and_unsubscribe_from_a_channel(harness: BotHarness):
    await harness.install()

    [subscribed] = await harness.say('subscribe bills, payments department "D100" over 5k')
    [listed] = await harness.say("subscriptions")
    [narrowed] = await harness.say("unsubscribe bills")

    assert subscribed.conversation_id == THREAD
    assert "now receives new and changed bills and payment requests" in subscribed.payload["text"]
    assert "department D100 · over 5,000.00" in subscribed.payload["text"]
    shown = card_text(listed.card)
    assert "bills, payments" in shown and "department D100" in shown and "active" in shown
    assert "I no longer post new and changed bills here" in narrowed.payload["text"]
    [route] = await harness.store.list_routes()
    assert route.conversation_id == CHANNEL_ID  # the bare channel: new posts, not replies
    assert route.event_kinds == frozenset({"payments"})
    assert (route.team_id, route.tenant_id, route.created_by) == (AAD_GROUP_ID, TENANT_ID, USER_AAD_ID)
    assert route.filter.department == "D100" and route.filter.min_amount == Decimal("5000")


async def test_route_changes_are_announced_to_the_graph_side(harness: BotHarness):
    calls: list[str] = []
    harness.context.routes_changed = lambda: calls.append("changed")
    await harness.install()
    await harness.say("subscribe bills")
    await harness.say("unsubscribe payments")  # nothing to remove: nothing announced
    await harness.say("unsubscribe bills")
    assert calls == ["changed", "changed"]


async def test_subscribe_alerts_makes_the_operators_channel(harness: BotHarness):
    await harness.install()

    [reply] = await harness.say("subscribe alerts")

    assert "operators' channel" in reply.payload["text"]
    [route] = await harness.store.list_routes(conversation_id=CHANNEL_ID)
    assert route.event_kinds == frozenset({"alerts"})


async def test_channel_renamed_and_deleted_follow_the_routes(harness: BotHarness):
    await harness.install()
    await harness.say("subscribe bills")

    assert await harness.post(harness.sample("playground/conversation-update-channel-renamed.json")) == 201
    [route] = await harness.store.list_routes()
    assert route.channel_name == "Announcements"

    assert await harness.post(harness.sample("playground/conversation-update-channel-deleted.json")) == 201
    [route] = await harness.store.list_routes()
    assert (route.active, route.inactive_reason) == (False, messages.ROUTE_REASON_CHANNEL_DELETED)
    assert await harness.store.get_conversation(CHANNEL_ID) is None
    assert await harness.store.get_conversation(THREAD) is None
    assert await harness.store.get_conversation(TEAM_ID) is not None  # General is untouched
    assert harness.new_messages() == []  # events are never answered


async def test_channel_restored_switches_the_routes_back_on(harness: BotHarness):
    await harness.install()
    await harness.say("subscribe bills")
    await harness.post(harness.sample("playground/conversation-update-channel-deleted.json"))

    restored = harness.sample("playground/conversation-update-channel-deleted.json")
    restored["channelData"]["eventType"] = "channelRestored"
    assert await harness.post(restored) == 201

    [route] = await harness.store.list_routes()
    assert route.active and route.inactive_reason is None
    assert (await harness.store.get_conversation(CHANNEL_ID)).reference["conversation"]["id"] == CHANNEL_ID


@pytest.mark.parametrize("sample", ["playground/conversation-update-bot-removed.json", "playground/installation-update-remove.json"])
async def test_bot_removed_forgets_the_team_and_deactivates_its_routes(harness: BotHarness, sample: str):
    await harness.install()
    await harness.say("subscribe bills")

    assert await harness.post(harness.sample(sample)) == 201

    assert await harness.store.list_conversations() == []
    [route] = await harness.store.list_routes()
    assert (route.active, route.inactive_reason) == (False, messages.ROUTE_REASON_BOT_REMOVED)

    welcome = await harness.install()  # added again: a welcome again, and the routes resume
    assert len(welcome) == 1
    [route] = await harness.store.list_routes()
    assert route.active


async def test_team_archived_then_unarchived(harness: BotHarness):
    await harness.install()
    await harness.say("subscribe bills")
    event = harness.sample("playground/conversation-update-bot-added.json")
    del event["membersAdded"]
    event["channelData"]["eventType"] = "teamArchived"

    await harness.post(event)
    [route] = await harness.store.list_routes()
    assert (route.active, route.inactive_reason) == (False, messages.ROUTE_REASON_TEAM_ARCHIVED)

    event["channelData"]["eventType"] = "teamUnarchived"
    await harness.post(event)
    [route] = await harness.store.list_routes()
    assert route.active


async def test_team_deleted_forgets_the_team(harness: BotHarness):
    await harness.install()
    await harness.say("subscribe bills")
    event = harness.sample("playground/conversation-update-bot-added.json")
    del event["membersAdded"]
    event["channelData"]["eventType"] = "teamDeleted"

    await harness.post(event)

    [route] = await harness.store.list_routes()
    assert (route.active, route.inactive_reason) == (False, messages.ROUTE_REASON_TEAM_DELETED)
    assert await harness.store.list_conversations() == []


async def test_routing_changes_follow_route_admins(clock, fixtures_dir: Path, tmp_path: Path):
    policy = playground_policy(route_admins=("team-owners",))
    async with bot_harness(clock, fixtures_dir, tmp_path, policy=policy) as harness:
        await harness.install()
        [refused] = await harness.say("subscribe bills")
        [listed] = await harness.say("subscriptions")  # read-only: open to everyone
        routes = await harness.store.list_routes()

    assert "needs Microsoft Graph, which is not configured" in refused.payload["text"]
    assert routes == []
    assert card_text(listed.card).startswith("Subscriptions")


async def test_listed_admins_need_no_graph(clock, fixtures_dir: Path, tmp_path: Path):
    policy = playground_policy(route_admins=("team-owners", USER_AAD_ID))
    async with bot_harness(clock, fixtures_dir, tmp_path, policy=policy) as harness:
        await harness.install()
        [reply] = await harness.say("subscribe vendors")
        routes = await harness.store.list_routes()

    assert "now receives vendor status changes" in reply.payload["text"]
    assert len(routes) == 1


# --- tenants and metrics -------------------------------------------------------------------------


async def test_other_tenants_get_no_reply_are_logged_once_and_counted(clock, fixtures_dir: Path, tmp_path: Path, caplog):
    policy = playground_policy(allowed_tenant_ids=frozenset({"11111111-2222-3333-4444-555555555555"}))
    async with bot_harness(clock, fixtures_dir, tmp_path, policy=policy) as harness:
        with caplog.at_level(logging.WARNING, logger="bot.tenant_gate"):
            statuses = [await harness.post(harness.message("show pending bills")) for _ in range(3)]
            statuses.append(await harness.post(harness.sample("playground/installation-update-add.json")))
        metrics = (await (await harness.client.get("/metrics")).read()).decode()
        stored = await harness.store.list_conversations()

    assert statuses == [201, 201, 201, 201]
    assert harness.fake.calls == []  # not one word to a foreign tenant
    assert stored == []
    refusals = [r.getMessage() for r in caplog.records if "not in ALLOWED_TENANT_IDS" in r.getMessage()]
    assert len(refusals) == 1 and TENANT_ID.lower() in refusals[0]
    assert 'mlc_inbound_activities_total{outcome="refused_tenant",type="message"} 3.0' in metrics
    assert 'mlc_inbound_activities_total{outcome="refused_tenant",type="installationUpdate"} 1.0' in metrics
    assert 'mlc_tenant_refusals_total{surface="activity"} 4.0' in metrics


async def test_a_forged_tenant_id_cannot_write_log_lines_of_its_own(clock, fixtures_dir: Path, tmp_path: Path, caplog):
    policy = playground_policy(allowed_tenant_ids=frozenset({TENANT_ID}))
    forged = "evil\nWARNING mlc: all deliveries confirmed " + "x" * 500
    async with bot_harness(clock, fixtures_dir, tmp_path, policy=policy) as harness:
        activity = harness.message("show pending bills")
        activity["channelData"]["tenant"]["id"] = forged
        activity["conversation"]["tenantId"] = forged
        with caplog.at_level(logging.WARNING, logger="bot.tenant_gate"):
            assert await harness.post(activity) == 201

    assert harness.fake.calls == []
    [line] = [r.getMessage() for r in caplog.records if "not in ALLOWED_TENANT_IDS" in r.getMessage()]
    assert "\n" not in line and "evil\\nwarning mlc" in line  # escaped, on the one line
    assert len(line) < 400  # the id is cut, not copied whole


INVOKE = "bot-framework/invoke-adaptive-card-action-execute.json"
INVOKE_TENANT = "56653e9d-2158-46ee-90d7-675c39642038"  # the recorded invoke's tenant


@pytest.mark.parametrize(("allowed", "status"), [(TENANT_ID, 403), (INVOKE_TENANT, 200)])
async def test_an_invoke_from_another_tenant_gets_a_bare_403(clock, fixtures_dir: Path, tmp_path: Path, allowed: str, status: int):
    # The allowed tenant's recorded Action.Execute ("Submit Feedback", not one of our cards') gets
    # Universal Actions' error answer (HTTP 200, statusCode 400); the refused one gets a bare 403
    # before any handler runs.
    async with bot_harness(clock, fixtures_dir, tmp_path, policy=playground_policy(allowed_tenant_ids=frozenset({allowed}))) as harness:
        response = await harness.client.post("/api/messages", json=harness.sample(INVOKE))
        body = await response.read()
        metrics = (await (await harness.client.get("/metrics")).read()).decode()

    assert response.status == status
    assert harness.fake.calls == []
    if status == 403:
        assert body in (b"", b"null")
        assert 'mlc_tenant_refusals_total{surface="invoke"} 1.0' in metrics
        assert 'mlc_inbound_activities_total{outcome="refused_tenant",type="invoke"} 1.0' in metrics


async def test_the_allowed_tenant_is_answered_and_counted(clock, fixtures_dir: Path, tmp_path: Path):
    policy = playground_policy(allowed_tenant_ids=frozenset({TENANT_ID}))
    async with bot_harness(clock, fixtures_dir, tmp_path, policy=policy) as harness:
        replies = await harness.say("help")
        metrics = (await (await harness.client.get("/metrics")).read()).decode()

    assert len(replies) == 1
    assert 'mlc_inbound_activities_total{outcome="handled",type="message"} 1.0' in metrics
    assert 'mlc_commands_total{command="help"} 1.0' in metrics


async def test_a_failed_reply_is_logged_and_apologised_for_without_crashing(harness: BotHarness, caplog):
    harness.fake.fail_next(500, operations=["reply"])

    with caplog.at_level(logging.WARNING, logger="bot.teams.handler"):
        [apology] = await harness.say("help")

    assert apology.payload["text"] == messages.FAILED_APOLOGY
    assert any("failed talking to Teams" in r.getMessage() and "ServiceError" in r.getMessage() for r in caplog.records)
    assert [r for r in caplog.records if r.exc_info] == []  # a Teams answer needs no traceback
    metrics = (await (await harness.client.get("/metrics")).read()).decode()
    assert 'mlc_inbound_activities_total{outcome="failed",type="message"} 1.0' in metrics
    assert len(await harness.say("help")) == 1  # and the next turn is fine


# --- the recorded Teams (Bot Framework) captures ------------------------------------------------

TEAMS_TEAM = "19:66P469zibfbsGI-_a0aN_toLTZpyzS6u7CT3TsXdgPw1@thread.tacv2"
TEAMS_CHANNEL = "19:6848757105754c8981c67612732d9aa7@thread.tacv2"
TEAMS_THREAD = TEAMS_CHANNEL + ";messageid=1759881511856"
DOCS_TEAM = "19:efa9296d959346209fea44151c742e73@thread.skype"
DOCS_CHANNEL = "19:6d97d816470f481dbcda38244b98689a@thread.skype"


async def test_the_teams_capture_is_answered_in_its_thread(harness: BotHarness):
    harness.fake.add_team(TEAMS_TEAM, channels={TEAMS_CHANNEL: "AP"}, tenant_id="50612dbb-0237-4969-b378-8d42590f9c00")
    message = harness.sample("bot-framework/message-channel-mention.json")
    message["text"] = "<at>ridotest</at> show pending bills"

    assert await harness.post(message) == 201

    [reply] = harness.fake.replies_in(TEAMS_THREAD)
    assert reply.card["body"][0]["text"] == card_texts.PENDING_BILLS
    assert reply.reply_to_id == "1759944781430"  # a reply to the person's message
    channel = await harness.store.get_conversation(TEAMS_CHANNEL)
    assert channel.tenant_id == "50612dbb-0237-4969-b378-8d42590f9c00" and channel.team_id == TEAMS_TEAM
    assert channel.aad_group_id is None  # never installed here: no event told us the Graph id


async def test_the_teams_capture_text_is_not_a_command(harness: BotHarness):
    harness.fake.add_team(TEAMS_TEAM, channels={TEAMS_CHANNEL: "AP"})

    assert await harness.post(harness.sample("bot-framework/message-channel-mention.json")) == 201

    [reply] = harness.fake.replies_in(TEAMS_THREAD)
    assert "“reply to thread”" in card_text(reply.card)


async def test_the_documented_channel_events_update_the_routes(harness: BotHarness):
    await harness.store.add_route(DOCS_CHANNEL, frozenset({"bills"}), filter=RouteFilter(), company=None, team_id=None,
                                  tenant_id=None, channel_name="FunDiscussions", created_by=None, now=harness.clock())

    await harness.post(harness.sample("bot-framework/conversation-update-channel-created.json"))
    await harness.post(harness.sample("bot-framework/conversation-update-channel-renamed.json"))
    [renamed] = await harness.store.list_routes()
    await harness.post(harness.sample("bot-framework/conversation-update-channel-deleted.json"))
    [deleted] = await harness.store.list_routes()

    assert renamed.channel_name == "PhotographyUpdates" and renamed.active
    assert (deleted.active, deleted.inactive_reason) == (False, messages.ROUTE_REASON_CHANNEL_DELETED)
    assert harness.fake.calls == []


async def test_a_person_leaving_changes_nothing_but_the_bot_leaving_does(harness: BotHarness):
    await harness.store.add_route(DOCS_TEAM, frozenset({"bills"}), filter=RouteFilter(), company=None, team_id=None,
                                  tenant_id=None, channel_name="General", created_by=None, now=harness.clock())
    person_left = harness.sample("bot-framework/conversation-update-member-removed.json")
    bot_left = harness.sample("bot-framework/conversation-update-member-removed.json")
    bot_left["membersRemoved"] = [{"id": bot_left["recipient"]["id"]}]

    await harness.post(person_left)
    [after_person] = await harness.store.list_routes()
    await harness.post(bot_left)
    [after_bot] = await harness.store.list_routes()

    assert after_person.active
    assert (after_bot.active, after_bot.inactive_reason) == (False, messages.ROUTE_REASON_BOT_REMOVED)


@pytest.mark.parametrize("code", ["BotNotInConversationRoster", "ConversationNotFound"])
async def test_a_message_heals_routes_the_notifier_switched_off_because_the_bot_seemed_gone(harness: BotHarness, code):
    await harness.install()
    await harness.say("subscribe bills")
    gone = messages.NOTIFIER_GONE_REASONS[code]
    await harness.store.set_routes_active(CHANNEL_ID, False, reason=gone)

    await harness.say("help")  # the bot is plainly back in this channel
    [healed] = await harness.store.list_routes()

    await harness.store.set_routes_active(CHANNEL_ID, False, reason=messages.ROUTE_REASON_CHANNEL_DELETED)
    await harness.say("help")
    [still_off] = await harness.store.list_routes()

    assert healed.active
    assert not still_off.active  # only presence reasons heal


async def test_the_tenant_is_also_read_from_the_conversation(clock, fixtures_dir: Path, tmp_path: Path):
    policy = playground_policy(allowed_tenant_ids=frozenset({TENANT_ID}))
    async with bot_harness(clock, fixtures_dir, tmp_path, policy=policy) as harness:
        only_conversation = harness.message("help")
        del only_conversation["channelData"]["tenant"]  # conversation.tenantId still says TENANT_ID
        stranger = harness.message("help")
        del stranger["channelData"]["tenant"]
        stranger["conversation"]["tenantId"] = "99999999-0000-0000-0000-000000000000"
        nobody = harness.message("help")
        del nobody["channelData"]["tenant"], nobody["conversation"]["tenantId"]

        for activity in (only_conversation, stranger, nobody):
            assert await harness.post(activity) == 201

    assert len(harness.fake.replies_in(THREAD)) == 1  # an allow-list admits no activity without a tenant
