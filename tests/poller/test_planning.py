"""Table-driven tests of the pure planning step: no I/O, no clock."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from intacct.bills import Bill
from intacct.payments import Payment
from intacct.vendors import Vendor
from poller.events import BillCreated, BillStateChanged, PaymentPending, PaymentStateChanged, VendorStatusChanged
from poller.planning import (
    BILLS,
    PAYMENTS,
    VENDORS,
    RecordsRead,
    bill_snapshot,
    payment_snapshot,
    plan_cycle,
    vendor_snapshot,
)

T0 = datetime(2026, 11, 23, 14, 0, tzinfo=timezone.utc)


def bill(no=1, state="Submitted", modified=T0, **kw) -> Bill:
    return Bill(no, f"B-{no}", "V1", "Acme", state, Decimal("100.00"), Decimal("100.00"), "USD",
                due_date=date(2026, 12, 1), when_modified=modified, **kw)


def payment(no=1, state="Submitted", modified=T0) -> Payment:
    return Payment(no, "V1", state, Decimal("50.00"), "USD", when_modified=modified)


def vendor(no=1, status="active", on_hold=False, modified=T0) -> Vendor:
    return Vendor(no, f"V{no}", "Acme", status, on_hold, when_modified=modified)


def known_of(*records):
    table = {BILLS: {}, PAYMENTS: {}, VENDORS: {}}
    for r in records:
        if isinstance(r, Bill):
            table[BILLS][r.record_no] = bill_snapshot(r)
        elif isinstance(r, Payment):
            table[PAYMENTS][r.record_no] = payment_snapshot(r)
        else:
            table[VENDORS][r.record_no] = vendor_snapshot(r)
    return table


LATER = T0 + timedelta(minutes=3)

CASES = [
    # (name, known records, read, expected event types)
    ("new submitted bill", [], RecordsRead(bills=[bill()]), [BillCreated]),
    ("new draft bill is silent", [], RecordsRead(bills=[bill(state="Draft")]), []),
    ("re-read same version in overlap", [bill()], RecordsRead(bills=[bill()]), []),
    ("re-read with bumped WHENMODIFIED but same fields", [bill()], RecordsRead(bills=[bill(modified=LATER)]), []),
    ("bill approved", [bill()], RecordsRead(bills=[bill(state="Posted", modified=LATER)]), [BillStateChanged]),
    ("draft to submitted", [bill(state="Draft")], RecordsRead(bills=[bill(modified=LATER)]), [BillStateChanged]),
    ("draft edited stays silent", [bill(state="Draft")], RecordsRead(bills=[replace(bill(state="Draft", modified=LATER), total_due=Decimal("1"))]), []),
    ("due date moved", [bill()], RecordsRead(bills=[replace(bill(modified=LATER), due_date=date(2026, 12, 9))]), [BillStateChanged]),
    ("two versions of one bill in a read: newest wins", [bill()], RecordsRead(bills=[bill(state="Posted", modified=LATER), bill(modified=T0)]), [BillStateChanged]),
    ("new pending payment", [], RecordsRead(payments=[payment()]), [PaymentPending]),
    ("new confirmed payment is silent", [], RecordsRead(payments=[payment(state="Confirmed")]), []),
    ("payment approved", [payment()], RecordsRead(payments=[payment(state="Approved", modified=LATER)]), [PaymentStateChanged]),
    ("draft payment submitted", [payment(state="Draft")], RecordsRead(payments=[payment(modified=LATER)]), [PaymentPending]),
    ("payment confirmed", [payment(state="Approved")], RecordsRead(payments=[payment(state="Confirmed", modified=LATER)]), [PaymentStateChanged]),
    ("new vendor is silent", [], RecordsRead(vendors=[vendor()]), []),
    ("vendor put on hold", [vendor()], RecordsRead(vendors=[vendor(on_hold=True, modified=LATER)]), [VendorStatusChanged]),
    ("vendor inactivated", [vendor()], RecordsRead(vendors=[vendor(status="inactive", modified=LATER)]), [VendorStatusChanged]),
    ("vendor unchanged", [vendor()], RecordsRead(vendors=[vendor(modified=LATER)]), []),
]


@pytest.mark.parametrize("name,known,read,expected", CASES, ids=[c[0] for c in CASES])
def test_plan_emits_expected_events(name, known, read, expected):
    plan = plan_cycle("DEMO-CO", known_of(*known), read, watermarks={})
    assert [type(e) for e in plan.events] == expected


def test_state_change_carries_old_and_new_state_and_a_key_that_is_stable():
    read = RecordsRead(bills=[bill(state="Posted", modified=LATER)])
    first = plan_cycle("DEMO-CO", known_of(bill()), read, watermarks={})
    again = plan_cycle("DEMO-CO", known_of(bill()), read, watermarks={})
    (event,) = first.events
    assert (event.old_state, event.new_state) == ("Submitted", "Posted")
    assert [e.key for e in again.events] == [event.key]


def test_vendor_change_reports_old_and_new_hold_flag():
    plan = plan_cycle("C", known_of(vendor()), RecordsRead(vendors=[vendor(on_hold=True, modified=LATER)]), watermarks={})
    (event,) = plan.events
    assert (event.old_on_hold, event.new_on_hold, event.old_status, event.new_status) == (False, True, "active", "active")


def test_baseline_remembers_everything_and_emits_nothing():
    read = RecordsRead(bills=[bill(1), bill(2, state="Paid")], payments=[payment()], vendors=[vendor()])
    plan = plan_cycle("C", {}, read, watermarks={}, baseline=True)
    assert plan.events == []
    assert sorted(s.record_no for s in plan.snapshots[BILLS]) == [1, 2]
    assert len(plan.snapshots[PAYMENTS]) == 1 and len(plan.snapshots[VENDORS]) == 1


def test_baseline_with_backfill_emits_records_modified_since_the_date():
    old, recent = bill(1, modified=T0 - timedelta(days=10)), bill(2, modified=T0)
    plan = plan_cycle("C", {}, RecordsRead(bills=[old, recent]), watermarks={}, baseline=True, backfill_since=T0 - timedelta(days=1))
    assert [e.record_no for e in plan.events] == [2]


def test_watermark_moves_to_newest_modification_and_never_backwards():
    read = RecordsRead(bills=[bill(1, modified=T0), bill(2, modified=LATER)], vendors=[vendor(modified=T0 - timedelta(hours=1))])
    plan = plan_cycle("C", {}, read, watermarks={VENDORS: T0})
    assert plan.watermarks[BILLS] == LATER
    assert plan.watermarks[VENDORS] == T0  # the older re-read did not pull it back


def test_records_without_whenmodified_do_not_move_the_watermark_but_are_planned():
    plan = plan_cycle("C", {}, RecordsRead(bills=[bill(modified=None)]), watermarks={})
    assert [type(e) for e in plan.events] == [BillCreated]
    assert BILLS not in plan.watermarks


def test_only_changed_records_are_rewritten():
    plan = plan_cycle("C", known_of(bill(1), bill(2)), RecordsRead(bills=[bill(1), bill(2, state="Posted", modified=LATER)]), watermarks={})
    assert [s.record_no for s in plan.snapshots[BILLS]] == [2]
