"""What every figure on a card counts, written once: bills pending approval, due this week,
overdue, payments pending approval, and the amount due.

The poller's digest, the chat commands and the cards all take their figures from here, so the
same label means the same number wherever it appears. A figure is defined twice over the same
fields, and both readings must agree (tests/intacct/test_figures.py, and the digest against the
commands on the sandbox in tests/bot/chat/test_figures_agree.py):

- as Intacct filters (`BillFigure.query`: keyword arguments of `IntacctClient.query_bills`),
  so Intacct counts and returns exactly the figure's bills;
- as a test on one record (`BillFigure.includes`), for events and for the cards.

State words are Intacct's display values (Sage Intacct product help, "Bill states" and the
payment request states; the APPYMT display words Draft, Submitted, Partially Approved, Approved,
Declined, Delivered, Confirmed, Voided, Print Voided, Quick Delivery). Comparisons ignore case:
companies differ in the case of "Partially Approved".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from intacct.bills import Bill
from intacct.payments import Payment

# --- bill states (APBILL.STATE words, the recorded `lookup` valid values), by what they mean to an AP team
BILL_PENDING_APPROVAL = frozenset({"Submitted", "Partially Approved"})
"""An approver has to act."""
BILL_DECLINED = frozenset({"Declined"})
"""Sent back to whoever entered it: not payable until resubmitted."""
BILL_AWAITING_PAYMENT = frozenset({"Posted", "Partially Paid", "Selected"})
"""Approved (posted) with money still owed; Selected = a payment request is on its way."""
BILL_PAID = frozenset({"Paid"})
BILL_OPEN = BILL_PENDING_APPROVAL | BILL_AWAITING_PAYMENT
"""Bills someone still has to approve or pay: the ones that can be due or overdue."""

# --- payment states (APPYMT display words) ------------------------------------------------------
PAYMENT_PENDING_APPROVAL = frozenset({"Submitted", "Partially Approved"})
"""An approver has to act on the payment request."""
PAYMENT_DECLINED = frozenset({"Declined"})
PAYMENT_APPROVED = frozenset({"Approved", "Delivered"})
"""Approved and on its way (Delivered: check printed or file sent), not yet confirmed."""
PAYMENT_CONFIRMED = frozenset({"Confirmed"})
PAYMENT_VOIDED = frozenset({"Voided", "Print Voided"})

Record = TypeVar("Record", Bill, Payment)


@cache
def folded(states: frozenset[str]) -> frozenset[str]:
    """The states in case-folded form, for comparing with a record's state."""
    return frozenset(state.casefold() for state in states)


def in_states(state: str, states: frozenset[str]) -> bool:
    """Whether a display state is one of `states`, ignoring case."""
    return state.casefold() in folded(states)


def amount_due(bill: Bill) -> Decimal:
    """What is still owed on a bill (TOTALDUE): the amount every bill figure adds up."""
    return bill.total_due


def payment_amount(payment: Payment) -> Decimal:
    """The amount of a payment request: what the payment figures add up."""
    return payment.amount


def week_end(today: date) -> date:
    """The Sunday that ends `today`'s week (ISO weeks run Monday to Sunday)."""
    return today + timedelta(days=6 - today.weekday())


# --- the figures --------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class BillFigure:
    """One count of bills and their amount due: which states, whether money must still be due,
    and which due dates (`window(today)` → first and last due date, None for open-ended)."""

    name: str
    states: frozenset[str]
    money_due: bool
    window: Callable[[date], tuple[date | None, date | None]]

    def query(self, today: date) -> dict[str, Any]:
        """Keyword arguments of `IntacctClient.query_bills` that select exactly this figure's bills."""
        due_from, due_to = self.window(today)
        return {"states": sorted(self.states), "open_only": self.money_due, "due_from": due_from, "due_to": due_to}

    def includes(self, bill: Bill, today: date) -> bool:
        """Whether this bill counts in the figure on `today`."""
        if not in_states(bill.state, self.states):
            return False
        if self.money_due and not amount_due(bill) > 0:
            return False
        due_from, due_to = self.window(today)
        if due_from is None and due_to is None:
            return True
        if bill.due_date is None:
            return False
        return (due_from is None or bill.due_date >= due_from) and (due_to is None or bill.due_date <= due_to)


@dataclass(frozen=True, slots=True)
class PaymentFigure:
    """One count of payment requests and their amount: which states."""

    name: str
    states: frozenset[str]

    def query(self) -> dict[str, Any]:
        """Keyword arguments of `IntacctClient.query_payments` that select this figure's payments."""
        return {"states": sorted(self.states)}

    def includes(self, payment: Payment) -> bool:
        """Whether this payment counts in the figure."""
        return in_states(payment.state, self.states)


def _any_due_date(today: date) -> tuple[None, None]:
    return (None, None)


def _this_week(today: date) -> tuple[date, date]:
    return (today, week_end(today))


