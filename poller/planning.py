"""The pure planning step: (known snapshots, records read, now) → (events, new snapshots, watermarks).

No I/O and no clock: the coordinator reads, calls `plan_cycle`, and commits what it returns in
one transaction. A record re-read inside the overlap window has the same snapshot as the one
stored for its RECORDNO, so it never produces a second event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Collection, Iterable, Mapping, Sequence

from intacct import figures
from intacct.bills import Bill
from intacct.payments import Payment
from intacct.record_links import link_keys_bill, link_keys_payment, link_keys_vendor
from intacct.vendors import Vendor
from poller.events import (
    BillCreated,
    BillStateChanged,
    Event,
    PaymentPending,
    PaymentStateChanged,
    VendorStatusChanged,
)
from store.types import RecordLink, Snapshot

BILLS, PAYMENTS, VENDORS = "APBILL", "APPYMT", "VENDOR"

# A bill in these states (STATE words as a real company's `lookup` lists them) is not (yet, or
# any more) something an AP team acts on: a new one is remembered silently, and its first move
# into a live state is reported as a state change.
SILENT_BILL_STATES = frozenset({"Draft", "Analyzing", "Reversed", "Reversal", "No Value", ""})
OBJECTS = (BILLS, PAYMENTS, VENDORS)
PENDING_PAYMENT_STATES = figures.PAYMENT_PENDING_APPROVAL | figures.PAYMENT_APPROVED


@dataclass(frozen=True)
class RecordsRead:
    """What one cycle read from Intacct (bills without lines are fine: planning needs headers)."""

    bills: Sequence[Bill] = ()
    payments: Sequence[Payment] = ()
    vendors: Sequence[Vendor] = ()


@dataclass(frozen=True)
class CyclePlan:
    """What a cycle must commit: events for the outbox, snapshots to upsert, watermarks, and the
    links of every record read (what a pasted card link resolves through)."""

    events: list[Event] = field(default_factory=list)
    snapshots: dict[str, list[Snapshot]] = field(default_factory=dict)
    watermarks: dict[str, datetime] = field(default_factory=dict)
    links: list[RecordLink] = field(default_factory=list)


def bill_snapshot(bill: Bill) -> Snapshot:
    """The bill fields whose change makes an event: state, due date, totals."""
    return Snapshot(
        bill.record_no,
        bill.when_modified,
        {
            "state": bill.state,
            "due_date": bill.due_date.isoformat() if bill.due_date else "",
            "total_entered": str(bill.total_entered),
            "total_due": str(bill.total_due),
        },
    )


def payment_snapshot(payment: Payment) -> Snapshot:
    """The payment fields whose change makes an event: state and amount."""
    return Snapshot(payment.record_no, payment.when_modified, {"state": payment.state, "amount": str(payment.amount)})


def vendor_snapshot(vendor: Vendor) -> Snapshot:
    """The vendor fields whose change makes an event: status and on-hold."""
    return Snapshot(vendor.record_no, vendor.when_modified, {"status": vendor.status, "on_hold": "true" if vendor.on_hold else "false"})


def plan_cycle(
    company: str,
    known: Mapping[str, Mapping[int, Snapshot]],
    records: RecordsRead,
    *,
    watermarks: Mapping[str, datetime],
    baseline: bool | Collection[str] = False,
    backfill_since: datetime | None = None,
    read_at: datetime | None = None,
    read: Collection[str] = OBJECTS,
) -> CyclePlan:
    """Compare what was read with what is known and decide what to emit and remember.

    `baseline` (the first run for a company: True; or the objects read for the first time, e.g.
    one that failed during the company's first run): remember everything, emit nothing, except
    records modified at or after `backfill_since` when given, which are emitted as if new.

    Watermarks: an object in `read` (read successfully this cycle) advances to its newest
    WHENMODIFIED; one that has none yet and read no rows gets `read_at` (when the read started),
    so "has a watermark" means "was read once"; an object not in `read` keeps its watermark.
    """
    plan = CyclePlan()
    in_baseline = set(OBJECTS) if baseline is True else set(baseline or ())
    emits = {name: _EmitPolicy(name in in_baseline, backfill_since) for name in OBJECTS}
    _plan_bills(company, known.get(BILLS, {}), records.bills, emits[BILLS], plan)
    _plan_payments(company, known.get(PAYMENTS, {}), records.payments, emits[PAYMENTS], plan)
    _plan_vendors(company, known.get(VENDORS, {}), records.vendors, emits[VENDORS], plan)
    for object_name, rows in ((BILLS, records.bills), (PAYMENTS, records.payments), (VENDORS, records.vendors)):
        newest = _newest(r.when_modified for r in rows)
        previous = watermarks.get(object_name)
        if object_name not in read:
            newest = None
        elif newest is None and previous is None:
            newest = read_at
        if newest is not None and (previous is None or newest > previous):
            plan.watermarks[object_name] = newest
        elif previous is not None:
            plan.watermarks[object_name] = previous
    plan.links.extend(record_links(company, records))
    return plan


def record_links(company: str, records: RecordsRead) -> list[RecordLink]:
    """The links cards show for the records read (intacct/record_links.py), each with its record."""
    links = [RecordLink(company, key, BILLS, bill.record_no) for bill in records.bills for key in link_keys_bill(bill)]
    links += [RecordLink(company, key, PAYMENTS, p.record_no) for p in records.payments for key in link_keys_payment(p)]
    links += [RecordLink(company, key, VENDORS, v.record_no) for v in records.vendors for key in link_keys_vendor(v)]
    return links


@dataclass(frozen=True)
class _EmitPolicy:
    baseline: bool
    backfill_since: datetime | None

    def allows(self, modified: datetime | None) -> bool:
        if not self.baseline:
            return True
        return self.backfill_since is not None and modified is not None and modified >= self.backfill_since


def _unchanged(old: Snapshot | None, new: Snapshot) -> bool:
    # Same RECORDNO and WHENMODIFIED and same fields: the overlap window re-read this version.
    return old is not None and dict(old.fields) == dict(new.fields)


def _plan_bills(company: str, known: Mapping[int, Snapshot], bills: Iterable[Bill], emit: _EmitPolicy, plan: CyclePlan) -> None:
    for bill in _latest_versions(bills):
        old, new = known.get(bill.record_no), bill_snapshot(bill)
        if _unchanged(old, new):
            continue
        plan.snapshots.setdefault(BILLS, []).append(new)
        if not emit.allows(bill.when_modified):
            continue
        if old is None:
            if bill.state not in SILENT_BILL_STATES:
                plan.events.append(BillCreated(company, bill))
            continue
        old_state = old.fields.get("state", "")
        if bill.state in SILENT_BILL_STATES and old_state in SILENT_BILL_STATES:
            continue
        # Same state with a new due date or total is still reported: the card is updated in place.
        plan.events.append(BillStateChanged(company, bill, old_state, bill.state))


def _plan_payments(company: str, known: Mapping[int, Snapshot], payments: Iterable[Payment], emit: _EmitPolicy, plan: CyclePlan) -> None:
    for payment in _latest_versions(payments):
        old, new = known.get(payment.record_no), payment_snapshot(payment)
        if _unchanged(old, new):
            continue
        plan.snapshots.setdefault(PAYMENTS, []).append(new)
        if not emit.allows(payment.when_modified):
            continue
        old_state = old.fields.get("state", "") if old else None
        if old_state == payment.state:
            continue  # an amount edit on a known payment: nothing an approver must act on
        became_pending = payment.state in PENDING_PAYMENT_STATES and (old_state is None or old_state not in PENDING_PAYMENT_STATES)
        if became_pending:
            plan.events.append(PaymentPending(company, payment))
        elif old_state is not None:
            plan.events.append(PaymentStateChanged(company, payment, old_state, payment.state))


def _plan_vendors(company: str, known: Mapping[int, Snapshot], vendors: Iterable[Vendor], emit: _EmitPolicy, plan: CyclePlan) -> None:
    for vendor in _latest_versions(vendors):
        old, new = known.get(vendor.record_no), vendor_snapshot(vendor)
        if _unchanged(old, new):
            continue
        plan.snapshots.setdefault(VENDORS, []).append(new)
        if old is None or not emit.allows(vendor.when_modified):
            continue  # a new vendor is not an AP event; its later status changes are
        plan.events.append(
            VendorStatusChanged(
                company,
                vendor,
                old_status=old.fields.get("status", ""),
                new_status=vendor.status,
                old_on_hold=old.fields.get("on_hold") == "true",
                new_on_hold=vendor.on_hold,
            )
        )


def _latest_versions(records):
    """One record per RECORDNO (the newest WHENMODIFIED), in a stable order."""
    latest: dict[int, object] = {}
    for record in records:
        current = latest.get(record.record_no)
        if current is None or _later(record.when_modified, current.when_modified):
            latest[record.record_no] = record
    return [latest[k] for k in sorted(latest)]


def _later(a: datetime | None, b: datetime | None) -> bool:
    if a is None:
        return False
    return b is None or a >= b


def _newest(moments: Iterable[datetime | None]) -> datetime | None:
    present = [m for m in moments if m is not None]
    return max(present) if present else None

