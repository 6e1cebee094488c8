"""The fast record path: record_builder makes genuine frozen records, parsers put every field in its place."""

from __future__ import annotations

import copy
import dataclasses
import pickle
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from intacct.bills import Bill, BillLine, parse_bill, parse_bill_line
from intacct.dimensions import Dimension, DimensionKind, parse_dimension
from intacct.errors import MalformedRecordError
from intacct.payments import Payment, parse_payment
from intacct.protocol import parse_response
from intacct.values import parse_timestamp, record_builder
from intacct.vendors import Vendor, parse_vendor

PACIFIC = timezone(timedelta(hours=-8))
UTC = timezone.utc


@dataclasses.dataclass(frozen=True, slots=True)
class Sample:
    """A small record shaped like ours."""

    number: int
    name: str
    note: str | None = None


def test_built_records_are_genuine_frozen_instances() -> None:
    build = record_builder(Sample)
    built = build(1, "one", None)
    assert type(built) is Sample
    assert built == Sample(1, "one") and hash(built) == hash(Sample(1, "one"))
    assert repr(built) == "Sample(number=1, name='one', note=None)"
    with pytest.raises(dataclasses.FrozenInstanceError):
        built.name = "two"  # type: ignore[misc]
    assert pickle.loads(pickle.dumps(built)) == built
    assert copy.copy(built) == built
    assert dataclasses.replace(built, note="n") == Sample(1, "one", "n")


def test_a_builder_takes_every_field_and_nothing_else() -> None:
    build = record_builder(Sample)
    with pytest.raises(TypeError):
        build(1, "one")  # defaults are not applied: every field is passed
    with pytest.raises(TypeError):
        build(1, "one", None, "extra")


@dataclasses.dataclass(frozen=True)
class NoSlots:
    """Frozen without slots."""

    number: int


@dataclasses.dataclass(slots=True)
class NotFrozen:
    """Slots without frozen."""

    number: int


@dataclasses.dataclass(frozen=True, slots=True)
class PostInit:
    """A record whose __post_init__ the builder would skip."""

    number: int

    def __post_init__(self) -> None:
        if self.number < 0:
            raise ValueError("negative")


@dataclasses.dataclass(frozen=True, slots=True)
class Derived:
    """A record with a field the constructor does not take."""

    number: int
    label: str = dataclasses.field(init=False, default="")


class Plain:
    """Not a dataclass at all."""

    __slots__ = ("number",)


@pytest.mark.parametrize("cls", [NoSlots, NotFrozen, PostInit, Derived, Plain])
def test_the_builder_refuses_classes_it_cannot_build_faithfully(cls: type) -> None:
    with pytest.raises(TypeError, match=cls.__name__):
        record_builder(cls)


def _distinct(record: object) -> None:
    """Every field holds a different value, so a field put in its neighbour's place cannot go unseen."""
    values = [repr(getattr(record, f.name)) for f in dataclasses.fields(record)]  # type: ignore[arg-type]
    assert len(set(values)) == len(values), values


def test_every_bill_field_lands_in_its_place() -> None:
    row = {
        "RECORDNO": "11", "RECORDID": "INV-11", "VENDORID": "V11", "VENDORNAME": "Vendor Eleven", "STATE": "Posted",
        "DESCRIPTION": "Desk chairs", "DOCNUMBER": "PO-11", "WHENCREATED": "01/02/2026", "WHENDUE": "01/03/2026",
        "WHENPAID": "01/04/2026", "TRX_TOTALENTERED": "10.01", "TRX_TOTALDUE": "10.02", "TRX_TOTALPAID": "10.03", "CURRENCY": "USD",
        "MEGAENTITYID": "E11", "WHENMODIFIED": "01/05/2026 07:08:09", "RECORD_URL": "https://example.test/r/11",
    }  # fmt: skip
    bill = parse_bill(row, PACIFIC)
    _distinct(bill)
    assert bill == Bill(
        record_no=11, bill_number="INV-11", vendor_id="V11", vendor_name="Vendor Eleven", state="Posted",
        total_entered=Decimal("10.01"), total_due=Decimal("10.02"), currency="USD", total_paid=Decimal("10.03"),
        description="Desk chairs", reference="PO-11", bill_date=date(2026, 1, 2), due_date=date(2026, 1, 3),
        paid_date=date(2026, 1, 4), entity_id="E11", when_modified=datetime(2026, 1, 5, 15, 8, 9, tzinfo=UTC),
        record_url="https://example.test/r/11", lines=(),
    )  # fmt: skip


