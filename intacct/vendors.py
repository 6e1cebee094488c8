"""Vendors (Intacct object VENDOR): the record, the fields read, and the parser.

Fields (evidence: a real company's `lookup` of VENDOR and a recorded query that selected them,
sandbox/definitions/vendor.json): STATUS reads active/inactive, ONHOLD true/false.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from intacct.schema import ObjectFields
from intacct.values import Row, boolean, record_builder, required_int, text, text_or_empty, timestamp_field


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


VENDOR_OBJECT = "VENDOR"

VENDOR_READ = ObjectFields(
    VENDOR_OBJECT,
    required=("RECORDNO", "VENDORID", "NAME", "STATUS", "ONHOLD", "WHENMODIFIED"),
    optional=("CURRENCY", "TERMNAME", "DISPLAYCONTACT.EMAIL1", "MEGAENTITYID", "RECORD_URL"),
    fix="give the Web Services user's role read access to Accounts Payable vendors (Vendors, List and View)",
)
"""VENDOR fields read (never ``*``; never TAXID or bank account numbers), checked against `lookup`."""

VENDOR_FIELDS = VENDOR_READ.all
"""Every VENDOR field the client may select."""


_new_vendor = record_builder(Vendor)


def parse_vendor(row: Row, zone: timezone) -> Vendor:
    """A VENDOR row (timestamps in ``zone``, the user's GMT offset) → Vendor."""
    # Built positionally (see intacct.values.record_builder), so the order below is Vendor's.
    return _new_vendor(
        required_int(row, "RECORDNO"),  # record_no
        text_or_empty(row, "VENDORID"),  # vendor_id
        text_or_empty(row, "NAME"),  # name
        text_or_empty(row, "STATUS"),  # status
        boolean(row, "ONHOLD"),  # on_hold
        timestamp_field(row, "WHENMODIFIED", zone),  # when_modified
        text(row, "CURRENCY"),  # currency
        text(row, "TERMNAME"),  # term_name
        text(row, "DISPLAYCONTACT.EMAIL1"),  # email
        text(row, "MEGAENTITYID"),  # entity_id
        text(row, "RECORD_URL"),  # record_url
    )
