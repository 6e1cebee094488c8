"""AP payments (Intacct object APPYMT): the record, the fields read, and the parser."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal

from intacct.values import Row, date_field, decimal_or_zero, record_builder, required_int, text, text_or_empty, timestamp_field

# Display states of APPYMT.STATE (Sage Intacct product help, payment request states).
PENDING_APPROVAL_STATES = frozenset({"Submitted", "Partially Approved"})
PENDING_PAYMENT_STATES = frozenset({"Approved", "Delivered"})
DECLINED_STATES = frozenset({"Declined"})
DONE_STATES = frozenset({"Complete", "Voided"})


@dataclass(frozen=True, slots=True)
class Payment:
    """One AP payment (payment request)."""

    record_no: int
    vendor_id: str
    state: str  # display value, e.g. "Submitted", "Approved", "Complete"
    amount: Decimal  # AMOUNTTOPAY
    currency: str
    vendor_name: str | None = None
    payment_method: str | None = None
    payment_date: date | None = None  # WHENCREATED (the payment date)
    reference: str | None = None  # DOCNUMBER (check / transaction number)
    description: str | None = None
    financial_entity: str | None = None  # bank / card account id
    entity_id: str | None = None
    when_modified: datetime | None = None
    record_url: str | None = None


PAYMENT_OBJECT = "APPYMT"

PAYMENT_FIELDS = (
    "RECORDNO", "VENDORID", "VENDORNAME", "STATE", "AMOUNTTOPAY", "CURRENCY", "PAYMENTMETHOD",
    "WHENCREATED", "DOCNUMBER", "DESCRIPTION", "FINANCIALENTITY", "MEGAENTITYID", "WHENMODIFIED",
    "RECORD_URL",
)  # fmt: skip
"""APPYMT fields read (never ``*``); WHENCREATED is the payment date."""


_new_payment = record_builder(Payment)


def parse_payment(row: Row, zone: timezone) -> Payment:
    """An APPYMT row (timestamps in ``zone``, the user's GMT offset) → Payment."""
    # Built positionally (see intacct.values.record_builder), so the order below is Payment's.
    return _new_payment(
        required_int(row, "RECORDNO"),  # record_no
        text_or_empty(row, "VENDORID"),  # vendor_id
        text_or_empty(row, "STATE"),  # state
        decimal_or_zero(row, "AMOUNTTOPAY"),  # amount
        text_or_empty(row, "CURRENCY"),  # currency
        text(row, "VENDORNAME"),  # vendor_name
        text(row, "PAYMENTMETHOD"),  # payment_method
        date_field(row, "WHENCREATED"),  # payment_date
        text(row, "DOCNUMBER"),  # reference
        text(row, "DESCRIPTION"),  # description
        text(row, "FINANCIALENTITY"),  # financial_entity
        text(row, "MEGAENTITYID"),  # entity_id
        timestamp_field(row, "WHENMODIFIED", zone),  # when_modified
        text(row, "RECORD_URL"),  # record_url
    )
