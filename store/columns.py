"""Column types that keep values exact on both dialects: aware UTC datetimes and decimals as text."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import DateTime, Dialect, Text
from sqlalchemy.types import TypeDecorator

from store.api import StoreError


class NaiveDatetimeError(ValueError):
    """A naive datetime reached the store: a programming error, every time must be aware."""


def require_aware(value: datetime, what: str = "datetime") -> datetime:
    """Return `value` converted to UTC; raise NaiveDatetimeError when it carries no zone."""
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise NaiveDatetimeError(f"{what} must be timezone-aware, got naive {value.isoformat()}")
    return value.astimezone(timezone.utc)


class UtcDateTime(TypeDecorator[datetime]):
    """An instant stored in UTC and returned aware (UTC); naive input raises NaiveDatetimeError.

    PostgreSQL stores `timestamptz`. SQLite has no zone-aware type: SQLAlchemy writes a fixed-width
    `YYYY-MM-DD HH:MM:SS.ffffff` text, so the value is converted to UTC and stripped of its zone
    first; because every stored value is UTC and fixed-width, text comparison in SQL (`not_before
    <= :now`, audit ranges, lease expiry) orders instants correctly.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        utc = require_aware(value)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:  # SQLite: stored as UTC without a zone
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


def decimal_text(value: Decimal) -> str:
    """The canonical text of a finite decimal (`100.00` and `1E+2` both give `100`).

    One spelling per value lets SQL compare amounts as text (route identity) and keeps them exact
    on SQLite, whose NUMERIC affinity would turn them into binary floats.
    """
    if not isinstance(value, Decimal) or not value.is_finite():
        raise ValueError(f"amount must be a finite Decimal, got {value!r}")
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "0") else text


class DecimalText(TypeDecorator[Decimal]):
    """A Decimal stored as its canonical text (exact on every dialect)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> str | None:
        return None if value is None else decimal_text(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        try:
            return Decimal(value)
        except InvalidOperation as exc:  # only a hand-edited row can get here
            raise StoreError(f"stored amount {value!r} is not a decimal") from exc
