"""Cards stay under the size limit with huge and hostile data, and shrink on demand after a 413."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta
from decimal import Decimal

import pytest

from cards.alerts import build_alert_card
from cards.bills import build_bill_card, build_bill_detail_card, build_pending_bills_card
from cards.digest import build_digest_card, build_summary_card
from cards.dispatch import SHRINK_STEPS, card_for_event, shrink_card
from cards.elements import CARD_SIZE_BUDGET, card_size
from cards.errors import CardTooLargeError
from cards.help import build_help_card, build_welcome_card
from cards.payments import build_payment_card, build_payments_list_card
from cards.status import build_status_card, build_subscriptions_card
from cards.vendors import build_vendor_card, build_vendor_status_card
from cards.views import AlertKind, CommandHelp, CompanyStatus, HelpView, ScheduleView, SubscriptionsView
from poller.events import BillCreated, ChangesSummarized, DigestPrepared, EventKind, PaymentPending, SummarizedChange
from tests.cards import samples as s
from tests.cards.harness import assert_valid_card, shown_strings

T = s.TODAY
# Worst case for the byte count: astral characters cost 12 bytes each in json.dumps (two \u escapes).
HUGE = ("🙂" * 40 + s.HOSTILE) * 8
LONG_NAME = "Northwind " * 100  # 1,000 characters


def _huge_bill(record_no: int = 1, lines: int = 500) -> object:
    return s.bill(
        record_no=record_no,
        bill_number=HUGE,
        vendor_id=HUGE,
        vendor_name=LONG_NAME + HUGE,
        description=HUGE,
        reference=HUGE,
        state=HUGE,
        currency="USD",
        entity_id=HUGE,
        record_url=s.record_url("x" * 1500),
        lines=tuple(
            s.line(n, "12345678.90", gl_account_no=HUGE, gl_account_title=HUGE, memo=HUGE, department_id=HUGE, department_name=HUGE, location_name=HUGE, class_id=HUGE, class_name=HUGE, project_id=HUGE, project_name=HUGE)
            for n in range(1, lines + 1)
        ),
    )


def _many_bills(count: int) -> list:
    return [dataclasses.replace(b, vendor_name=LONG_NAME + HUGE, bill_number=HUGE, state=HUGE) for b in s.pending_bills(count)]


def _many_payments(count: int) -> list:
    return [dataclasses.replace(p, vendor_name=LONG_NAME + HUGE, payment_method=HUGE, state=HUGE) for p in s.payments(count)]


def _huge_cards() -> dict[str, dict]:
    bill = _huge_bill()
    digest = DigestPrepared(s.COMPANY, T, tuple(_many_bills(200)), tuple(_many_payments(200)), tuple(_many_bills(200)))
    changes = tuple(SummarizedChange(EventKind.BILLS, "bill", i, HUGE, "javascript:alert(1)") for i in range(200))
    routes = tuple(s.route(i, channel_name=HUGE, department=HUGE, vendor=HUGE, location=HUGE, entity=HUGE, active=False, inactive_reason=HUGE) for i in range(200))
    schedule = ScheduleView(HUGE, HUGE, words=False)
    companies = tuple(CompanyStatus(company=HUGE, name=HUGE, schedule=schedule, last_error=HUGE, consecutive_failures=9, last_error_at=s.NOW) for _ in range(200))
    help_view = HelpView(
        commands=tuple(CommandHelp(HUGE, HUGE) for _ in range(200)), title=HUGE, intro=HUGE, notice=HUGE, examples=(HUGE,) * 50, notes=(HUGE,) * 50
    )
    return {
        "bill": build_bill_card(bill, links=s.LINKS, today=T, old_state=HUGE, max_lines=500),
        "bill_detail": build_bill_detail_card(bill, links=s.LINKS, today=T, zone=s.ZONE, max_lines=500),
        "pending_bills": build_pending_bills_card(_many_bills(200), total=5000, links=s.LINKS, today=T, filters=HUGE, max_items=200),
        "payment": build_payment_card(dataclasses.replace(_many_payments(1)[0], description=HUGE, reference=HUGE, financial_entity=HUGE), links=s.LINKS, today=T, old_state=HUGE),
        "payments_list": build_payments_list_card(_many_payments(200), total=900, links=s.LINKS, today=T, title=HUGE, max_items=200),
        "vendor_status": build_vendor_status_card(s.vendor(name=LONG_NAME + HUGE, vendor_id=HUGE, entity_id=HUGE), links=s.LINKS, zone=s.ZONE, old_status=HUGE, new_status=HUGE, old_on_hold=False, new_on_hold=True),
        "vendor": build_vendor_card(s.vendor(name=LONG_NAME + HUGE, term_name=HUGE, email=HUGE, currency=HUGE), links=s.LINKS, today=T, zone=s.ZONE, open_bills=_many_bills(200), open_bills_total=300, max_items=200),
        "digest": build_digest_card(digest, links=s.LINKS, company_name=HUGE, max_items=200),
        "summary": build_summary_card(ChangesSummarized(HUGE, s.NOW, "19:x", 5000, changes), links=s.LINKS, zone=s.ZONE, max_items=200),
        "status": build_status_card(s.status_view(companies=companies, inactive_routes=routes, version=HUGE), zone=s.ZONE, max_items=200),
        "subscriptions": build_subscriptions_card(SubscriptionsView(routes=routes, scope=HUGE), max_items=200),
        "help": build_help_card(help_view, max_items=200),
        "welcome": build_welcome_card(help_view, team_name=HUGE, max_items=200),
        "alert": build_alert_card(
            s.alert(AlertKind.POLLING_FAILED, summary=HUGE * 10, detail=HUGE * 10, fix=HUGE, company=HUGE, channel_name=HUGE, subject=HUGE),
            zone=s.ZONE, company_name=HUGE,
        ),
    }


@pytest.fixture(scope="module")
def huge_cards() -> dict[str, dict]:
    return _huge_cards()


@pytest.mark.parametrize(
    "name",
    ["bill", "bill_detail", "pending_bills", "payment", "payments_list", "vendor_status", "vendor", "digest", "summary", "status", "subscriptions", "help", "welcome", "alert"],
)
def test_huge_hostile_card_is_valid_harmless_and_within_budget(name: str, huge_cards, validator) -> None:
    card = huge_cards[name]
    assert_valid_card(card, validator)  # includes: no markup, no control chars, http(s) URLs only, < 28 KB
    assert card_size(card) <= CARD_SIZE_BUDGET


@pytest.mark.parametrize(
    ("name", "note"),
    [
        ("bill", "more lines in Sage Intacct"),
        ("bill_detail", "more lines in Sage Intacct"),
        ("pending_bills", "Showing"),
        ("payments_list", "Showing"),
        ("vendor", "Showing"),
        ("digest", "more bills"),
        ("summary", "more changes"),
        ("status", "more companies"),
        ("subscriptions", "more subscriptions"),
        ("help", "more commands"),
    ],
)
def test_a_list_that_does_not_fit_says_how_much_was_left_out(name: str, note: str, huge_cards) -> None:
    assert any(note in text for text in shown_strings(huge_cards[name]))


def test_fitting_keeps_as_many_lines_as_the_budget_allows() -> None:
    bill = _huge_bill()
    card = build_bill_card(bill, links=s.LINKS, today=T, max_lines=500)
    shown = next(int(t.split()[0][1:]) for t in shown_strings(card) if t.endswith("more lines in Sage Intacct"))
    kept = 500 - shown
    assert kept >= 1
    bigger = build_bill_card(bill, links=s.LINKS, today=T, max_lines=kept + 1, max_bytes=10**9)
    assert card_size(bigger) > CARD_SIZE_BUDGET  # one more line would not have fitted


def test_card_size_is_the_json_byte_length() -> None:
    card = build_bill_card(s.bill(vendor_name="Zürich 🙂"), links=s.LINKS, today=T)
    assert card_size(card) == len(json.dumps(card).encode())


def test_a_budget_nothing_fits_in_is_a_typed_error() -> None:
    with pytest.raises(CardTooLargeError) as caught:
        build_bill_card(s.bill(), links=s.LINKS, today=T, max_bytes=500)
    assert caught.value.max_bytes == 500 and caught.value.size > 500
    with pytest.raises(CardTooLargeError):
        build_alert_card(s.alert(AlertKind.POLLING_FAILED), zone=s.ZONE, max_bytes=300)


def test_shrink_card_gets_smaller_on_every_attempt_then_gives_up() -> None:
    event = BillCreated(s.COMPANY, _huge_bill(lines=60))
    sizes = [card_size(card_for_event(event, links=s.LINKS, zone=s.ZONE, now=s.NOW))]
    for attempt, (budget, _items) in enumerate(SHRINK_STEPS, start=1):
        try:
            card = shrink_card(event, links=s.LINKS, zone=s.ZONE, now=s.NOW, attempt=attempt, refused_size=sizes[-1])
        except CardTooLargeError:
            break  # this event cannot get as small as the last step asks: that is the give-up signal
        assert card_size(card) <= budget
        sizes.append(card_size(card))
    assert sizes == sorted(sizes, reverse=True) and len(set(sizes)) == len(sizes), sizes
    with pytest.raises(CardTooLargeError):
        shrink_card(event, links=s.LINKS, zone=s.ZONE, now=s.NOW, attempt=len(SHRINK_STEPS) + 1)
    with pytest.raises(ValueError):
        shrink_card(event, links=s.LINKS, zone=s.ZONE, now=s.NOW, attempt=0)


def test_shrinking_an_ordinary_bill_keeps_its_facts_and_buttons() -> None:
    lines = tuple(s.line(n, "10.00") for n in range(1, 30))
    event = BillCreated(s.COMPANY, s.bill(lines=lines, due_date=T - timedelta(days=2), total_due=Decimal("290"), total_entered=Decimal("290")))
    for attempt in range(1, len(SHRINK_STEPS) + 1):
        card = shrink_card(event, links=s.LINKS, zone=s.ZONE, now=s.NOW, attempt=attempt)
        texts = list(shown_strings(card))
        assert "Submitted · overdue by 2 days" in texts and "290.00 USD due" in texts
        assert [a["title"] for a in card["actions"]] == ["Review bill", "Open vendor"]
    assert "+29 more lines in Sage Intacct" in shown_strings(shrink_card(event, links=s.LINKS, zone=s.ZONE, now=s.NOW, attempt=len(SHRINK_STEPS)))


def test_a_card_that_cannot_get_smaller_than_the_refused_one_is_given_up_at_once() -> None:
    event = PaymentPending(s.COMPANY, s.payment())
    refused = card_for_event(event, links=s.LINKS, zone=s.ZONE, now=s.NOW)
    with pytest.raises(CardTooLargeError):
        shrink_card(event, links=s.LINKS, zone=s.ZONE, now=s.NOW, attempt=1, refused_size=card_size(refused))
    bill_event = BillCreated(s.COMPANY, s.bill(lines=tuple(s.line(n, "1.00") for n in range(1, 9))))
    refused = card_for_event(bill_event, links=s.LINKS, zone=s.ZONE, now=s.NOW)
    smaller = shrink_card(bill_event, links=s.LINKS, zone=s.ZONE, now=s.NOW, attempt=1, refused_size=card_size(refused))
    assert card_size(smaller) < card_size(refused)
