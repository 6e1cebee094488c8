"""Money (ISO 4217 decimals), dates and times in the team's zone, dimension labels, and the container style of each state."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from cards.format import (
    MINOR_UNITS,
    Tone,
    ago,
    bill_tone,
    day,
    minor_units,
    money,
    money_totals,
    moment,
    named,
    payment_tone,
    relative_day,
    vendor_tone,
)
from intacct.company import UTC_ZONE, TeamZone
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
        (Decimal("1234567.5"), "JPY", "1,234,568 JPY"),  # no minor unit
        (Decimal("0.4"), "KRW", "0 KRW"),
        (Decimal("1234.5678"), "BHD", "1,234.568 BHD"),  # three decimals
        (Decimal("2.0005"), "KWD", "2.001 KWD"),
        (Decimal("1.23456"), "CLF", "1.2346 CLF"),  # four
        (Decimal("10"), "jpy", "10 jpy"),  # the code as Intacct wrote it, decimals by its meaning
        (Decimal("10"), "ZZZ", "10.00 ZZZ"),  # unknown: two
    ],
)
def test_money(amount, currency, expected) -> None:
    assert money(amount, currency) == expected


def test_minor_units_match_the_iso_4217_table(fixtures_dir: Path) -> None:
    """Every code of ISO 4217 list one (tests/fixtures/iso4217) shows its own number of decimals."""
    table = ElementTree.parse(fixtures_dir / "iso4217" / "list-one.xml")
    published = {}
    for entry in table.iter("CcyNtry"):
        code, units = entry.findtext("Ccy"), entry.findtext("CcyMnrUnts")
        if code and units and units.isdigit():
            published[code] = int(units)
    assert len(published) > 150
    assert {code: minor_units(code) for code in published} == published
    assert set(MINOR_UNITS) <= set(published), "every exception is a published code"


def test_money_totals_never_add_across_currencies() -> None:
    assert money_totals({"USD": Decimal("5"), "EUR": Decimal("1000")}) == "1,000.00 EUR · 5.00 USD"
    assert money_totals({}) == "0.00"


@pytest.mark.parametrize(
    ("state", "due", "tone"),
    [
        ("Submitted", T + timedelta(days=3), Tone.WARNING),
        ("Partially Approved", T + timedelta(days=3), Tone.WARNING),
        ("Submitted", T - timedelta(days=1), Tone.ATTENTION),  # lateness wins
        ("Declined", T + timedelta(days=3), Tone.ATTENTION),
        ("Posted", T + timedelta(days=3), Tone.ACCENT),
        ("Partially Paid", T + timedelta(days=3), Tone.ACCENT),
        ("Selected", T + timedelta(days=3), Tone.ACCENT),
        ("Paid", T - timedelta(days=3), Tone.GOOD),
        ("Draft", T - timedelta(days=3), Tone.DEFAULT),
        ("Reversed", T - timedelta(days=3), Tone.DEFAULT),
    ],
)
def test_bill_tone(state: str, due: date, tone: Tone) -> None:
    assert bill_tone(s.bill(state=state, due_date=due), T) is tone


@pytest.mark.parametrize(
    ("state", "tone"),
    [
        ("Submitted", Tone.WARNING), ("Partially approved", Tone.WARNING), ("Approved", Tone.ACCENT), ("Delivered", Tone.ACCENT),
        ("Declined", Tone.ATTENTION), ("Confirmed", Tone.GOOD), ("Voided", Tone.DEFAULT), ("Print Voided", Tone.DEFAULT),
        ("Draft", Tone.DEFAULT),
    ],  # fmt: skip
)
def test_payment_tone(state: str, tone: Tone) -> None:
    assert payment_tone(state) is tone


def test_vendor_tone() -> None:
    assert vendor_tone("active", False) is Tone.GOOD
    assert vendor_tone("active", True) is Tone.WARNING
    assert vendor_tone("inactive", False) is Tone.ATTENTION


def test_dates_read_the_same_in_every_locale() -> None:
    assert day(date(2026, 12, 2)) == "Wed 2 Dec 2026"
    assert [relative_day(T + timedelta(days=d), T) for d in (-3, -1, 0, 1, 4)] == ["3 days ago", "yesterday", "today", "tomorrow", "in 4 days"]


def test_moments_read_in_the_teams_zone_named_only_when_asked() -> None:
    pacific = TeamZone.from_offset(timedelta(hours=-8))
    moment_utc = datetime(2026, 11, 23, 14, 0, tzinfo=timezone.utc)
    assert moment(moment_utc, pacific) == "Mon 23 Nov 2026 06:00"
    assert moment(moment_utc, pacific, named=True) == "Mon 23 Nov 2026 06:00 UTC-08:00"
    assert moment(datetime(2026, 11, 23, 14, 0), UTC_ZONE, named=True) == "Mon 23 Nov 2026 14:00 UTC"  # naive → UTC
    # an IANA zone follows daylight saving: 14:00 UTC is 07:00 in Los Angeles in July
    assert moment(datetime(2026, 7, 1, 14, 0, tzinfo=timezone.utc), s.ZONE, named=True) == "Wed 1 Jul 2026 07:00 America/Los_Angeles"


def test_zone_names() -> None:
    assert TeamZone.from_offset(timedelta(0)).name == "UTC"
    assert TeamZone.from_offset(timedelta(hours=5, minutes=30)).name == "UTC+05:30"
    assert TeamZone.from_offset(timedelta(hours=-3, minutes=-30)).name == "UTC-03:30"
    # The AP team's today: a payment made at 17:00 in California is "today" there, not tomorrow.
    evening = datetime(2026, 11, 24, 1, 0, tzinfo=timezone.utc)
    assert TeamZone.from_offset(timedelta(hours=-8)).today(evening) == date(2026, 11, 23)


def test_ago_describes_past_and_future() -> None:
    now = s.NOW
    assert ago(None, now, s.ZONE) == "never"
    assert ago(now - timedelta(seconds=20), now, s.ZONE).endswith("(just now)")
    assert ago(now - timedelta(minutes=7), now, s.ZONE) == "Mon 23 Nov 05:53 (7 min ago)"  # no year: this year
    assert ago(now - timedelta(hours=1), now, s.ZONE).endswith("(1 hour ago)")
    assert ago(now - timedelta(days=3), now, s.ZONE).endswith("(3 days ago)")
    assert ago(now + timedelta(minutes=2), now, s.ZONE).endswith("(in 2 min)")


def test_named_puts_id_and_name_on_one_short_line() -> None:
    cache = {DimensionKind.DEPARTMENT: {"D9": "Cached name"}, DimensionKind.GL_ACCOUNT: {"6000": "Rent"}}
    assert named(DimensionKind.DEPARTMENT, "D1", "Sales") == "D1 Sales"
    assert named(DimensionKind.DEPARTMENT, "D9", None, cache) == "D9 Cached name"
    assert named(DimensionKind.DEPARTMENT, "D8", None, cache) == "D8"
    assert named(DimensionKind.GL_ACCOUNT, "6000", None, cache) == "6000 Rent"
    assert named(DimensionKind.LOCATION, None, None) is None
