"""AP payments (Intacct object APPYMT): the record, the fields read, and the parser."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

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
