"""Demo activity: one plausible AP change per interval, so a demo keeps producing cards.

Each tick picks, from the sandbox's own activity random stream, one of: a new bill (Submitted);
a bill moving on (Submitted → Posted, sometimes Partially Approved or Declined); a payment
request for a Posted bill (which becomes Selected) or the progress of an open one (Submitted →
Approved → Delivered → Confirmed, which pays the bill; rarely Declined); a vendor put on or taken
off hold. When the picked change has nothing to act on, the next kind is tried, ending with a new
bill, which is always possible. Given the seed and the clock, the sequence is deterministic.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from datetime import datetime
from typing import AsyncIterator, Callable

from aiohttp import web

from sandbox.demo_data import BANK_ACCOUNT
from sandbox.objects import (
    APBILL,
    APPYMT,
    BILL_DECLINED,
    BILL_PARTIALLY_APPROVED,
    BILL_POSTED,
    BILL_STATES,
    BILL_SUBMITTED,
    PAYMENT_APPROVED,
    PAYMENT_CONFIRMED,
    PAYMENT_DECLINED,
    PAYMENT_DELIVERED,
    PAYMENT_PARTIALLY_APPROVED,
    PAYMENT_STATES,
    PAYMENT_SUBMITTED,
    VENDOR,
)
from sandbox.state import SANDBOX_STATE, SandboxState

log = logging.getLogger(__name__)

_KINDS = ("new_bill", "bill", "payment", "vendor")
_WEIGHTS = (3, 3, 3, 1)
_NEXT_PAYMENT_STATE = {
    PAYMENT_SUBMITTED: PAYMENT_APPROVED,
    PAYMENT_PARTIALLY_APPROVED: PAYMENT_APPROVED,
    PAYMENT_APPROVED: PAYMENT_DELIVERED,
    PAYMENT_DELIVERED: PAYMENT_CONFIRMED,
}


def make_change(state: SandboxState) -> str:
    """Make one change to the company and describe it (for the log)."""
    rng, now = state.activity_rng, state.now()
    first = _KINDS.index(rng.choices(_KINDS, _WEIGHTS)[0])
    for kind in _KINDS[first:] + _KINDS[:first]:
        description = _CHANGES[kind](state, rng, now)
        if description is not None:
            return description
    raise AssertionError("a new bill can always be made")  # _new_bill never returns None


def _new_bill(state: SandboxState, rng: random.Random, now: datetime) -> str | None:
    row = state.generator.new_bill(now)
    p = APBILL.positions
    return f"bill {row[0]} ({row[p['RECORDID']]}) created for {row[p['VENDORNAME']]}, {row[p['TOTALENTERED']]:.2f}"


def _advance_bill(state: SandboxState, rng: random.Random, now: datetime) -> str | None:
    state_at = APBILL.positions["RAWSTATE"]
    waiting = [
        row[0] for row in state.company.tables["APBILL"] if row[state_at] in (BILL_SUBMITTED, BILL_PARTIALLY_APPROVED)
    ]
    if not waiting:
        return None
    record_no = rng.choice(waiting)
    current = state.company.tables["APBILL"].rows[record_no][state_at]
    draw = rng.random()
    if current == BILL_SUBMITTED:
        target = BILL_DECLINED if draw < 0.1 else BILL_PARTIALLY_APPROVED if draw < 0.25 else BILL_POSTED
    else:
        target = BILL_DECLINED if draw < 0.15 else BILL_POSTED
    old, new = state.company.set_bill_state(record_no, target, now)
    return f"bill {record_no} {BILL_STATES[old]} -> {BILL_STATES[new]}"


def _move_payment(state: SandboxState, rng: random.Random, now: datetime) -> str | None:
    company = state.company
    bill_state, due = APBILL.positions["RAWSTATE"], APBILL.positions["TOTALDUE"]
    payable = [row[0] for row in company.tables["APBILL"] if row[bill_state] == BILL_POSTED and row[due] > 0]
    payment_state = APPYMT.positions["STATE"]
    open_payments = [row[0] for row in company.tables["APPYMT"] if row[payment_state] in _NEXT_PAYMENT_STATE]
    if not payable and not open_payments:
        return None
    if payable and (not open_payments or rng.random() < 0.5):
        bill_record_no = rng.choice(payable)
        payment = company.request_payment(
            bill_record_no, None, now, method=state.generator.payment_method(), bank=BANK_ACCOUNT
        )
        return f"payment {payment[0]} requested for bill {bill_record_no}"
    record_no = rng.choice(open_payments)
    current = company.tables["APPYMT"].rows[record_no][payment_state]
    declined = current == PAYMENT_SUBMITTED and rng.random() < 0.05
    target = PAYMENT_DECLINED if declined else _NEXT_PAYMENT_STATE[current]
    old, new = company.set_payment_state(record_no, target, now)
    return f"payment {record_no} {PAYMENT_STATES[old]} -> {PAYMENT_STATES[new]}"


def _toggle_vendor_hold(state: SandboxState, rng: random.Random, now: datetime) -> str | None:
    status, hold, vendor_id = VENDOR.positions["STATUS"], VENDOR.positions["ONHOLD"], VENDOR.positions["VENDORID"]
    active = [(row[vendor_id], row[hold]) for row in state.company.tables["VENDOR"] if row[status] == "T"]
    if not active:
        return None
    chosen, on_hold = rng.choice(active)
    state.company.set_vendor_status(chosen, None, not on_hold, now)
    return f"vendor {chosen} {'released from hold' if on_hold else 'put on hold'}"


_CHANGES: dict[str, Callable[[SandboxState, random.Random, datetime], str | None]] = {
    "new_bill": _new_bill,
    "bill": _advance_bill,
    "payment": _move_payment,
    "vendor": _toggle_vendor_hold,
}


async def run_activity(state: SandboxState, interval: float) -> None:
    """Make one change every `interval` seconds (through the injected sleep) until cancelled."""
    while True:
        await state.sleep(interval)
        try:
            description = make_change(state)
        except Exception:  # a bug in one change must not end the demo; it is logged with its trace
            log.exception("sandbox activity could not make a change; trying again next interval")
            continue
        log.info("sandbox activity: %s", description)


def activity_context(interval: float) -> Callable[[web.Application], AsyncIterator[None]]:
    """A cleanup_ctx entry running the activity while the app runs."""
    if interval <= 0:
        raise ValueError("the activity interval must be positive")

    async def activity(app: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(run_activity(app[SANDBOX_STATE], interval), name="sandbox-activity")
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    return activity
