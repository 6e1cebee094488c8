"""Typed records from readByQuery rows and pages, each record type described once as a `Layout`.

A layout lists a record's fields in its constructor's order: the Intacct field each one comes
from, how its text becomes a value, the value when it is empty, and constants at the end.
`layout.reader(zone)` reads one row (`RecordReader.row`: a bad value raises MalformedRecordError
naming the field and the RECORDNO) or a whole page (`RecordReader.page`). A page goes through the
compiled reader (intacct/_fastpage.pyx, built by `make`) when it is there: same converters, same
constructor, about 3x faster; whatever it cannot take, it leaves to the row reader. Without the
compiled module everything runs row by row (`PAGE_READER` says which).
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from datetime import timezone
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Callable, Generic, Sequence, TypeVar

from intacct.errors import MalformedRecordError
from intacct.values import Row, bad_field, parse_date, parse_timestamp, record_builder

if TYPE_CHECKING:
    from intacct.protocol import Result

try:
    from intacct._fastpage import read_records as _read_records
except ImportError:  # not compiled here (no C compiler or Cython): the row reader does it all
    _read_records = None

PAGE_READER = "compiled" if _read_records is not None else "python"
"""Which page reader this process uses: "compiled" (intacct/_fastpage.pyx) or "python"."""

T = TypeVar("T")

REQUIRED: Any = type("Required", (), {"__repr__": lambda self: "REQUIRED", "__slots__": ()})()
"""The empty value of a field every row must carry: an empty one is a malformed record."""


def finite_decimal(text: str) -> Decimal:
    """An amount: a plain decimal number (NaN and infinities are refused)."""
    amount = Decimal(text)
    if not amount.is_finite():
        raise ValueError(text)
    return amount


@dataclass(frozen=True, slots=True)
class Field:
    """One constructor argument: read from ``source`` (None: always ``empty``, a constant)."""

    source: str | None
    convert: Callable[..., Any] | None = None  # text → value; None keeps the text
    empty: Any = None  # the value when the element is empty or absent (REQUIRED: not allowed)
    kind: str = "text"  # what the text must be, for the error message
    zoned: bool = False  # convert(text, zone=user's zone)


def text(source: str, *, empty: str | None = None) -> Field:
    """The text as it is; ``empty`` (None, or "" for a plain-str attribute) when empty."""
    return Field(source, None, empty)


def integer(source: str, *, empty: Any = REQUIRED) -> Field:
    """An integer; by default every row must carry it (a record number)."""
    return Field(source, int, empty, "integer")


def amount(source: str) -> Field:
    """A decimal amount; empty means zero."""
    return Field(source, finite_decimal, Decimal(0), "decimal amount")


def day(source: str) -> Field:
    """A date (``MM/DD/YYYY``); None when empty."""
    return Field(source, parse_date, None, "date (MM/DD/YYYY)")


def moment(source: str) -> Field:
    """A timestamp in the user's zone (``MM/DD/YYYY HH:MM:SS``) as an aware UTC datetime; None when empty."""
    return Field(source, parse_timestamp, None, "timestamp (MM/DD/YYYY HH:MM:SS)", zoned=True)


def constant(value: Any) -> Field:
    """A value that is not read (e.g. a bill's lines, which come from another object)."""
    return Field(None, None, value)


class Layout(Generic[T]):
    """How the rows of one Intacct object become records of one frozen slots dataclass.

    With a ``key`` field, each row becomes ``(key, record)`` instead: e.g. a bill line and the
    RECORDNO of the bill it belongs to, which the line itself does not keep."""

    def __init__(self, cls: type[Any], fields: Sequence[Field], *, key: Field | None = None) -> None:
        read = [f for f in fields if f.source is not None]
        if any(f.source is not None for f in fields[len(read) :]):
            raise ValueError("constants must come after every field that is read")
        expected = len(dataclasses.fields(cls))  # type: ignore[arg-type]
        if len(fields) != expected:
            raise ValueError(f"{cls.__name__} has {expected} fields; the layout gives {len(fields)}")
        if key is not None and key.source is None:
            raise ValueError("a key must be read from a field")
        self.cls = cls
        self.fields = tuple(read) if key is None else (key, *read)
        self.tail = tuple(f.empty for f in fields[len(read) :])
        self.sources = tuple(f.source for f in self.fields)
        build = record_builder(cls)
        self._build = build if key is None else (lambda key_value, *values: (key_value, build(*values)))
        self._readers = functools.lru_cache(maxsize=8)(self._reader)

    def reader(self, zone: timezone) -> RecordReader[T]:
        """The reader for a user whose timestamps are in ``zone`` (cached per zone)."""
        return self._readers(zone)

    def _reader(self, zone: timezone) -> RecordReader[T]:
        converters = tuple(functools.partial(f.convert, zone=zone) if f.zoned else f.convert for f in self.fields)
        return RecordReader(self, converters, self._build)


class RecordReader(Generic[T]):
    """A layout's reader for one zone: `row` for one row, `page` for a function's whole page."""

    def __init__(self, layout: Layout[T], converters: tuple[Callable[[str], Any] | None, ...], build: Callable[..., T]) -> None:
        self._layout = layout
        self._steps = tuple(zip(layout.fields, converters, strict=True))
        self._converters = converters
        self._empties = tuple(f.empty for f in layout.fields)
        self._build = build

    def row(self, row: Row) -> T:
        """One row (FIELD → text) as a record; MalformedRecordError names a bad or missing field."""
        values = []
        for field, convert in self._steps:
            value = row.get(field.source)  # type: ignore[arg-type] - read fields have a source
            if not value:
                if field.empty is REQUIRED:
                    raise MalformedRecordError(f"field {field.source} is missing: every row must carry it")
                values.append(field.empty)
            elif convert is None:
                values.append(value)
            else:
                try:
                    values.append(convert(value))
                except (ValueError, ArithmeticError):  # decimal's InvalidOperation is an ArithmeticError
                    raise bad_field(row, field.source, value, field.kind) from None  # type: ignore[arg-type]
        return self._build(*values, *self._layout.tail)

    def page(self, result: Result) -> list[T]:
        """Every row of a function's result as records, in order (compiled when it can be)."""
        data = result.data_element
        if _read_records is not None and data is not None:
            layout = self._layout
            records = _read_records(data, layout.sources, self._converters, self._empties, self._build, layout.tail, REQUIRED)
            if records is not None:
                return records
        return [self.row(row) for row in result.rows()]
