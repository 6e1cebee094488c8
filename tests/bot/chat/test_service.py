"""CommandService without Teams: commands against the Intacct sandbox over HTTP and a real SQLite
store — filters, the AP week in the company's time zone, vendors, several companies, deadlines,
status and routes."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bot import messages
from cards import texts as card_texts
from bot.chat.commands import parse_command
from bot.context import BotContext
from bot.chat.service import CommandService, Reply, describe_filters, kind_names
from graph.channels import ChannelDirectory
from cards.views import GraphState, GraphStatus, StatusView
from observability.metrics import Metrics
from store.sql import open_store
from store.types import PollState, RouteFilter
from tests.bot.bot_harness import AAD_GROUP_ID, channel_origin, company, playground_policy, running_graph
from tests.bot.teams.test_handler import bill_rows
from tests.cards.harness import card_text
from tests.fakes.clock import FakeClock
from tests.fakes.entra_graph import make_test_tls
from tests.fakes.sandbox import RunningSandbox, running_sandbox


@dataclass
class World:
    """A service over one or more sandboxes and a store."""

    service: CommandService
    context: BotContext
    sandboxes: list[RunningSandbox]

    async def ask(self, text: str, **origin: Any) -> Reply:
        return await self.service.run(parse_command(text), channel_origin(**origin))


@pytest.fixture
async def stack():
    async with AsyncExitStack() as exits:
        yield exits


async def world(stack: AsyncExitStack, clock: FakeClock, tmp_path: Path, *seeds: str, **service_options: Any) -> World:
    """One sandbox per seed, each a company (DEMO-CO, DEMO-2, …), and a migrated SQLite store."""
    store = open_store(None, data_dir=tmp_path)
    await store.migrate()
    stack.push_async_callback(store.close)
    sandboxes = [await stack.enter_async_context(running_sandbox(clock, seed)) for seed in seeds or ("demo",)]
    keys = ["DEMO-CO", *(f"DEMO-{n}" for n in range(2, len(sandboxes) + 1))]
    context = BotContext(
        store=store,
        companies={key: company(sandbox, clock, key) for key, sandbox in zip(keys, sandboxes)},
        clock=clock,
        metrics=Metrics(),
        policy=playground_policy(),
    )
    return World(CommandService(context, **service_options), context, sandboxes)


def rows_text(reply: Reply) -> str:
    return "\n".join(card_text(m.card) if m.card else (m.text or "") for m in reply.messages)


# --- Intacct reads -------------------------------------------------------------------------------


async def test_pending_bills_narrowed_by_vendor_amount_and_department(stack, clock, tmp_path):
    w = await world(stack, clock, tmp_path, "empty")
    sandbox = w.sandboxes[0]
    wanted = [await sandbox.add_bill(amount=amount, department_id="D300") for amount in ("6000.00", "7250.50")]
    await sandbox.add_bill(amount="4999.99", department_id="D300")  # under the amount
    await sandbox.add_bill(amount="9000.00", department_id="D100")  # other department
    await sandbox.set_bill_state((await sandbox.add_bill(amount="8000.00", department_id="D300"))["record_no"], "Approved")

    reply = await w.ask("show pending bills vendor pacific over 5k department D300")

    assert reply.outcome == "ok"
    [message] = reply.messages
    shown = card_text(message.card)
    assert bill_rows(message.card) == 2
    assert all(bill["bill_number"] in shown for bill in wanted)
    assert "department D300 · vendor pacific · over 5,000.00" in shown


async def test_an_empty_company_answers_with_empty_cards_and_texts(stack, clock, tmp_path):
    w = await world(stack, clock, tmp_path, "empty")

    pending = await w.ask("show pending bills")
    due = await w.ask("due this week")

    assert "No bills waiting for approval right now." in card_text(pending.messages[0].card)
    assert due.messages[0].text == "No open bills are due between Mon 23 Nov 2026 and Sun 29 Nov 2026 (overdue bills are not counted here)."


@pytest.mark.parametrize(
    ("now", "inside", "outside"),
    [
        # Monday 06:00 in Los Angeles: the week runs to Sunday the 29th
        (datetime(2026, 11, 23, 14, 0, tzinfo=timezone.utc), ["2026-11-23", "2026-11-29"], ["2026-11-22", "2026-11-30"]),
        # Monday 05:00 UTC is still Sunday evening in Los Angeles: only Sunday is left
        (datetime(2026, 11, 30, 5, 0, tzinfo=timezone.utc), ["2026-11-29"], ["2026-11-28", "2026-11-30"]),
    ],
)
async def test_due_this_week_is_the_companys_week(stack, tmp_path, now, inside, outside):
    clock = FakeClock(now)
    w = await world(stack, clock, tmp_path, "empty")
    sandbox = w.sandboxes[0]
    expected = [await sandbox.add_bill(amount="100.00", due_date=day) for day in inside]
    for day in outside:
        await sandbox.add_bill(amount="100.00", due_date=day)

    [message] = (await w.ask("due this week")).messages

    assert bill_rows(message.card) == len(inside)
    assert all(bill["bill_number"] in card_text(message.card) for bill in expected)


async def test_a_list_shows_the_soonest_due_of_all_matches_not_of_one_page(stack, clock, tmp_path):
    w = await world(stack, clock, tmp_path, "empty", max_items=3)
    sandbox = w.sandboxes[0]
    bills = [await sandbox.add_bill(amount="100.00", due_date=f"2026-12-{day:02d}") for day in (20, 18, 16, 14, 12, 10)]

    [message] = (await w.ask("show pending bills")).messages

    shown = card_text(message.card)
    assert [b["bill_number"] in shown for b in bills] == [False, False, False, True, True, True]
    assert "6 bills · 600.00 USD" in shown and "Showing 3, soonest due first" in shown


async def test_show_bill_finds_it_by_number_or_says_it_does_not_exist(stack, clock, tmp_path):
    w = await world(stack, clock, tmp_path, "empty")
    bill = await w.sandboxes[0].add_bill(amount="321.00")

    found = await w.ask(f"show bill #{bill['bill_number']}")
    by_record_no = await w.ask(f"show bill {bill['record_no']}")
    missing = await w.ask("show bill INV-0000")

    assert bill["bill_number"] in card_text(found.messages[0].card) and "321.00" in card_text(found.messages[0].card)
    assert bill["bill_number"] in card_text(by_record_no.messages[0].card)
    assert missing.outcome == "not_found"
    assert missing.messages[0].text.startswith("I found no bill “INV-0000” in Sage Intacct.")


async def test_show_vendor_by_id_by_name_ambiguous_and_unknown(stack, clock, tmp_path):
    w = await world(stack, clock, tmp_path, "demo")

    by_id = await w.ask("show vendor v1005")
    by_name = await w.ask("show vendor Copper")
    several = await w.ask("show vendor co")
    unknown = await w.ask("show vendor Nobody Such Ltd")

    assert "Columbia Copper & Wire" in card_text(by_id.messages[0].card)
    assert "Columbia Copper & Wire" in card_text(by_name.messages[0].card)
    assert several.messages[0].card is None and several.messages[0].text.startswith("Several vendors match “co”:")
    assert unknown.outcome == "not_found" and unknown.messages[0].text.startswith("No vendor matches “Nobody Such Ltd”")


async def test_a_vendor_card_lists_only_that_vendors_open_bills(stack, clock, tmp_path):
    w = await world(stack, clock, tmp_path, "empty")
    sandbox = w.sandboxes[0]
    open_bill = await sandbox.add_bill(amount="500.00")
    paid = await sandbox.add_bill(amount="600.00")
    await sandbox.set_bill_state(paid["record_no"], "Paid")

    [message] = (await w.ask("show vendor V1001")).messages

    shown = card_text(message.card)
    assert open_bill["bill_number"] in shown and paid["bill_number"] not in shown
    assert "Open bills\n1 bill · 500.00 USD" in shown


async def test_pending_payments_are_only_those_still_waiting(stack, clock, tmp_path):
    w = await world(stack, clock, tmp_path, "empty")
    sandbox = w.sandboxes[0]

    async def payment_for(amount: str) -> dict:
        bill = await sandbox.add_bill(amount=amount)
        await sandbox.set_bill_state(bill["record_no"], "Approved")  # only posted bills can be paid
        return await sandbox.add_payment(bill_record_no=bill["record_no"])

    waiting = await payment_for("250.00")
    done = await payment_for("260.00")
    await sandbox.set_payment_state(done["record_no"], "Confirmed")

    pending = card_text((await w.ask("show payments pending")).messages[0].card)
    everything = card_text((await w.ask("show payments")).messages[0].card)

    assert f"Payment {waiting['record_no']}" in pending and f"Payment {done['record_no']}" not in pending
    assert f"Payment {done['record_no']}" in everything and card_texts.PAYMENTS in everything


# --- several companies -----------------------------------------------------------------------------


async def test_several_companies_answer_one_card_each_titled_with_the_company(stack, clock, tmp_path):
    w = await world(stack, clock, tmp_path, "demo", "empty")
    bill = await w.sandboxes[1].add_bill(amount="42.00")

    pending = await w.ask("show pending bills")
    found = await w.ask(f"show bill {bill['bill_number']}")
    nothing_due = await w.ask("due this week")

    titles = [m.card["body"][0]["text"] for m in pending.messages]
    assert titles == [f"{card_texts.PENDING_BILLS} · DEMO-CO", f"{card_texts.PENDING_BILLS} · DEMO-2"]
    [only] = found.messages  # the bill exists in the second company only
    assert "42.00" in card_text(only.card) and only.text == "DEMO-2"  # a detail card has no title to carry it
    assert nothing_due.messages[1].text.startswith("DEMO-2: No open bills are due")


async def test_a_slow_company_is_cut_off_while_the_other_answers(stack, clock, tmp_path):
    in_delay, release = asyncio.Event(), asyncio.Event()

    async def hang(seconds: float) -> None:
        in_delay.set()
        await release.wait()

    async def deadline(seconds: float) -> None:
        await in_delay.wait()
        await asyncio.sleep(0)  # let the healthy company's answer, already in, be collected first

    store = open_store(None, data_dir=tmp_path)
    await store.migrate()
    stack.push_async_callback(store.close)
    fast = await stack.enter_async_context(running_sandbox(clock, "empty"))
    slow = await stack.enter_async_context(running_sandbox(clock, "empty", sleep=hang))
    stack.callback(release.set)
    await fast.add_bill(amount="10.00")
    fast_company = company(fast, clock, "FAST")
    await fast_company.client.query_bills(limit=1)  # signed in already: its answer comes at once
    await slow.fault("delay", seconds=60)
    context = BotContext(store=store, companies={"FAST": fast_company, "SLOW": company(slow, clock, "SLOW")}, clock=clock)
    service = CommandService(context, sleep=deadline)

    async with asyncio.timeout(30):  # safety net only
        reply = await service.run(parse_command("show pending bills"), channel_origin())

    assert reply.outcome == "timeout"
    assert bill_rows(reply.messages[0].card) == 1
    assert reply.messages[1].text == "SLOW: " + messages.FAILED_INTACCT_SLOW


async def test_no_company_configured(stack, clock, tmp_path):
    w = await world(stack, clock, tmp_path, "empty")
    w.context.companies = {}

    reply = await w.ask("show pending bills")

    assert (reply.outcome, reply.messages[0].text) == ("no_company", messages.ANSWER_NO_COMPANY)


# --- status and routes -----------------------------------------------------------------------------


async def test_status_from_the_store_when_no_status_source_is_wired(stack, clock, tmp_path):
    w = await world(stack, clock, tmp_path, "empty")
    store = w.context.store
    await store.record_poll(PollState("DEMO-CO", last_attempt_at=clock(), last_error="XL03000006 Sign-in information is incorrect",
                                      last_error_at=clock(), consecutive_failures=3))
    for channel, tenant in (("19:gone@thread.tacv2", channel_origin().tenant_id), ("19:elsewhere@thread.tacv2", "another-tenant")):
        await store.add_route(channel, frozenset({"bills"}), filter=RouteFilter(), company=None, team_id=None,
                              tenant_id=tenant, channel_name=None, created_by=None, now=clock())
        await store.set_routes_active(channel, False, reason="channel deleted")

    reply = await w.ask("status")

    status, subscriptions = reply.messages
    shown = card_text(status.card)
    assert "XL03000006 Sign-in information is incorrect" in shown and "3" in shown
    assert "channel 19:gone: channel deleted" in shown
    assert "elsewhere" not in shown  # another tenant's channels are not shown here
    assert "not configured" in shown
    assert card_text(subscriptions.card).startswith("Subscriptions")


async def test_status_uses_the_wired_status_source(stack, clock, tmp_path):
    w = await world(stack, clock, tmp_path, "empty")

    class Source:
        async def status_view(self) -> StatusView:
            return StatusView(now=clock(), companies=(), outbox_depth=17, graph=GraphStatus(GraphState.OK, subscriptions=4))

    w.context.status = Source()
    [status] = (await w.ask("status", conversation_type="personal", channel_id=None)).messages

    assert "17" in card_text(status.card) and "No company is configured." in card_text(status.card)


async def test_routes_belong_to_channels(stack, clock, tmp_path):
    w = await world(stack, clock, tmp_path, "empty")

    for text in ("subscribe bills", "unsubscribe", "subscriptions"):
        reply = await w.ask(text, conversation_type="personal", conversation_id="a:chat", channel_id=None)
        assert (reply.outcome, reply.messages[0].text) == ("refused", messages.ROUTES_CHANNEL_ONLY)
    assert await w.context.store.list_routes() == []


async def test_subscribe_twice_is_one_route_and_unsubscribe_narrows(stack, clock, tmp_path):
    w = await world(stack, clock, tmp_path, "empty")

    await w.ask("subscribe bills payments vendors location L100")
    await w.ask("subscribe bills payments vendors location L100")
    narrowed = await w.ask("unsubscribe payments and vendors")
    nothing = await w.ask("unsubscribe digest")

    [route] = await w.context.store.list_routes()
    assert route.event_kinds == frozenset({"bills"}) and route.filter.location == "L100"
    assert narrowed.messages[0].text == "Done: I no longer post payment requests and vendor status changes here."
    assert nothing.messages[0].text == "This channel was not subscribed to the daily digest, so nothing changed."


async def test_subscriptions_show_channel_names_from_graph_and_status_counts_its_subscriptions(stack, clock, tmp_path):
    w = await world(stack, clock, tmp_path, "empty")
    env, graph = await stack.enter_async_context(running_graph(clock, make_test_tls()))
    env.fake.add_team(AAD_GROUP_ID, {"channel-announcements-id": "Accounts Payable", "team-id": "General"})
    w.context.channel_names = ChannelDirectory(graph, w.context.store, clock=clock)

    subscribed = await w.ask("subscribe bills")
    status = await w.ask("status")

    assert "Accounts Payable\nbills" in card_text(subscribed.messages[0].card)
    [route] = await w.context.store.list_routes()
    assert route.channel_name == "Accounts Payable"  # stored too, for when Graph is unreachable
    assert "Graph\nok" in card_text(status.messages[0].card)


async def test_a_store_failure_is_a_text_not_a_crash(stack, clock, tmp_path):
    w = await world(stack, clock, tmp_path, "empty")
    unreachable = open_store("postgresql://mlc@127.0.0.1:9/mlc", data_dir=tmp_path)  # nothing listens on port 9
    stack.push_async_callback(unreachable.close)
    w.context.store = unreachable

    reply = await w.ask("subscriptions")

    assert (reply.outcome, reply.messages[0].text) == ("store_error", messages.FAILED_STORE)


# --- help, parsing outcomes, metrics ---------------------------------------------------------------


@pytest.mark.parametrize(("text", "outcome"), [("help", "help"), ("", "help"), ("frobnicate", "unknown"), ("show bill", "invalid")])
async def test_help_unknown_and_invalid_answer_with_the_help_card(stack, clock, tmp_path, text, outcome):
    w = await world(stack, clock, tmp_path, "empty")

    reply = await w.ask(text)

    assert reply.outcome == outcome
    assert reply.messages[0].card["body"][0]["text"] == messages.HELP_TITLE
    metrics = w.context.metrics.render().decode()
    assert f'mlc_commands_total{{command="{outcome}"}} 1.0' in metrics  # the command names match here


def test_filters_and_kinds_read_like_sentences():
    assert describe_filters() is None
    assert describe_filters(vendor="Acme", min_amount=Decimal("1200"), department="D1", location="L2", entity="US") == (
        "department D1 · location L2 · vendor Acme · over 1,200.00 · entity US"
    )
    assert kind_names(["bills"]) == "new and changed bills"
    assert kind_names(["bills", "payments", "digest"]) == "new and changed bills, payment requests and the daily digest"


def test_the_service_refuses_impossible_settings():
    context = BotContext(store=None, companies={}, clock=FakeClock())  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        CommandService(context, timeout_seconds=0)
    with pytest.raises(ValueError):
        CommandService(context, max_items=50, fetch_limit=10)


async def test_not_found_in_one_company_and_failing_in_another_says_both(stack, clock, tmp_path):
    w = await world(stack, clock, tmp_path, "empty", "empty")
    await w.sandboxes[1].fault("http_503", count=10)

    reply = await w.ask("show bill INV-4242")

    assert [m.text for m in reply.messages] == [
        messages.ANSWER_BILL_NOT_FOUND.format(ref="“INV-4242”"),
        "DEMO-2: " + messages.FAILED_INTACCT_UNREACHABLE.format(problem="Intacct gateway answered HTTP 503"),
    ]
    assert reply.outcome == "intacct_error"
