"""The compose-box bill search (`composeExtension/query`) on real-shaped invokes: vendor, bill number
or amount, paged with skip/count, each result inserting the bill's card; bad input answered with
the message Teams shows, never an error. Real CloudAdapter, fake Bot Connector, sandbox, SQLite."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from bot import messages
from bot.chat.invoke_values import MAX_SKIP
from bot.chat.invokes import search_order
from cards.refresh import refresh_of
from tests.bot.bot_harness import playground_policy
from tests.bot.chat.invoke_helpers import PLAYGROUND_USER_AAD, QUERY_SAMPLE, checked_card, invoke_harness, message_text, results
from tests.cards import samples as s

DOCS_SAMPLE = "bot-framework/invoke-compose-query.json"
PERSONAL_SAMPLE = "playground/invoke-compose-query-personal.json"


@pytest.fixture
async def harness(clock, fixtures_dir: Path, tmp_path: Path):
    async with invoke_harness(clock, fixtures_dir, tmp_path) as running:
        yield running


def typed(harness, text, *, skip=0, count=25, sample=QUERY_SAMPLE, command="searchBills") -> dict:
    activity = harness.sample(sample)
    activity["value"] = {"commandId": command, "parameters": [{"name": "query", "value": text}], "queryOptions": {"skip": skip, "count": count}}
    return activity


async def bills(harness, **filters):
    return (await harness.context.companies["DEMO-CO"].client.query_bills(limit=10_000, **filters)).bills


async def test_a_bill_number_finds_that_bill_first_with_its_card_ready_to_insert(harness, fixtures_dir):
    target = (await bills(harness, states=["Submitted"]))[0]

    status, body = await harness.invoke(typed(harness, target.bill_number))

    assert status == 200
    first = results(body)[0]
    card = checked_card(first["content"], fixtures_dir)
    assert target.bill_number in first["preview"]["content"]["title"] and target.bill_number in card["fallbackText"]
    assert refresh_of(card).ref.record_no == target.record_no
    assert card["refresh"]["userIds"] == [f"8:orgid:{PLAYGROUND_USER_AAD}"]
    assert any(line.gl_account_no in str(card["body"]) for line in (await harness.context.companies["DEMO-CO"].client.read_bill(target.record_no)).lines)


async def test_a_vendor_name_finds_its_bills_open_ones_soonest_due_first(harness, fixtures_dir):
    everything = await bills(harness)
    vendor = max({b.vendor_name for b in everything}, key=lambda name: sum(b.vendor_name == name for b in everything))
    word = vendor.split()[0].lower()

    _, body = await harness.invoke(typed(harness, word, count=50))

    found = results(body)
    expected = [b for b in everything if word in b.vendor_name.lower()]
    assert len(found) == min(50, len(expected)) > 1
    titles = [a["preview"]["content"]["title"] for a in found]
    assert all(word in title.lower() for title in titles)
    for attachment in found:
        checked_card(attachment["content"], fixtures_dir)


async def test_an_amount_finds_the_bills_of_that_amount(harness):
    target = (await bills(harness))[0]

    _, body = await harness.invoke(typed(harness, f"{target.total_entered:,}"))

    assert target.record_no in [refresh_of(a["content"]).ref.record_no for a in results(body)]


async def test_pages_follow_skip_and_count_and_the_second_page_reads_only_its_lines(harness):
    word = (await bills(harness))[0].vendor_name.split()[0]
    _, first = await harness.invoke(typed(harness, word, skip=0, count=2))
    before = (await harness.sandbox.stats())["functions"]

    _, second = await harness.invoke(typed(harness, word, skip=2, count=2))

    spent = (await harness.sandbox.stats())["functions"]
    first_page = [refresh_of(a["content"]).ref.record_no for a in results(first)]
    second_page = [refresh_of(a["content"]).ref.record_no for a in results(second)]
    assert len(first_page) == 2 and second_page and not set(first_page) & set(second_page)
    assert sum(spent.values()) - sum(before.values()) == 1  # the search was shared; one read of the page's lines


async def test_past_the_last_result_the_page_is_empty(harness):
    target = (await bills(harness))[0]

    _, body = await harness.invoke(typed(harness, target.bill_number, skip=200))

    assert results(body) == []


async def test_a_search_is_audited_and_counted_in_intacct_usage(harness):
    await harness.invoke(typed(harness, "acme"))

    [entry] = [e for e in await harness.store.list_audit() if e.action == "search"]
    assert entry.conversation_id == "channel-announcements-id"
    usage = {u.source: u.functions for u in await harness.store.intacct_usage(since=harness.clock().date())}
    assert usage["search"] >= 1


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ({"commandId": "searchCmd", "parameters": [{"name": "query", "value": "acme"}]}, messages.SEARCH_UNKNOWN_COMMAND),
        ({"parameters": [{"name": "query", "value": "acme"}]}, messages.SEARCH_UNKNOWN_COMMAND),
        ({"commandId": "searchBills", "parameters": [{"name": "query", "value": "   "}]}, messages.SEARCH_EMPTY),
        ({"commandId": "searchBills", "parameters": [{"name": "query", "value": ""}]}, messages.SEARCH_EMPTY),
        ({"commandId": "searchBills", "parameters": [{"name": "initialRun", "value": "true"}]}, messages.SEARCH_EMPTY),
        ({"commandId": "searchBills", "parameters": [{"name": "query", "value": "x" * 101}]}, messages.SEARCH_TOO_LONG.format(limit=100)),
        ({"commandId": "searchBills", "parameters": [{"name": "query", "value": 42}]}, messages.SEARCH_MALFORMED),
        ({"commandId": "searchBills", "parameters": "query"}, messages.SEARCH_MALFORMED),
        ({"commandId": "searchBills", "parameters": [{"name": "query", "value": "a"}], "queryOptions": {"skip": -1}}, messages.SEARCH_MALFORMED),
        ({"commandId": "searchBills", "parameters": [{"name": "query", "value": "a"}], "queryOptions": {"count": 0}}, messages.SEARCH_MALFORMED),
        ({"commandId": "searchBills", "parameters": [{"name": "query", "value": "a"}], "queryOptions": {"count": 1000}}, messages.SEARCH_MALFORMED),
        ({"commandId": "searchBills", "parameters": [{"name": "query", "value": "a"}], "queryOptions": {"skip": "10"}}, messages.SEARCH_MALFORMED),
        ({"commandId": "searchBills", "parameters": [{"name": "query", "value": "a"}], "queryOptions": {"skip": True}}, messages.SEARCH_MALFORMED),
        ({"commandId": "searchBills", "parameters": [{"name": "query", "value": "a"}], "queryOptions": {"skip": MAX_SKIP + 1}}, messages.SEARCH_TOO_FAR),
        ("not an object", messages.SEARCH_MALFORMED),
        (None, messages.SEARCH_MALFORMED),
    ],
)
async def test_bad_searches_get_a_message_and_read_nothing(harness, value, text):
    activity = harness.sample(QUERY_SAMPLE)
    activity["value"] = value
    before = (await harness.sandbox.stats())["requests"]

    status, body = await harness.invoke(activity)

    assert status == 200 and message_text(body) == text
    assert (await harness.sandbox.stats())["requests"] == before


@pytest.mark.parametrize("hostile", ["' OR 1=1 --", "%", "_", "a' OR VENDORID LIKE '%", "\\' OR ''='", "<at>Test Bot</at>"])
async def test_hostile_text_is_escaped_like_chat_commands_and_finds_nothing(harness, hostile):
    status, body = await harness.invoke(typed(harness, hostile))

    text = message_text(body)
    assert status == 200 and text.startswith("No bill matches")
    assert "<at>" not in text


async def test_when_intacct_fails_the_search_says_so_in_teams_message_answer(harness):
    await harness.context.companies["DEMO-CO"].client.check_schema()
    await harness.sandbox.fault("http_500", count=10)

    status, body = await harness.invoke(typed(harness, "acme"))

    assert status == 200 and "HTTP 500" in message_text(body)


async def test_the_personal_chats_search_works_the_same(harness):
    target = (await bills(harness))[0]

    _, body = await harness.invoke(typed(harness, target.bill_number, sample=PERSONAL_SAMPLE))

    assert refresh_of(results(body)[0]["content"]).ref.record_no == target.record_no


async def test_microsofts_documented_query_names_no_tenant_and_is_refused(harness):
    status, body = await harness.invoke(harness.sample(DOCS_SAMPLE))

    assert status == 403 and body in (None, "")


async def test_a_search_from_another_tenant_gets_a_bare_403_and_reads_nothing(clock, fixtures_dir: Path, tmp_path: Path):
    policy = playground_policy(allowed_tenant_ids=frozenset({"11111111-2222-3333-4444-555555555555"}))
    async with invoke_harness(clock, fixtures_dir, tmp_path, policy=policy) as harness:
        before = (await harness.sandbox.stats())["requests"]
        status, _ = await harness.invoke(typed(harness, "acme"))
        after = (await harness.sandbox.stats())["requests"]
        metrics = (await (await harness.client.get("/metrics")).read()).decode()

    assert status == 403 and after == before
    assert 'mlc_tenant_refusals_total{surface="invoke"} 1.0' in metrics


async def test_with_two_companies_each_result_names_its_company(clock, fixtures_dir: Path, tmp_path: Path):
    async with invoke_harness(clock, fixtures_dir, tmp_path, companies=2) as harness:
        target = (await bills(harness))[0]
        _, body = await harness.invoke(typed(harness, target.bill_number))

    subtitles = [a["preview"]["content"]["subtitle"] for a in results(body)]
    assert {subtitle.split(" · ")[0] for subtitle in subtitles} == {"DEMO-CO", "DEMO-2"}


async def test_status_shows_what_peoples_reads_cost_in_intacct_today_and_this_month(harness):
    await harness.invoke(typed(harness, "acme"))
    used = sum(u.functions for u in await harness.store.intacct_usage(since=harness.clock().date()))

    replies = await harness.say("status")

    shown = str(replies[0].cards[0])
    assert used >= 1 and f"{used} function{'' if used == 1 else 's'} today · {used} this month" in shown


def test_results_put_the_typed_number_first_then_open_bills_soonest_due_then_the_rest_newest_first():
    today = s.TODAY
    paid_new = s.bill(record_no=9, bill_number="B-9", state="Paid", total_due=Decimal("0"))
    paid_old = s.bill(record_no=3, bill_number="B-3", state="Paid", total_due=Decimal("0"))
    later = s.bill(record_no=5, bill_number="B-5", due_date=today + timedelta(days=9))
    sooner = s.bill(record_no=6, bill_number="B-6", due_date=today + timedelta(days=2))
    undated = s.bill(record_no=7, bill_number="B-7", due_date=None)
    typed = s.bill(record_no=1, bill_number="b-1", state="Paid", total_due=Decimal("0"))

    ordered = sorted([paid_old, later, undated, paid_new, sooner, typed], key=lambda b: search_order(b, "B-1", today))

    assert [b.bill_number for b in ordered] == ["b-1", "B-6", "B-5", "B-7", "B-9", "B-3"]
