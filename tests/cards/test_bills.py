"""What the bill cards say: the amount due as headline, state in words and container style,
overdue, compact lines, the lists with their whole-result figure."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from cards.bills import build_bill_card, build_bill_detail_card, build_bill_list_card, build_pending_bills_card
from cards.format import Tone
from intacct import figures
from intacct.dimensions import DimensionKind
from tests.cards import samples as s
from tests.cards.harness import card_text, shown_strings, walk

T = s.TODAY


def _texts(card) -> list[str]:
    return list(shown_strings(card))


def _facts(card) -> dict[str, str]:
    return {f["title"]: f["value"] for n in walk(card) for f in n.get("facts", [])}


def test_state_change_shows_the_new_state_and_the_old_one_in_words_on_a_styled_header() -> None:
    card = build_bill_card(s.bill(state="Posted"), links=s.LINKS, today=T, old_state="Submitted")
    texts = _texts(card)
    assert "Bill approved" in texts and "Posted · was Submitted" in texts
    assert card["body"][0]["style"] == Tone.ACCENT.value
    assert not any("color" in node for node in walk(card))  # state is never told by text colour
    assert card["actions"][0]["title"] == "Open bill"


def test_a_pending_bill_asks_for_review_in_intacct() -> None:
    card = build_bill_card(s.bill(), links=s.LINKS, today=T, created=True)
    assert [a["title"] for a in card["actions"]] == ["Review bill", "Open vendor"]
    assert card["actions"][0]["url"] == s.bill().record_url
    assert "New bill waiting for approval" in _texts(card)
    assert any("Approve bills" in t for t in _texts(card))


def test_the_headline_is_the_amount_still_due_with_total_and_paid_beside_it() -> None:
    partly = s.bill(state="Partially Paid", total_entered=Decimal("3728243.60"), total_due=Decimal("3628243.60"),
                    total_paid=Decimal("100000"), currency="EUR", paid_date=T - timedelta(days=1))
    texts = _texts(build_bill_card(partly, links=s.LINKS, today=T, old_state="Posted"))
    assert "3,628,243.60 EUR due" in texts
    assert "of 3,728,243.60 EUR · 100,000.00 EUR paid Sun 22 Nov" in texts
    paid = s.bill(state="Paid", total_due=Decimal(0), total_paid=Decimal("12480.50"), paid_date=T)
    paid_texts = _texts(build_bill_card(paid, links=s.LINKS, today=T, old_state="Selected"))
    assert "0.00 USD due" in paid_texts and "of 12,480.50 USD · 12,480.50 USD paid Mon 23 Nov" in paid_texts
    unpaid = _texts(build_bill_card(s.bill(), links=s.LINKS, today=T))
    assert "12,480.50 USD due" in unpaid and not any(t.startswith("of ") for t in unpaid)


def test_no_fact_repeats_the_header() -> None:
    card = build_bill_card(s.bill(), links=s.LINKS, today=T, created=True)
    everything = card_text(card)
    assert everything.count("Northwind Office Supply") == 1 and everything.count("BILL-1042") == 1
    assert everything.count("Submitted") == 1
    assert set(_facts(card)) == {"Due", "Reference", "Description"}


def test_overdue_open_bill_says_so_in_an_attention_header() -> None:
    card = build_bill_card(s.bill(due_date=T - timedelta(days=4)), links=s.LINKS, today=T)
    assert "Submitted · overdue by 4 days" in _texts(card)
    assert card["body"][0]["style"] == "attention"
    assert _facts(card)["Due"] == "Thu 19 Nov 2026"
    one_day = build_bill_card(s.bill(due_date=T - timedelta(days=1)), links=s.LINKS, today=T)
    assert "Submitted · overdue by 1 day" in _texts(one_day)


def test_paid_declined_or_not_yet_due_bills_are_not_overdue() -> None:
    paid = build_bill_card(s.bill(state="Paid", total_due=Decimal(0), due_date=T - timedelta(days=10)), links=s.LINKS, today=T)
    declined = build_bill_card(s.bill(state="Declined", due_date=T - timedelta(days=10)), links=s.LINKS, today=T)
    due_today = build_bill_card(s.bill(due_date=T), links=s.LINKS, today=T)
    assert not any("overdue" in t for t in _texts(paid) + _texts(declined) + _texts(due_today))
    assert _facts(build_bill_card(s.bill(), links=s.LINKS, today=T))["Due"] == "Wed 2 Dec 2026 (in 9 days)"
    assert _facts(due_today)["Due"] == "Mon 23 Nov 2026 (today)"
    assert declined["body"][0]["style"] == "attention" and paid["body"][0]["style"] == "good"


def test_same_state_change_means_details_changed_and_shows_no_was() -> None:
    card = build_bill_card(s.bill(), links=s.LINKS, today=T, old_state="Submitted")
    assert "Bill updated: due date or amount changed" in _texts(card)
    assert not any("was " in t for t in _texts(card))


def test_lines_show_account_and_dimension_ids_with_names_on_one_short_line() -> None:
    texts = _texts(build_bill_card(s.bill(), links=s.LINKS, today=T))
    assert "6110 Office Supplies" in texts
    assert "D200 Sales · L-NYC New York · C-RETAIL Retail" in texts
    assert "D100 Operations · L-BOS Boston · P-HQ HQ refit" in texts
    assert "3,580.50 USD" in texts and "12 standing desks" in texts


def test_missing_line_names_come_from_the_reference_cache() -> None:
    bare = s.line(1, "10.00", gl_account_title=None, department_name=None, location_id=None, location_name=None)
    names = {DimensionKind.GL_ACCOUNT: {"6100": "Furniture (cached)"}, DimensionKind.DEPARTMENT: {"D100": "Ops (cached)"}}
    texts = _texts(build_bill_card(s.bill(lines=(bare,)), links=s.LINKS, today=T, names=names))
    assert "6100 Furniture (cached)" in texts and "D100 Ops (cached)" in texts


def test_many_lines_show_the_first_ones_in_line_order_and_count_the_rest() -> None:
    lines = tuple(s.line(n, "1.00", gl_account_no=f"6{n:03d}") for n in range(20, 0, -1))
    card = build_bill_card(s.bill(lines=lines), links=s.LINKS, today=T, max_lines=8)
    texts = _texts(card)
    accounts = [t for t in texts if t.startswith("60") and t.endswith("Office Furniture")]
    assert accounts == [f"6{n:03d} Office Furniture" for n in range(1, 9)]
    assert "Lines (20)" in texts and "+12 more lines in Sage Intacct" in texts


def test_detail_card_has_every_header_field_and_names_its_zone_once() -> None:
    bill = s.bill(state="Partially Paid", total_due=Decimal("4480.50"), total_paid=Decimal("8000"), paid_date=T, entity_id="E-US")
    card = build_bill_detail_card(bill, links=s.LINKS, today=T, zone=s.ZONE)
    facts = _facts(card)
    assert "4,480.50 USD due" in _texts(card) and "of 12,480.50 USD · 8,000.00 USD paid Mon 23 Nov" in _texts(card)
    assert facts["Bill date"] == "Mon 2 Nov 2026" and facts["Entity"] == "E-US" and facts["Record no."] == "1201"
    assert facts["Changed"] == "Mon 23 Nov 2026 05:55 America/Los_Angeles"  # 13:55 UTC
    assert "Bill BILL-1042" in _texts(card) and "Northwind Office Supply (V-0042)" in _texts(card)


def test_a_list_shows_the_figure_of_the_whole_result_and_the_soonest_bills() -> None:
    bills = s.pending_bills(12)
    whole = figures.tally(bills, figures.amount_due, count=57)
    card = build_pending_bills_card(list(reversed(bills)), tally=whole, links=s.LINKS, today=T, max_items=5)
    rows = [n["items"][0]["columns"][0]["items"][0]["text"] for n in card["body"] if "selectAction" in n]
    expected = sorted(bills, key=lambda b: (b.due_date, b.bill_number))[:5]
    assert rows == [f"{b.vendor_name} · {b.bill_number}" for b in expected]
    usd = sum((b.total_due for b in bills if b.currency == "USD"), Decimal(0))
    eur = sum((b.total_due for b in bills if b.currency == "EUR"), Decimal(0))
    assert f"57 bills · {eur:,.2f} EUR · {usd:,.2f} USD (amounts of the first 12)" in _texts(card)
    assert "Showing 5, soonest due first" in _texts(card)
    [button] = card["actions"]
    assert button["title"] == "Open bill list" and button["url"] == "https://www.intacct.com/ia/acct/lister.phtml?.it=apbill"
    assert "all of them; filter there" in button["tooltip"]


def test_overdue_rows_have_the_attention_style_and_say_by_how_much() -> None:
    late = s.bill(due_date=T - timedelta(days=3))
    card = build_bill_list_card([late, s.bill(record_no=2)], links=s.LINKS, today=T, title="Bills")
    rows = [n for n in card["body"] if "selectAction" in n]
    assert rows[0]["style"] == "attention" and "style" not in rows[1]
    assert "Due Fri 20 Nov · overdue by 3 days · Submitted" in _texts(card)


def test_an_empty_list_says_what_was_searched() -> None:
    card = build_pending_bills_card([], total=0, links=s.LINKS, today=T, filters="over 5,000.00")
    assert "No bills waiting for approval match over 5,000.00." in _texts(card)
    plain = build_pending_bills_card([], total=0, links=s.LINKS, today=T)
    assert "No bills waiting for approval right now." in _texts(plain)


def test_a_short_list_counts_what_it_shows_even_when_intacct_counted_fewer() -> None:
    card = build_pending_bills_card(s.pending_bills(3), total=1, links=s.LINKS, today=T)
    assert any(t.startswith("3 bills · ") for t in _texts(card))
    assert not any(t.startswith("Showing") for t in _texts(card))
