"""Reference data: GL accounts, departments, locations, classes, projects (one record type)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime


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