def test_every_bill_line_field_lands_in_its_place() -> None:
    row = {
        "RECORDNO": "21", "RECORDKEY": "11", "LINE_NO": "3", "ACCOUNTNO": "6000", "ACCOUNTTITLE": "Supplies",
        "TRX_AMOUNT": "4.50", "ENTRYDESCRIPTION": "Pens", "DEPARTMENTID": "D1", "DEPARTMENTNAME": "Finance",
        "LOCATIONID": "L1", "LOCATIONNAME": "Seattle", "CLASSID": "C1", "CLASSNAME": "Recurring", "PROJECTID": "P1",
        "PROJECTNAME": "Move",
    }  # fmt: skip
    bill_no, line = parse_bill_line(row)
    _distinct(line)
    assert (bill_no, line) == (
        11,
        BillLine(
            record_no=21, line_no=3, amount=Decimal("4.50"), gl_account_no="6000", gl_account_title="Supplies",
            memo="Pens", department_id="D1", department_name="Finance", location_id="L1", location_name="Seattle",
            class_id="C1", class_name="Recurring", project_id="P1", project_name="Move",
        ),
    )  # fmt: skip


def test_every_payment_field_lands_in_its_place() -> None:
    row = {
        "RECORDNO": "31", "VENDORID": "V31", "VENDORNAME": "Vendor 31", "STATE": "A", "DISPLAYSTATE": "Approved",
        "TRX_TOTALENTERED": "99.99", "CURRENCY": "EUR", "PAYMENTMETHOD": "ACH", "WHENCREATED": "11/20/2026",
        "DOCNUMBER": "ACH-31", "DESCRIPTION": "November", "FINANCIALENTITY": "BOA-1", "MEGAENTITYID": "E31",
        "WHENMODIFIED": "11/20/2026 23:59:59", "RECORD_URL": "https://example.test/r/31", "TRX_TOTALPAID": "1.01",
        "TRX_TOTALDUE": "98.98", "WHENPAID": "11/22/2026",
    }  # fmt: skip
    payment = parse_payment(row, PACIFIC)
    _distinct(payment)
    assert payment == Payment(
        record_no=31, vendor_id="V31", state="Approved", amount=Decimal("99.99"), currency="EUR",
        vendor_name="Vendor 31", payment_method="ACH", payment_date=date(2026, 11, 20), reference="ACH-31",
        description="November", financial_entity="BOA-1", entity_id="E31",
        when_modified=datetime(2026, 11, 21, 7, 59, 59, tzinfo=UTC), record_url="https://example.test/r/31",
        state_code="A", amount_paid=Decimal("1.01"), amount_due=Decimal("98.98"), paid_date=date(2026, 11, 22),
    )  # fmt: skip


def test_every_vendor_field_lands_in_its_place() -> None:
    row = {
        "RECORDNO": "41", "VENDORID": "V41", "NAME": "Vendor 41", "STATUS": "active", "ONHOLD": "true",
        "CURRENCY": "GBP", "TERMNAME": "Net 30", "DISPLAYCONTACT.EMAIL1": "ap@v41.test", "MEGAENTITYID": "E41",
        "WHENMODIFIED": "03/08/2026 01:30:00", "RECORD_URL": "https://example.test/r/41",
    }  # fmt: skip
    vendor = parse_vendor(row, PACIFIC)
    _distinct(vendor)
    assert vendor == Vendor(
        record_no=41, vendor_id="V41", name="Vendor 41", status="active", on_hold=True,
        when_modified=datetime(2026, 3, 8, 9, 30, tzinfo=UTC), currency="GBP", term_name="Net 30",
        email="ap@v41.test", entity_id="E41", record_url="https://example.test/r/41",
    )  # fmt: skip


