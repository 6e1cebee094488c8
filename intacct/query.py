"""A small builder for readByQuery conditions; every value placed in a query is escaped here.

Syntax written (developer.intacct.com, readByQuery): upper-case field names, spaces around every
operator, strings in single quotes with ``\\'`` for a quote, numbers bare, dates ``'MM/DD/YYYY'``,
timestamps ``'MM/DD/YYYY HH:MM:SS'`` in the user's GMT offset (so conditions are rendered late,
with `render(condition, gmt_offset)`).

Escaping of text: control characters are dropped (they have no business in a filter and XML
forbids most of them), backslashes are dropped (how Intacct reads a literal backslash is not
documented, so we never send one), and quotes become ``\\'``. For LIKE searches the user's text
also loses ``%`` and ``_``, so typed text can never widen a search into a wildcard; equality
comparisons keep them, because there they are ordinary characters of ids such as ``AP_2024``.

    >>> render(field("VENDORNAME").contains("Jane's Deli") & field("STATE").in_(["S", "PA"]), timedelta(0))
    "(VENDORNAME LIKE '%Jane\\\\'s Deli%' AND STATE IN ('S', 'PA'))"
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Iterable, Union

from intacct.values import format_date, format_timestamp

Value = Union[str, int, Decimal, date, datetime]
"""What a condition may compare with (datetimes must be aware; bool and float are refused)."""

_FIELD_NAME = re.compile(r"[A-Z][A-Z0-9_]*(?:\.[A-Z][A-Z0-9_]*)?")


def clean_text(text: str) -> str:
    """User text without control characters and backslashes (the characters we never send)."""
    return "".join(ch for ch in text if ch != "\\" and unicodedata.category(ch) not in ("Cc", "Cs"))


def clean_search_text(text: str) -> str:
    """User text for a LIKE search: `clean_text`, minus the wildcards ``%`` and ``_``, trimmed."""
    return clean_text(text).replace("%", "").replace("_", "").strip()


def quote(text: str) -> str:
    """A string literal: cleaned, quotes escaped as ``\\'``, wrapped in single quotes."""
    return "'" + clean_text(text).replace("'", "\\'") + "'"


def literal(value: Value, gmt_offset: timedelta | None) -> str:
    """One value as readByQuery literal text; timestamps need the user's GMT offset."""
    if isinstance(value, bool):
        # bool is an int subclass; Intacct wants the stored codes 'T'/'F' (states.BOOLEAN_CODES).
        raise TypeError("use the stored codes 'T'/'F' for booleans (intacct.states.BOOLEAN_CODES)")
    if isinstance(value, str):
        return quote(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"not a finite amount: {value}")
        return format(value, "f")
    if isinstance(value, datetime):
        if gmt_offset is None:
            raise ValueError("a timestamp condition needs the user's GMT offset to be rendered")
        return "'" + format_timestamp(value, gmt_offset) + "'"
    if isinstance(value, date):
        return "'" + format_date(value) + "'"
    raise TypeError(f"cannot put a {type(value).__name__} into an Intacct query")


class Condition:
    """A readByQuery condition; combine with ``&`` (AND) and ``|`` (OR)."""

    def render(self, gmt_offset: timedelta | None) -> str:
        """The condition as query text, timestamps written in ``gmt_offset``."""
        raise NotImplementedError

    def __and__(self, other: Condition) -> Condition:
        return all_of(self, other)

    def __or__(self, other: Condition) -> Condition:
        return any_of(self, other)


@dataclass(frozen=True, slots=True)
class _Comparison(Condition):
    field: str
    op: str
    value: Value

    def render(self, gmt_offset: timedelta | None) -> str:
        return f"{self.field} {self.op} {literal(self.value, gmt_offset)}"


@dataclass(frozen=True, slots=True)
class _Membership(Condition):
    field: str
    values: tuple[Value, ...]
    negate: bool

    def render(self, gmt_offset: timedelta | None) -> str:
        items = ", ".join(literal(v, gmt_offset) for v in self.values)
        return f"{self.field} {'NOT IN' if self.negate else 'IN'} ({items})"


@dataclass(frozen=True, slots=True)
class _Like(Condition):
    field: str
    pattern: str  # already cleaned; % only where we put it

    def render(self, gmt_offset: timedelta | None) -> str:
        return f"{self.field} LIKE '{self.pattern}'"