def _before_today(today: date) -> tuple[None, date]:
    return (None, today - timedelta(days=1))


PENDING_APPROVAL = BillFigure("pending approval", BILL_PENDING_APPROVAL, money_due=False, window=_any_due_date)
"""Bills waiting for an approver, whatever their due date."""

DUE_THIS_WEEK = BillFigure("due this week", BILL_OPEN, money_due=True, window=_this_week)
"""Open bills with money due from today to Sunday (the ones already late are OVERDUE, not here);
declined bills are not open: they wait for their submitter, not for approval or payment."""

OVERDUE = BillFigure("overdue", BILL_OPEN, money_due=True, window=_before_today)
"""Open bills with money due whose due date has passed."""

OPEN_BILLS = BillFigure("open", BILL_OPEN, money_due=True, window=_any_due_date)
"""Every open bill with money due (a vendor's open bills)."""

PAYMENTS_PENDING_APPROVAL = PaymentFigure("payments pending approval", PAYMENT_PENDING_APPROVAL)
"""Payment requests waiting for an approver."""


def days_overdue(bill: Bill, today: date) -> int:
    """Days past the due date of a bill that counts as OVERDUE; 0 for any other bill."""
    if not OVERDUE.includes(bill, today):
        return 0
    assert bill.due_date is not None  # OVERDUE has an upper bound, so only dated bills are in it
    return (today - bill.due_date).days


# --- totals -------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class CurrencyAmount:
    """An amount in one currency."""

    currency: str
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Tally:
    """A figure's value: how many records, and their amount per currency (never summed across
    currencies). `summed` records were added up; when fewer than `count` (Intacct counted more
    than were read), the amounts are those of the first `summed` only, and cards say so."""

    count: int
    totals: tuple[CurrencyAmount, ...] = ()
    summed: int | None = None

    @property
    def complete(self) -> bool:
        """Whether the amounts cover every counted record."""
        return self.summed is None or self.summed >= self.count

    def amounts(self) -> dict[str, Decimal]:
        """The totals as a currency → amount map."""
        return {total.currency: total.amount for total in self.totals}


def tally(records: Iterable[Record], amount: Callable[[Record], Decimal], *, count: int | None = None) -> Tally:
    """Count and add up records per currency (currencies in alphabetical order); `count` is
    Intacct's count of the whole result when the records are only its first page."""
    per_currency: dict[str, Decimal] = {}
    summed = 0
    for record in records:
        summed += 1
        per_currency[record.currency] = per_currency.get(record.currency, Decimal(0)) + amount(record)
    totals = tuple(CurrencyAmount(currency, per_currency[currency]) for currency in sorted(per_currency))
    total = max(count if count is not None else summed, summed)
    return Tally(total, totals, summed if total > summed else None)


@dataclass(frozen=True, slots=True)
class DepartmentAmount:
    """Part of a figure's amount that belongs to one department (None: lines without one)."""

    department_id: str | None
    department_name: str | None
    totals: tuple[CurrencyAmount, ...]


_SHARE = Decimal("0.000001")  # shares are exact decimals, so sums of them stay exact


def amount_due_by_department(bills: Iterable[Bill]) -> tuple[DepartmentAmount, ...]:
    """The bills' amount due per department and currency, ordered by department id (lines
    without a department last); the parts add up to the bills' amount due exactly.

    A bill's amount due is spread over its lines in proportion to the line amounts (a partly
    paid bill counts only what is still due); a bill without lines, or whose lines add up to
    zero, counts under no department. Shares are cut to six decimals and the last line of each
    bill takes the remainder, so the parts add up to the whole exactly.
    """
    sums: dict[str | None, dict[str, Decimal]] = {}
    labels: dict[str | None, str | None] = {None: None}
    for bill in bills:
        due = amount_due(bill)
        line_sum = sum((line.amount for line in bill.lines), Decimal(0))
        if not bill.lines or line_sum == 0:
            _add(sums, None, bill.currency, due)
            continue
        left = due
        for index, line in enumerate(bill.lines):
            key = line.department_id or None
            if key is not None and labels.get(key) is None:
                labels[key] = line.department_name
            share = left if index == len(bill.lines) - 1 else (due * line.amount / line_sum).quantize(_SHARE)
            left -= share
            _add(sums, key, bill.currency, share)
    ordered = sorted(sums, key=lambda key: (key is None, (key or "").casefold()))
    return tuple(
        DepartmentAmount(key, labels.get(key), tuple(CurrencyAmount(c, sums[key][c]) for c in sorted(sums[key])))
        for key in ordered
    )


def _add(sums: dict[str | None, dict[str, Decimal]], key: str | None, currency: str, amount: Decimal) -> None:
    per_currency = sums.setdefault(key, {})
    per_currency[currency] = per_currency.get(currency, Decimal(0)) + amount
