"""AP bills (Intacct objects APBILL and APBILLITEM): the records, the fields read, and the parsers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal

from intacct.values import Row, date_field, decimal_or_zero, optional_int, record_builder, required_int, timestamp_field

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


BILL_OBJECT = "APBILL"
BILL_LINE_OBJECT = "APBILLITEM"

BILL_FIELDS = (
    "RECORDNO", "RECORDID", "VENDORID", "VENDORNAME", "STATE", "DESCRIPTION", "DOCNUMBER",
    "WHENCREATED", "WHENDUE", "WHENPAID", "TOTALENTERED", "TOTALDUE", "TOTALPAID", "CURRENCY",
    "MEGAENTITYID", "WHENMODIFIED", "RECORD_URL",
)  # fmt: skip
"""APBILL fields read (never ``*``)."""

BILL_LINE_FIELDS = (
    "RECORDNO", "RECORDKEY", "LINE_NO", "ACCOUNTNO", "ACCOUNTTITLE", "AMOUNT", "ENTRYDESCRIPTION",
    "DEPARTMENTID", "DEPARTMENTNAME", "LOCATIONID", "LOCATIONNAME", "CLASSID", "CLASSNAME",
    "PROJECTID", "PROJECTNAME",
)  # fmt: skip
"""APBILLITEM fields read; RECORDKEY is the RECORDNO of the bill the line belongs to."""


_new_bill = record_builder(Bill)
_new_bill_line = record_builder(BillLine)


def parse_bill(row: Row, zone: timezone) -> Bill:
    """An APBILL row (timestamps in ``zone``, the user's GMT offset) → Bill without lines."""
    # This runs 50,000+ times a second: plain text fields are read inline, and the record is
    # built positionally (keywords cost a microsecond a bill), so the order below is Bill's.
    get = row.get
    return _new_bill(
        required_int(row, "RECORDNO"),  # record_no
        get("RECORDID") or "",  # bill_number
        get("VENDORID") or "",  # vendor_id
        get("VENDORNAME") or "",  # vendor_name
        get("STATE") or "",  # state
        decimal_or_zero(row, "TOTALENTERED"),  # total_entered
        decimal_or_zero(row, "TOTALDUE"),  # total_due
        get("CURRENCY") or "",  # currency
        decimal_or_zero(row, "TOTALPAID"),  # total_paid
        get("DESCRIPTION") or None,  # description
        get("DOCNUMBER") or None,  # reference
        date_field(row, "WHENCREATED"),  # bill_date
        date_field(row, "WHENDUE"),  # due_date
        date_field(row, "WHENPAID"),  # paid_date
        get("MEGAENTITYID") or None,  # entity_id
        timestamp_field(row, "WHENMODIFIED", zone),  # when_modified
        get("RECORD_URL") or None,  # record_url
        (),  # lines: read separately (APBILLITEM)
    )


def parse_bill_line(row: Row) -> tuple[int, BillLine]:
    """An APBILLITEM row → (RECORDNO of its bill, BillLine)."""
    get = row.get  # as in parse_bill: inline reads, positional build in BillLine's field order
    line = _new_bill_line(
        required_int(row, "RECORDNO"),  # record_no
        optional_int(row, "LINE_NO") or 0,  # line_no
        decimal_or_zero(row, "AMOUNT"),  # amount
        get("ACCOUNTNO") or "",  # gl_account_no
        get("ACCOUNTTITLE") or None,  # gl_account_title
        get("ENTRYDESCRIPTION") or None,  # memo
        get("DEPARTMENTID") or None,  # department_id
        get("DEPARTMENTNAME") or None,  # department_name
        get("LOCATIONID") or None,  # location_id
        get("LOCATIONNAME") or None,  # location_name
        get("CLASSID") or None,  # class_id
        get("CLASSNAME") or None,  # class_name
        get("PROJECTID") or None,  # project_id
        get("PROJECTNAME") or None,  # project_name
    )
    return required_int(row, "RECORDKEY"), line
