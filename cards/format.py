"""How values read on a card: money, dates, relative times, counts, and what a state means (its tone)."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timezone
from decimal import ROUND_HALF_UP, Context, Decimal

from intacct import bills, payments
from intacct.bills import Bill
from intacct.dimensions import DimensionKind
from intacct.payments import Payment

ReferenceNames = Mapping[DimensionKind, Mapping[str, str]]
"""Cached id → name maps of reference objects (the store's `load_reference`), by kind."""

_CENT = Decimal("0.01")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


class Tone(enum.Enum):
    """What a state means to an AP team, valued by the Adaptive Cards colour that shows it."""

    ATTENTION = "attention"  # overdue, declined, failing
    GOOD = "good"  # approved, paid, active, recovered
    WARNING = "warning"  # waiting for approval, on hold
    ACCENT = "accent"  # in progress (payment selected / approved, not yet paid)
    DEFAULT = "default"  # draft, reversed, voided: nothing to do


def _folded(states: Iterable[str]) -> frozenset[str]:
    # Intacct's display spellings vary in case between companies ("Partially approved").
    return frozenset(s.casefold() for s in states)


_BILL_PENDING = _folded(bills.PENDING_APPROVAL_STATES)
_BILL_DECLINED = _folded(bills.DECLINED_STATES)
_BILL_APPROVED = _folded(bills.APPROVED_STATES)
_BILL_DONE = _folded(bills.DONE_STATES)
_BILL_IN_PAYMENT = frozenset({"selected"})
_PAYMENT_PENDING_APPROVAL = _folded(payments.PENDING_APPROVAL_STATES)
_PAYMENT_PENDING_PAYMENT = _folded(payments.PENDING_PAYMENT_STATES)
# The product help calls a declined payment request "Unapproved"; accept both spellings.
_PAYMENT_DECLINED = _folded(payments.DECLINED_STATES) | {"unapproved"}
_PAYMENT_COMPLETE = frozenset({"complete"})


def money(amount: Decimal | None, currency: str | None = None) -> str:
    """`1234.5, "USD"` → `1,234.50 USD` (half-up to cents, thousands separators)."""
    if amount is None or not amount.is_finite():
        return "—"
    # Enough precision for any magnitude (the default 28 digits would raise on 1E+30).
    context = Context(prec=max(28, amount.adjusted() + 4), rounding=ROUND_HALF_UP)
    cents = amount.quantize(_CENT, context=context)
    if cents.is_zero():
        cents = abs(cents)  # no "-0.00"
    text = f"{cents:,.2f}"
    return f"{text} {currency}" if currency else text


def money_totals(totals: dict[str, Decimal]) -> str:
    """Per-currency totals on one line, currencies in alphabetical order: `1,000.00 EUR · 5.00 USD`."""
    if not totals:
        return money(Decimal(0))
    return " · ".join(money(totals[c], c) for c in sorted(totals))


def day(value: date | None) -> str:
    """`2026-11-30` → `Mon 30 Nov 2026` (locale-free, unambiguous for US and EU readers)."""
    if value is None:
        return "—"
    return f"{_WEEKDAYS[value.weekday()]} {value.day} {_MONTHS[value.month - 1]} {value.year}"


def relative_day(value: date, today: date) -> str:
    """`today`, `tomorrow`, `in 3 days`, `yesterday`, `3 days ago`."""
    delta = (value - today).days
    if delta == 0:
        return "today"
    if delta == 1:
        return "tomorrow"
    if delta == -1:
        return "yesterday"
    return f"in {delta:,} days" if delta > 0 else f"{-delta:,} days ago"


def day_and_relative(value: date | None, today: date) -> str:
    """`Mon 30 Nov 2026 (in 7 days)`."""
    if value is None:
        return "—"
    return f"{day(value)} ({relative_day(value, today)})"


def moment(value: datetime | None) -> str:
    """An aware datetime as `Mon 23 Nov 2026 14:00 UTC` (naive values are taken as UTC)."""
    if value is None:
        return "—"
    utc = value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
    return f"{day(utc.date())} {utc:%H:%M} UTC"


def ago(value: datetime | None, now: datetime) -> str:
    """`moment(value)` plus how long before (or after) `now` it was: `… (5 min ago)`."""
    if value is None:
        return "never"
    seconds = int((_aware(now) - _aware(value)).total_seconds())
    return f"{moment(value)} ({_span(seconds)})"


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """`1, "bill"` → `1 bill`; `3, "bill"` → `3 bills`."""
    return f"{count:,} {singular if count == 1 else (plural_form or singular + 's')}"


def named(kind: DimensionKind, id_: str | None, name: str | None, names: ReferenceNames | None = None) -> str | None:
    """`Sales (D100)` for a dimension, `6000 · Office supplies` for a GL account; the name comes
    from the record, else from the cached reference map, else only the id shows."""
    if not id_:
        return name or None
    if not name and names is not None:
        name = names.get(kind, {}).get(id_)
    if not name or name == id_:
        return id_
    if kind is DimensionKind.GL_ACCOUNT:
        return f"{id_} · {name}"
    return f"{name} ({id_})"


def bill_is_open(bill: Bill) -> bool:
    """Whether the bill still waits for someone: pending, declined or approved with money due."""
    state = bill.state.casefold()
    live = state in _BILL_PENDING or state in _BILL_DECLINED or state in _BILL_APPROVED
    return live and bill.total_due > 0


def days_overdue(bill: Bill, today: date) -> int:
    """Days past the due date for an open bill; 0 when not late, paid, or without a due date."""
    if bill.due_date is None or not bill_is_open(bill):
        return 0
    return max(0, (today - bill.due_date).days)


def bill_tone(state: str, *, overdue: bool = False) -> Tone:
    """Colour of a bill state; lateness of an open bill overrides everything."""
    folded = state.casefold()
    if overdue or folded in _BILL_DECLINED:
        return Tone.ATTENTION
    if folded in _BILL_PENDING:
        return Tone.WARNING
    if folded in _BILL_IN_PAYMENT:
        return Tone.ACCENT
    if folded in _BILL_APPROVED or folded in _BILL_DONE:
        return Tone.GOOD
    return Tone.DEFAULT


def bill_is_pending_approval(state: str) -> bool:
    """Whether a bill state means an approver has to act."""
    return state.casefold() in _BILL_PENDING


def payment_tone(state: str) -> Tone:
    """Colour of a payment state."""
    folded = state.casefold()
    if folded in _PAYMENT_DECLINED:
        return Tone.ATTENTION
    if folded in _PAYMENT_PENDING_APPROVAL:
        return Tone.WARNING
    if folded in _PAYMENT_PENDING_PAYMENT:
        return Tone.ACCENT
    if folded in _PAYMENT_COMPLETE:
        return Tone.GOOD
    return Tone.DEFAULT


def payment_is_pending_approval(payment: Payment) -> bool:
    """Whether a payment request waits for an approver."""
    return payment.state.casefold() in _PAYMENT_PENDING_APPROVAL


def vendor_tone(status: str, on_hold: bool) -> Tone:
    """Colour of a vendor's standing: inactive → attention, on hold → warning, else good."""
    if status.casefold() != "active":
        return Tone.ATTENTION
    return Tone.WARNING if on_hold else Tone.GOOD


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value


def _span(seconds: int) -> str:
    future = seconds < 0
    seconds = abs(seconds)
    if seconds < 60:
        text = "just now" if not future else "in under a minute"
        return text
    if seconds < 3600:
        amount = f"{seconds // 60} min"
    elif seconds < 2 * 86400:
        amount = plural(seconds // 3600, "hour")
    else:
        amount = plural(seconds // 86400, "day")
    return f"in {amount}" if future else f"{amount} ago"
