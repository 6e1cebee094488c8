"""Card refreshes (`adaptiveCard/action`, Universal Actions) on real-shaped invokes (the Agents
Playground's, Microsoft's recorded one): the record re-read from Intacct (read-only), the current
card answered, a channel notice whose record changed updated in place; bad actions answered with
Universal Actions' error answer, never a 500. Real CloudAdapter, fake Bot Connector, sandbox, SQLite."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot import messages
from bot.teams.connector import channel_reference
from cards.dispatch import card_for_event
from cards.refresh import REFRESH_VERB, refresh_of
from poller.events import BillCreated
from store.types import PostedCard
from tests.bot.bot_harness import CHANNEL_ID, MESSAGE, playground_policy
from tests.bot.chat.invoke_helpers import ACTION_SAMPLE, ADAPTIVE, PLAYGROUND_USER_AAD, checked_card, invoke_harness

RECORDED = "bot-framework/invoke-adaptive-card-action-execute.json"
ERROR = "application/vnd.microsoft.error"
MESSAGE_TYPE = "application/vnd.microsoft.activity.message"
WRITES = {"writeFunctions", "create", "update", "delete", "create_sotransaction", "create_potransaction"}


@pytest.fixture
async def harness(clock, fixtures_dir: Path, tmp_path: Path):
    async with invoke_harness(clock, fixtures_dir, tmp_path) as running:
        yield running


async def submitted_bill(harness):
    client = harness.context.companies["DEMO-CO"].client
    [bill] = (await client.query_bills(states=["Submitted"], limit=1)).bills
    return await client.read_bill(bill.record_no)


async def post_notice(harness, bill):
    """The notifier's card for a new bill, posted into the Announcements channel and remembered."""
    company = harness.context.companies["DEMO-CO"]
    card = card_for_event(BillCreated("DEMO-CO", bill), links=company.links, zone=await company.zone(), now=harness.clock())
    posted = await harness.post_card(channel_reference(harness.sample(MESSAGE)), card)
    await harness.store.save_posted_card(PostedCard("DEMO-CO", "bill", bill.record_no, CHANNEL_ID, posted.thread_conversation_id,
                                                    posted.activity_id, harness.clock()))
    return card, posted


def refreshing(harness, card, *, thread: str, reply_to: str, trigger: str = "manual") -> dict:
    """The Playground's Action.Execute invoke, carrying the card's own refresh action."""
    activity = harness.sample(ACTION_SAMPLE)
    activity["conversation"]["id"] = thread
    activity["replyToId"] = reply_to
    activity["value"] = {"action": card["refresh"]["action"], "trigger": trigger}
    return activity


def answered_card(body) -> dict:
    assert body["statusCode"] == 200 and body["type"] == ADAPTIVE, body
    return body["value"]


async def test_a_changed_bills_notice_is_refreshed_for_the_person_and_updated_in_place_for_the_channel(harness, fixtures_dir):
    bill = await submitted_bill(harness)
    notice, posted = await post_notice(harness, bill)
    await harness.sandbox.set_bill_state(bill.record_no, "Approved")

    status, body = await harness.invoke(refreshing(harness, notice, thread=posted.thread_conversation_id, reply_to=posted.activity_id))

    card = checked_card(answered_card(body), fixtures_dir)
    assert status == 200 and "Posted" in card["fallbackText"] and "Submitted" in notice["fallbackText"]
    assert refresh_of(card).ref == refresh_of(notice).ref and refresh_of(card).fingerprint != refresh_of(notice).fingerprint
    assert card["refresh"]["userIds"] == []  # still a channel card: refreshed by hand
    message = harness.fake.messages[posted.activity_id]
    assert message.cards == [card] and len(message.history) == 2  # posted, then updated once
    audit = [(e.action, e.outcome, e.record_no, e.activity_id) for e in await harness.store.list_audit()]
    assert audit == [("refresh", "ok", bill.record_no, posted.activity_id), ("update", "ok", bill.record_no, posted.activity_id)]
    [stored] = [await harness.store.get_posted_card("DEMO-CO", "bill", bill.record_no, CHANNEL_ID)]
    assert stored.updated_at is not None


async def test_an_unchanged_record_is_answered_and_its_channel_message_left_alone(harness):
    bill = await submitted_bill(harness)
    notice, posted = await post_notice(harness, bill)

    _, body = await harness.invoke(refreshing(harness, notice, thread=posted.thread_conversation_id, reply_to=posted.activity_id))

    assert refresh_of(answered_card(body)).fingerprint == refresh_of(notice).fingerprint
    assert harness.fake.calls_of("update") == []