def test_every_dimension_field_lands_in_its_place() -> None:
    row = {"RECORDNO": "51", "DEPARTMENTID": "D51", "TITLE": "Dept 51", "STATUS": "inactive", "WHENMODIFIED": "01/02/2026 00:00:00"}
    dimension = parse_dimension(DimensionKind.DEPARTMENT, row, PACIFIC)
    _distinct(dimension)
    assert dimension == Dimension(
        kind=DimensionKind.DEPARTMENT, record_no=51, id="D51", name="Dept 51", status="inactive",
        when_modified=datetime(2026, 1, 2, 8, tzinfo=UTC),
    )  # fmt: skip


@pytest.mark.parametrize(
    "text, offset, expected",
    [
        ("11/23/2026 06:00:01", timedelta(hours=-8), datetime(2026, 11, 23, 14, 0, 1, tzinfo=UTC)),
        ("12/31/2026 20:00:00", timedelta(hours=-8), datetime(2027, 1, 1, 4, tzinfo=UTC)),  # crosses the year
        ("02/29/2028 00:10:00", timedelta(hours=5, minutes=30), datetime(2028, 2, 28, 18, 40, tzinfo=UTC)),
        ("01/01/2026 00:00:00", timedelta(0), datetime(2026, 1, 1, tzinfo=UTC)),
        ("12/31/9999 10:00:00", timedelta(hours=-8), datetime(9999, 12, 31, 18, tzinfo=UTC)),
    ],
)
def test_timestamps_are_shifted_by_the_offset_into_utc(text: str, offset: timedelta, expected: datetime) -> None:
    parsed = parse_timestamp(text, timezone(offset))
    assert parsed == expected
    assert parsed.tzinfo is UTC


@pytest.mark.parametrize(
    "value",
    [
        "12/31/9999 23:00:00",  # after datetime.max once shifted to UTC
        "02/30/2026 00:00:00",
        "11/23/2026 06:00:60",
        "11/23/2026 06:0a:01",
        "11/23/2026 06:00:01 ",
        "11-23-2026 06:00:01",
    ],
)
def test_unusable_timestamps_are_malformed_records_naming_the_field(value: str) -> None:
    with pytest.raises(MalformedRecordError, match="WHENMODIFIED"):
        parse_bill({"RECORDNO": "5", "WHENMODIFIED": value}, PACIFIC)


def test_a_whole_page_parses_through_the_real_path() -> None:
    rows = "".join(
        f"<apbill><RECORDNO>{n}</RECORDNO><RECORDID>INV-{n}</RECORDID><STATE>Posted</STATE><TRX_TOTALDUE>{n}.50</TRX_TOTALDUE>"
        f"<WHENMODIFIED>11/23/2026 06:00:0{n}</WHENMODIFIED><DESCRIPTION/></apbill>"
        for n in range(1, 4)
    )
    body = (
        "<response><control><status>success</status></control><operation><authentication><status>success</status>"
        f'</authentication><result><status>success</status><function>readByQuery</function><controlid>q</controlid>'
        f'<data listtype="apbill" count="3" totalcount="3" numremaining="0">{rows}</data></result></operation></response>'
    ).encode()
    bills = [parse_bill(row, PACIFIC) for row in parse_response(body).results[0].rows()]
    assert [(b.record_no, b.bill_number, b.total_due, b.description) for b in bills] == [
        (n, f"INV-{n}", Decimal(f"{n}.50"), None) for n in range(1, 4)
    ]
    assert [b.when_modified for b in bills] == [datetime(2026, 11, 23, 14, 0, n, tzinfo=UTC) for n in range(1, 4)]
    assert all(type(b) is Bill for b in bills)
