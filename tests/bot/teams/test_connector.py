"""TeamsConnector drives the real CloudAdapter (anonymous mode) against the fake Bot Connector over HTTP."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from bot.teams import errors
from bot.teams.connector import PostedMessage, TeamsConnector, close_adapter, create_adapter, thread_reference
from bot.origin import split_conversation_id
from tests.bot.conftest import CHANNEL_ID, TEAM_ID, TENANT_ID
from tests.fakes.bot_connector import BotRegistration, FakeBotConnector
from tests.fakes.clock import FakeClock

CARD = {"type": "AdaptiveCard", "version": "1.5", "body": [{"type": "TextBlock", "text": "Bill B-1 from Acme: 1,200.00 USD"}]}
APPROVED = {"type": "AdaptiveCard", "version": "1.5", "body": [{"type": "TextBlock", "text": "Bill B-1 — Approved"}]}


async def test_create_thread_posts_a_new_top_level_card_and_returns_both_ids(teams, fake, channel_ref):
    posted = await teams.create_thread(channel_ref, CARD, text_fallback="New bill B-1 from Acme")

    assert isinstance(posted, PostedMessage)
    assert posted.thread_conversation_id == f"{CHANNEL_ID};messageid={posted.activity_id}"
    [post] = fake.posts_in(CHANNEL_ID)
    assert post.activity_id == posted.activity_id
    assert post.card == CARD
    assert post.payload["attachments"][0]["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert post.payload["summary"] == "New bill B-1 from Acme"
    assert "text" not in post.payload  # the fallback must not print above the card
    [call] = fake.calls_of("create")
    assert call.body["isGroup"] is True
    assert call.body["channelData"] == {"channel": {"id": CHANNEL_ID}}
    # botbuilder 4.17 spells the key "tenantID"; the Bot Connector reads JSON case-insensitively
    assert (call.body.get("tenantId") or call.body.get("tenantID")) == TENANT_ID


async def test_create_thread_from_a_thread_reference_still_posts_top_level(teams, fake, channel_ref):
    inside_a_thread = thread_reference(channel_ref, f"{CHANNEL_ID};messageid=1795502516985")

    posted = await teams.create_thread(inside_a_thread, CARD, text_fallback="x")

    assert split_conversation_id(posted.thread_conversation_id) == (CHANNEL_ID, posted.activity_id)
    assert len(fake.posts_in(CHANNEL_ID)) == 1


async def test_update_card_replaces_the_card_in_place(teams, fake, channel_ref, clock: FakeClock):
    posted = await teams.create_thread(channel_ref, CARD, text_fallback="New bill")
    clock.advance(60)

    await teams.update_card(thread_reference(channel_ref, posted.thread_conversation_id), posted.activity_id, APPROVED, text_fallback="Approved")

    [post] = fake.posts_in(CHANNEL_ID)
    assert post.activity_id == posted.activity_id
    assert post.card == APPROVED
    assert [version["attachments"][0]["content"] for version in post.history] == [CARD, APPROVED]
    assert post.updated_at == clock()
    [call] = fake.calls_of("update")
    assert (call.conversation_id, call.activity_id) == (posted.thread_conversation_id, posted.activity_id)


async def test_send_into_a_thread_replies_inside_it(teams, fake, channel_ref):
    posted = await teams.create_thread(channel_ref, CARD, text_fallback="New bill")
    thread = thread_reference(channel_ref, posted.thread_conversation_id)

    reply_id = await teams.send(thread, text="Approved by Alex")

    [reply] = fake.replies_in(posted.thread_conversation_id)
    assert reply.activity_id == reply_id
    assert reply.payload["text"] == "Approved by Alex"
    assert len(fake.posts_in(CHANNEL_ID)) == 1


async def test_send_to_the_bare_channel_starts_a_new_thread(teams, fake, channel_ref):
    first = await teams.send(channel_ref, card=CARD, summary="one")
    second = await teams.send(channel_ref, card=APPROVED, text="Heads up")

    assert [p.activity_id for p in fake.posts_in(CHANNEL_ID)] == [first, second]
    assert fake.messages[second].payload["text"] == "Heads up"
    assert fake.messages[second].card == APPROVED


async def test_reply_to_the_recorded_playground_message_lands_in_its_thread(teams, fake, playground_message):
    from bot.teams.connector import reference_from_activity

    thread_id = playground_message["conversation"]["id"]
    fake.add_user_message(thread_id.split(";")[0], "show pending bills", activity_id=thread_id.rsplit("=", 1)[1])

    reply_id = await teams.send(reference_from_activity(playground_message), text="3 pending bills")

    assert [m.activity_id for m in fake.replies_in(thread_id)] == [reply_id]


async def test_send_needs_a_card_or_a_text(teams, channel_ref):
    with pytest.raises(ValueError):
        await teams.send(channel_ref)


# --- every scripted answer comes back as the right error ------------------------------------

# Every row of Teams' table is walked in test_errors.py; here, one of each family per operation.
SCRIPTED = [
    (400, "BadArgument", errors.BadArgumentError),
    (403, "BotNotInConversationRoster", errors.BotNotInConversationRosterError),
    (404, "ConversationNotFound", errors.ConversationNotFoundError),
    (404, "ActivityNotFoundInConversation", errors.ActivityNotFoundError),
    (412, "PreconditionFailed", errors.PreconditionFailedError),
    (413, "MessageSizeTooBig", errors.MessageTooLargeError),
    (429, "Throttled", errors.ThrottledError),
    (500, "ServiceError", errors.ServiceInternalError),
    (502, "ServiceError", errors.BadGatewayError),
    (503, None, errors.ServiceUnavailableError),
    (504, None, errors.GatewayTimeoutError),
]


@pytest.mark.parametrize("operation", ["create_thread", "send", "update_card"])
@pytest.mark.parametrize(("status", "code", "expected"), SCRIPTED, ids=[f"{s}-{c}" for s, c, _ in SCRIPTED])
async def test_every_scripted_failure_maps_to_its_error(teams, fake, channel_ref, operation, status, code, expected):
    posted = await teams.create_thread(channel_ref, CARD, text_fallback="x")
    fake.fail_next(status, code, conversation_id=CHANNEL_ID)

    with pytest.raises(expected) as caught:
        await _run(teams, operation, channel_ref, posted)

    error = caught.value
    assert type(error) is expected
    assert (error.status, error.code, error.operation) == (status, code, operation)
    assert isinstance(error.__cause__, Exception)  # chained to the botbuilder/msrest original
    assert fake.calls[-1].status == status


async def _run(teams: TeamsConnector, operation: str, channel_ref: dict[str, Any], posted: PostedMessage) -> Any:
    if operation == "create_thread":
        return await teams.create_thread(channel_ref, CARD, text_fallback="x")
    thread = thread_reference(channel_ref, posted.thread_conversation_id)
    if operation == "send":
        return await teams.send(thread, text="reply")
    return await teams.update_card(thread, posted.activity_id, APPROVED)


async def test_throttled_carries_retry_after_in_seconds(teams, fake, channel_ref):
    fake.fail_next(429, retry_after=7)

    with pytest.raises(errors.ThrottledError) as caught:
        await teams.send(channel_ref, text="x")

    assert caught.value.retry_after == 7.0
    assert caught.value.retryable and not caught.value.route_gone


async def test_throttled_retry_after_as_an_http_date_counts_from_the_injected_clock(teams, fake, channel_ref, clock: FakeClock):
    fake.fail_next(429, retry_after="Mon, 23 Nov 2026 14:00:42 GMT")  # the clock says 14:00:00

    with pytest.raises(errors.ThrottledError) as caught:
        await teams.send(channel_ref, text="x")

    assert caught.value.retry_after == 42.0


async def test_a_failed_update_is_tried_exactly_once(teams, fake, channel_ref):
    # msrest would retry a PUT on 502 three times (~5 s of sleeps) and lose the status.
    posted = await teams.create_thread(channel_ref, CARD, text_fallback="x")
    fake.fail_next(502, times=5)

    with pytest.raises(errors.BadGatewayError):
        await teams.update_card(thread_reference(channel_ref, posted.thread_conversation_id), posted.activity_id, APPROVED)

    assert [c.status for c in fake.calls_of("update")] == [502]


async def test_a_gateway_html_page_keeps_its_status(teams, fake, channel_ref):
    fake.fail_next(503, retry_after=3)

    with pytest.raises(errors.ServiceUnavailableError) as caught:
        await teams.send(channel_ref, text="x")

    assert (caught.value.status, caught.value.code, caught.value.retry_after) == (503, None, 3.0)


# --- the fake's own rules, seen through the connector ---------------------------------------


async def test_a_conversation_never_installed_is_not_found(teams, fake, channel_ref):
    elsewhere = thread_reference(channel_ref, "19:never-installed@thread.tacv2")

    with pytest.raises(errors.ConversationNotFoundError) as caught:
        await teams.create_thread(elsewhere, CARD, text_fallback="x")

    assert caught.value.route_gone


async def test_a_team_the_bot_left_refuses_with_not_in_roster(teams, fake, channel_ref):
    fake.uninstall(TEAM_ID)

    with pytest.raises(errors.BotNotInConversationRosterError) as caught:
        await teams.send(channel_ref, text="x")

    assert caught.value.route_gone and not caught.value.retryable


async def test_a_deleted_channel_is_not_found(teams, fake, channel_ref):
    fake.delete_channel(CHANNEL_ID)

    with pytest.raises(errors.ConversationNotFoundError):
        await teams.send(channel_ref, text="x")


async def test_updating_a_deleted_message_says_the_card_is_gone(teams, fake, channel_ref):
    posted = await teams.create_thread(channel_ref, CARD, text_fallback="x")
    fake.messages[posted.activity_id].deleted = True

    with pytest.raises(errors.ActivityNotFoundError) as caught:
        await teams.update_card(thread_reference(channel_ref, posted.thread_conversation_id), posted.activity_id, APPROVED)

    assert caught.value.card_gone and not caught.value.route_gone


async def test_updating_a_users_message_is_not_allowed(teams, fake, channel_ref):
    user_post = fake.add_user_message(CHANNEL_ID, "hello")

    with pytest.raises(errors.NotEnoughPermissionsError):
        await teams.update_card(thread_reference(channel_ref, user_post.conversation_id), user_post.activity_id, APPROVED)


async def test_a_card_over_28_kb_is_refused_as_too_large(teams, fake, channel_ref):
    big = {**CARD, "body": [{"type": "TextBlock", "text": "x" * (29 * 1024)}]}

    with pytest.raises(errors.MessageTooLargeError) as caught:
        await teams.create_thread(channel_ref, big, text_fallback="x")

    assert caught.value.too_large
    assert fake.posts_in(CHANNEL_ID) == []


async def test_a_connector_that_requires_a_token_refuses_the_anonymous_bot(clock, channel_ref, teams):
    registration = BotRegistration("11111111-2222-3333-4444-555555555555", "7f3c1a52-3d2e-4b8a-9d61-0c8e2f4a9b10")
    async with FakeBotConnector(clock=clock, tenant_id=TENANT_ID, auth=registration) as guarded:
        guarded.add_team(TEAM_ID, channels={CHANNEL_ID: "Announcements"})
        reference = {**channel_ref, "serviceUrl": guarded.service_url}

        with pytest.raises(errors.BotNotRegisteredError) as caught:
            await teams.send(reference, text="x")

    assert caught.value.config_error
    assert guarded.calls[-1].authorized is False


async def test_a_connector_that_cannot_be_reached_is_a_network_error(clock, channel_ref, teams):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    reference = {**channel_ref, "serviceUrl": f"http://127.0.0.1:{port}/"}

    with pytest.raises(errors.ConnectorNetworkError) as caught:
        await teams.send(reference, text="x")

    assert caught.value.retryable and caught.value.maybe_delivered


async def test_a_connector_that_does_not_answer_in_time_is_a_network_error(clock, fake, channel_ref):
    adapter = create_adapter("", "", timeout_seconds=0.2)
    impatient = TeamsConnector(adapter, clock=clock)
    fake.stall_next()

    try:
        with pytest.raises(errors.ConnectorNetworkError) as caught:
            await impatient.send(channel_ref, text="x")
    finally:
        fake.release()
        await close_adapter(adapter)

    assert caught.value.maybe_delivered  # the request reached the service; only the answer is missing


async def test_a_reference_without_service_url_is_refused_before_any_request(teams, fake, channel_ref):
    broken = {key: value for key, value in channel_ref.items() if key != "serviceUrl"}

    with pytest.raises(errors.InvalidReferenceError) as caught:
        await teams.send(broken, text="x")

    assert caught.value.config_error
    assert fake.calls == []


@pytest.mark.parametrize("tenant_id", [TENANT_ID, None])
@pytest.mark.parametrize("summary", ["New bill B-1 from Acme", None])
def test_a_new_threads_body_is_exactly_what_botbuilder_would_send(tenant_id, summary):
    # The notifier's posts skip msrest's model walk (bot.teams.connector._NewThread); the JSON must not change.
    from botbuilder.schema import Activity, ActivityTypes, Attachment, ConversationParameters
    from botframework.connector import models
    from msrest import Serializer

    from bot.teams.connector import _NewThread

    serializer = Serializer({name: value for name, value in models.__dict__.items() if isinstance(value, type)})
    attachment = Attachment(content_type="application/vnd.microsoft.card.adaptive", content=CARD)
    botbuilders = ConversationParameters(
        is_group=True, channel_data={"channel": {"id": CHANNEL_ID}}, tenant_id=tenant_id,
        activity=Activity(type=ActivityTypes.message, summary=summary, attachments=[attachment]),
    )  # fmt: skip
    ours = _NewThread(CHANNEL_ID, tenant_id, CARD, summary)

    assert serializer.body(ours, "ConversationParameters") == serializer.body(botbuilders, "ConversationParameters")
    assert (ours.tenant_id, ours.channel_data) == (tenant_id, {"channel": {"id": CHANNEL_ID}})  # read by the adapter


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        (lambda ref: ref.pop("serviceUrl"), "lacks serviceUrl"),
        (lambda ref: ref.update(conversation={}), "lacks conversation.id"),
        (lambda ref: ref.update(conversation=["19:x@thread.tacv2"]), "conversation is a list"),
        (lambda ref: ref.update(serviceUrl=42), "serviceUrl not text"),
        (lambda ref: ref["conversation"].update(tenantId={"id": TENANT_ID}), "conversation.tenantId not text"),
    ],
)
async def test_a_new_thread_from_an_unusable_reference_is_refused_before_any_request(teams, fake, channel_ref, change, complaint):
    broken = {**channel_ref, "conversation": dict(channel_ref["conversation"])}
    change(broken)

    with pytest.raises(errors.InvalidReferenceError, match=complaint) as caught:
        await teams.create_thread(broken, CARD, text_fallback="x")

    assert caught.value.config_error
    assert fake.calls == []