async def test_a_refresh_writes_nothing_to_intacct(harness):
    bill = await submitted_bill(harness)
    notice, posted = await post_notice(harness, bill)
    before = (await harness.sandbox.stats())["functions"]

    await harness.invoke(refreshing(harness, notice, thread=posted.thread_conversation_id, reply_to=posted.activity_id))

    spent = {name: n - before.get(name, 0) for name, n in (await harness.sandbox.stats())["functions"].items() if n != before.get(name, 0)}
    assert set(spent) <= {"readByQuery", "readMore"} and spent  # reads only
    assert not set(spent) & WRITES


async def test_a_message_the_bot_did_not_post_for_that_record_is_never_updated(harness):
    bill = await submitted_bill(harness)
    notice, posted = await post_notice(harness, bill)
    await harness.sandbox.set_bill_state(bill.record_no, "Approved")
    someone_elses = harness.fake.add_user_message(posted.thread_conversation_id, "a person's message")

    _, body = await harness.invoke(refreshing(harness, notice, thread=posted.thread_conversation_id, reply_to=someone_elses.activity_id))

    assert "Posted" in answered_card(body)["fallbackText"]
    assert harness.fake.calls_of("update") == []


async def test_a_persons_detail_card_refreshes_for_them_and_updates_nothing(harness, fixtures_dir):
    bill = await submitted_bill(harness)
    [reply] = await harness.say(f"show bill {bill.bill_number}")
    [card] = reply.cards
    assert card["refresh"]["userIds"] == [f"8:orgid:{PLAYGROUND_USER_AAD}"]  # `show bill` answers with the same card
    await harness.sandbox.set_bill_state(bill.record_no, "Approved")

    _, body = await harness.invoke(refreshing(harness, card, thread=reply.conversation_id, reply_to=reply.activity_id))

    refreshed = checked_card(answered_card(body), fixtures_dir)
    assert refresh_of(refreshed).ref.view == "detail" and "Posted" in str(refreshed["body"])
    assert refreshed["refresh"]["userIds"] == [f"8:orgid:{PLAYGROUND_USER_AAD}"]
    assert harness.fake.calls_of("update") == []


async def test_payment_and_vendor_cards_refresh_too(harness, fixtures_dir):
    client = harness.context.companies["DEMO-CO"].client
    payment = (await client.query_payments(limit=1)).payments[0]
    [reply] = await harness.say("show vendor " + payment.vendor_id)
    [vendor_card] = reply.cards
    payment_card = {"refresh": {"action": {"type": "Action.Execute", "verb": REFRESH_VERB,
                                           "data": {"v": 1, "company": "DEMO-CO", "kind": "payment", "record": payment.record_no,
                                                    "view": "detail", "fp": "0000000000000000"}}}}  # fmt: skip

    _, vendor_body = await harness.invoke(refreshing(harness, vendor_card, thread=reply.conversation_id, reply_to=reply.activity_id))
    _, payment_body = await harness.invoke(refreshing(harness, payment_card, thread=reply.conversation_id, reply_to=reply.activity_id))

    assert refresh_of(checked_card(answered_card(vendor_body), fixtures_dir)).ref.kind == "vendor"
    assert refresh_of(checked_card(answered_card(payment_body), fixtures_dir)).ref.record_no == payment.record_no


def with_data(harness, **changes) -> dict:
    action = {"type": "Action.Execute", "title": "Refresh", "verb": REFRESH_VERB,
              "data": {"v": 1, "company": "DEMO-CO", "kind": "bill", "record": 1, "view": "detail", "fp": "0123456789abcdef", **changes}}
    activity = harness.sample(ACTION_SAMPLE)
    activity["value"] = {"action": action, "trigger": "manual"}
    return activity


async def test_a_record_gone_from_intacct_is_answered_with_a_message(harness):
    status, body = await harness.invoke(with_data(harness, record=987_654_321))

    assert status == 200 and body == {"statusCode": 200, "type": MESSAGE_TYPE, "value": messages.REFRESH_GONE.format(kind="bill")}


async def test_a_card_of_a_company_no_longer_configured_is_answered_with_a_message(harness):
    _, body = await harness.invoke(with_data(harness, company="OLD-CO"))

    assert body == {"statusCode": 200, "type": MESSAGE_TYPE, "value": messages.REFRESH_NO_COMPANY.format(company="OLD-CO")}


