"""AP bills (Intacct objects APBILL and APBILLITEM): the records, the fields read, and the parsers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal

from intacct.protocol import Result
from intacct.records import Layout, amount, constant, day, integer, moment, text
from intacct.values import Row

# Display states of APBILL.STATE, grouped by what they mean to an AP team
# (Sage Intacct product help, "Bill states").
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


BILL_LAYOUT: Layout[Bill] = Layout(
    Bill,
    (
        integer("RECORDNO"),  # record_no
        text("RECORDID", empty=""),  # bill_number
        text("VENDORID", empty=""),  # vendor_id
        text("VENDORNAME", empty=""),  # vendor_name
        text("STATE", empty=""),  # state
        amount("TOTALENTERED"),  # total_entered
        amount("TOTALDUE"),  # total_due
        text("CURRENCY", empty=""),  # currency
        amount("TOTALPAID"),  # total_paid
        text("DESCRIPTION"),  # description
        text("DOCNUMBER"),  # reference
        day("WHENCREATED"),  # bill_date
        day("WHENDUE"),  # due_date
        day("WHENPAID"),  # paid_date
        text("MEGAENTITYID"),  # entity_id
        moment("WHENMODIFIED"),  # when_modified
        text("RECORD_URL"),  # record_url
        constant(()),  # lines: read separately (APBILLITEM)
    ),
)
"""How an APBILL row becomes a Bill (in Bill's field order); the fields it reads are BILL_FIELDS."""

BILL_LINE_LAYOUT: Layout[tuple[int, BillLine]] = Layout(
    BillLine,
    (
        integer("RECORDNO"),  # record_no
        integer("LINE_NO", empty=0),  # line_no
        amount("AMOUNT"),  # amount
        text("ACCOUNTNO", empty=""),  # gl_account_no
        text("ACCOUNTTITLE"),  # gl_account_title
        text("ENTRYDESCRIPTION"),  # memo
        text("DEPARTMENTID"),  # department_id
        text("DEPARTMENTNAME"),  # department_name
        text("LOCATIONID"),  # location_id
        text("LOCATIONNAME"),  # location_name
        text("CLASSID"),  # class_id
        text("CLASSNAME"),  # class_name
        text("PROJECTID"),  # project_id
        text("PROJECTNAME"),  # project_name
    ),
    key=integer("RECORDKEY"),
)
"""How an APBILLITEM row becomes (RECORDNO of its bill, BillLine); the fields it reads are BILL_LINE_FIELDS."""


def parse_bill(row: Row, zone: timezone) -> Bill:
    """An APBILL row (timestamps in ``zone``, the user's GMT offset) → Bill without lines."""
    return BILL_LAYOUT.reader(zone).row(row)


def parse_bill_page(result: Result, zone: timezone) -> list[Bill]:
    """Every APBILL row of a readByQuery/readMore page → Bills (the compiled reader when built)."""
    return BILL_LAYOUT.reader(zone).page(result)


def parse_bill_line(row: Row) -> tuple[int, BillLine]:
    """An APBILLITEM row → (RECORDNO of its bill, BillLine)."""
    return BILL_LINE_LAYOUT.reader(timezone.utc).row(row)  # no timestamps: any zone


def parse_bill_line_page(result: Result) -> list[tuple[int, BillLine]]:
    """Every APBILLITEM row of a page → (RECORDNO of its bill, BillLine) (the compiled reader when built)."""
    return BILL_LINE_LAYOUT.reader(timezone.utc).page(result)
