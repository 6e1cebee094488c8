"""AP bills (Intacct objects APBILL and APBILLITEM): the records, the fields read, and the parsers.

Fields (evidence: a real company's `lookup` of APBILL and APBILLITEM,
sandbox/definitions/apbill.json and apbillitem.json): STATE is the word (its valid values
below), RAWSTATE the stored code. Amounts come in pairs: TOTALENTERED/TOTALDUE/TOTALPAID and a
line's AMOUNT are in the company's base currency, their TRX_ twins in the bill's own CURRENCY;
the records carry the TRX_ ones, so an amount and its currency always agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal

from intacct.protocol import Result
from intacct.records import Layout, amount, constant, day, integer, moment, text
from intacct.schema import ObjectFields
from intacct.values import Row


@dataclass(frozen=True, slots=True)
class BillLine:
    """One line of a bill, with its GL account and dimensions (cost center = department)."""

    record_no: int
    line_no: int
    amount: Decimal  # TRX_AMOUNT, in the bill's currency
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
    state: str  # STATE word, e.g. "Submitted", "Posted", "Paid"
    total_entered: Decimal  # TRX_TOTALENTERED, in `currency`
    total_due: Decimal  # TRX_TOTALDUE
    currency: str
    total_paid: Decimal = Decimal("0")  # TRX_TOTALPAID
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

BILL_READ = ObjectFields(
    BILL_OBJECT,
    required=(
        "RECORDNO", "RECORDID", "VENDORID", "STATE", "TRX_TOTALENTERED", "TRX_TOTALDUE", "CURRENCY", "WHENDUE",
        "WHENMODIFIED",
    ),
    optional=(
        "VENDORNAME", "DESCRIPTION", "DOCNUMBER", "WHENCREATED", "WHENPAID", "TRX_TOTALPAID", "MEGAENTITYID",
        "RECORD_URL",
    ),
    fix="give the Web Services user's role read access to Accounts Payable bills (Bills, List and View)",
)  # fmt: skip
"""APBILL fields read (never ``*``), checked against the company's `lookup`."""

BILL_LINE_READ = ObjectFields(
    BILL_LINE_OBJECT,
    required=("RECORDNO", "RECORDKEY", "ACCOUNTNO", "TRX_AMOUNT"),
    optional=(
        "LINE_NO", "ACCOUNTTITLE", "ENTRYDESCRIPTION", "DEPARTMENTID", "DEPARTMENTNAME", "LOCATIONID",
        "LOCATIONNAME", "CLASSID", "CLASSNAME", "PROJECTID", "PROJECTNAME",
    ),
    fix="give the Web Services user's role read access to Accounts Payable bills (their lines come with them)",
)  # fmt: skip
"""APBILLITEM fields read; RECORDKEY is the RECORDNO of the bill the line belongs to. Dimensions a
company does not use (no Projects module, no classes) are optional: cards omit them."""

BILL_FIELDS = BILL_READ.all
"""Every APBILL field the client may select."""

BILL_LINE_FIELDS = BILL_LINE_READ.all
"""Every APBILLITEM field the client may select."""


BILL_LAYOUT: Layout[Bill] = Layout(
    Bill,
    (
        integer("RECORDNO"),  # record_no
        text("RECORDID", empty=""),  # bill_number
        text("VENDORID", empty=""),  # vendor_id
        text("VENDORNAME", empty=""),  # vendor_name
        text("STATE", empty=""),  # state
        amount("TRX_TOTALENTERED"),  # total_entered
        amount("TRX_TOTALDUE"),  # total_due
        text("CURRENCY", empty=""),  # currency
        amount("TRX_TOTALPAID"),  # total_paid
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
"""How an APBILL row becomes a Bill (in Bill's field order); the fields it reads are BILL_READ's."""

BILL_LINE_LAYOUT: Layout[tuple[int, BillLine]] = Layout(
    BillLine,
    (
        integer("RECORDNO"),  # record_no
        integer("LINE_NO", empty=0),  # line_no
        amount("TRX_AMOUNT"),  # amount
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
"""How an APBILLITEM row becomes (RECORDNO of its bill, BillLine); the fields it reads are BILL_LINE_READ's."""


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
