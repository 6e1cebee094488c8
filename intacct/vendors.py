"""Vendors (Intacct object VENDOR): the record, the fields read, and the parser."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Vendor:
    """One vendor as ml-connector sees it."""

    record_no: int
    vendor_id: str
    name: str
    status: str  # "active" | "inactive"
    on_hold: bool
    when_modified: datetime | None = None
    currency: str | None = None
    term_name: str | None = None
    email: str | None = None
    entity_id: str | None = None
    record_url: str | None = None
