"""Every card, built from ordinary data: schema-valid, house rules, and identical to its snapshot."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from cards.alerts import build_alert_card
from cards.bills import build_bill_card, build_bill_detail_card, build_bill_list_card, build_pending_bills_card
from cards.digest import build_digest_card, build_summary_card
from bot.messages import LINK_NOT_KNOWN
from cards.compose import build_link_card
from cards.help import build_help_card, build_welcome_card
from cards.payments import build_payment_card, build_payments_list_card
from cards.status import build_status_card, build_subscriptions_card
from cards.vendors import build_vendor_card, build_vendor_status_card
from cards.views import DEFAULT_HELP, AlertKind, GraphState, GraphStatus, SubscriptionsView
from intacct import figures
from tests.cards import samples as s
from tests.cards.harness import assert_snapshot, assert_valid_card

L, T = s.LINKS, s.TODAY

CARDS: dict[str, Callable[[], dict[str, Any]]] = {
    "bill_created_pending": lambda: build_bill_card(s.bill(), links=L, today=T, created=True),
    "bill_created_draft_no_lines": lambda: build_bill_card(s.bill(state="Draft", lines=()), links=L, today=T, created=True),
    "bill_created_jpy": lambda: build_bill_card(
        s.bill(currency="JPY", total_entered=Decimal("1284500"), total_due=Decimal("1284500"),
               lines=(s.line(1, "1284500", gl_account_no="6200", gl_account_title="Software"),)),
        links=L, today=T, created=True,
    ),
    "bill_approved": lambda: build_bill_card(s.bill(state="Posted"), links=L, today=T, old_state="Submitted"),
    "bill_declined_overdue": lambda: build_bill_card(s.bill(state="Declined", due_date=T - timedelta(days=3)), links=L, today=T, old_state="Submitted"),
    "bill_overdue_pending": lambda: build_bill_card(s.bill(due_date=T - timedelta(days=1)), links=L, today=T, old_state="Draft"),
    "bill_partially_paid": lambda: build_bill_card(
        s.bill(state="Partially Paid", total_entered=Decimal("3728243.60"), total_due=Decimal("3628243.60"),
               total_paid=Decimal("100000"), currency="EUR", paid_date=T - timedelta(days=1)),
        links=L, today=T, old_state="Posted",
    ),
    "bill_paid": lambda: build_bill_card(
        s.bill(state="Paid", total_due=Decimal(0), total_paid=Decimal("12480.50"), paid_date=T, due_date=T - timedelta(days=30)),
        links=L, today=T, old_state="Selected",
    ),
    "bill_details_changed": lambda: build_bill_card(s.bill(due_date=T + timedelta(days=1)), links=L, today=T, old_state="Submitted"),
    "bill_many_lines": lambda: build_bill_card(
        s.bill(lines=tuple(s.line(n, "100.00") for n in range(1, 13)), total_entered=Decimal(1200), total_due=Decimal(1200)), links=L, today=T, created=True
    ),
    "bill_without_record_url": lambda: build_bill_card(s.bill(record_url=None), links=L, today=T, created=True),
    "bill_detail": lambda: build_bill_detail_card(
        s.bill(state="Partially Paid", total_due=Decimal("4480.50"), total_paid=Decimal("8000"), paid_date=T, entity_id="E-US"), links=L, today=T, zone=s.ZONE
    ),
    "pending_bills": lambda: build_pending_bills_card(
        s.pending_bills(12), tally=figures.tally(s.pending_bills(12), figures.amount_due, count=57), links=L, today=T, filters="over 100.00"
    ),
    "pending_bills_all_shown": lambda: build_pending_bills_card(s.pending_bills(3), total=3, links=L, today=T),
    "pending_bills_empty": lambda: build_pending_bills_card([], total=0, links=L, today=T, filters="over 5,000.00"),
    "due_this_week": lambda: build_bill_list_card(
        [b for b in s.digest().bills_due], links=L, today=T, title="Bills due this week", filters="due Mon 23 Nov 2026 to Sun 29 Nov 2026"
    ),
    "payment_pending_approval": lambda: build_payment_card(s.payment(), links=L, today=T),
    "payment_approved_pending": lambda: build_payment_card(s.payment(state="Approved"), links=L, today=T),
    "payment_confirmed": lambda: build_payment_card(s.payment(state="Confirmed", vendor_name=None), links=L, today=T, old_state="Delivered"),
    "payments_list": lambda: build_payments_list_card(s.payments(8), total=31, links=L, today=T),
    "payments_pending": lambda: build_payments_list_card(
        [p for p in s.payments(12) if figures.PAYMENTS_PENDING_APPROVAL.includes(p)], links=L, today=T, title="Payments waiting for approval"
    ),
    "payments_list_empty": lambda: build_payments_list_card([], total=0, links=L, today=T, title="Payments waiting for approval"),
    "vendor_put_on_hold": lambda: build_vendor_status_card(
        s.vendor(on_hold=True), links=L, zone=s.ZONE, old_status="active", new_status="active", old_on_hold=False, new_on_hold=True
    ),
    "vendor_made_inactive": lambda: build_vendor_status_card(
        s.vendor(status="inactive", record_url=None), links=L, zone=s.ZONE, old_status="active", new_status="inactive", old_on_hold=False, new_on_hold=False
    ),
    "vendor_both_changed": lambda: build_vendor_status_card(
        s.vendor(status="active"), links=L, zone=s.ZONE, old_status="inactive", new_status="active", old_on_hold=True, new_on_hold=False
    ),
    "vendor_card": lambda: build_vendor_card(s.vendor(), links=L, today=T, zone=s.ZONE, open_bills=s.pending_bills(8), open_bills_total=14),
    "vendor_card_no_bills": lambda: build_vendor_card(s.vendor(on_hold=True), links=L, today=T, zone=s.ZONE),
    "digest": lambda: build_digest_card(s.digest(), links=L, company_name="Demo Manufacturing Inc."),
    "digest_empty": lambda: build_digest_card(s.digest(0, 0, 0), links=L, company_name="Demo Manufacturing Inc."),
    "summary": lambda: build_summary_card(s.summary(5, total=5), links=L, zone=s.ZONE),
    "summary_more_than_listed": lambda: build_summary_card(s.summary(30, total=42), links=L, zone=s.ZONE),
    "status": lambda: build_status_card(s.status_view(), zone=s.ZONE),
    "status_graph_not_configured": lambda: build_status_card(
        s.status_view(companies=(), inactive_routes=(), graph=GraphStatus(GraphState.NOT_CONFIGURED), version=None), zone=s.ZONE
    ),
    "subscriptions": lambda: build_subscriptions_card(s.subscriptions_view()),
    "subscriptions_empty": lambda: build_subscriptions_card(SubscriptionsView(routes=(), scope="This channel")),
    "help": lambda: build_help_card(),
    "help_unknown_command": lambda: build_help_card(
        dataclasses.replace(DEFAULT_HELP, notice="I didn't understand “show bils”.", notes=("Amounts: 500, 1,200.50 or 1.2k.",))
    ),
    "welcome": lambda: build_welcome_card(team_name="Finance"),
    "link_not_known": lambda: build_link_card(s.record_url("QVBCSUxMOjk5OTk5OQ"), LINK_NOT_KNOWN),
    "alert_polling_failed": lambda: build_alert_card(s.alert(AlertKind.POLLING_FAILED), zone=s.ZONE, company_name="Demo Manufacturing Inc."),
    "alert_polling_recovered": lambda: build_alert_card(s.alert(AlertKind.POLLING_RECOVERED), zone=s.ZONE, company_name="Demo Manufacturing Inc."),
    "alert_credentials_rejected": lambda: build_alert_card(s.alert(AlertKind.CREDENTIALS_REJECTED), zone=s.ZONE),
    "alert_channel_gone": lambda: build_alert_card(s.alert(AlertKind.CHANNEL_GONE), zone=s.ZONE),
    "alert_delivery_paused": lambda: build_alert_card(s.alert(
        AlertKind.DELIVERY_PAUSED,
        company=None,
        summary="Posting to Teams paused: Teams did not accept the bot's credentials. No card was dropped: they wait in "
                "the outbox and go out as soon as Teams accepts the bot again.",
        detail="create_thread: HTTP 401 BotNotRegistered: The bot is not registered",
        fix="Check APP_ID, APP_PASSWORD, APP_TYPE and APP_TENANTID, then run: python app.py check.",
        subject="19:ap-bills@thread.tacv2",
    ), zone=s.ZONE),
}


@pytest.mark.parametrize("name", sorted(CARDS))
def test_card_is_valid_and_matches_snapshot(name: str, validator) -> None:
    card = CARDS[name]()
    assert_valid_card(card, validator)
    assert_snapshot(name, card)


def test_every_snapshot_file_belongs_to_a_card() -> None:
    from tests.cards.harness import SNAPSHOTS

    stale = sorted(p.stem for p in SNAPSHOTS.glob("*.json") if p.stem not in CARDS and not p.stem.startswith("event_"))
    assert not stale, f"snapshots without a card: {stale}"
