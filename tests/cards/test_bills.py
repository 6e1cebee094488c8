"""What the bill cards say: headings, state and "was", overdue, lines, the pending list."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from cards.bills import build_bill_card, build_bill_detail_card, build_pending_bills_card
from cards.digest import department_totals
from cards.format import Tone
from intacct.dimensions import DimensionKind
from tests.cards import samples as s
from tests.cards.harness import shown_strings, walk

T = s.TODAY


def _texts(card) -> list[str]:
    return list(shown_strings(card))


def test_state_change_shows_the_new_state_coloured_and_the_old_one() -> None:
    card = build_bill_card(s.bill(state="Posted"), links=s.LINKS, today=T, old_state="Submitted")
    texts = _texts(card)
    assert "Bill approved" in texts and "was: Submitted" in texts
    state = next(n for n in walk(card) if n.get("text") == "Posted")
    assert state["color"] == Tone.GOOD.value
    assert card["actions"][0]["title"] == "Open bill in Sage Intacct"


def test_a_pending_bill_asks_for_review_and_approval_in_intacct() -> None:
    card = build_bill_card(s.bill(), links=s.LINKS, today=T, created=True)
    assert [a["title"] for a in card["actions"]] == ["Review and approve in Sage Intacct", "Open vendor"]
    assert card["actions"][0]["url"] == s.bill().record_url
    assert "New bill waiting for approval" in _texts(card)
    assert any("Approve bills" in t for t in _texts(card))


def test_overdue_open_bill_says_so_in_attention_colour() -> None:
    card = build_bill_card(s.bill(due_date=T - timedelta(days=4)), links=s.LINKS, today=T)
    overdue = next(n for n in walk(card) if n.get("text") == "Overdue by 4 days")
    assert overdue["color"] == "attention"
    assert card["body"][0]["style"] == "attention"
    one_day = build_bill_card(s.bill(due_date=T - timedelta(days=1)), links=s.LINKS, today=T)
    assert "Overdue by 1 day" in _texts(one_day)


def test_paid_or_not_yet_due_bills_are_not_overdue() -> None:
    paid = build_bill_card(s.bill(state="Paid", total_due=Decimal(0), due_date=T - timedelta(days=10)), links=s.LINKS, today=T)
    due_today = build_bill_card(s.bill(due_date=T), links=s.LINKS, today=T)
    assert not any(t.startswith("Overdue") for t in _texts(paid) + _texts(due_today))
    assert "Wed 2 Dec 2026 · due in 9 days" in _texts(build_bill_card(s.bill(), links=s.LINKS, today=T))
    assert "Mon 23 Nov 2026 · due today" in _texts(due_today)


def test_same_state_change_means_details_changed_and_shows_no_was() -> None:
    card = build_bill_card(s.bill(), links=s.LINKS, today=T, old_state="Submitted")
    assert "Bill updated: due date or amount changed" in _texts(card)
    assert not any(t.startswith("was:") for t in _texts(card))


def test_lines_show_account_dimensions_and_amount() -> None:
    texts = _texts(build_bill_card(s.bill(), links=s.LINKS, today=T))
    assert "6110 · Office Supplies" in texts
    assert "Department Sales (D200) · Location New York (L-NYC) · Class Retail (C-RETAIL)" in texts
    assert "Department Operations (D100) · Location Boston (L-BOS) · Project HQ refit (P-HQ)" in texts
    assert "3,580.50 USD" in texts and "12 standing desks" in texts


def test_missing_line_names_come_from_the_reference_cache() -> None:
    bare = s.line(1, "10.00", gl_account_title=None, department_name=None, location_id=None, location_name=None)
    names = {DimensionKind.GL_ACCOUNT: {"6100": "Furniture (cached)"}, DimensionKind.DEPARTMENT: {"D100": "Ops (cached)"}}
    texts = _texts(build_bill_card(s.bill(lines=(bare,)), links=s.LINKS, today=T, names=names))
    assert "6100 · Furniture (cached)" in texts and "Department Ops (cached) (D100)" in texts


def test_many_lines_show_the_first_ones_in_line_order_and_count_the_rest() -> None:
    lines = tuple(s.line(n, "1.00", gl_account_no=f"6{n:03d}") for n in range(20, 0, -1))
    card = build_bill_card(s.bill(lines=lines), links=s.LINKS, today=T, max_lines=8)
    texts = _texts(card)
    accounts = [t for t in texts if t.startswith("60") and " · " in t]
    assert accounts == [f"6{n:03d} · Office Furniture" for n in range(1, 9)]
    assert "Lines (20)" in texts and "+12 more lines in Sage Intacct" in texts


def test_detail_card_has_every_header_field() -> None:
    bill = s.bill(state="Partially Paid", total_due=Decimal("4480.50"), total_paid=Decimal("8000"), paid_date=T, entity_id="E-US")
    facts = {f["title"]: f["value"] for n in walk(build_bill_detail_card(bill, links=s.LINKS, today=T)) for f in n.get("facts", [])}
    assert facts["Amount due"] == "4,480.50 USD" and facts["Paid"] == "8,000.00 USD"
    assert facts["Bill date"] == "Mon 2 Nov 2026" and facts["Paid on"] == "Mon 23 Nov 2026"
    assert facts["Entity"] == "E-US" and facts["Record no."] == "1201" and facts["State"] == "Partially Paid"
    assert facts["Last changed"] == "Mon 23 Nov 2026 13:55 UTC"


def test_pending_list_is_sorted_by_due_date_with_totals_and_a_link_to_the_rest() -> None:
    bills = s.pending_bills(12)
    card = build_pending_bills_card(list(reversed(bills)), total=57, links=s.LINKS, today=T, max_items=5)
    rows = [n["items"][0]["columns"][0]["items"][0]["text"] for n in card["body"] if "selectAction" in n]
    expected = sorted(bills, key=lambda b: (b.due_date, b.bill_number))[:5]
    assert rows == [f"{b.vendor_name} · {b.bill_number}" for b in expected]
    usd = sum((b.total_due for b in expected if b.currency == "USD"), Decimal(0))
    totals = {f["title"]: f["value"] for n in walk(card) for f in n.get("facts", [])}
    assert totals["Total of these 5"].endswith(f"{usd:,.2f} USD")
    assert card["actions"][0]["title"] == "52 more in Sage Intacct"
    assert card["actions"][0]["url"] == "https://www.intacct.com/ia/acct/lister.phtml?.it=apbill"


def test_pending_list_without_more_in_intacct_links_to_the_list_plainly() -> None:
    card = build_pending_bills_card(s.pending_bills(2), total=2, links=s.LINKS, today=T)
    assert card["actions"][0]["title"] == "Open bills in Sage Intacct"
    assert not any("more in Sage Intacct" in t for t in _texts(card))
    # Intacct's total can never be below what it returned.
    assert "3 bills, soonest due first" in _texts(build_pending_bills_card(s.pending_bills(3), total=1, links=s.LINKS, today=T))


def test_department_totals_spread_the_amount_due_over_lines_and_per_currency() -> None:
    partly_paid = s.bill(total_entered=Decimal("12480.50"), total_due=Decimal("6240.25"))  # half paid
    no_lines = s.bill(record_no=2, lines=(), total_due=Decimal("100"), currency="EUR")
    totals = dict(department_totals([partly_paid, no_lines]))
    assert totals["Operations (D100)"] == {"USD": Decimal("4450.00")}  # (8400 + 500) / 2
    assert totals["Sales (D200)"] == {"USD": Decimal("1790.25")}
    assert totals["No department"] == {"EUR": Decimal("100")}
    assert list(totals)[-1] == "No department"
