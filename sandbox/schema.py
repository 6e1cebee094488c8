"""Field and object definitions: the types the sandbox stores and how each renders in a response.

Rows are stored as Python lists, one slot per stored field with RECORDNO first (a list of slots
costs a quarter of a dict, which matters for 150,000 bill lines), holding Python values: `str`,
`int`, `Decimal`, `date`, aware UTC `datetime`, `bool`, or for enumerations the *stored code*
(`"A"`), which readByQuery compares against and responses translate to the display value.
`None` is an empty value: Intacct, like the Oracle database beneath it, keeps no empty strings.

Some fields are views of another field's slot (`stored_as`): APBILL's STATE is the word of the
code kept in RAWSTATE, APPYMT's DISPLAYSTATE the word of the code kept in STATE, a `TRX_` amount
the same number as its base twin in a one-currency company. They share the slot, so a change can
never make them disagree. The many recorded fields the sandbox never fills (`kept` lists the
ones it does) share one last slot that stays empty, so a 260-field VENDOR row costs 20 slots.
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
    DECIMAL = "DECIMAL"  # amounts and percentages: rendered with two decimals
    DATE = "DATE"  # MM/DD/YYYY, no time zone
    TIMESTAMP = "TIMESTAMP"  # MM/DD/YYYY HH:MM:SS in the user's gmtoffset
    BOOLEAN = "BOOLEAN"  # true/false in responses, 'T'/'F' in readByQuery literals
    ENUM = "ENUM"  # stored code in rows and queries, display value in responses
    URL = "URL"  # RECORD_URL: computed when rendered, never stored, not queryable


@dataclass(frozen=True, slots=True)
class FieldDef:
    """One field of an object: how the sandbox treats it, and what `lookup` says about it.

    `codes` maps stored code → display value for enumerations; `stored_as` names the field whose
    slot holds this one's value; `recorded` is the field's entry in the recorded `lookup`
    (ID, LABEL, DATATYPE, REQUIRED, READONLY, VALIDVALUES)."""

    name: str
    type: FieldType
    codes: Mapping[str, str] | None = None
    stored_as: str | None = None
    queryable: bool = True
    recorded: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ObjectDef:
    """One Intacct object: its fields in `*` order and the slot of each in a stored row."""

    name: str
    fields: tuple[FieldDef, ...]
    relationships: tuple[Mapping[str, str], ...] = ()
    kept: frozenset[str] | None = None  # the stored fields the sandbox fills; None: all of them
    positions: dict[str, int] = field(init=False, repr=False)
    width: int = field(init=False, repr=False)
    by_name: dict[str, FieldDef] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        names = [f.name for f in self.fields]
        if "RECORDNO" not in names:
            raise ValueError(f"object {self.name} has no RECORDNO field")
        if len(set(names)) != len(names):
            raise ValueError(f"object {self.name} lists a field twice")
        unknown = set(self.kept or ()) - set(names)
        if unknown:
            raise ValueError(f"object {self.name} keeps fields it does not have: {', '.join(sorted(unknown))}")
        # Rows are looked up by row[0] everywhere, so RECORDNO takes the first slot.
        stored = ["RECORDNO"] + [
            f.name for f in self.fields
            if f.stored_as is None and f.name != "RECORDNO" and f.type is not FieldType.URL
            and (self.kept is None or f.name in self.kept)
        ]
        positions = {name: slot for slot, name in enumerate(stored)}
        empty = len(stored)  # the slot every field the sandbox never fills reads from
        for f in self.fields:
            if f.stored_as is None and f.name not in positions:
                positions[f.name] = empty
        for f in self.fields:
            if f.stored_as is not None:
                if f.stored_as not in positions:
                    raise ValueError(f"{self.name}.{f.name} is stored as {f.stored_as}, which is not a stored field")
                positions[f.name] = positions[f.stored_as]
        object.__setattr__(self, "positions", positions)
        object.__setattr__(self, "width", empty + 1)
        object.__setattr__(self, "by_name", {f.name: f for f in self.fields})

    @property
    def listtype(self) -> str:
        """The lower-case object name used by readByQuery/readMore tags."""
        return self.name.lower()

    def field(self, name: str) -> FieldDef | None:
        """The definition of `name` (upper case), or None when the object has no such field."""
        return self.by_name.get(name)

    def slot(self, name: str) -> int:
        """The slot a value of `name` is written to (KeyError for a field the sandbox does not fill)."""
        definition = self.field(name)
        if definition is None:
            raise KeyError(f"{self.name} has no field {name}")
        if definition.stored_as is not None:
            raise KeyError(f"{self.name}.{name} is a view of {definition.stored_as}; set that field")
        slot = self.positions[name]
        if slot == self.width - 1:
            raise KeyError(f"the sandbox keeps no value for {self.name}.{name}")
        return slot

    def new_row(self, values: Mapping[str, Any]) -> list[Any]:
        """A row list built from a mapping of stored field name → value (missing fields are empty)."""
        row: list[Any] = [None] * self.width
        for name, value in values.items():
            row[self.slot(name)] = value
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
