"""Record parsers: Intacct text becomes Python types (aware UTC datetimes, Decimal, date, bool, None)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from intacct.bills import BILL_FIELDS, BILL_LINE_FIELDS, Bill, BillLine, parse_bill, parse_bill_line
from intacct.company import UserFormatting, parse_user_formatting
from intacct.dimensions import DIMENSION_READS, Dimension, DimensionKind, dimension_fields, parse_dimension
from intacct.errors import MalformedRecordError
from intacct.payments import PAYMENT_FIELDS, Payment, parse_payment
from intacct.values import format_timestamp, parse_gmt_offset, parse_timestamp
from intacct.vendors import VENDOR_FIELDS, Vendor, parse_vendor

PACIFIC = timezone(timedelta(hours=-8))
UTC = timezone.utc


def test_bill_row_becomes_a_typed_bill() -> None:
    row = {
        "RECORDNO": "1201", "RECORDID": "INV-77", "VENDORID": "V100", "VENDORNAME": "Acme Ltd", "STATE": "Submitted",
        "DESCRIPTION": None, "DOCNUMBER": "PO-9", "WHENCREATED": "11/02/2026", "WHENDUE": "12/02/2026", "WHENPAID": "",
        "TRX_TOTALENTERED": "1200.50", "TRX_TOTALDUE": "1200.50", "TRX_TOTALPAID": "0.00", "CURRENCY": "USD", "MEGAENTITYID": "E1",
        "WHENMODIFIED": "11/23/2026 06:00:01", "RECORD_URL": "https://www.intacct.com/ia/acct/ur.phtml?.r=abc",
    }  # fmt: skip
    assert set(row) == set(BILL_FIELDS)
    assert parse_bill(row, PACIFIC) == Bill(
        record_no=1201, bill_number="INV-77", vendor_id="V100", vendor_name="Acme Ltd", state="Submitted",
        total_entered=Decimal("1200.50"), total_due=Decimal("1200.50"), currency="USD", total_paid=Decimal("0.00"),
        description=None, reference="PO-9", bill_date=date(2026, 11, 2), due_date=date(2026, 12, 2), paid_date=None,
        entity_id="E1", when_modified=datetime(2026, 11, 23, 14, 0, 1, tzinfo=UTC),
        record_url="https://www.intacct.com/ia/acct/ur.phtml?.r=abc",
    )  # fmt: skip
    assert parse_bill(row, PACIFIC).when_modified.tzinfo is UTC


def test_bill_line_row_names_its_bill() -> None:
    row = {
        "RECORDNO": "9", "RECORDKEY": "1201", "LINE_NO": "2", "ACCOUNTNO": "6000", "ACCOUNTTITLE": "Supplies",
        "TRX_AMOUNT": "-10.25", "ENTRYDESCRIPTION": "Pens", "DEPARTMENTID": "D100", "DEPARTMENTNAME": "Finance",
        "LOCATIONID": "L1", "LOCATIONNAME": "Seattle", "CLASSID": None, "CLASSNAME": None, "PROJECTID": "", "PROJECTNAME": "",
    }  # fmt: skip
    assert set(row) == set(BILL_LINE_FIELDS)
    assert parse_bill_line(row) == (
        1201,
        BillLine(9, 2, Decimal("-10.25"), "6000", "Supplies", "Pens", "D100", "Finance", "L1", "Seattle"),
    )


def test_payment_row_takes_the_word_from_displaystate_and_the_amounts_in_its_currency() -> None:
    row = {
        "RECORDNO": "55", "VENDORID": "V100", "VENDORNAME": "Acme Ltd", "STATE": "A", "DISPLAYSTATE": "Approved",
        "TRX_TOTALENTERED": "99.99", "TRX_TOTALPAID": "0", "TRX_TOTALDUE": "99.99", "CURRENCY": "EUR",
        "PAYMENTMETHOD": "ACH", "WHENCREATED": "11/20/2026", "WHENPAID": None, "DOCNUMBER": "ACH-1",
        "DESCRIPTION": "", "FINANCIALENTITY": "BOA-1", "MEGAENTITYID": None, "WHENMODIFIED": "11/20/2026 23:59:59",
        "RECORD_URL": None,
    }  # fmt: skip
    assert set(row) == set(PAYMENT_FIELDS)
    assert parse_payment(row, PACIFIC) == Payment(
        55, "V100", "Approved", Decimal("99.99"), "EUR", vendor_name="Acme Ltd", payment_method="ACH",
        payment_date=date(2026, 11, 20), reference="ACH-1", financial_entity="BOA-1",
        when_modified=datetime(2026, 11, 21, 7, 59, 59, tzinfo=UTC), state_code="A", amount_due=Decimal("99.99"),
    )  # fmt: skip
    confirmed = parse_payment({**row, "STATE": "C", "DISPLAYSTATE": "Confirmed", "TRX_TOTALPAID": "99.99",
                               "TRX_TOTALDUE": "0", "WHENPAID": "11/24/2026"}, PACIFIC)  # fmt: skip
    assert (confirmed.state, confirmed.state_code, confirmed.amount_paid, confirmed.paid_date) == (
        "Confirmed", "C", Decimal("99.99"), date(2026, 11, 24)
    )


@pytest.mark.parametrize("on_hold, expected", [("true", True), ("false", False), ("T", True), ("F", False), (None, False)])
def test_vendor_row(on_hold: str | None, expected: bool) -> None:
    row = {
        "RECORDNO": "7", "VENDORID": "V7", "NAME": "Bürotechnik", "STATUS": "inactive", "ONHOLD": on_hold,
        "CURRENCY": "EUR", "TERMNAME": "Net 30", "DISPLAYCONTACT.EMAIL1": "ap@buero.test", "MEGAENTITYID": None,
        "WHENMODIFIED": None, "RECORD_URL": None,
    }  # fmt: skip
    assert set(row) == set(VENDOR_FIELDS)
    assert parse_vendor(row, PACIFIC) == Vendor(7, "V7", "Bürotechnik", "inactive", expected, None, "EUR", "Net 30", "ap@buero.test")


@pytest.mark.parametrize(
    "kind, id_field, name_field",
    [
        (DimensionKind.GL_ACCOUNT, "ACCOUNTNO", "TITLE"),
        (DimensionKind.DEPARTMENT, "DEPARTMENTID", "TITLE"),
        (DimensionKind.LOCATION, "LOCATIONID", "NAME"),
        (DimensionKind.CLASS, "CLASSID", "NAME"),
        (DimensionKind.PROJECT, "PROJECTID", "NAME"),
    ],
)
def test_dimension_rows(kind: DimensionKind, id_field: str, name_field: str) -> None:
    assert dimension_fields(kind) == ("RECORDNO", id_field, name_field, "STATUS", "WHENMODIFIED")
    assert DIMENSION_READS[kind].optional_object is (kind is not DimensionKind.GL_ACCOUNT)
    row = {"RECORDNO": "3", id_field: "X1", name_field: "Name", "STATUS": "inactive", "WHENMODIFIED": "01/02/2026 00:00:00"}
    assert parse_dimension(kind, row, PACIFIC) == Dimension(kind, 3, "X1", "Name", "inactive", datetime(2026, 1, 2, 8, tzinfo=UTC))


def test_user_formatting() -> None:
    row = {"recordno": None, "locale": "en_US", "dateformat": "/mdY", "gmtoffset": "-08:00", "clock": "24"}
    assert parse_user_formatting(row) == UserFormatting(timedelta(hours=-8), "en_US", "/mdY", 24)
    assert parse_user_formatting({"GMTOFFSET": "+05:30"}).gmt_offset == timedelta(hours=5, minutes=30)
    for bad in ({"gmtoffset": None}, {"gmtoffset": "PST"}, {"gmtoffset": "+00:00", "clock": "x"}):
        with pytest.raises(MalformedRecordError):
            parse_user_formatting(bad)


@pytest.mark.parametrize(
    "field, value",
    [
        ("RECORDNO", None),
        ("RECORDNO", "12a"),
        ("TRX_TOTALDUE", "1,200.00"),
        ("TRX_TOTALDUE", "NaN"),
        ("WHENDUE", "2026-12-01"),
        ("WHENDUE", "13/45/2026"),
        ("WHENMODIFIED", "11/23/2026 6:00:01"),
        ("WHENMODIFIED", "11/23/2026T06:00:01"),
        ("WHENMODIFIED", "11/23/2026 25:00:00"),
    ],
)
def test_malformed_values_name_the_field(field: str, value: str | None) -> None:
    row = {"RECORDNO": "5", "TRX_TOTALDUE": "1", "WHENDUE": "12/01/2026", "WHENMODIFIED": "11/23/2026 06:00:01", field: value}
    with pytest.raises(MalformedRecordError, match=field):
        parse_bill(row, PACIFIC)


def test_timestamps_convert_both_ways_in_the_user_offset() -> None:
    for offset in (timedelta(hours=-8), timedelta(0), timedelta(hours=5, minutes=30), timedelta(hours=14)):
        moment = datetime(2026, 3, 8, 9, 30, 15, tzinfo=UTC)
        text = format_timestamp(moment, offset)
        assert parse_timestamp(text, timezone(offset)) == moment
    assert format_timestamp(datetime(2026, 11, 23, 14, 0, tzinfo=UTC), timedelta(hours=-8)) == "11/23/2026 06:00:00"


@pytest.mark.parametrize("text, offset", [("-08:00", -480), ("+0530", 330), ("Z", 0), ("+00:00", 0), ("-03:30", -210)])
def test_gmt_offsets(text: str, offset: int) -> None:
    assert parse_gmt_offset(text) == timedelta(minutes=offset)
