"""Events the poller records (past tense, frozen), each with a stable idempotency key.

A key names one change of one record, so re-planning the same change after a crash or an
overlapping read yields the same key, and the outbox's unique (key, conversation) constraint
turns a repeat into a no-op.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime

from intacct.bills import Bill
from intacct.figures import DepartmentAmount, Tally
from intacct.payments import Payment
from intacct.vendors import Vendor


class EventKind(enum.Enum):
    """What a channel subscribes to (`subscribe bills|payments|vendors|digest`)."""

    BILLS = "bills"
    PAYMENTS = "payments"
    VENDORS = "vendors"
    DIGEST = "digest"
    ALERTS = "alerts"  # the operators' channel: polling failures, recoveries, gone channels


def _stamp(moment: datetime | None) -> str:
    return moment.isoformat() if moment is not None else "-"


@dataclass(frozen=True, slots=True)
class BillCreated:
    """A bill appeared that the store had not seen."""

    company: str
    bill: Bill
    kind = EventKind.BILLS
    record_kind = "bill"

    @property
    def key(self) -> str:
        """Stable idempotency key."""
        return f"{self.company}|bill|{self.bill.record_no}|created"

    @property
    def record_no(self) -> int:
        """RECORDNO of the bill."""
        return self.bill.record_no


@dataclass(frozen=True, slots=True)
class BillStateChanged:
    """A known bill moved from one state to another (or its due date/amount changed)."""

    company: str
    bill: Bill
    old_state: str
    new_state: str
    kind = EventKind.BILLS
    record_kind = "bill"

    @property
    def key(self) -> str:
        """Stable idempotency key (the modification time tells a flip-back from a repeat)."""
        return (
            f"{self.company}|bill|{self.bill.record_no}|state|{self.old_state}>{self.new_state}"
            f"|{_stamp(self.bill.when_modified)}"
        )

    @property
    def record_no(self) -> int:
        """RECORDNO of the bill."""
        return self.bill.record_no


@dataclass(frozen=True, slots=True)
class PaymentPending:
    """A payment request appeared (or became pending) and waits for approval or payment."""

    company: str
    payment: Payment
    kind = EventKind.PAYMENTS
    record_kind = "payment"

    @property
    def key(self) -> str:
        """Stable idempotency key."""
        return f"{self.company}|payment|{self.payment.record_no}|pending|{self.payment.state}"

    @property
    def record_no(self) -> int:
        """RECORDNO of the payment."""
        return self.payment.record_no


@dataclass(frozen=True, slots=True)
class PaymentStateChanged:
    """A known payment moved from one state to another."""

    company: str
    payment: Payment
    old_state: str
    new_state: str
    kind = EventKind.PAYMENTS
    record_kind = "payment"

    @property
    def key(self) -> str:
        """Stable idempotency key."""
        return (
            f"{self.company}|payment|{self.payment.record_no}|state|{self.old_state}>{self.new_state}"
            f"|{_stamp(self.payment.when_modified)}"
        )

    @property
    def record_no(self) -> int:
        """RECORDNO of the payment."""
        return self.payment.record_no


@dataclass(frozen=True, slots=True)
class VendorStatusChanged:
    """A vendor's status (active/inactive) and/or on-hold flag changed."""

    company: str
    vendor: Vendor
    old_status: str
    new_status: str
    old_on_hold: bool
    new_on_hold: bool
    kind = EventKind.VENDORS
    record_kind = "vendor"

    @property
    def key(self) -> str:
        """Stable idempotency key."""
        return (
            f"{self.company}|vendor|{self.vendor.record_no}|status|{self.old_status}/{self.old_on_hold}"
            f">{self.new_status}/{self.new_on_hold}|{_stamp(self.vendor.when_modified)}"
        )

    @property
    def record_no(self) -> int:
        """RECORDNO of the vendor."""
        return self.vendor.record_no


