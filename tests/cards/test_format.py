"""Money, dates, overdue days, and the colour of each state."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from cards.format import (
    Tone,
    ago,
    bill_tone,
    day,
    days_overdue,
    money,
    money_totals,
    moment,
    named,
    payment_tone,
    relative_day,
    vendor_tone,
)
from intacct.dimensions import DimensionKind
from tests.cards import samples as s

T = s.TODAY


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        (Decimal("1234.5"), "USD", "1,234.50 USD"),
        (Decimal("0"), "EUR", "0.00 EUR"),
        (Decimal("1234567.891"), "USD", "1,234,567.89 USD"),
        (Decimal("0.005"), "USD", "0.01 USD"),  # half-up, not banker's rounding
        (Decimal("0.015"), "USD", "0.02 USD"),
        (Decimal("-2500"), "GBP", "-2,500.00 GBP"),
        (Decimal("NaN"), "USD", "—"),
        (Decimal("Infinity"), "USD", "—"),
        (Decimal("-0.004"), "USD", "0.00 USD"),
        (Decimal("1E+30"), "USD", "1,000,000,000,000,000,000,000,000,000,000.00 USD"),
        (None, "USD", "—"),
        (Decimal("12"), None, "12.00"),
    ],
)
def test_money(amount, currency, expected) -> None:
    assert money(amount, currency) == expected


def test_money_totals_never_add_across_currencies() -> None:
    assert money_totals({"USD": Decimal("5"), "EUR": Decimal("1000")}) == "1,000.00 EUR · 5.00 USD"
    assert money_totals({}) == "0.00"


@pytest.mark.parametrize(
    ("due", "state", "total_due", "expected"),
    [
        (T - timedelta(days=1), "Submitted", "10", 1),
        (T - timedelta(days=30), "Posted", "10", 30),
        (T - timedelta(days=3), "Declined", "10", 3),  # still unpaid: late
        (T - timedelta(days=2), "Partially Paid", "4", 2),
        (T - timedelta(days=2), "Selected", "4", 2),
        (T - timedelta(days=2), "partially approved", "4", 2),  # Intacct's spelling varies in case
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
    assert days_overdue(s.bill(due_date=due, state=state, total_due=Decimal(total_due)), T) == expected


@pytest.mark.parametrize(
    ("state", "overdue", "tone"),
    [
        ("Submitted", False, Tone.WARNING),
        ("Partially Approved", False, Tone.WARNING),
        ("Submitted", True, Tone.ATTENTION),
        ("Declined", False, Tone.ATTENTION),
        ("Posted", False, Tone.GOOD),
        ("Partially Paid", False, Tone.GOOD),
        ("Paid", False, Tone.GOOD),
        ("Selected", False, Tone.ACCENT),
        ("Draft", False, Tone.DEFAULT),
        ("Reversed", False, Tone.DEFAULT),
    ],
)
def test_bill_tone(state: str, overdue: bool, tone: Tone) -> None:
    assert bill_tone(state, overdue=overdue) is tone


@pytest.mark.parametrize(
    ("state", "tone"),
    [("Submitted", Tone.WARNING), ("Approved", Tone.ACCENT), ("Delivered", Tone.ACCENT), ("Declined", Tone.ATTENTION), ("Unapproved", Tone.ATTENTION), ("Complete", Tone.GOOD), ("Voided", Tone.DEFAULT), ("Draft", Tone.DEFAULT)],
)
def test_payment_tone(state: str, tone: Tone) -> None:
    assert payment_tone(state) is tone


def test_vendor_tone() -> None:
    assert vendor_tone("active", False) is Tone.GOOD
    assert vendor_tone("active", True) is Tone.WARNING
    assert vendor_tone("inactive", False) is Tone.ATTENTION


def test_dates_read_the_same_in_every_locale() -> None:
    assert day(date(2026, 12, 2)) == "Wed 2 Dec 2026"
    assert moment(datetime(2026, 11, 23, 6, 0, tzinfo=timezone(timedelta(hours=-8)))) == "Mon 23 Nov 2026 14:00 UTC"
    assert moment(datetime(2026, 11, 23, 14, 0)) == "Mon 23 Nov 2026 14:00 UTC"  # naive → UTC
    assert [relative_day(T + timedelta(days=d), T) for d in (-3, -1, 0, 1, 4)] == ["3 days ago", "yesterday", "today", "tomorrow", "in 4 days"]


def test_ago_describes_past_and_future() -> None:
    now = s.NOW
    assert ago(None, now) == "never"
    assert ago(now - timedelta(seconds=20), now).endswith("(just now)")
    assert ago(now - timedelta(minutes=7), now).endswith("(7 min ago)")
    assert ago(now - timedelta(hours=1), now).endswith("(1 hour ago)")
    assert ago(now - timedelta(days=3), now).endswith("(3 days ago)")
    assert ago(now + timedelta(minutes=2), now).endswith("(in 2 min)")


def test_named_prefers_the_record_then_the_cache_then_the_id() -> None:
    cache = {DimensionKind.DEPARTMENT: {"D9": "Cached name"}, DimensionKind.GL_ACCOUNT: {"6000": "Rent"}}
    assert named(DimensionKind.DEPARTMENT, "D1", "Sales") == "Sales (D1)"
    assert named(DimensionKind.DEPARTMENT, "D9", None, cache) == "Cached name (D9)"
    assert named(DimensionKind.DEPARTMENT, "D8", None, cache) == "D8"
    assert named(DimensionKind.GL_ACCOUNT, "6000", None, cache) == "6000 · Rent"
    assert named(DimensionKind.LOCATION, None, None) is None
