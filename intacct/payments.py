"""AP payments (Intacct object APPYMT): the record, the fields read, and the parser.

Fields (evidence: a real company's `lookup` of APPYMT and a recorded query that selected them,
sandbox/definitions/appymt.json): STATE is the one-letter stored code (RAWSTATE holds the
same), DISPLAYSTATE the word; amounts are TOTALENTERED/TOTALPAID/TOTALDUE in the base currency
and TRX_TOTALENTERED/TRX_TOTALPAID/TRX_TOTALDUE in the payment's own CURRENCY, which is what a
card shows. There is no AMOUNTTOPAY. WHENCREATED is the payment date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal

from intacct.schema import ObjectFields
from intacct.values import Row, date_field, decimal_or_zero, record_builder, required_int, text, text_or_empty, timestamp_field


@dataclass(frozen=True, slots=True)
class Payment:
    """One AP payment (payment request)."""

    record_no: int
    vendor_id: str
    state: str  # DISPLAYSTATE word, e.g. "Submitted", "Approved", "Confirmed"
    amount: Decimal  # TRX_TOTALENTERED: the payment's amount, in `currency`
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
    state_code: str | None = None  # STATE: the stored one-letter code (= RAWSTATE)
    amount_paid: Decimal = Decimal("0")  # TRX_TOTALPAID
    amount_due: Decimal = Decimal("0")  # TRX_TOTALDUE
    paid_date: date | None = None  # WHENPAID


PAYMENT_OBJECT = "APPYMT"

PAYMENT_READ = ObjectFields(
    PAYMENT_OBJECT,
    required=("RECORDNO", "VENDORID", "STATE", "DISPLAYSTATE", "TRX_TOTALENTERED", "CURRENCY", "WHENMODIFIED"),
    optional=(
        "VENDORNAME", "PAYMENTMETHOD", "WHENCREATED", "DOCNUMBER", "DESCRIPTION", "FINANCIALENTITY", "MEGAENTITYID",
        "RECORD_URL", "TRX_TOTALPAID", "TRX_TOTALDUE", "WHENPAID",
    ),
    fix="give the Web Services user's role read access to Accounts Payable payments (Payment requests, List and View)",
)  # fmt: skip
"""APPYMT fields read (never ``*``), checked against the company's `lookup`."""

PAYMENT_FIELDS = PAYMENT_READ.all
"""Every APPYMT field the client may select."""

_new_payment = record_builder(Payment)


def parse_payment(row: Row, zone: timezone) -> Payment:
    """An APPYMT row (timestamps in ``zone``, the user's GMT offset) → Payment."""
    # Built positionally (see intacct.values.record_builder), so the order below is Payment's.
    return _new_payment(
        required_int(row, "RECORDNO"),  # record_no
        text_or_empty(row, "VENDORID"),  # vendor_id
        text_or_empty(row, "DISPLAYSTATE"),  # state
        decimal_or_zero(row, "TRX_TOTALENTERED"),  # amount
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
        text(row, "STATE"),  # state_code
        decimal_or_zero(row, "TRX_TOTALPAID"),  # amount_paid
        decimal_or_zero(row, "TRX_TOTALDUE"),  # amount_due
        date_field(row, "WHENPAID"),  # paid_date
    )
