"""How values read on a card: money (ISO 4217 decimals), dates and times in the AP team's zone,
relative days, counts, dimension ids with names, and what a state means (its tone)."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import date, datetime, timezone
from decimal import ROUND_HALF_UP, Context, Decimal

from intacct import figures
from intacct.bills import Bill
from intacct.company import TeamZone
from intacct.dimensions import DimensionKind
from intacct.figures import Tally

ReferenceNames = Mapping[DimensionKind, Mapping[str, str]]
"""Cached id → name maps of reference objects (the store's `load_reference`), by kind."""

MINOR_UNITS: Mapping[str, int] = {
    "BHD": 3, "BIF": 0, "CLF": 4, "CLP": 0, "DJF": 0, "GNF": 0, "IQD": 3, "ISK": 0, "JOD": 3,
    "JPY": 0, "KMF": 0, "KRW": 0, "KWD": 3, "LYD": 3, "OMR": 3, "PYG": 0, "RWF": 0, "TND": 3,
    "UGX": 0, "UYI": 0, "UYW": 4, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
}  # fmt: skip
"""Currencies whose minor unit is not 2, per ISO 4217 list one (SIX, the standard's maintenance
agency, published 2024-06-25; copy and source in tests/fixtures/iso4217/, checked by a test).
Every other code, and an unknown one, shows 2 decimals."""

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


class Tone(enum.Enum):
    """What a state means to an AP team, valued by the Adaptive Cards container style that shows it.

    Tones colour container backgrounds only, never text: Teams' own host configs draw `good` and
    `warning` text at 2.2:1 and 1.5:1 on white, while their styled containers keep light
    backgrounds with dark text in both themes (tests/cards/test_contrast.py).
    """

    ATTENTION = "attention"  # overdue, declined, failing
    GOOD = "good"  # paid, confirmed, active, recovered
    WARNING = "warning"  # waiting for approval, on hold
    ACCENT = "accent"  # approved and on its way to being paid
    DEFAULT = "default"  # draft, reversed, voided: nothing to do


def minor_units(currency: str | None) -> int:
    """Decimals of a currency's amounts (ISO 4217 minor unit; 2 when unknown or None)."""
    return MINOR_UNITS.get((currency or "").upper(), 2)


def money(amount: Decimal | None, currency: str | None = None) -> str:
    """`1234.5, "USD"` → `1,234.50 USD`; `1234.5, "JPY"` → `1,235 JPY` (half-up to the
    currency's minor unit, thousands separators)."""
    if amount is None or not amount.is_finite():
        return "—"
    places = minor_units(currency)
    # Enough precision for any magnitude (the default 28 digits would raise on 1E+30).
    context = Context(prec=max(28, amount.adjusted() + places + 2), rounding=ROUND_HALF_UP)
    rounded = amount.quantize(Decimal(1).scaleb(-places), context=context)
    if rounded.is_zero():
        rounded = abs(rounded)  # no "-0.00"
    text = f"{rounded:,.{places}f}"
    return f"{text} {currency}" if currency else text


def money_totals(totals: Mapping[str, Decimal]) -> str:
    """Per-currency totals on one line, currencies in alphabetical order: `1,000.00 EUR · 5.00 USD`."""
    if not totals:
        return money(Decimal(0))
    return " · ".join(money(totals[c], c) for c in sorted(totals))


def tally_amounts(value: Tally) -> str:
    """A figure's amounts (`1,000.00 EUR · 5.00 USD`; `0.00` when it counts nothing)."""
    return money_totals(value.amounts())


def day(value: date | None) -> str:
    """`2026-11-30` → `Mon 30 Nov 2026` (locale-free, unambiguous for US and EU readers)."""
    if value is None:
        return "—"
    return f"{_WEEKDAYS[value.weekday()]} {value.day} {_MONTHS[value.month - 1]} {value.year}"


def short_day(value: date, today: date) -> str:
    """`Mon 30 Nov`, with the year only when it is not `today`'s."""
    text = f"{_WEEKDAYS[value.weekday()]} {value.day} {_MONTHS[value.month - 1]}"
    return text if value.year == today.year else f"{text} {value.year}"


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


def moment(value: datetime | None, zone: TeamZone, *, named: bool = False, today: date | None = None) -> str:
    """A moment in the team's zone: `Mon 23 Nov 2026 06:00` (without the year when it is
    `today`'s), plus the zone's name when `named` (a card names its zone once, at the first time
    it shows; naive values are taken as UTC)."""
    if value is None:
        return "—"
    local = zone.local(value)
    date_text = short_day(local.date(), today) if today is not None else day(local.date())
    text = f"{date_text} {local:%H:%M}"
    return f"{text} {zone.name}" if named else text


def ago(value: datetime | None, now: datetime, zone: TeamZone, *, named: bool = False) -> str:
    """`Mon 23 Nov 05:57 (3 min ago)`: the moment, short, and how long before (or after) `now`."""
    if value is None:
        return "never"
    seconds = int((_aware(now) - _aware(value)).total_seconds())
    return f"{moment(value, zone, named=named, today=zone.today(now))} ({_span(seconds)})"


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """`1, "bill"` → `1 bill`; `3, "bill"` → `3 bills`."""
    return f"{count:,} {singular if count == 1 else (plural_form or singular + 's')}"


def named(kind: DimensionKind, id_: str | None, name: str | None, names: ReferenceNames | None = None) -> str | None:
    """A dimension or GL account as its id and name on one short line (`D100 Sales`,
    `6000 Office supplies`); the name comes from the record, else from the cached reference map,
    else only the id shows."""
    if not id_:
        return name or None
    if not name and names is not None:
        name = names.get(kind, {}).get(id_)
    if not name or name == id_:
        return id_
    return f"{id_} {name}"


def bill_tone(bill: Bill, today: date) -> Tone:
    """The container style of a bill: lateness of an open bill overrides its state."""
    state = bill.state
    if figures.days_overdue(bill, today) or figures.in_states(state, figures.BILL_DECLINED):
        return Tone.ATTENTION
    if figures.in_states(state, figures.BILL_PENDING_APPROVAL):
        return Tone.WARNING
    if figures.in_states(state, figures.BILL_AWAITING_PAYMENT):
        return Tone.ACCENT
    if figures.in_states(state, figures.BILL_PAID):
        return Tone.GOOD
    return Tone.DEFAULT


def payment_tone(state: str) -> Tone:
    """The container style of a payment state."""
    if figures.in_states(state, figures.PAYMENT_DECLINED):
        return Tone.ATTENTION
    if figures.in_states(state, figures.PAYMENT_PENDING_APPROVAL):
        return Tone.WARNING
    if figures.in_states(state, figures.PAYMENT_APPROVED):
        return Tone.ACCENT
    if figures.in_states(state, figures.PAYMENT_CONFIRMED):
        return Tone.GOOD
    return Tone.DEFAULT


def vendor_tone(status: str, on_hold: bool) -> Tone:
    """The container style of a vendor's standing: inactive → attention, on hold → warning, else good."""
    if status.casefold() != "active":
        return Tone.ATTENTION
    return Tone.WARNING if on_hold else Tone.GOOD


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value


def _span(seconds: int) -> str:
    future = seconds < 0
    seconds = abs(seconds)
    if seconds < 60:
        return "in under a minute" if future else "just now"
    if seconds < 3600:
        amount = f"{seconds // 60} min"
    elif seconds < 2 * 86400:
        amount = plural(seconds // 3600, "hour")
    else:
        amount = plural(seconds // 86400, "day")
    return f"in {amount}" if future else f"{amount} ago"
