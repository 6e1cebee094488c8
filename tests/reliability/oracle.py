"""The delivery oracle: what the workload changed and Intacct now says, against what Teams shows.

It trusts neither the service's store nor its audit trail: the expected cards come from
`ApWorkload` (what the test changed) and `read_truth` (the final state, read through the gateway);
what was delivered comes from the fake Bot Connector (`ChannelLedger`). See tests/fakes/ap_workload.py
for why every change the workload makes is one the poller can observe.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from tests.fakes.ap_workload import ApWorkload, Truth
from tests.fakes.teams_ledger import ChannelLedger, shown_state, vendor_shown


@dataclass
class DeliveryCheck:
    """Differences between what Teams must show and what it shows."""

    expected: int = 0  # records that must have a card
    missing: list[str] = field(default_factory=list)  # a changed record without a card: lost
    stale: list[str] = field(default_factory=list)  # a card whose latest version is not the final state
    unexpected: list[str] = field(default_factory=list)  # a card for a record nobody changed
    duplicate_posts: int = 0
    duplicate_updates: int = 0

    @property
    def duplicates(self) -> int:
        """Events delivered twice (a second thread, or a version sent twice in a row)."""
        return self.duplicate_posts + self.duplicate_updates

    @property
    def complete(self) -> bool:
        """Every changed record shows its final state and nothing else was posted."""
        return not (self.missing or self.stale or self.unexpected)

    def describe(self) -> str:
        """One paragraph for an assertion message."""
        return (f"{self.expected} records expected; missing {self.missing[:10]} ({len(self.missing)}), stale {self.stale[:10]} "
                f"({len(self.stale)}), unexpected {self.unexpected[:10]}, duplicates {self.duplicate_posts} posts + "
                f"{self.duplicate_updates} updates")


def check_delivery(truth: Truth, workload: ApWorkload, ledger: ChannelLedger) -> DeliveryCheck:
    """Compare (see the module docstring). Read `truth` with the test's own client once the
    workload is done and no gateway fault is queued (a fault must hit the service, not the oracle)."""
    check = DeliveryCheck()
    expected: set[tuple[str, int]] = set()
    for record_no in workload.bills:
        _expect(check, ledger, ("APBILL", record_no), truth.bill_states[record_no], shown_state)
        expected.add(("APBILL", record_no))
    for record_no in workload.payments:
        _expect(check, ledger, ("APPYMT", record_no), truth.payment_states[record_no], shown_state)
        expected.add(("APPYMT", record_no))
    for vendor_id in workload.vendors:
        record_no, status, on_hold = truth.vendors[vendor_id]
        _expect(check, ledger, ("VENDOR", record_no), (status, "yes" if on_hold else "no"), vendor_shown)
        expected.add(("VENDOR", record_no))
    check.expected = len(expected)
    check.unexpected = [f"{obj} {no}" for obj, no in sorted(set(ledger.by_record) - expected)]
    check.duplicate_posts = ledger.duplicate_posts()
    check.duplicate_updates = ledger.duplicate_updates()
    return check


def _expect(check: DeliveryCheck, ledger: ChannelLedger, record: tuple[str, int], final: object,
            shown: Callable[[dict[str, Any]], object]) -> None:
    latest = ledger.latest(record)
    name = f"{record[0]} {record[1]}"
    if latest is None:
        check.missing.append(name)
    elif shown(latest) != final:
        check.stale.append(f"{name}: shows {shown(latest)!r}, is {final!r}")
