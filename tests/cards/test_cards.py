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
        vendor, links=s.LINKS, zone=s.ZONE, old_status=old_status, new_status=new_status, old_on_hold=old_hold, new_on_hold=new_hold
    )
    assert heading in shown_strings(card)
    assert _facts(card)["Status"] == status and _facts(card)["On hold"] == hold
    assert card["actions"][0]["url"] == vendor.record_url
    assert _facts(card)["Changed"] == "Mon 23 Nov 2026 05:40 America/Los_Angeles"


def test_payment_card_reads_the_payment_date_relative_to_today_and_shows_was() -> None:
    card = build_payment_card(s.payment(state="Approved"), links=s.LINKS, today=T, old_state="Submitted")
    assert _facts(card)["Date"] == "Wed 25 Nov 2026 (in 2 days)"
    assert "Approved · was Submitted" in shown_strings(card) and "Payment approved" in shown_strings(card)
    assert "12,480.50 USD" in shown_strings(card) and card["body"][0]["style"] == "accent"
    assert [a["title"] for a in card["actions"]] == ["Open payment", "Open vendor"]


def test_payments_list_is_latest_first_with_the_figure_of_the_whole_result() -> None:
    card = build_payments_list_card(s.payments(4), total=4, links=s.LINKS, today=T)
    labels = [t for t in shown_strings(card) if " · Payment " in t]
    assert labels == ["Litware · Payment 903", "Tailspin Toys · Payment 902", "Fabrikam Inc · Payment 901", "Contoso Ltd · Payment 900"]
    assert "4 payments · 1,066.40 USD" in shown_strings(card)
    assert [a["title"] for a in card["actions"]] == ["Open payment list"]


def test_digest_shows_each_figure_with_its_rows_and_departments_adding_up_to_due_this_week() -> None:
    digest = s.digest(pending=7, approved=5, paying=8)
    card = build_digest_card(digest, links=s.LINKS, company_name="Demo Manufacturing Inc.", max_items=2)
    texts = list(shown_strings(card))
    values = digest.figures
    assert values is not None
    assert "7 to approve · 5 overdue · 4 due this week · 2 payments to approve" in texts
    assert any(t.startswith("Bills waiting for approval: 7 bills · ") for t in texts)
    assert any(t.startswith("Payments waiting for approval: 2 payments · ") for t in texts)
    assert texts.index("Overdue bills: 5 bills · 797.25 USD") < texts.index(next(t for t in texts if t.startswith("Bills waiting")))
    # each bill is listed once: the overdue one waiting for approval is not repeated under approval
    assert "+3 more bills" in texts and "+4 more bills · 1 listed above" in texts and "+2 more bills" in texts
    listed = [t for t in texts if " · BILL-" in t]
    assert len(listed) == len(set(listed)) == 6
    assert "Demo Manufacturing Inc. · Mon 23 Nov 2026" in texts
    facts = _facts(card)
    due_heading = next(t for t in texts if t.startswith("Bills due this week: "))
    assert due_heading.endswith(facts["Total"])  # the departments add up to the due-this-week figure


def test_an_empty_digest_says_nothing_is_waiting() -> None:
    card = build_digest_card(s.digest(0, 0, 0), links=s.LINKS)
    assert any(t.startswith("Nothing is waiting") for t in shown_strings(card))
    assert card["body"][0]["style"] == "good"


def test_summary_rows_open_their_record_or_the_list_and_count_the_rest() -> None:
    card = build_summary_card(s.summary(4, total=9), links=s.LINKS, zone=s.ZONE)
    targets = [node["selectAction"]["url"] for node in card["body"] if "selectAction" in node]
    assert targets[0] == s.record_url("c3Vt0000")
    assert targets[1] == "https://www.intacct.com/ia/acct/lister.phtml?.it=apbill"
    assert "+5 more changes" in shown_strings(card)
    assert [a["title"] for a in card["actions"]] == ["Open bill list"]
    assert "DEMO-CO · Mon 23 Nov 2026 06:00 America/Los_Angeles" in shown_strings(card)


def _rows(card) -> dict[str, str]:
    """aligned_facts rows: title → value (the last row wins for repeated titles)."""
    rows = {}
    for node in walk(card):
        if node.get("type") == "ColumnSet" and len(node["columns"]) == 2 and node["columns"][0].get("width") == "110px":
            title, value = (column["items"][0]["text"] for column in node["columns"])
            rows[title] = value
    return rows


