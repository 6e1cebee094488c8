"""Field values between Intacct text and Python types: rows in, Decimal/date/aware datetime/bool out.

Intacct writes dates as ``MM/DD/YYYY`` and timestamps as ``MM/DD/YYYY HH:MM:SS`` without a zone;
timestamps are in the Web Services user's ``gmtoffset``. Parsed timestamps are returned in UTC.
Empty elements are None. A value that cannot be converted raises `MalformedRecordError` naming
the field (never a bare ValueError). `record_builder` gives the record parsers a constructor for
their frozen dataclasses that is fast enough for 50,000 records a second.
"""

from __future__ import annotations

import dataclasses
import functools
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Callable, Mapping, TypeVar

from intacct.errors import MalformedRecordError

Row = Mapping[str, "str | None"]
"""One record as read: upper-case Intacct field name → text (None when the element was empty)."""

_TRUE = frozenset({"true", "t", "1", "yes"})
_FALSE = frozenset({"false", "f", "0", "no"})


def bad_field(row: Row, field: str, value: str, kind: str) -> MalformedRecordError:
    """The error for a field whose text is not a valid ``kind``, naming the row's RECORDNO."""
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
        raise bad_field(row, field, value, "integer") from None


def optional_int(row: Row, field: str) -> int | None:
    """An integer field, or None when empty."""
    value = row.get(field)
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise bad_field(row, field, value, "integer") from None


def decimal_or_zero(row: Row, field: str) -> Decimal:
    """An amount (plain decimal with a dot); empty means zero."""
    value = row.get(field)
    if not value:
        return Decimal(0)
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise bad_field(row, field, value, "decimal amount") from None
    if not amount.is_finite():
        raise bad_field(row, field, value, "decimal amount")
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
    raise bad_field(row, field, value, "boolean")


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
        raise bad_field(row, field, value, "date (MM/DD/YYYY)") from None


def parse_timestamp(value: str, zone: timezone) -> datetime:
    """``MM/DD/YYYY HH:MM:SS`` in the user's zone → aware datetime in UTC."""
    # The wall time is re-ordered into ISO 8601 and read *as if* it were UTC by the C-level
    # fromisoformat (~5x faster than strptime), then shifted by the user's offset: one subtraction
    # instead of astimezone, and the result already carries timezone.utc. The separator checks
    # keep the format strict; fromisoformat checks the digits and the ranges.
    if len(value) != 19 or value[2] != "/" or value[5] != "/" or value[10] != " " or value[13] != ":" or value[16] != ":":
        raise ValueError(value)
    wall = datetime.fromisoformat(f"{value[6:10]}-{value[0:2]}-{value[3:5]}T{value[11:19]}+00:00")
    try:
        return wall - zone.utcoffset(None)
    except OverflowError:  # e.g. 12/31/9999 23:00:00 at -08:00 is after datetime.max in UTC
        raise ValueError(value) from None


def timestamp_field(row: Row, field: str, zone: timezone) -> datetime | None:
    """A timestamp field as an aware UTC datetime, or None when empty."""
    value = row.get(field)
    if not value:
        return None
    try:
        return parse_timestamp(value, zone)
    except ValueError:
        raise bad_field(row, field, value, "timestamp (MM/DD/YYYY HH:MM:SS)") from None


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


_Record = TypeVar("_Record")


def record_builder(cls: type[_Record]) -> Callable[..., _Record]:
    """A positional constructor for a frozen slots dataclass, about 4x cheaper than calling ``cls``.

    ``build(*values)`` takes every field, in declaration order (no defaults), and returns a
    genuine ``cls`` instance, equal to ``cls(*values)``: still frozen, same hash, same type.
    """
    # Why: a frozen dataclass's __init__ stores each field through object.__setattr__ (~150 ns a
    # field, 3 µs for a Bill: 15% of the whole per-bill budget at 50,000 bills/s). An unfrozen
    # twin with the very same slots stores them at C speed; the instance is then moved to ``cls``
    # by __class__ assignment, which CPython allows only between classes whose memory layouts are
    # identical and refuses with TypeError otherwise, so the two cannot drift apart silently.
    params = getattr(cls, "__dataclass_params__", None)
    fields = dataclasses.fields(cls) if params is not None else ()
    names = tuple(f.name for f in fields)
    if params is None or not params.frozen or cls.__dict__.get("__slots__") != names:
        raise TypeError(f"record_builder needs a frozen dataclass with slots=True, not {cls.__name__}")
    if hasattr(cls, "__post_init__") or any(not f.init for f in fields):
        raise TypeError(f"record_builder cannot build {cls.__name__}: it would skip __post_init__ or init=False fields")
    twin = dataclasses.make_dataclass(f"_{cls.__name__}Builder", names, slots=True, repr=False, eq=False, match_args=False)
    set_class = object.__setattr__  # cls.__setattr__ refuses every assignment: it is frozen

    def build(*values: object) -> _Record:
        record = twin(*values)
        set_class(record, "__class__", cls)  # from here on a genuine, frozen ``cls``
        return record

    build.__doc__ = f"A {cls.__name__} from all its fields, positionally, in declaration order."
    return build
