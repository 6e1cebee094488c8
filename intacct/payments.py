"""AP payments (Intacct object APPYMT): the record, the fields read, and the parser."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal

from intacct.values import Row, date_field, decimal_or_zero, required_int, text, text_or_empty, timestamp_field

# Display states of APPYMT.STATE (see shared/docs/intacct-xml-api.md §9.4).
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


def parse_payment(row: Row, zone: timezone) -> Payment:
    """An APPYMT row (timestamps in ``zone``, the user's GMT offset) → Payment."""
    return Payment(
        record_no=required_int(row, "RECORDNO"),
        vendor_id=text_or_empty(row, "VENDORID"),
        state=text_or_empty(row, "STATE"),
        amount=decimal_or_zero(row, "AMOUNTTOPAY"),
        currency=text_or_empty(row, "CURRENCY"),
        vendor_name=text(row, "VENDORNAME"),
        payment_method=text(row, "PAYMENTMETHOD"),
        payment_date=date_field(row, "WHENCREATED"),
        reference=text(row, "DOCNUMBER"),
        description=text(row, "DESCRIPTION"),
        financial_entity=text(row, "FINANCIALENTITY"),
        entity_id=text(row, "MEGAENTITYID"),
        when_modified=timestamp_field(row, "WHENMODIFIED", zone),
        record_url=text(row, "RECORD_URL"),
    )
