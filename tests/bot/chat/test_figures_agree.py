"""One meaning per number: on the same Intacct data (the demo sandbox over HTTP), the digest and the
chat commands `due this week`, `show pending bills` and `show payments pending` show the same
figure, in the same words, for the same records."""

from __future__ import annotations

from datetime import timedelta

from bot.chat.commands import parse_command
from bot.context import BotContext, BotPolicy, CompanyContext
from bot.chat.service import CommandService
from cards import texts
from cards.bills import figure_summary
from cards.digest import build_digest_card
from cards.links import IntacctLinks
from intacct import figures
from observability.metrics import Metrics
from poller.coordinator import PollCoordinator, PollerConfig
from tests.bot.bot_harness import channel_origin
from tests.cards.harness import card_text
from tests.fakes.sandbox import running_sandbox
from tests.poller.test_coordinator import store  # noqa: F401  (a migrated SQLite store)

LINKS = IntacctLinks("https://www.intacct.com", "DEMO-CO")


async def test_the_digest_and_the_commands_agree_on_every_figure(clock, store):
    async with running_sandbox(clock, "demo") as sandbox:
        today = (clock() - timedelta(hours=8)).date()  # the demo user's zone: UTC-08:00
        # The traps the old definitions fell into: a declined bill due this week (the digest
        # counted it as due), a paid one, an approved payment (the digest's "payments pending").
        declined = await sandbox.add_bill(amount="999.00", due_date=(today + timedelta(days=1)).isoformat())
        await sandbox.set_bill_state(declined["record_no"], "Declined")
        paid = await sandbox.add_bill(amount="888.00", due_date=today.isoformat())
        await sandbox.set_bill_state(paid["record_no"], "Paid")
        approved = await sandbox.add_bill(amount="777.00", due_date=today.isoformat())
        await sandbox.set_bill_state(approved["record_no"], "Approved")
        payment = await sandbox.add_payment(bill_record_no=approved["record_no"])
        await sandbox.set_payment_state(payment["record_no"], "Approved")

        # The company as the bot sees it: no zone configured, so the Intacct user's own.
        company = CompanyContext("DEMO-CO", sandbox.client(clock), LINKS)
        service = CommandService(BotContext(store=store, companies={"DEMO-CO": company}, clock=clock, metrics=Metrics(), policy=BotPolicy()))
        poller = PollCoordinator(PollerConfig("DEMO-CO", "instance-a"), sandbox.client(clock), store, clock=clock, jitter=lambda: 0.5)

        (digest,) = (await poller.prepare_digest()).events
        answers = {text: (await service.run(parse_command(text), channel_origin())).messages[0] for text in
                   ("due this week", "show pending bills", "show payments pending")}

    assert digest.as_of == today and digest.figures is not None
    values = digest.figures
    assert values.due_this_week.count and values.pending_approval.count and values.payments_pending_approval.count
    digest_text = card_text(build_digest_card(digest, links=LINKS))
    for command, title, value, noun in (
        ("due this week", texts.DUE_THIS_WEEK, values.due_this_week, "bill"),
        ("show pending bills", texts.PENDING_BILLS, values.pending_approval, "bill"),
        ("show payments pending", texts.PENDING_PAYMENTS, values.payments_pending_approval, "payment"),
    ):
        answer = card_text(answers[command].card)
        summary = figure_summary(value, noun)
        assert answer.splitlines()[:2] == [title, summary], command  # the reply's title and figure
        assert texts.section(title, summary) in digest_text.splitlines(), command  # the digest's section, word for word

    # The records behind the numbers are the figures' own: the traps are in none of them.
    due_numbers = {bill.bill_number for bill in digest.bills_due}
    assert declined["bill_number"] not in digest_text and paid["bill_number"] not in due_numbers
    assert f"Payment {payment['record_no']}" not in card_text(answers["show payments pending"].card)
    assert all(figures.DUE_THIS_WEEK.includes(bill, today) for bill in digest.bills_due)
