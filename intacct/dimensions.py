"""Reference data: GL accounts, departments, locations, classes, projects (one record type).

Fields (evidence: real companies' `lookup` of each object, sandbox/definitions/):
GLACCOUNT ACCOUNTNO/TITLE, DEPARTMENT DEPARTMENTID/TITLE, LOCATION LOCATIONID/NAME, CLASS
CLASSID/NAME, PROJECT PROJECTID/NAME, each with RECORDNO, STATUS and WHENMODIFIED. Only the chart
of accounts is required: a company may not use classes, or subscribe to Projects.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Mapping

from intacct.schema import ObjectFields
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


_FIXES: Mapping[DimensionKind, str] = {
    DimensionKind.GL_ACCOUNT: "give the Web Services user's role read access to General Ledger accounts",
    DimensionKind.DEPARTMENT: "give the Web Services user's role read access to Company departments",
    DimensionKind.LOCATION: "give the Web Services user's role read access to Company locations",
    DimensionKind.CLASS: "give the Web Services user's role read access to Company classes",
    DimensionKind.PROJECT: "subscribe to the Projects module and give the role read access to projects",
}

DIMENSION_READS: Mapping[DimensionKind, ObjectFields] = {
    kind: ObjectFields(
        kind.value,
        required=("RECORDNO", id_field, name_field),
        optional=("STATUS", "WHENMODIFIED"),
        fix=_FIXES[kind],
        optional_object=kind is not DimensionKind.GL_ACCOUNT,
    )
    for kind, (id_field, name_field) in _ID_AND_NAME.items()
}
"""The fields read of each reference object, checked against the company's `lookup`."""


def dimension_fields(kind: DimensionKind) -> tuple[str, ...]:
    """Every field the client may select of one reference object (never ``*``)."""
    return DIMENSION_READS[kind].all


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