@dataclass(frozen=True, slots=True)
class _NullCheck(Condition):
    field: str
    is_null: bool

    def render(self, gmt_offset: timedelta | None) -> str:
        return f"{self.field} {'IS NULL' if self.is_null else 'IS NOT NULL'}"


@dataclass(frozen=True, slots=True)
class _Junction(Condition):
    op: str
    parts: tuple[Condition, ...]

    def render(self, gmt_offset: timedelta | None) -> str:
        return "(" + f" {self.op} ".join(p.render(gmt_offset) for p in self.parts) + ")"


def all_of(*conditions: Condition) -> Condition:
    """Every condition must hold (AND); a single condition is returned as it is."""
    return _junction("AND", conditions)


def any_of(*conditions: Condition) -> Condition:
    """At least one condition must hold (OR); a single condition is returned as it is."""
    return _junction("OR", conditions)


def _junction(op: str, conditions: tuple[Condition, ...]) -> Condition:
    if not conditions:
        raise ValueError(f"{op} needs at least one condition")
    if len(conditions) == 1:
        return conditions[0]
    flat: list[Condition] = []
    for condition in conditions:
        flat.extend(condition.parts if isinstance(condition, _Junction) and condition.op == op else (condition,))
    return _Junction(op, tuple(flat))


@dataclass(frozen=True, slots=True)
class Field:
    """A field of the queried object; its methods make conditions on it."""

    name: str

    def __post_init__(self) -> None:
        if not _FIELD_NAME.fullmatch(self.name):
            raise ValueError(f"not an Intacct field name: {self.name!r}")

    def eq(self, value: Value) -> Condition:
        """FIELD = value"""
        return _Comparison(self.name, "=", value)

    def ne(self, value: Value) -> Condition:
        """FIELD != value"""
        return _Comparison(self.name, "!=", value)

    def lt(self, value: Value) -> Condition:
        """FIELD < value"""
        return _Comparison(self.name, "<", value)

    def le(self, value: Value) -> Condition:
        """FIELD <= value"""
        return _Comparison(self.name, "<=", value)

    def gt(self, value: Value) -> Condition:
        """FIELD > value"""
        return _Comparison(self.name, ">", value)

    def ge(self, value: Value) -> Condition:
        """FIELD >= value"""
        return _Comparison(self.name, ">=", value)

    def in_(self, values: Iterable[Value]) -> Condition:
        """FIELD IN (values…); at least one value."""
        return self._membership(values, negate=False)

    def not_in(self, values: Iterable[Value]) -> Condition:
        """FIELD NOT IN (values…); at least one value."""
        return self._membership(values, negate=True)

    def _membership(self, values: Iterable[Value], *, negate: bool) -> Condition:
        items = tuple(values)
        if not items:
            raise ValueError(f"{self.name} {'NOT IN' if negate else 'IN'} needs at least one value")
        return _Membership(self.name, items, negate)

    def contains(self, text: str) -> Condition:
        """FIELD LIKE '%text%' with the user's wildcards removed; ValueError if nothing is left."""
        return _Like(self.name, "%" + _like_body(text) + "%")

    def starts_with(self, text: str) -> Condition:
        """FIELD LIKE 'text%' with the user's wildcards removed; ValueError if nothing is left."""
        return _Like(self.name, _like_body(text) + "%")

    def is_null(self) -> Condition:
        """FIELD IS NULL"""
        return _NullCheck(self.name, True)

    def is_not_null(self) -> Condition:
        """FIELD IS NOT NULL"""
        return _NullCheck(self.name, False)


def _like_body(text: str) -> str:
    cleaned = clean_search_text(text)
    if not cleaned:
        raise ValueError("nothing searchable is left of the text once wildcards and control characters are removed")
    return cleaned.replace("'", "\\'")


def field(name: str) -> Field:
    """The field called ``name`` (upper case, e.g. ``VENDORID`` or ``DISPLAYCONTACT.EMAIL1``)."""
    return Field(name)


def render(condition: Condition | None, gmt_offset: timedelta | None = None) -> str:
    """The query text of a condition ("" = every row); ``gmt_offset`` is needed only for timestamps."""
    return "" if condition is None else condition.render(gmt_offset)
