"""AP bills (Intacct objects APBILL and APBILLITEM): the records, the fields read, and the parsers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

# Display states of APBILL.STATE, grouped by what they mean to an AP team
# (see shared/docs/intacct-xml-api.md §9.2).
PENDING_APPROVAL_STATES = frozenset({"Submitted", "Partially Approved"})
DECLINED_STATES = frozenset({"Declined"})
APPROVED_STATES = frozenset({"Posted", "Partially Paid", "Selected"})
DONE_STATES = frozenset({"Paid"})


@dataclass(frozen=True, slots=True)
class BillLine:
    """One line of a bill, with its GL account and dimensions (cost center = department)."""

    record_no: int
    line_no: int
    amount: Decimal
    gl_account_no: str
    gl_account_title: str | None = None
    memo: str | None = None
    department_id: str | None = None
    department_name: str | None = None
    location_id: str | None = None
    location_name: str | None = None
    class_id: str | None = None
    class_name: str | None = None
    project_id: str | None = None
    project_name: str | None = None


@dataclass(frozen=True, slots=True)
class Bill:
    """One AP bill header plus (when read) its lines."""

    record_no: int
    bill_number: str  # RECORDID
    vendor_id: str
    vendor_name: str
    state: str  # display value, e.g. "Submitted", "Posted", "Paid"
    total_entered: Decimal
    total_due: Decimal
    currency: str
    total_paid: Decimal = Decimal("0")
    description: str | None = None
    reference: str | None = None  # DOCNUMBER
    bill_date: date | None = None  # WHENCREATED (a date in Intacct)
    due_date: date | None = None  # WHENDUE
    paid_date: date | None = None  # WHENPAID
    entity_id: str | None = None  # MEGAENTITYID
    when_modified: datetime | None = None
    record_url: str | None = None
    lines: tuple[BillLine, ...] = ()
