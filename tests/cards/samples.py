"""Deterministic records, events and views for the card tests (an AP team's ordinary Monday)."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from cards.links import IntacctLinks
from cards.bills import due_order
from cards.views import (
    AlertKind,
    AlertView,
    CompanyStatus,
    GraphState,
    GraphStatus,
    RouteView,
    ScheduleView,
    StatusView,
    SubscriptionsView,
)
from intacct import figures
from intacct.bills import Bill, BillLine
from intacct.company import TeamZone
from intacct.payments import Payment
from intacct.vendors import Vendor
from poller.events import ChangesSummarized, DigestFigures, DigestPrepared, EventKind, SummarizedChange

TODAY = date(2026, 11, 23)  # the Monday FakeClock starts on
NOW = datetime(2026, 11, 23, 14, 0, tzinfo=timezone.utc)  # 06:00 in the AP team's zone
ZONE = TeamZone.from_name("America/Los_Angeles")
COMPANY = "DEMO-CO"
WEB_URL = "https://www.intacct.com"
LINKS = IntacctLinks(WEB_URL, COMPANY)

HOSTILE = (
    "[click](javascript:alert(1)) <at>Everyone</at> <script>alert(1)</script> **pay now** __u__ "
    "&lt;at&gt;x&lt;/at&gt; {{DATE(2017-02-14T06:08:39Z,SHORT)}} \x00\x07\x1b[31m \u202eevil\u202c "
    "\ud800 line\nbreak\r\n- list ![img](https://evil.example/x.png) <https://evil.example>"
)


def record_url(token: str) -> str:
    """An Intacct RECORD_URL as the gateway returns it."""
    return f"{WEB_URL}/ia/acct/ur.phtml?.r={token}"


def line(n: int, amount: str, **fields: object) -> BillLine:
    """A bill line with a GL account and the usual dimensions."""
    values: dict[str, object] = dict(
        record_no=5000 + n,
        line_no=n,
        amount=Decimal(amount),
        gl_account_no="6100",
        gl_account_title="Office Furniture",
        memo=None,
        department_id="D100",
        department_name="Operations",
        location_id="L-NYC",
        location_name="New York",
    )
    values.update(fields)
    return BillLine(**values)  # type: ignore[arg-type]


BILL_LINES = (
    line(1, "8400.00", memo="12 standing desks"),
    line(2, "3580.50", gl_account_no="6110", gl_account_title="Office Supplies", department_id="D200", department_name="Sales", class_id="C-RETAIL", class_name="Retail"),
    line(3, "500.00", gl_account_no="6400", gl_account_title="Freight", location_id="L-BOS", location_name="Boston", project_id="P-HQ", project_name="HQ refit"),
)


def bill(**overrides: object) -> Bill:
    """A bill waiting for approval, due in 9 days, with three lines."""
    values: dict[str, object] = dict(
        record_no=1201,
        bill_number="BILL-1042",
        vendor_id="V-0042",
        vendor_name="Northwind Office Supply",
        state="Submitted",
        total_entered=Decimal("12480.50"),
        total_due=Decimal("12480.50"),
        currency="USD",
        description="Q4 office furniture for the New York floor",
        reference="PO-7781",
        bill_date=date(2026, 11, 2),
        due_date=date(2026, 12, 2),
        when_modified=datetime(2026, 11, 23, 13, 55, tzinfo=timezone.utc),
        record_url=record_url("QklMTC0xMDQy"),
        lines=BILL_LINES,
    )
    values.update(overrides)
    return Bill(**values)  # type: ignore[arg-type]


def payment(**overrides: object) -> Payment:
    """A payment request waiting for approval."""
    values: dict[str, object] = dict(
        record_no=812,
        vendor_id="V-0042",
        vendor_name="Northwind Office Supply",
        state="Submitted",
        amount=Decimal("12480.50"),
        currency="USD",
        payment_method="ACH",
        payment_date=date(2026, 11, 25),
        reference="ACH-20261125-01",
        description="November furniture",
        financial_entity="BOA-CHK-01",
        when_modified=datetime(2026, 11, 23, 13, 50, tzinfo=timezone.utc),
        record_url=record_url("UFlNVC04MTI"),
    )
    values.update(overrides)
    return Payment(**values)  # type: ignore[arg-type]


def vendor(**overrides: object) -> Vendor:
    """An active vendor."""
    values: dict[str, object] = dict(
        record_no=42,
        vendor_id="V-0042",
        name="Northwind Office Supply",
        status="active",
        on_hold=False,
        when_modified=datetime(2026, 11, 23, 13, 40, tzinfo=timezone.utc),
        currency="USD",
        term_name="Net 30",
        email="ar@northwind.example",
        record_url=record_url("VkVORE9SLTQy"),
    )
    values.update(overrides)
    return Vendor(**values)  # type: ignore[arg-type]


def pending_bills(count: int) -> list[Bill]:
    """`count` pending bills with due dates spread around TODAY (some overdue), two currencies."""
    bills = []
    for i in range(count):
        bills.append(
            bill(
                record_no=2000 + i,
                bill_number=f"BILL-{2000 + i}",
                vendor_id=f"V-{i % 7:04d}",
                vendor_name=("Contoso Ltd", "Fabrikam Inc", "Tailspin Toys", "Litware", "Adventure Works", "Wingtip", "Proseware")[i % 7],
                total_entered=Decimal(100 + 37 * i) + Decimal("0.25"),
                total_due=Decimal(100 + 37 * i) + Decimal("0.25"),
                currency="EUR" if i % 5 == 4 else "USD",
                due_date=TODAY + timedelta(days=(i * 3) % 17 - 4),
                state="Partially Approved" if i % 3 == 2 else "Submitted",
                record_url=record_url(f"QklMTC0y{i:04d}"),
                lines=(line(1, str(Decimal(100 + 37 * i) + Decimal("0.25")), department_id=f"D{100 * (1 + i % 4)}", department_name=("Operations", "Sales", "Finance", "IT")[i % 4]),),
            )
        )
    return bills


def payments(count: int) -> list[Payment]:
    """`count` payments in several states."""
    states = ("Submitted", "Approved", "Delivered", "Confirmed", "Declined")
    return [
        payment(
            record_no=900 + i,
            vendor_id=f"V-{i % 7:04d}",
            vendor_name=("Contoso Ltd", "Fabrikam Inc", "Tailspin Toys", "Litware", "Adventure Works", "Wingtip", "Proseware")[i % 7],
            state=states[i % len(states)],
            amount=Decimal(250 + 11 * i) + Decimal("0.10"),
            payment_date=TODAY + timedelta(days=i % 9 - 3),
            record_url=record_url(f"UFlNVC{i:04d}"),
        )
        for i in range(count)
    ]


def digest(pending: int = 7, approved: int = 5, paying: int = 8) -> DigestPrepared:
    """A digest as the poller makes it, from `pending` bills waiting for approval, `approved`
    (Posted) bills and `paying` payments in several states: each figure selected by its
    definition, the first ten rows of each kept."""
    approved_bills = [
        dataclasses.replace(b, record_no=b.record_no + 10_000, bill_number=f"BILL-9{i}", state="Posted")
        for i, b in enumerate(pending_bills(approved))
    ]
    pool = pending_bills(pending) + approved_bills

    def chosen(figure: figures.BillFigure) -> list[Bill]:
        return sorted((b for b in pool if figure.includes(b, TODAY)), key=due_order)

    waiting = [p for p in payments(paying) if figures.PAYMENTS_PENDING_APPROVAL.includes(p)]
    pending_rows, overdue, due = chosen(figures.PENDING_APPROVAL), chosen(figures.OVERDUE), chosen(figures.DUE_THIS_WEEK)
    return DigestPrepared(
        COMPANY,
        TODAY,
        pending_bills=tuple(pending_rows[:10]),
        payments_pending=tuple(waiting[:10]),
        bills_due=tuple(due[:10]),
        overdue_bills=tuple(overdue[:10]),
        figures=DigestFigures(
            figures.tally(pending_rows, figures.amount_due),
            figures.tally(due, figures.amount_due),
            figures.tally(overdue, figures.amount_due),
            figures.tally(waiting, figures.payment_amount),
        ),
        due_by_department=figures.amount_due_by_department(due),
    )


def summary(count: int = 5, total: int | None = None) -> ChangesSummarized:
    """A burst of `count` changes folded into one summary (total may exceed what is listed)."""
    changes = tuple(
        SummarizedChange(EventKind.BILLS, "bill", 3000 + i, f"New bill BILL-{3000 + i} · Contoso Ltd · {100 + i:,}.00 USD · Submitted", record_url(f"c3Vt{i:04d}") if i % 2 == 0 else None)
        for i in range(count)
    )
    return ChangesSummarized(COMPANY, NOW, "19:abc@thread.tacv2", total if total is not None else count, changes)


def route(route_id: int = 1, **overrides: object) -> RouteView:
    """An active bills route of the #ap-approvals channel."""
    values: dict[str, object] = dict(
        route_id=route_id,
        conversation_id=f"19:route{route_id}@thread.tacv2",
        event_kinds=("bills",),
        channel_name="ap-approvals",
        company=COMPANY,
        department="D100",
        min_amount=Decimal("5000"),
    )
    values.update(overrides)
    return RouteView(**values)  # type: ignore[arg-type]


