"""Field values between Intacct text and Python types: rows in, Decimal/date/aware datetime/bool out.

Intacct writes dates as ``MM/DD/YYYY`` and timestamps as ``MM/DD/YYYY HH:MM:SS`` without a zone;
timestamps are in the Web Services user's ``gmtoffset``. Parsed timestamps are returned in UTC.
Empty elements are None. A value that cannot be converted raises `MalformedRecordError` naming
the field (never a bare ValueError).
"""

from __future__ import annotations

import functools
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Mapping

from intacct.errors import MalformedRecordError

Row = Mapping[str, "str | None"]
"""One record as read: upper-case Intacct field name → text (None when the element was empty)."""

_TRUE = frozenset({"true", "t", "1", "yes"})
_FALSE = frozenset({"false", "f", "0", "no"})


def _bad(row: Row, field: str, value: str, kind: str) -> MalformedRecordError:
    shown = value if len(value) <= 40 else value[:40] + "…"
    key = row.get("RECORDNO")
    where = f" (RECORDNO {key})" if key else ""
    return MalformedRecordError(f"field {field}{where}: {shown!r} is not a valid {kind}")


def text(row: Row, field: str) -> str | None:
    """The field's text, or None when it is empty or absent."""
    return row.get(field) or None


def text_or_empty(row: Row, field: str) -> str:
    """The field's text, or "" when it is empty or absent (for record fields typed plain str)."""
    return row.get(field) or ""


def required_int(row: Row, field: str) -> int:
    """An integer field that identifies the record; a missing value is a malformed record."""
    value = row.get(field)
    if not value:
        raise MalformedRecordError(f"field {field} is missing: every row must carry it")
    try:
        return int(value)
    except ValueError:
        raise _bad(row, field, value, "integer") from None


def optional_int(row: Row, field: str) -> int | None:
    """An integer field, or None when empty."""
    value = row.get(field)
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise _bad(row, field, value, "integer") from None


def decimal_or_zero(row: Row, field: str) -> Decimal:
    """An amount (plain decimal with a dot); empty means zero."""
    value = row.get(field)
    if not value:
        return Decimal(0)
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise _bad(row, field, value, "decimal amount") from None
    if not amount.is_finite():
        raise _bad(row, field, value, "decimal amount")
    return amount


def boolean(row: Row, field: str, default: bool = False) -> bool:
    """A true/false field (also accepts the T/F stored codes); empty means the default."""
    value = row.get(field)
    if not value:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise _bad(row, field, value, "boolean")


@functools.lru_cache(maxsize=4096)
def parse_date(value: str) -> date:
    """``MM/DD/YYYY`` (a trailing time part, as some objects send, is ignored) → date."""
    # Cached: a page of bills shares a few hundred distinct dates, and this is the hot path.
    if len(value) < 10 or value[2] != "/" or value[5] != "/":
        raise ValueError(value)
    return date(int(value[6:10]), int(value[0:2]), int(value[3:5]))


def date_field(row: Row, field: str) -> date | None:
    """A date-only field, or None when empty."""
    value = row.get(field)
    if not value:
        return None
    try:
        return parse_date(value)
    except ValueError:
        raise _bad(row, field, value, "date (MM/DD/YYYY)") from None


@functools.lru_cache(maxsize=64)
def _iso_suffix(zone: timezone) -> str:
    offset = zone.utcoffset(None)
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def parse_timestamp(value: str, zone: timezone) -> datetime:
    """``MM/DD/YYYY HH:MM:SS`` in the user's zone → aware datetime in UTC."""
    # Re-ordered into ISO 8601 for the C-level fromisoformat: ~5x faster than strptime, which
    # matters at 50,000 records per second. The separator checks keep the format strict.
    if len(value) != 19 or value[2] != "/" or value[5] != "/" or value[10] != " " or value[13] != ":" or value[16] != ":":
        raise ValueError(value)
    local = datetime.fromisoformat(f"{value[6:10]}-{value[0:2]}-{value[3:5]}T{value[11:19]}{_iso_suffix(zone)}")
    return local.astimezone(timezone.utc)


def timestamp_field(row: Row, field: str, zone: timezone) -> datetime | None:
    """A timestamp field as an aware UTC datetime, or None when empty."""
    value = row.get(field)
    if not value:
        return None
    try:
        return parse_timestamp(value, zone)
    except ValueError:
        raise _bad(row, field, value, "timestamp (MM/DD/YYYY HH:MM:SS)") from None


def format_timestamp(moment: datetime, gmt_offset: timedelta) -> str:
    """An aware datetime as Intacct's ``MM/DD/YYYY HH:MM:SS`` in the user's offset (seconds floored)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("timestamps sent to Intacct must be timezone-aware")
    return moment.astimezone(timezone(gmt_offset)).strftime("%m/%d/%Y %H:%M:%S")


def format_date(day: date) -> str:
    """A date as Intacct's ``MM/DD/YYYY``."""
    return f"{day.month:02d}/{day.day:02d}/{day.year:04d}"


def parse_gmt_offset(value: str) -> timedelta:
    """``-08:00`` / ``+05:30`` / ``-0800`` / ``Z`` → timedelta; ValueError when it is none of these."""
    raw = value.strip()
    if raw in ("Z", "z", "0", "+00:00", "-00:00"):
        return timedelta(0)
    if len(raw) not in (5, 6) or raw[0] not in "+-":
        raise ValueError(f"not a GMT offset: {value!r}")
    digits = raw[1:].replace(":", "")
    if len(digits) != 4 or not digits.isdigit():
        raise ValueError(f"not a GMT offset: {value!r}")
    hours, minutes = int(digits[:2]), int(digits[2:])
    if hours > 14 or minutes >= 60:
        raise ValueError(f"not a GMT offset: {value!r}")
    delta = timedelta(hours=hours, minutes=minutes)
    return -delta if raw[0] == "-" else delta


def parse_iso_datetime(value: str | None) -> datetime | None:
    """ISO 8601 with offset (``sessiontimeout``) → aware datetime; None when empty, ValueError when bad."""
    if not value:
        return None
    moment = datetime.fromisoformat(value.strip())
    if moment.tzinfo is None:
        raise ValueError(f"timestamp without an offset: {value!r}")
    return moment
