"""An AP team at work in the Intacct sandbox, through its admin API, and the oracle's ground truth.

`ApWorkload.step()` makes one seeded-random change, as people would: a new bill, a bill approved,
declined, paid or partly paid, a payment requested for a posted bill and moved through approval,
a vendor put on hold or taken off it. It remembers what it touched (`bills`, `payments`,
`vendors`); `read_truth()` reads the final state of everything back through the XML gateway with
the test's own IntacctClient. Neither trusts ml-connector: together they say which cards Teams
must show and in which state.

Choices that keep "what the poller could observe" decidable without asking the service:
payments only move between pending states (Submitted → Approved → Delivered), so every requested
payment is seen pending by some poll and must have a card; each vendor changes once (hold or
release), so its final state always differs from the baseline and must have exactly one card.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from intacct.client import IntacctClient
from tests.fakes.sandbox import RunningSandbox

PAYMENT_NEXT = {"Submitted": "Approved", "Approved": "Delivered"}


class WorkloadError(AssertionError):
    """The sandbox refused a change the workload believed valid (a bug in the workload or sandbox)."""


@dataclass
class Truth:
    """Final state of every record as Intacct (the sandbox) reports it."""

    bill_states: dict[int, str]
    payment_states: dict[int, str]
    vendors: dict[str, tuple[int, str, bool]]  # vendor id → (record no, status, on hold)


async def read_truth(client: IntacctClient) -> Truth:
    """Everything, read through the gateway (no watermark): the oracle's ground truth."""
    changes = await client.read_changes({"APBILL": None, "APPYMT": None, "VENDOR": None})
    return Truth(
        bill_states={b.record_no: b.state for b in changes.bills},
        payment_states={p.record_no: p.state for p in changes.payments},
        vendors={v.vendor_id: (v.record_no, v.status, v.on_hold) for v in changes.vendors},
    )


@dataclass
class ApWorkload:
    """Seeded changes through the admin API; one at a time (a lock), so choices see current states."""

    sandbox: RunningSandbox
    rng: random.Random
    vendor_ids: list[str]  # vendors the workload may change (each at most once)
    bills: dict[int, str] = field(default_factory=dict)  # record no → state the sandbox answered
    payments: dict[int, str] = field(default_factory=dict)
    vendors: dict[str, bool] = field(default_factory=dict)  # vendor id → on hold after our change
    changes: int = 0
    log: list[str] = field(default_factory=list)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def burst(self, count: int) -> None:
        """`count` changes in a row."""
        for _ in range(count):
            await self.step()

    async def step(self) -> str:
        """One change, chosen by the seeded RNG among those possible now; returns what it did."""
        async with self._lock:
            actions = self._possible()
            names = list(actions)
            name = self.rng.choices(names, weights=[actions[n][0] for n in names])[0]
            done = await actions[name][1]()
            self.changes += 1
            self.log.append(done)
            return done

    def _possible(self) -> dict[str, tuple[float, Any]]:
        submitted = [no for no, state in self.bills.items() if state == "Submitted"]
        posted = [no for no, state in self.bills.items() if state == "Posted"]
        movable = [no for no, state in self.payments.items() if state in PAYMENT_NEXT]
        untouched = [v for v in self.vendor_ids if v not in self.vendors]
        actions: dict[str, tuple[float, Any]] = {"new bill": (4.0, self._new_bill)}
        if submitted:
            actions["approve"] = (3.0, lambda: self._bill_state(self.rng.choice(submitted), "Approved"))
            actions["decline"] = (0.7, lambda: self._bill_state(self.rng.choice(submitted), "Declined"))
        if posted:
            actions["pay"] = (0.8, lambda: self._bill_state(self.rng.choice(posted), "Paid"))
            actions["pay part"] = (0.5, lambda: self._bill_state(self.rng.choice(posted), "Partially Paid"))
            actions["request payment"] = (1.5, lambda: self._request_payment(self.rng.choice(posted)))
        if movable:
            actions["move payment"] = (1.5, lambda: self._move_payment(self.rng.choice(movable)))
        if untouched:
            actions["vendor"] = (1.0, lambda: self._toggle_vendor(self.rng.choice(untouched)))
        return actions

    async def _new_bill(self) -> str:
        amount = f"{self.rng.randint(100, 90_000)}.{self.rng.randint(0, 99):02d}"
        answer = await self._admin("POST", "/sandbox/bills", {"amount": amount})
        self.bills[answer["record_no"]] = answer["state"]
        return f"bill {answer['record_no']} created ({amount})"

    async def _bill_state(self, record_no: int, state: str) -> str:
        answer = await self._admin("POST", f"/sandbox/bills/{record_no}/state", {"state": state})
        self.bills[record_no] = answer["state"]
        return f"bill {record_no} → {answer['state']}"

    async def _request_payment(self, bill_record_no: int) -> str:
        answer = await self._admin("POST", "/sandbox/payments", {"bill_record_no": bill_record_no})
        self.payments[answer["record_no"]] = answer["state"]
        self.bills[bill_record_no] = "Selected"  # the sandbox selects a bill for payment
        return f"payment {answer['record_no']} requested for bill {bill_record_no}"

    async def _move_payment(self, record_no: int) -> str:
        answer = await self._admin("POST", f"/sandbox/payments/{record_no}/state", {"state": PAYMENT_NEXT[self.payments[record_no]]})
        self.payments[record_no] = answer["state"]
        return f"payment {record_no} → {answer['state']}"

    async def _toggle_vendor(self, vendor_id: str) -> str:
        answer = await self._admin("POST", f"/sandbox/vendors/{vendor_id}/status", {"on_hold": True})
        if not answer["changed"]:  # already on hold: taking it off is the change
            answer = await self._admin("POST", f"/sandbox/vendors/{vendor_id}/status", {"on_hold": False})
        self.vendors[vendor_id] = answer["on_hold"]
        return f"vendor {vendor_id} on hold → {answer['on_hold']}"

    async def _admin(self, method: str, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        url = self.sandbox.url + path
        async with self.sandbox.http.request(method, url, json=payload, timeout=aiohttp.ClientTimeout(total=10)) as response:
            body = await response.json()
            if response.status >= 300:
                raise WorkloadError(f"{method} {path} {payload}: HTTP {response.status} {body}")
            return body