def status_view(**overrides: object) -> StatusView:
    """One healthy company, one failing, Graph fine, one inactive route."""
    values: dict[str, object] = dict(
        now=NOW,
        companies=(
            CompanyStatus(
                company=COMPANY,
                name="Demo Manufacturing Inc.",
                schedule=ScheduleView(
                    "*/5 7-19 * * mon-fri", "America/New_York", every_seconds=300, start_minute=7 * 60, end_minute=20 * 60, weekdays=(0, 1, 2, 3, 4)
                ),
                last_attempt_at=NOW - timedelta(minutes=3),
                last_success_at=NOW - timedelta(minutes=3),
                next_poll_at=NOW + timedelta(minutes=2),
                functions_last_cycle=3,
                monthly_transactions_estimate=20_592,
                outbox_depth=0,
                people_functions_today=42,
                people_functions_month=1_204,
            ),
            CompanyStatus(
                company="ACME-EU",
                last_attempt_at=NOW - timedelta(minutes=1),
                last_success_at=NOW - timedelta(hours=5),
                next_poll_at=NOW + timedelta(minutes=4),
                last_error="XL03000006 Sign-in information is incorrect",
                last_error_at=NOW - timedelta(minutes=1),
                consecutive_failures=12,
                functions_last_cycle=0,
                monthly_transactions_estimate=8_640,
                outbox_depth=4,
            ),
        ),
        outbox_depth=4,
        graph=GraphStatus(GraphState.OK, subscriptions=2, next_renewal_at=NOW + timedelta(days=2, hours=3)),
        inactive_routes=(route(7, channel_name="old-approvals", active=False, inactive_reason="channel deleted"),),
        version="0.1.0",
    )
    values.update(overrides)
    return StatusView(**values)  # type: ignore[arg-type]