def test_status_card_flags_the_failing_company_in_words_and_shows_schedule_quota_and_graph() -> None:
    card = build_status_card(s.status_view(), zone=s.ZONE)
    failing = next(node for node in walk(card) if node.get("type") == "Container" and any(i.get("text") == "ACME-EU" for i in node.get("items", [])))
    assert failing["style"] == "attention" and failing["items"][1]["text"] == "failing: 12 polls in a row"
    texts = list(shown_strings(card))
    assert "Demo Manufacturing Inc. (DEMO-CO)" in texts and "polling normally" in texts
    assert "As of Mon 23 Nov 2026 06:00 America/Los_Angeles · version 0.1.0" in texts
    rows = _rows(card)
    assert rows["Schedule"] == "every 5 minutes, Mon–Fri 07:00–20:00 America/New_York"
    assert rows["Per month"] == "about 8,640 transactions (estimate)" and rows["Per poll"] == "0 Intacct functions"
    assert rows["Graph"] == "ok" and rows["Renewal"].endswith("(in 2 days)")
    assert "old-approvals: channel deleted" in texts
    assert sum("America/Los_Angeles" in t for t in texts) == 1  # one zone, named once
    failing_graph = build_status_card(s.status_view(graph=GraphStatus(GraphState.FAILING, detail="401 invalid_client")), zone=s.ZONE)
    assert _rows(failing_graph)["Graph"] == "failing: 401 invalid_client"


def test_an_inactive_route_without_a_channel_name_shows_a_short_id() -> None:
    route = s.route(9, channel_name=None, conversation_id="19:0a1b2c3d4e5f60718293a4b5c6d7e8f9@thread.tacv2", active=False, inactive_reason="gone")
    card = build_status_card(s.status_view(inactive_routes=(route,)), zone=s.ZONE)
    assert "channel 19:0a1b2c3d4e5f6…: gone" in shown_strings(card)


def test_status_card_shows_wake_ups_and_the_last_one_only_for_companies_that_take_them() -> None:
    woken = CompanyStatus(company="DEMO-CO", monthly_transactions_estimate=5_940, wakeups=("platform_trigger", "smart_event"),
                          last_wakeup_at=s.NOW - timedelta(minutes=4))
    never = CompanyStatus(company="DEMO-CO", monthly_transactions_estimate=5_940, wakeups=("smart_event",))
    rows = _rows(build_status_card(s.status_view(companies=(woken,)), zone=s.ZONE))
    assert rows["Wake-ups"] == "Platform Triggers · Smart Events"
    assert rows["Last wake-up"].endswith("(4 min ago)") and rows["Per month"] == "about 5,940 transactions (estimate) + 3 per wake-up poll"
    assert _rows(build_status_card(s.status_view(companies=(never,)), zone=s.ZONE))["Last wake-up"] == "none yet"
    polled_only = _rows(build_status_card(s.status_view(), zone=s.ZONE))
    assert "Wake-ups" not in polled_only and "Last wake-up" not in polled_only


def test_subscriptions_name_the_channel_once_and_list_inactive_routes_first() -> None:
    card = build_subscriptions_card(s.subscriptions_view())
    texts = list(shown_strings(card))
    assert texts[1:3] == ["Subscriptions", "ap-approvals"]
    kinds = [t for t in texts if t in ("digest", "bills", "payments, vendors")]
    assert kinds == ["digest", "bills", "payments, vendors"]
    assert "inactive: bot removed from team (403)" in texts
    assert "Demo Manufacturing Inc. (DEMO-CO)" in texts and "every company" in texts and "DEMO-CO" in texts
    assert route_filters(s.route()) == "department D100 · over 5,000.00"
    assert route_filters(s.route(department=None, min_amount=None)) == "none"


def test_alert_without_a_fix_gets_the_default_one() -> None:
    card = build_alert_card(s.alert(AlertKind.CREDENTIALS_REJECTED), zone=s.ZONE, company_name="Demo Manufacturing Inc.")
    assert _facts(card)["Fix"].startswith("Polling is stopped for this company.")
    assert _facts(card)["Error"] == "XL03000006: Sign-in information is incorrect"
    assert "Demo Manufacturing Inc. (DEMO-CO) · Mon 23 Nov 2026 06:00 America/Los_Angeles" in shown_strings(card)
    recovered = build_alert_card(s.alert(AlertKind.POLLING_RECOVERED), zone=s.ZONE)
    assert recovered["body"][0]["style"] == "good" and "Fix" not in _facts(recovered)


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
    notice = next(n for n in walk(card) if n.get("type") == "Container" and n["items"][0].get("text") == "I didn't understand “pnig”.")
    assert notice["style"] == "warning" and not any("color" in n for n in walk(card))
    assert "show bill ‹number›" in shown_strings(build_help_card())  # placeholders stay readable
    welcome = list(shown_strings(build_welcome_card(DEFAULT_HELP, team_name="Finance")))
    assert "Finance" in welcome and "To start, mention me in a channel with: subscribe bills" in welcome


def test_due_dates_move_with_today() -> None:
    bill = s.bill(due_date=T + timedelta(days=2))
    from cards.bills import build_bill_card

    assert _facts(build_bill_card(bill, links=s.LINKS, today=T))["Due"] == "Wed 25 Nov 2026 (in 2 days)"
    later = build_bill_card(bill, links=s.LINKS, today=T + timedelta(days=5))
    assert "Submitted · overdue by 3 days" in shown_strings(later)
    assert dataclasses.replace(bill) == bill  # builders never mutate their input
