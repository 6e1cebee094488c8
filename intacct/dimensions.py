"""Reference data: GL accounts, departments, locations, classes, projects (one record type)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Mapping

from intacct.values import Row, record_builder, required_int, text, text_or_empty, timestamp_field


class DimensionKind(enum.Enum):
    """The reference objects ml-connector reads, valued by their Intacct object name."""

    GL_ACCOUNT = "GLACCOUNT"
    DEPARTMENT = "DEPARTMENT"
    LOCATION = "LOCATION"
    CLASS = "CLASS"
    PROJECT = "PROJECT"


@dataclass(frozen=True, slots=True)
class Dimension:
    """One reference record: its business id (account number, department id…) and its name."""

    kind: DimensionKind
    record_no: int
    id: str
    name: str
    status: str = "active"
    when_modified: datetime | None = None


# Per kind: (business id field, name field). Every kind also reads RECORDNO, STATUS, WHENMODIFIED.
_ID_AND_NAME: Mapping[DimensionKind, tuple[str, str]] = {
    DimensionKind.GL_ACCOUNT: ("ACCOUNTNO", "TITLE"),
    DimensionKind.DEPARTMENT: ("DEPARTMENTID", "TITLE"),
    DimensionKind.LOCATION: ("LOCATIONID", "NAME"),
    DimensionKind.CLASS: ("CLASSID", "NAME"),
    DimensionKind.PROJECT: ("PROJECTID", "NAME"),
}


def dimension_fields(kind: DimensionKind) -> tuple[str, ...]:
    """The fields read for one reference object (never ``*``)."""
    id_field, name_field = _ID_AND_NAME[kind]
    return ("RECORDNO", id_field, name_field, "STATUS", "WHENMODIFIED")


_new_dimension = record_builder(Dimension)


def parse_dimension(kind: DimensionKind, row: Row, zone: timezone) -> Dimension:
    """A GLACCOUNT/DEPARTMENT/LOCATION/CLASS/PROJECT row → Dimension (STATUS absent → "active")."""
    id_field, name_field = _ID_AND_NAME[kind]
    # Built positionally (see intacct.values.record_builder), so the order below is Dimension's.
    return _new_dimension(
        kind,  # kind
        required_int(row, "RECORDNO"),  # record_no
        text_or_empty(row, id_field),  # id
        text_or_empty(row, name_field),  # name
        text(row, "STATUS") or "active",  # status
        timestamp_field(row, "WHENMODIFIED", zone),  # when_modified
    )
