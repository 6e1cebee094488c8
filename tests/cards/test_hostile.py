"""Hostile strings from Intacct or from users, in every field of every card, end up as harmless text."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest

from cards.alerts import build_alert_card
from cards.bills import build_bill_card, build_bill_detail_card, build_pending_bills_card
from cards.digest import build_digest_card, build_summary_card
from cards.help import build_help_card, build_welcome_card
from cards.payments import build_payment_card, build_payments_list_card
from cards.status import build_status_card, build_subscriptions_card
from cards.vendors import build_vendor_card, build_vendor_status_card
from cards.views import AlertKind, CommandHelp, CompanyStatus, HelpView, ScheduleView, SubscriptionsView
from intacct import figures
from intacct.bills import BillLine
from poller.events import ChangesSummarized, DigestPrepared, EventKind, SummarizedChange
from tests.cards import samples as s
from tests.cards.harness import assert_house_rules, assert_valid_card, shown_strings

FRAGMENTS = {
    "markdown_link": "[click](javascript:alert(1))",
    "image": "![img](https://evil.example/x.png)",
    "mention": "<at>Everyone</at>",
    "html": "<script>alert(1)</script><b onmouseover=x>",
    "autolink": "<https://evil.example>",
    "entities": "&lt;at&gt;x&lt;/at&gt; &#x3C;b&#X3e;",
    "bold": "**pay to IBAN X**",
    "underscore": "__u__ _i_",
    "date_function": "{{DATE(2017-02-14T06:08:39Z,SHORT)}}",
    "controls": "a\x00b\x07c\x1b[31md\x7fe",
    "bidi": "\u202egnp.exe\u202c",
    "tags": "ok\U000e0041\U000e0042hidden",
    "surrogate": "x\ud800y\udfffz",
    "newlines": "line\nbreak\r\n- list\n# heading\n> quote",
    "zero_width": "a\u200bb\ufeffc",
}


def _poisoned(text: str) -> dict[str, Callable[[], dict[str, Any]]]:
    """Every card builder with `text` in every string field it shows."""
    p = lambda prefix: f"{prefix} {text}"  # noqa: E731 - keeps the real value readable next to the payload
    line = BillLine(1, 1, s.BILL_LINES[0].amount, p("6000"), p("GL"), p("memo"), p("D1"), p("Dept"), p("L1"), p("Loc"), p("C1"), p("Class"), p("P1"), p("Proj"))
    bill = s.bill(bill_number=p("B-1"), vendor_id=p("V-1"), vendor_name=p("Acme"), state=p("Submitted"), description=p("desc"), reference=p("ref"), entity_id=p("E"), record_url=text, lines=(line,))
    payment = s.payment(vendor_id=p("V-1"), vendor_name=p("Acme"), state=p("Submitted"), payment_method=p("ACH"), reference=p("ref"), description=p("desc"), financial_entity=p("BANK"), entity_id=p("E"), record_url=text)
    vendor = s.vendor(vendor_id=p("V-1"), name=p("Acme"), status=p("active"), term_name=p("Net"), email=p("mail"), currency=p("USD"), entity_id=p("E"), record_url=text)
    route = s.route(1, channel_name=p("chan"), conversation_id=p("19:x"), event_kinds=(p("bills"),), company=p("CO"), department=p("D"), location=p("L"), vendor=p("V"), entity=p("E"), active=False, inactive_reason=p("gone"))
    schedule = ScheduleView(p("cron"), p("zone"), words=False)
    worded = ScheduleView(p("every"), p("zone"), every_seconds=120, start_minute=360, end_minute=1200, weekdays=(0, 1, 2, 3, 4))
    company = CompanyStatus(company=p("CO"), name=p("name"), schedule=schedule, last_error=p("error"), consecutive_failures=1)
    other = CompanyStatus(company=p("CO2"), schedule=worded, last_success_at=s.NOW)
    route_named = dataclasses.replace(route, company_name=p("company"), active=True)
    help_view = HelpView(
        commands=(CommandHelp(p("cmd"), p("does")),), title=p("title"), intro=p("intro"), notice=p("typo"), examples=(p("ex"),), notes=(p("note"),)
    )
    change = SummarizedChange(EventKind.BILLS, "bill", 1, p("label"), text)
    return {
        "bill": lambda: build_bill_card(bill, links=s.LINKS, today=s.TODAY, old_state=p("Draft")),
        "bill_detail": lambda: build_bill_detail_card(bill, links=s.LINKS, today=s.TODAY, zone=s.ZONE),
        "pending_bills": lambda: build_pending_bills_card([bill], total=3, links=s.LINKS, today=s.TODAY, title=p("title"), filters=p("filters")),
        "payment": lambda: build_payment_card(payment, links=s.LINKS, today=s.TODAY, old_state=p("Draft")),
        "payments_list": lambda: build_payments_list_card([payment], total=1, links=s.LINKS, today=s.TODAY, title=p("title")),
        "vendor_status": lambda: build_vendor_status_card(vendor, links=s.LINKS, zone=s.ZONE, old_status=p("a"), new_status=p("b"), old_on_hold=False, new_on_hold=True),
        "vendor": lambda: build_vendor_card(vendor, links=s.LINKS, today=s.TODAY, zone=s.ZONE, open_bills=[bill]),
        "digest": lambda: build_digest_card(
            DigestPrepared(p("CO"), s.TODAY, (bill,), (payment,), (dataclasses.replace(bill, record_no=2),), (bill,),
                           due_by_department=figures.amount_due_by_department([bill])),
            links=s.LINKS, company_name=p("company"),
        ),
        "summary": lambda: build_summary_card(ChangesSummarized(p("CO"), s.NOW, "19:x", 2, (change,)), links=s.LINKS, zone=s.ZONE),
        "status": lambda: build_status_card(s.status_view(companies=(company, other), inactive_routes=(route,), version=p("v")), zone=s.ZONE),
        "subscriptions": lambda: build_subscriptions_card(SubscriptionsView(routes=(route, route_named), scope=p("scope"))),
        "help": lambda: build_help_card(help_view),
        "welcome": lambda: build_welcome_card(help_view, team_name=p("team")),
        "alert": lambda: build_alert_card(
            s.alert(AlertKind.CHANNEL_GONE, company=p("CO"), summary=p("summary"), detail=p("detail"), fix=p("fix"), subject=p("subject"), channel_name=p("chan")),
            zone=s.ZONE, company_name=p("company"),
        ),
    }


BUILDERS = sorted(_poisoned("x"))


@pytest.mark.parametrize("fragment", sorted(FRAGMENTS))
@pytest.mark.parametrize("builder", BUILDERS)
def test_fragment_is_harmless_everywhere(builder: str, fragment: str) -> None:
    card = _poisoned(FRAGMENTS[fragment])[builder]()
    assert_house_rules(card)  # no markup, no invisible characters, no unsafe URL


@pytest.mark.parametrize("builder", BUILDERS)
def test_all_fragments_at_once_still_give_a_schema_valid_card(builder: str, validator) -> None:
    assert_valid_card(_poisoned(" ".join(FRAGMENTS.values()))[builder](), validator)


def test_neutralised_text_stays_readable() -> None:
    card = _poisoned(FRAGMENTS["markdown_link"] + " " + FRAGMENTS["mention"] + " " + FRAGMENTS["bold"])["bill"]()
    readable = "Acme [click] (javascript:alert(1)) ‹at›Everyone‹/at› ∗∗pay to IBAN X∗∗"
    assert any(text.startswith(readable) for text in shown_strings(card))
