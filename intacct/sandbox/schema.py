"""Field and object definitions: the types the sandbox stores and how each renders in a response.

Rows are stored as Python lists in the field order of their `ObjectDef` (a list of slots costs a
quarter of a dict, which matters for 150,000 bill lines) holding Python values: `str`, `int`,
`Decimal`, `date`, aware UTC `datetime`, `bool`, or for enumerations the *stored code* (`"A"`),
which readByQuery compares against and responses translate to the display value (`"Posted"`).
`None` is an empty value: Intacct, like the Oracle database beneath it, keeps no empty strings.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime, timezone, tzinfo
from decimal import Decimal
from typing import Any, Mapping

DATE_FORMAT = "%m/%d/%Y"
TIMESTAMP_FORMAT = "%m/%d/%Y %H:%M:%S"


class FieldType(enum.Enum):
    """How a field is stored, compared in queries and rendered."""

    TEXT = "TEXT"
    INTEGER = "INTEGER"
    DECIMAL = "DECIMAL"  # amounts: rendered with two decimals
    DATE = "DATE"  # MM/DD/YYYY, no time zone
    TIMESTAMP = "TIMESTAMP"  # MM/DD/YYYY HH:MM:SS in the user's gmtoffset
    BOOLEAN = "BOOLEAN"  # true/false in responses, 'T'/'F' in readByQuery literals
    ENUM = "ENUM"  # stored code in rows and queries, display value in responses
    URL = "URL"  # RECORD_URL: computed when rendered, never stored, not queryable


@dataclass(frozen=True, slots=True)
class FieldDef:
    """One field of an object; `codes` maps stored code → display value for enumerations."""

    name: str
    type: FieldType
    codes: Mapping[str, str] | None = None

    @property
    def queryable(self) -> bool:
        """Whether readByQuery conditions may name this field."""
        return self.type is not FieldType.URL


@dataclass(frozen=True)
class ObjectDef:
    """One Intacct object: its name, its fields in `*` order, and their positions in a row."""

    name: str
    fields: tuple[FieldDef, ...]
    positions: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "positions", {f.name: i for i, f in enumerate(self.fields)})
        # Rows are looked up by row[0] everywhere, so RECORDNO must come first.
        if not self.fields or self.fields[0].name != "RECORDNO":
            raise ValueError(f"object {self.name} must start with its RECORDNO field")

    @property
    def listtype(self) -> str:
        """The lower-case object name used by readByQuery/readMore tags."""
        return self.name.lower()

    def field(self, name: str) -> FieldDef | None:
        """The definition of `name` (upper case), or None when the object has no such field."""
        position = self.positions.get(name)
        return None if position is None else self.fields[position]

    def new_row(self, values: Mapping[str, Any]) -> list[Any]:
        """A row list built from a mapping of field name → value (missing fields are empty)."""
        row: list[Any] = [None] * len(self.fields)
        positions = self.positions
        try:
            for name, value in values.items():
                row[positions[name]] = value
        except KeyError as exc:
            raise KeyError(f"{self.name} has no field {exc.args[0]}") from None
        return row


def stored_code(value: bool) -> str:
    """The readByQuery literal of a boolean: 'T' or 'F'."""
    return "T" if value else "F"


def render_value(definition: FieldDef, value: Any, zone: tzinfo) -> str | None:
    """The text of one stored value as Intacct prints it (None → an empty element)."""
    if value is None:
        return None
    kind = definition.type
    if kind is FieldType.TEXT:
        return value
    if kind is FieldType.TIMESTAMP:
        return format_timestamp(value, zone)
    if kind is FieldType.DECIMAL:
        return f"{value:.2f}"
    if kind is FieldType.DATE:
        return format_date(value)
    if kind is FieldType.INTEGER:
        return str(value)
    if kind is FieldType.ENUM:
        return definition.codes[value] if definition.codes else value
    if kind is FieldType.BOOLEAN:
        return "true" if value else "false"
    raise ValueError(f"field {definition.name} ({kind.value}) is computed, not stored")


# f-strings rather than strftime: rendering is the hot path of a 1,000-row page, and strftime
# costs three times as much.
def format_date(value: date) -> str:
    """MM/DD/YYYY."""
    return f"{value.month:02d}/{value.day:02d}/{value.year:04d}"


def format_timestamp(value: datetime, zone: tzinfo) -> str:
    """MM/DD/YYYY HH:MM:SS of an aware datetime, in `zone`."""
    v = value.astimezone(zone)
    return f"{v.month:02d}/{v.day:02d}/{v.year:04d} {v.hour:02d}:{v.minute:02d}:{v.second:02d}"


def parse_date(text: str) -> date:
    """A date from 'MM/DD/YYYY' (raises ValueError otherwise)."""
    return datetime.strptime(text, DATE_FORMAT).date()


def parse_timestamp(text: str, zone: tzinfo) -> datetime:
    """An aware UTC datetime from 'MM/DD/YYYY HH:MM:SS' read in `zone` (raises ValueError)."""
    return datetime.strptime(text, TIMESTAMP_FORMAT).replace(tzinfo=zone).astimezone(timezone.utc)


def two_places(amount: Decimal) -> Decimal:
    """An amount rounded to cents, as Sage rounds currency input."""
    return amount.quantize(Decimal("0.01"))
