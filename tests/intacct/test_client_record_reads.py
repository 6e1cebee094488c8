"""Reads of one record by RECORDNO and the compose-box bill search, against the sandbox over HTTP."""

from __future__ import annotations

from decimal import Decimal

import pytest

from intacct.client import amount_in
from tests.fakes.sandbox import running_sandbox


@pytest.fixture
async def sandbox(clock):
    async with running_sandbox(clock, "demo") as running:
        yield running


async def test_read_bill_brings_its_lines_in_one_request(sandbox, clock):
    client = sandbox.client(clock)
    known = (await client.query_bills(limit=1)).bills[0]
    await client.check_schema()

    with client.counting() as cost:
        bill = await client.read_bill(known.record_no)

    assert bill is not None and bill.record_no == known.record_no and bill.bill_number == known.bill_number
    assert bill.lines and [line.line_no for line in bill.lines] == sorted(line.line_no for line in bill.lines)
    assert (cost.requests, cost.functions) == (1, 2)


async def test_a_record_that_is_not_there_reads_as_none(sandbox, clock):
    client = sandbox.client(clock)

    assert await client.read_bill(999_999_999) is None
    assert await client.read_payment(999_999_999) is None
    assert await client.read_vendor(999_999_999) is None


async def test_read_payment_and_vendor_by_record_no(sandbox, clock):
    client = sandbox.client(clock)
    payment = (await client.query_payments(limit=1)).payments[0]
    vendor = (await client.find_vendors("a", limit=1))[0]

    assert await client.read_payment(payment.record_no) == payment
    assert await client.read_vendor(vendor.record_no) == vendor


@pytest.mark.parametrize("bad", [0, -1, 2**63, True, "12"])
async def test_a_record_no_must_be_a_positive_int(sandbox, clock, bad):
    with pytest.raises((TypeError, ValueError)):
        await sandbox.client(clock).read_bill(bad)


async def test_search_finds_a_bill_by_its_number_vendor_name_and_amount(sandbox, clock):
    client = sandbox.client(clock)
    target = (await client.query_bills(limit=1)).bills[0]

    by_number = await client.search_bills(target.bill_number)
    by_vendor = await client.search_bills(target.vendor_name.split()[0].lower(), limit=1000)
    by_amount = await client.search_bills(f"{target.total_entered:,}", limit=1000)

    assert target.record_no in {b.record_no for b in by_number.bills}
    assert target.record_no in {b.record_no for b in by_vendor.bills}
    assert all(target.vendor_name.split()[0].lower() in b.vendor_name.lower() or b.bill_number.startswith(target.vendor_name.split()[0].lower())
               for b in by_vendor.bills)
    assert target.record_no in {b.record_no for b in by_amount.bills}
    assert all(target.total_entered in (b.total_entered, b.total_due) or b.bill_number.startswith(f"{target.total_entered:,}")
               for b in by_amount.bills)


async def test_search_is_one_function_and_counts_every_match(sandbox, clock):
    client = sandbox.client(clock)
    await client.check_schema()
    vendor = (await client.query_bills(limit=1)).bills[0].vendor_id

    with client.counting() as cost:
        page = await client.search_bills(vendor, limit=2)

    assert cost.functions == 1
    assert len(page.bills) <= 2 and page.total >= len(page.bills)
    assert page.total == len((await client.search_bills(vendor, limit=1000)).bills)


@pytest.mark.parametrize("hostile", ["' OR 1=1 --", "%", "_", "a' OR VENDORID LIKE '%", "\x00\x07", "   "])
async def test_hostile_search_text_is_escaped_and_widens_nothing(sandbox, clock, hostile):
    page = await sandbox.client(clock).search_bills(hostile, limit=1000)

    assert page.bills == [] and page.total == 0


async def test_a_quote_is_searched_for_as_itself(sandbox, clock):
    page = await sandbox.client(clock).search_bills("\\'brien", limit=1000)

    assert page.bills and all("'brien" in b.vendor_name.lower() for b in page.bills)


@pytest.mark.parametrize(
    ("text", "amount"),
    [("1250", Decimal("1250")), ("1,250.00", Decimal("1250.00")), (".5", Decimal(".5")), ("0.01", Decimal("0.01"))],
)
def test_texts_that_read_as_amounts(text, amount):
    assert amount_in(text) == amount


@pytest.mark.parametrize("text", ["12,50", "1,2345", "B-1001", "1e5", "1.23456", "-5", "nan", "1" * 16, ""])
def test_texts_that_are_not_amounts(text):
    assert amount_in(text) is None