@dataclass(frozen=True, slots=True)
class DigestFigures:
    """The digest's figures over Intacct's whole results (intacct/figures.py defines each)."""

    pending_approval: Tally
    due_this_week: Tally
    overdue: Tally
    payments_pending_approval: Tally


@dataclass(frozen=True, slots=True)
class DigestPrepared:
    """The scheduled digest for one company: its figures, the first rows of each (soonest due
    first), and what is due this week per department. `as_of` is the AP team's date."""

    company: str
    as_of: date
    pending_bills: tuple[Bill, ...]
    payments_pending: tuple[Payment, ...] = ()
    bills_due: tuple[Bill, ...] = ()
    overdue_bills: tuple[Bill, ...] = ()
    figures: DigestFigures | None = None  # None in digests queued before the figures existed
    due_by_department: tuple[DepartmentAmount, ...] = ()
    kind = EventKind.DIGEST
    record_kind = "digest"

    @property
    def key(self) -> str:
        """Stable idempotency key: one digest per company per day."""
        return f"{self.company}|digest|{self.as_of.isoformat()}"

    @property
    def record_no(self) -> int:
        """Digests are about no single record."""
        return 0


@dataclass(frozen=True, slots=True)
class SummarizedChange:
    """One line of a burst summary: what happened to which record."""

    kind: EventKind
    record_kind: str
    record_no: int
    label: str  # e.g. "Bill 1234 · Acme Ltd · 1,200.00 USD · Submitted"
    url: str | None = None


@dataclass(frozen=True, slots=True)
class ChangesSummarized:
    """A burst above MAX_EVENTS_PER_CYCLE_PER_CHANNEL, folded into one event for one channel."""

    company: str
    cycle_at: datetime
    conversation_id: str
    total: int
    changes: tuple[SummarizedChange, ...] = field(default=())
    kind = EventKind.DIGEST
    record_kind = "summary"

    @property
    def key(self) -> str:
        """Stable idempotency key: one summary per company, cycle and channel."""
        return f"{self.company}|summary|{self.cycle_at.isoformat()}|{self.conversation_id}"

    @property
    def record_no(self) -> int:
        """Summaries are about no single record."""
        return 0


class AlertKind(enum.Enum):
    """Why the operators' channel is told something."""

    POLLING_FAILED = "polling_failed"
    POLLING_RECOVERED = "polling_recovered"
    CREDENTIALS_REJECTED = "credentials_rejected"
    CHANNEL_GONE = "channel_gone"
    DELIVERY_FAILED = "delivery_failed"  # the notifier gave up on a card (payload, retries, refusal)
    DELIVERY_PAUSED = "delivery_paused"  # Teams refuses the bot itself: every card waits until it is fixed
    WAKEUPS_MISSING = "wakeups_missing"  # the regular poll found changes no Intacct wake-up announced


@dataclass(frozen=True, slots=True)
class AlertRaised:
    """Something an operator must know: failures are never silent."""

    company: str
    alert: AlertKind
    at: datetime
    summary: str  # one line, already free of secrets
    detail: str | None = None  # e.g. Intacct's error number and description
    fix: str | None = None  # what to do about it
    subject: str | None = None  # e.g. the gone channel's conversation id
    kind = EventKind.ALERTS
    record_kind = "alert"

    @property
    def key(self) -> str:
        """Stable idempotency key: one alert per company, kind, subject and moment."""
        return f"{self.company}|alert|{self.alert.value}|{self.subject or '-'}|{self.at.isoformat()}"

    @property
    def record_no(self) -> int:
        """Alerts are about no single record."""
        return 0


Event = (
    BillCreated
    | BillStateChanged
    | PaymentPending
    | PaymentStateChanged
    | VendorStatusChanged
    | DigestPrepared
    | ChangesSummarized
    | AlertRaised
)

EVENT_TYPES: dict[str, type] = {
    cls.__name__: cls
    for cls in (
        BillCreated,
        BillStateChanged,
        PaymentPending,
        PaymentStateChanged,
        VendorStatusChanged,
        DigestPrepared,
        ChangesSummarized,
        AlertRaised,
    )
}
