"""The figures' definitions: which bills and payments each counts, its Intacct filters, and its totals."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from intacct import figures
from intacct.figures import CurrencyAmount, Tally
from tests.cards import samples as s

T = s.TODAY  # a Monday
SUNDAY = date(2026, 11, 29)


@pytest.mark.parametrize(
    ("due", "state", "total_due", "expected"),
    [
        (T - timedelta(days=1), "Submitted", "10", 1),
        (T - timedelta(days=30), "Posted", "10", 30),
        (T - timedelta(days=2), "Partially Paid", "4", 2),
        (T - timedelta(days=2), "Selected", "4", 2),
        (T - timedelta(days=2), "partially approved", "4", 2),  # Intacct's spelling varies in case
        (T - timedelta(days=3), "Declined", "10", 0),  # back with its submitter: not an open bill
        (T, "Submitted", "10", 0),  # due today is not late
        (T + timedelta(days=5), "Submitted", "10", 0),
        (T - timedelta(days=9), "Paid", "0", 0),
        (T - timedelta(days=9), "Posted", "0", 0),  # nothing left to pay
        (T - timedelta(days=9), "Draft", "10", 0),  # not a live bill
        (T - timedelta(days=9), "Reversed", "10", 0),
        (None, "Submitted", "10", 0),
    ],
)
def test_days_overdue_counts_only_open_bills(due, state, total_due, expected) -> None:
    assert figures.days_overdue(s.bill(due_date=due, state=state, total_due=Decimal(total_due)), T) == expected


@pytest.mark.parametrize(
    ("figure", "state", "due", "total_due", "counted"),
    [
        (figures.PENDING_APPROVAL, "Submitted", T + timedelta(days=40), "10", True),
        (figures.PENDING_APPROVAL, "Partially Approved", None, "10", True),
        (figures.PENDING_APPROVAL, "Posted", T, "10", False),
        (figures.PENDING_APPROVAL, "Declined", T, "10", False),
        (figures.DUE_THIS_WEEK, "Posted", T, "10", True),
        (figures.DUE_THIS_WEEK, "Submitted", SUNDAY, "10", True),
        (figures.DUE_THIS_WEEK, "Selected", SUNDAY, "10", True),
        (figures.DUE_THIS_WEEK, "Declined", T + timedelta(days=2), "10", False),  # the digest counted these once
        (figures.DUE_THIS_WEEK, "Posted", SUNDAY + timedelta(days=1), "10", False),
        (figures.DUE_THIS_WEEK, "Posted", T - timedelta(days=1), "10", False),  # overdue instead
        (figures.DUE_THIS_WEEK, "Posted", T, "0", False),
        (figures.DUE_THIS_WEEK, "Posted", None, "10", False),
        (figures.OVERDUE, "Posted", T - timedelta(days=1), "10", True),
        (figures.OVERDUE, "Posted", T, "10", False),
        (figures.OPEN_BILLS, "Partially Paid", None, "10", True),
        (figures.OPEN_BILLS, "Paid", None, "0", False),
    ],
)
def test_which_bills_each_figure_counts(figure, state, due, total_due, counted) -> None:
    assert figure.includes(s.bill(state=state, due_date=due, total_due=Decimal(total_due)), T) is counted


def test_the_intacct_filters_say_the_same_as_the_record_test() -> None:
    assert figures.PENDING_APPROVAL.query(T) == {"states": ["Partially Approved", "Submitted"], "open_only": False, "due_from": None, "due_to": None}
    assert figures.DUE_THIS_WEEK.query(T) == {
        "states": ["Partially Approved", "Partially Paid", "Posted", "Selected", "Submitted"],
        "open_only": True, "due_from": T, "due_to": SUNDAY,
    }  # fmt: skip
    assert figures.OVERDUE.query(T)["due_to"] == T - timedelta(days=1) and figures.OVERDUE.query(T)["due_from"] is None
    assert figures.DUE_THIS_WEEK.query(SUNDAY)["due_to"] == SUNDAY  # on Sunday only Sunday is left
    assert figures.PAYMENTS_PENDING_APPROVAL.query() == {"states": ["Partially Approved", "Submitted"]}


def test_payments_pending_approval_are_the_submitted_ones_only() -> None:
    counted = [state for state in ("Draft", "Submitted", "Partially Approved", "Approved", "Declined", "Delivered", "Confirmed", "Voided")
               if figures.PAYMENTS_PENDING_APPROVAL.includes(s.payment(state=state))]
    assert counted == ["Submitted", "Partially Approved"]


def test_tally_adds_per_currency_and_says_when_intacct_counted_more() -> None:
    bills = [s.bill(total_due=Decimal("10.50")), s.bill(total_due=Decimal("4"), currency="EUR"), s.bill(total_due=Decimal("1.25"))]
    assert figures.tally(bills, figures.amount_due) == Tally(3, (CurrencyAmount("EUR", Decimal("4")), CurrencyAmount("USD", Decimal("11.75"))))
    partial = figures.tally(bills, figures.amount_due, count=40)
    assert partial.count == 40 and partial.summed == 3 and not partial.complete
    assert figures.tally([], figures.amount_due) == Tally(0)


def test_amount_due_by_department_spreads_what_is_still_due_and_adds_up_exactly() -> None:
    partly_paid = s.bill(total_entered=Decimal("12480.50"), total_due=Decimal("6240.25"))  # half paid
    thirds = s.bill(record_no=3, total_due=Decimal("100.00"), lines=tuple(s.line(n, "1", department_id=f"D{n}") for n in (1, 2, 3)))
    no_lines = s.bill(record_no=2, lines=(), total_due=Decimal("100"), currency="EUR")
    parts = {p.department_id: p for p in figures.amount_due_by_department([partly_paid, thirds, no_lines])}
    assert parts["D100"].totals == (CurrencyAmount("USD", Decimal("4450.00")),)  # (8400 + 500) / 2
    assert parts["D100"].department_name == "Operations"
    assert parts["D200"].totals == (CurrencyAmount("USD", Decimal("1790.25")),)
    assert parts[None].totals == (CurrencyAmount("EUR", Decimal("100")),)
    assert list(parts)[-1] is None  # lines without a department last
    usd = sum((t.amount for p in parts.values() for t in p.totals if t.currency == "USD"), Decimal(0))
    assert usd == Decimal("6340.25")  # thirds of 100.00 still add up to 100.00
