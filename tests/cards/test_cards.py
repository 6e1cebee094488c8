"""What the payment, vendor, digest, summary, status, subscription, alert and help cards say."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from cards.alerts import alert_view, build_alert_card
from cards.digest import build_digest_card, build_summary_card
from cards.help import build_help_card, build_welcome_card
from cards.payments import build_payment_card, build_payments_list_card
from cards.status import build_status_card, build_subscriptions_card, route_filters
from cards.vendors import build_vendor_status_card
from cards.views import DEFAULT_HELP, AlertKind, CommandHelp, CompanyStatus, GraphState, GraphStatus, HelpView
from poller.events import AlertRaised
from tests.cards import samples as s
from tests.cards.harness import shown_strings, walk

T = s.TODAY


def _facts(card) -> dict[str, str]:
    return {fact["title"]: fact["value"] for node in walk(card) for fact in node.get("facts", [])}


@pytest.mark.parametrize(
    ("old_status", "new_status", "old_hold", "new_hold", "heading", "status", "hold"),
    [
        ("active", "active", False, True, "Vendor put on hold", "active", "no → yes"),
        ("active", "active", True, False, "Vendor released from hold", "active", "yes → no"),
        ("active", "inactive", False, False, "Vendor made inactive", "active → inactive", "no"),
        ("inactive", "active", False, False, "Vendor made active", "inactive → active", "no"),
        ("inactive", "active", True, False, "Vendor status changed", "inactive → active", "yes → no"),
    ],
)
def test_vendor_status_card_shows_old_and_new(old_status, new_status, old_hold, new_hold, heading, status, hold) -> None:
    vendor = s.vendor(status=new_status, on_hold=new_hold)
    card = build_vendor_status_card(
        vendor, links=s.LINKS, today=T, old_status=old_status, new_status=new_status, old_on_hold=old_hold, new_on_hold=new_hold
    )
    assert heading in shown_strings(card)
    assert _facts(card)["Status"] == status and _facts(card)["On hold"] == hold
    assert card["actions"][0]["url"] == vendor.record_url


def test_payment_card_reads_the_payment_date_relative_to_today_and_shows_was() -> None:
    card = build_payment_card(s.payment(state="Approved"), links=s.LINKS, today=T, old_state="Submitted")
    assert _facts(card)["Payment date"] == "Wed 25 Nov 2026 (in 2 days)"
    assert "was: Submitted" in shown_strings(card) and "Payment approved" in shown_strings(card)
    assert [a["title"] for a in card["actions"]] == ["Open payment in Sage Intacct", "Open vendor"]


def test_payments_list_is_latest_first_with_totals() -> None:
    card = build_payments_list_card(s.payments(4), total=4, links=s.LINKS, today=T)
    labels = [t for t in shown_strings(card) if " · Payment " in t]
    assert labels == ["Litware · Payment 903", "Tailspin Toys · Payment 902", "Fabrikam Inc · Payment 901", "Contoso Ltd · Payment 900"]
    assert _facts(card)["Total"] == "1,066.40 USD"


def test_digest_counts_sections_and_overdue() -> None:
    card = build_digest_card(s.digest(pending=7, due=3, paying=2), links=s.LINKS, today=T, max_items=2)
    facts = _facts(card)
    assert facts["Waiting for approval"].startswith("7 bills · ")
    assert facts["Due this week"].startswith("3 bills · ") and facts["Payments pending"].startswith("2 payments · ")
    assert facts["Overdue"] == "5 bills"
    assert "+5 more bills" in shown_strings(card) and "+1 more bills" in shown_strings(card)


def test_an_empty_digest_says_nothing_is_waiting() -> None:
    card = build_digest_card(s.digest(0, 0, 0), links=s.LINKS, today=T)
    assert any(t.startswith("Nothing is waiting") for t in shown_strings(card))
    assert card["body"][0]["style"] == "good"


def test_summary_rows_open_their_record_or_the_list_and_count_the_rest() -> None:
    card = build_summary_card(s.summary(4, total=9), links=s.LINKS, today=T)
    targets = [node["selectAction"]["url"] for node in card["body"] if "selectAction" in node]
    assert targets[0] == s.record_url("c3Vt0000")
    assert targets[1] == "https://www.intacct.com/ia/acct/lister.phtml?.it=apbill"
    assert "+5 more changes" in shown_strings(card)
    assert [a["title"] for a in card["actions"]] == ["Open bills in Sage Intacct"]


def test_status_card_flags_the_failing_company_and_shows_quota_and_graph() -> None:
    card = build_status_card(s.status_view())
    failing = next(node for node in walk(card) if node.get("text") == "ACME-EU")
    assert failing["color"] == "attention"
    facts = _facts(card)
    assert facts["Transactions a month (est.)"] == "8,640" and facts["Failures in a row"] == "12"
    assert facts["Microsoft Graph"] == "ok" and facts["Next renewal"].endswith("(in 2 days)")
    assert "old-approvals: channel deleted" in shown_strings(card)
    failing_graph = build_status_card(s.status_view(graph=GraphStatus(GraphState.FAILING, detail="401 invalid_client")))
    assert _facts(failing_graph)["Microsoft Graph"] == "failing: 401 invalid_client"


def test_status_card_shows_wake_ups_and_the_last_one_only_for_companies_that_take_them() -> None:
    woken = CompanyStatus(company="DEMO-CO", monthly_transactions_estimate=5_940, wakeups=("platform_trigger", "smart_event"),
                          last_wakeup_at=s.NOW - timedelta(minutes=4))
    never = CompanyStatus(company="DEMO-CO", monthly_transactions_estimate=5_940, wakeups=("smart_event",))
    facts = _facts(build_status_card(s.status_view(companies=(woken,))))
    assert facts["Intacct wake-ups"] == "Platform Triggers · Smart Events"
    assert facts["Last wake-up"].endswith("(4 min ago)") and facts["Transactions a month (est.)"] == "5,940 + 3 per wake-up poll"
    assert _facts(build_status_card(s.status_view(companies=(never,))))["Last wake-up"] == "none yet"
    polled_only = _facts(build_status_card(s.status_view()))
    assert "Intacct wake-ups" not in polled_only and "Last wake-up" not in polled_only


def test_subscriptions_list_inactive_routes_first_with_their_reason_and_filters() -> None:
    card = build_subscriptions_card(s.subscriptions_view())
    channels = [node["text"] for node in walk(card) if node.get("weight") == "Bolder" and node.get("type") == "TextBlock"]
    assert channels[1:] == ["ap-leads · digest", "ap-approvals · bills", "ap-payments · payments, vendors"]
    statuses = [f["value"] for node in walk(card) for f in node.get("facts", []) if f["title"] == "Status"]
    assert statuses == ["inactive: bot removed from team (403)", "active", "active"]
    assert route_filters(s.route()) == "department D100 · over 5,000.00"
    assert route_filters(s.route(department=None, min_amount=None)) == "none"


def test_alert_without_a_fix_gets_the_default_one() -> None:
    card = build_alert_card(s.alert(AlertKind.CREDENTIALS_REJECTED))
    assert _facts(card)["What to do"].startswith("Polling is stopped for this company.")
    assert _facts(card)["Error"] == "XL03000006: Sign-in information is incorrect"
    recovered = build_alert_card(s.alert(AlertKind.POLLING_RECOVERED))
    assert recovered["body"][0]["style"] == "good" and "What to do" not in _facts(recovered)


def test_alert_view_from_the_poller_event_keeps_every_field() -> None:
    event = AlertRaised(s.COMPANY, AlertKind.CHANNEL_GONE, s.NOW, "gone", detail="404 ConversationNotFound", fix="re-add", subject="19:x")
    view = alert_view(event)
    assert (view.kind, view.company, view.at, view.summary, view.detail, view.fix, view.subject) == (
        AlertKind.CHANNEL_GONE, s.COMPANY, s.NOW, "gone", "404 ConversationNotFound", "re-add", "19:x",
    )


def test_help_lists_the_commands_it_is_given() -> None:
    view = HelpView(commands=(CommandHelp("ping", "Answers pong."),), title="Commands", notice="I didn't understand “pnig”.")
    card = build_help_card(view)
    texts = list(shown_strings(card))
    assert texts[1:5] == ["Commands", "I didn't understand “pnig”.", "ping", "Answers pong."]
    assert next(n for n in walk(card) if n.get("text") == "I didn't understand “pnig”.")["color"] == "warning"
    assert "show bill ‹number›" in shown_strings(build_help_card())  # placeholders stay readable
    welcome = list(shown_strings(build_welcome_card(DEFAULT_HELP, team_name="Finance")))
    assert "Finance" in welcome and "To start, mention me in a channel with: subscribe bills" in welcome


def test_due_dates_move_with_today() -> None:
    bill = s.bill(due_date=T + timedelta(days=2))
    from cards.bills import build_bill_card

    assert _facts(build_bill_card(bill, links=s.LINKS, today=T))["Due date"] == "Wed 25 Nov 2026 · due in 2 days"
    later = build_bill_card(bill, links=s.LINKS, today=T + timedelta(days=5))
    assert "Overdue by 3 days" in shown_strings(later)
    assert dataclasses.replace(bill) == bill  # builders never mutate their input
