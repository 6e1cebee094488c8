"""The fake Bot Connector's own contract, at the HTTP level and through botbuilder's async client."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from botbuilder.core import TurnContext

from bot.teams.connector import close_adapter, create_adapter
from tests.bot.conftest import CHANNEL_ID, TEAM_ID
from tests.fakes.bot_connector import FakeBotConnector
from tests.fakes.clock import FakeClock

MESSAGE = {"type": "message", "text": "hi"}


@pytest.fixture
async def http():
    async with aiohttp.ClientSession() as session:
        yield session


def url(fake: FakeBotConnector, path: str) -> str:
    return fake.service_url + path.lstrip("/")


async def test_the_service_url_has_the_playgrounds_prefix_and_a_trailing_slash(fake):
    assert fake.service_url.endswith("/_connector/")


async def test_create_in_a_channel_answers_201_with_thread_and_activity_ids(fake, http):
    body = {"isGroup": True, "channelData": {"channel": {"id": CHANNEL_ID}}, "activity": MESSAGE}

    async with http.post(url(fake, "v3/conversations"), json=body) as response:
        answer = await response.json()

    assert response.status == 201
    assert answer == {"id": f"{CHANNEL_ID};messageid={answer['activityId']}", "activityId": answer["activityId"]}
    assert answer["activityId"].isdigit()  # Teams' ids are millisecond timestamps


async def test_activity_ids_are_unique_within_a_millisecond(fake, http):
    ids = []
    for _ in range(3):
        async with http.post(url(fake, f"v3/conversations/{CHANNEL_ID}/activities"), json=MESSAGE) as response:
            ids.append((await response.json())["id"])

    assert len(set(ids)) == 3
    assert [int(i) for i in ids] == sorted(int(i) for i in ids)


async def test_an_empty_message_is_a_bad_argument(fake, http):
    async with http.post(url(fake, f"v3/conversations/{CHANNEL_ID}/activities"), json={"type": "message"}) as response:
        answer = await response.json()

    assert response.status == 400
    assert answer["error"]["code"] == "BadSyntax"


async def test_errors_have_teams_body_shape_and_gateway_errors_are_html(fake, http):
    fake.fail_next(429, retry_after=3)
    fake.fail_next(504)

    async with http.post(url(fake, f"v3/conversations/{CHANNEL_ID}/activities"), json=MESSAGE) as throttled:
        assert throttled.status == 429
        assert throttled.headers["Retry-After"] == "3"
        assert await throttled.json() == {"error": {"code": "Throttled", "message": "scripted 429 Throttled"}}
    async with http.post(url(fake, f"v3/conversations/{CHANNEL_ID}/activities"), json=MESSAGE) as gateway:
        assert gateway.status == 504
        assert gateway.content_type == "text/html"


async def test_faults_for_one_conversation_leave_others_alone(fake, http):
    fake.add_channel(TEAM_ID, "19:other@thread.tacv2", "Other")
    fake.fail_next(403, "BotNotInConversationRoster", conversation_id=CHANNEL_ID, times=2)

    statuses = []
    for conversation in (f"{CHANNEL_ID};messageid=5", "19:other@thread.tacv2", CHANNEL_ID, CHANNEL_ID):
        async with http.post(url(fake, f"v3/conversations/{conversation}/activities"), json=MESSAGE) as response:
            statuses.append(response.status)

    assert statuses == [403, 201, 403, 201]


async def test_faults_can_target_operations(fake, http):
    fake.fail_next(412, operations={"update"})

    async with http.post(url(fake, f"v3/conversations/{CHANNEL_ID}/activities"), json=MESSAGE) as sent:
        activity_id = (await sent.json())["id"]
    async with http.put(url(fake, f"v3/conversations/{CHANNEL_ID}/activities/{activity_id}"), json=MESSAGE) as updated:
        assert updated.status == 412
    async with http.put(url(fake, f"v3/conversations/{CHANNEL_ID}/activities/{activity_id}"), json=MESSAGE) as updated:
        assert updated.status == 200


async def test_delete_hides_the_message_and_later_updates_find_nothing(fake, http):
    async with http.post(url(fake, f"v3/conversations/{CHANNEL_ID}/activities"), json=MESSAGE) as sent:
        activity_id = (await sent.json())["id"]

    async with http.delete(url(fake, f"v3/conversations/{CHANNEL_ID}/activities/{activity_id}")) as deleted:
        assert deleted.status == 200
    async with http.put(url(fake, f"v3/conversations/{CHANNEL_ID}/activities/{activity_id}"), json=MESSAGE) as updated:
        assert updated.status == 404
        assert (await updated.json())["error"]["code"] == "ActivityNotFoundInConversation"
    assert fake.messages[activity_id].deleted


async def test_delete_like_the_playground_is_not_implemented(clock, http):
    async with FakeBotConnector(clock=clock, delete_supported=False) as playground:
        playground.add_team(TEAM_ID)
        message = playground.add_user_message(TEAM_ID, "x")
        async with http.delete(url(playground, f"v3/conversations/{TEAM_ID}/activities/{message.activity_id}")) as deleted:
            assert deleted.status == 501
            assert (await deleted.json())["error"]["code"] == "DeleteActivityAPINotImplemented"


async def test_team_details_and_channels(fake, http):
    async with http.get(url(fake, f"v3/teams/{TEAM_ID}")) as details:
        team = await details.json()
    async with http.get(url(fake, f"v3/teams/{TEAM_ID}/conversations")) as conversations:
        channels = await conversations.json()
    async with http.get(url(fake, "v3/teams/19:nope@thread.tacv2")) as missing:
        assert missing.status == 404

    assert team["aadGroupId"] == "00000000-0000-0000-0000-000000000031"
    assert team["channelCount"] == 2
    assert channels == {"conversations": [{"id": TEAM_ID, "name": None}, {"id": CHANNEL_ID, "name": "Announcements"}]}


async def test_members_report_a_user_role_but_never_an_owner(fake, http):
    fake.add_member(TEAM_ID, "29:alex", "Alex Wilber", aad_object_id="aad-alex", email="alex@example.com")
    fake.add_member(TEAM_ID, "29:gus", "Gus Guest", aad_object_id="aad-gus", user_role="guest")

    async with http.get(url(fake, f"v3/conversations/{CHANNEL_ID}/members/aad-alex")) as one:
        alex = await one.json()
    async with http.get(url(fake, f"v3/conversations/{CHANNEL_ID}/members")) as everyone:
        members = await everyone.json()
    async with http.get(url(fake, f"v3/conversations/{CHANNEL_ID}/members/29:nobody")) as missing:
        assert missing.status == 404
        assert (await missing.json())["error"]["code"] == "MemberNotFoundInConversation"

    assert alex["id"] == "29:alex" and alex["userRole"] == "user" and alex["aadObjectId"] == "aad-alex"
    assert sorted(m["userRole"] for m in members) == ["guest", "user"]


async def test_paged_members_through_botbuilders_async_client(fake, clock: FakeClock, channel_ref):
    for n in range(60):
        fake.add_member(TEAM_ID, f"29:user{n:02d}", f"User {n}", aad_object_id=f"aad-{n}")
    adapter = create_adapter("", "")
    pages: list[Any] = []

    async def read(turn_context: TurnContext) -> None:
        # TeamsInfo.get_paged_members needs the inbound channelData a proactive turn lacks, so
        # read through the turn's connector client as the handler would in a proactive turn.
        client = turn_context.turn_state[turn_context.adapter.BOT_CONNECTOR_CLIENT_KEY]
        conversation = turn_context.activity.conversation.id
        first = await client.conversations.get_teams_conversation_paged_members(conversation, page_size=2)
        pages.append(first)
        token = first.continuation_token
        pages.append(await client.conversations.get_teams_conversation_paged_members(conversation, page_size=2, continuation_token=token))

    from botbuilder.schema import ConversationReference

    try:
        await adapter.continue_conversation(ConversationReference().deserialize(dict(channel_ref)), read, bot_app_id="")
    finally:
        await close_adapter(adapter)

    # Teams raises a page size under 50 to 50
    assert [m.id for m in pages[0].members] == [f"29:user{n:02d}" for n in range(50)]
    assert [m.id for m in pages[1].members] == [f"29:user{n:02d}" for n in range(50, 60)]
    assert pages[0].continuation_token and not pages[1].continuation_token
    assert pages[0].members[0].user_role == "user"


async def test_a_personal_chat_can_be_created_only_with_someone_the_bot_knows(fake, http):
    fake.add_member(TEAM_ID, "29:alex", "Alex Wilber")
    known = {"isGroup": False, "members": [{"id": "29:alex"}], "activity": MESSAGE}
    stranger = {"isGroup": False, "members": [{"id": "29:stranger"}]}

    async with http.post(url(fake, "v3/conversations"), json=known) as created:
        chat = await created.json()
    async with http.post(url(fake, "v3/conversations"), json=stranger) as refused:
        assert refused.status == 403
        assert (await refused.json())["error"]["code"] == "ForbiddenOperationException"

    assert created.status == 201 and chat["id"] == "a:29:alex"
    assert fake.messages[chat["activityId"]].conversation_id == "a:29:alex"


async def test_rate_limits_count_reads_apart_from_writes(clock: FakeClock, http):
    async with FakeBotConnector(clock=clock, enforce_rate_limits=True) as strict:
        strict.add_team(TEAM_ID)
        for _ in range(7):
            async with http.post(url(strict, f"v3/conversations/{TEAM_ID}/activities"), json=MESSAGE) as sent:
                assert sent.status == 201
        async with http.post(url(strict, f"v3/conversations/{TEAM_ID}/activities"), json=MESSAGE) as throttled:
            assert throttled.status == 429
        reads = []
        for _ in range(15):
            async with http.get(url(strict, f"v3/conversations/{TEAM_ID}/members")) as read:
                reads.append(read.status)
        clock.advance(1)
        async with http.post(url(strict, f"v3/conversations/{TEAM_ID}/activities"), json=MESSAGE) as later:
            assert later.status == 201

    assert reads == [200] * 14 + [429]


async def test_the_tenant_limit_spans_conversations(clock: FakeClock, http):
    async with FakeBotConnector(clock=clock, enforce_rate_limits=True) as strict:
        strict.add_team(TEAM_ID, channels={f"19:c{n}@thread.tacv2": f"c{n}" for n in range(8)})
        statuses = []
        for n in range(51):
            async with http.post(url(strict, f"v3/conversations/19:c{n % 8}@thread.tacv2/activities"), json=MESSAGE) as sent:
                statuses.append(sent.status)

    assert statuses == [201] * 50 + [429]


async def test_calls_are_recorded_with_the_clock(fake, http, clock: FakeClock):
    clock.advance(5)
    async with http.post(url(fake, f"v3/conversations/{CHANNEL_ID}/activities"), json=MESSAGE):
        pass

    [call] = fake.calls
    assert (call.at, call.method, call.operation, call.conversation_id, call.status) == (clock(), "POST", "send", CHANNEL_ID, 201)
    assert call.body == MESSAGE