def subscriptions_view() -> SubscriptionsView:
    """Three routes of one team, one inactive."""
    return SubscriptionsView(
        routes=(
            route(1),
            route(2, event_kinds=("payments", "vendors"), department=None, min_amount=None, company=None),
            route(3, event_kinds=("digest",), active=False, inactive_reason="bot removed from team (403)", department=None, min_amount=None, company_name="Demo Manufacturing Inc."),
        ),
        scope="ap-approvals",
    )


def alert(kind: AlertKind, **overrides: object) -> AlertView:
    """An alert of `kind` with Intacct's error text where it has one."""
    values: dict[str, object] = dict(kind=kind, company=COMPANY, at=NOW, summary="Polling DEMO-CO failed 5 times in a row.")
    if kind is AlertKind.POLLING_FAILED:
        values.update(
            detail="GW-0010 (HTTP 429): Too many concurrent requests for this company.",
            fix="Another integration holds the company's API slot. Wait, or reduce concurrent integrations.",
            consecutive_failures=5,
            failing_since=NOW - timedelta(minutes=25),
        )
    elif kind is AlertKind.POLLING_RECOVERED:
        values.update(summary="Polling DEMO-CO works again after 5 failures.")
    elif kind is AlertKind.CREDENTIALS_REJECTED:
        values.update(summary="Sage Intacct rejected the web-services user of DEMO-CO.", detail="XL03000006: Sign-in information is incorrect")
    elif kind is AlertKind.CHANNEL_GONE:
        values.update(summary="Channel ap-approvals was deleted; its 2 routes are now inactive.", channel_name="ap-approvals", subject="19:route1@thread.tacv2")
    values.update(overrides)
    return AlertView(**values)  # type: ignore[arg-type]