async def test_microsofts_recorded_action_execute_is_not_ours_and_gets_the_documented_error(clock, fixtures_dir, tmp_path):
    async with invoke_harness(clock, fixtures_dir, tmp_path) as harness:
        status, body = await harness.invoke(harness.sample(RECORDED))

    assert status == 200
    assert body == {"statusCode": 400, "type": ERROR, "value": {"code": "NotSupported", "message": messages.ACTION_NOT_OURS}}


@pytest.mark.parametrize(
    ("value", "code", "text"),
    [
        ({}, "BadRequest", messages.ACTION_MALFORMED),
        (None, "BadRequest", messages.ACTION_MALFORMED),
        ("refresh", "BadRequest", messages.ACTION_MALFORMED),
        ({"action": "refresh"}, "BadRequest", messages.ACTION_MALFORMED),
        ({"action": {"type": "Action.Submit", "verb": REFRESH_VERB}}, "BadRequest", messages.ACTION_NOT_EXECUTE),
        ({"action": {"type": "Action.Execute", "verb": 7}}, "BadRequest", messages.ACTION_MALFORMED),
        ({"action": {"type": "Action.Execute", "verb": REFRESH_VERB}, "trigger": "sometimes"}, "BadRequest", messages.ACTION_MALFORMED),
        ({"action": {"type": "Action.Execute", "verb": REFRESH_VERB, "data": {"v": 1}}}, "NotSupported", messages.ACTION_NOT_OURS),
        ({"action": {"type": "Action.Execute", "verb": REFRESH_VERB, "data": {"v": 1, "company": "DEMO-CO", "kind": "bill",
                                                                              "record": "1; DROP", "view": "detail", "fp": "0123456789abcdef"}}},
         "NotSupported", messages.ACTION_NOT_OURS),
    ],
)
async def test_malformed_actions_get_universal_actions_error_answer_and_read_nothing(harness, value, code, text):
    activity = harness.sample(ACTION_SAMPLE)
    activity["value"] = value
    before = (await harness.sandbox.stats())["requests"]

    status, body = await harness.invoke(activity)

    assert status == 200 and body == {"statusCode": 400, "type": ERROR, "value": {"code": code, "message": text}}
    assert (await harness.sandbox.stats())["requests"] == before
    [entry] = await harness.store.list_audit()
    assert entry.action == "refresh" and entry.outcome != "ok"


async def test_sixty_people_opening_one_card_at_once_cost_one_read(harness):
    bill = await submitted_bill(harness)
    notice, posted = await post_notice(harness, bill)
    before = (await harness.sandbox.stats())["requests"]
    activity = refreshing(harness, notice, thread=posted.thread_conversation_id, reply_to=posted.activity_id, trigger="automatic")

    answers = await asyncio.gather(*(harness.invoke(activity) for _ in range(60)))

    assert {status for status, _ in answers} == {200}
    assert all(answered_card(body)["refresh"] == answers[0][1]["value"]["refresh"] for _, body in answers)
    assert (await harness.sandbox.stats())["requests"] - before == 1


async def test_when_the_companys_budget_of_reads_is_spent_the_person_is_told_when_to_try_again(clock, fixtures_dir, tmp_path):
    async with invoke_harness(clock, fixtures_dir, tmp_path, policy=playground_policy(live_reads_per_minute=1)) as harness:
        client = harness.context.companies["DEMO-CO"].client
        first, second = (await client.query_bills(limit=2)).bills
        await harness.invoke(with_data(harness, record=first.record_no))
        _, busy = await harness.invoke(with_data(harness, record=second.record_no))
        clock.advance(60)
        _, later = await harness.invoke(with_data(harness, record=second.record_no))

    assert busy == {"statusCode": 200, "type": MESSAGE_TYPE, "value": messages.REFRESH_BUSY.format(seconds=60)}
    assert answered_card(later)


async def test_when_intacct_fails_the_card_is_answered_with_what_went_wrong(harness):
    await harness.context.companies["DEMO-CO"].client.check_schema()
    await harness.sandbox.fault("http_500", count=10)

    status, body = await harness.invoke(with_data(harness, record=1))

    assert status == 200 and body["type"] == MESSAGE_TYPE and "HTTP 500" in body["value"]


async def test_a_refresh_from_another_tenant_gets_a_bare_403_and_reads_nothing(clock, fixtures_dir, tmp_path):
    policy = playground_policy(allowed_tenant_ids=frozenset({"11111111-2222-3333-4444-555555555555"}))
    async with invoke_harness(clock, fixtures_dir, tmp_path, policy=policy) as harness:
        before = (await harness.sandbox.stats())["requests"]
        status, body = await harness.invoke(with_data(harness, record=1))
        after = (await harness.sandbox.stats())["requests"]

    assert status == 403 and body in (None, "") and after == before
