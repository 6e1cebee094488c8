"""The coordinator against the sandbox over HTTP and a real SQLite store (issue checks of §Poller)."""

from __future__ import annotations

import logging
from datetime import timedelta
from decimal import Decimal

import pytest

from intacct import figures
from intacct.credentials import IntacctCredentials
from poller.codec import event_from_payload
from poller.coordinator import PollCoordinator, PollerConfig
from poller.events import AlertKind, AlertRaised, BillCreated, BillStateChanged, ChangesSummarized, DigestPrepared, PaymentPending, VendorStatusChanged
from poller.planning import BILLS
from store.sql import open_store
from store.types import RouteFilter
from tests.fakes.sandbox import running_sandbox

CHANNEL = "19:ap-team@thread.tacv2"
OPS = "19:ops@thread.tacv2"


@pytest.fixture
async def sandbox(clock):
    async with running_sandbox(clock, "demo") as sandbox:
        yield sandbox


@pytest.fixture
async def store(tmp_path):
    store = open_store(None, data_dir=tmp_path)
    await store.migrate()
    yield store
    await store.close()


@pytest.fixture
async def routed(store, clock):
    """A channel subscribed to everything and an operators' channel for alerts."""
    await store.add_route(CHANNEL, frozenset({"bills", "payments", "vendors", "digest"}), filter=RouteFilter(), company=None,
                          team_id=None, tenant_id=None, channel_name="AP team", created_by=None, now=clock())
    await store.add_route(OPS, frozenset({"alerts"}), filter=RouteFilter(), company=None,
                          team_id=None, tenant_id=None, channel_name="Ops", created_by=None, now=clock())
    return store


def coordinator(sandbox, store, clock, *, holder="instance-a", credentials=None, **config) -> PollCoordinator:
    client = sandbox.client(clock, credentials) if credentials else sandbox.client(clock)
    return PollCoordinator(PollerConfig("DEMO-CO", holder, **config), client, store, clock=clock, jitter=lambda: 0.5)


def kinds(outcome):
    return [type(e) for e in outcome.events]


async def outbox_events(store, conversation=CHANNEL):
    return [event_from_payload(i.payload) for i in await store.outbox_items() if i.conversation_id == conversation]


async def test_baseline_then_exactly_one_event_per_change(sandbox, routed, clock):
    poller = coordinator(sandbox, routed, clock)
    baseline = await poller.poll()
    assert baseline.ok and baseline.events == [] and await routed.outbox_depth() == 0

    clock.advance(60)
    bill = await sandbox.add_bill(amount="1250.00", department_id="D300")
    created = await poller.poll()
    assert kinds(created) == [BillCreated]
    event = created.events[0]
    assert event.bill.record_no == bill["record_no"] and event.bill.lines, "the card needs the lines"
    line = event.bill.lines[0]
    assert line.gl_account_title and line.department_id == "D300" and line.department_name
    clock.advance(60)
    assert (await poller.poll()).events == []

    clock.advance(60)
    await sandbox.set_bill_state(bill["record_no"], "Approved")
    approved = await poller.poll()
    assert kinds(approved) == [BillStateChanged]
    assert (approved.events[0].old_state, approved.events[0].new_state) == ("Submitted", "Posted")

    clock.advance(60)
    await sandbox.set_vendor_status(event.bill.vendor_id, on_hold=True)
    held = await poller.poll()
    assert kinds(held) == [VendorStatusChanged] and held.events[0].new_on_hold is True

    clock.advance(60)
    await sandbox.add_payment(bill_record_no=bill["record_no"])
    paid = await poller.poll()
    assert PaymentPending in kinds(paid)

    delivered = await outbox_events(routed)
    assert [type(e) for e in delivered] == [BillCreated, BillStateChanged, VendorStatusChanged, *kinds(paid)]


async def test_idle_cycle_is_one_request_with_at_most_three_functions(sandbox, routed, clock):
    poller = coordinator(sandbox, routed, clock)
    await poller.poll()
    clock.advance(120)
    await poller.poll()  # warm: session and time zone known
    before = await sandbox.stats()
    clock.advance(120)
    outcome = await poller.poll()
    after = await sandbox.stats()
    assert outcome.ok and outcome.events == []
    assert after["requests"] - before["requests"] == 1
    functions = sum(after["functions"].values()) - sum(before["functions"].values())
    assert functions <= 3 and outcome.functions == functions and outcome.requests == 1


async def test_record_modified_inside_the_overlap_is_not_emitted_twice(sandbox, routed, clock):
    poller = coordinator(sandbox, routed, clock)
    await poller.poll()
    clock.advance(30)
    await sandbox.add_bill(amount="10.00")
    assert kinds(await poller.poll()) == [BillCreated]
    for _ in range(4):  # the bill stays inside the 5-minute overlap window for these cycles
        clock.advance(30)
        assert (await poller.poll()).events == []
    assert len(await outbox_events(routed)) == 1


async def test_failure_between_read_and_commit_loses_and_doubles_nothing(sandbox, routed, clock):
    poller = coordinator(sandbox, routed, clock)
    await poller.poll()
    watermarks = await routed.get_watermarks("DEMO-CO")
    clock.advance(60)
    await sandbox.add_bill(amount="99.00")
    # The change set is read; reading the new bill's lines (the next request) fails: no commit.
    await sandbox.fault("error_response", function="APBILLITEM")
    failed = await poller.poll()
    assert not failed.ok and failed.error
    assert await routed.get_watermarks("DEMO-CO") == watermarks
    assert await outbox_events(routed) == []

    assert (await poller.poll()).skipped == "backoff"  # backs off instead of hammering Intacct
    clock.advance(3600)
    recovered = await poller.poll()
    assert kinds(recovered) == [BillCreated]
    clock.advance(60)
    assert (await poller.poll()).events == []
    assert [type(e) for e in await outbox_events(routed)] == [BillCreated]

    alerts = [e for e in await outbox_events(routed, OPS) if isinstance(e, AlertRaised)]
    assert [a.alert for a in alerts] == [AlertKind.POLLING_FAILED, AlertKind.POLLING_RECOVERED]


async def test_failure_logs_once_on_entering_and_once_on_recovery(sandbox, routed, clock, caplog):
    caplog.set_level(logging.INFO)
    poller = coordinator(sandbox, routed, clock, backoff_base_seconds=1, backoff_max_seconds=1)
    await poller.poll()
    for _ in range(3):
        await sandbox.fault("http_503", count=4)
        clock.advance(60)
        assert not (await poller.poll()).ok
    assert len([r for r in caplog.records if r.levelname == "ERROR" and "failed" in r.getMessage()]) == 1
    clock.advance(60)
    assert (await poller.poll()).ok
    assert len([r for r in caplog.records if "reachable again" in r.getMessage()]) == 1
    assert poller.consecutive_failures == 0 and poller.last_error is None


async def test_rejected_credentials_alert_and_never_fake_a_baseline(sandbox, routed, clock):
    wrong = IntacctCredentials("mlc-sandbox", "sandbox-secret", "DEMO-CO", "ap-admin", "wrong-password")
    poller = coordinator(sandbox, routed, clock, credentials=wrong)
    outcome = await poller.poll()
    assert not outcome.ok and "Sign-in information is incorrect" in outcome.error
    assert "wrong-password" not in outcome.error
    (alert,) = await outbox_events(routed, OPS)
    assert alert.alert is AlertKind.CREDENTIALS_REJECTED and alert.fix
    assert not await routed.has_baseline("DEMO-CO")
    (state,) = await routed.poll_states()
    assert state.consecutive_failures == 1 and state.last_error


async def test_reconcile_catches_a_change_whose_whenmodified_did_not_move(sandbox, routed, clock):
    poller = coordinator(sandbox, routed, clock)
    await poller.poll()
    client = sandbox.client(clock)
    page = await client.query_bills(states=["Submitted"], limit=1)
    (bill,) = page.bills
    # Behind Intacct's API: state changes, WHENMODIFIED stays (Intacct does this for some records).
    sandbox.state.company.set_bill_state(bill.record_no, "A", now=bill.when_modified)
    clock.advance(60)
    assert (await poller.poll()).events == []
    reconciled = await poller.reconcile()
    assert kinds(reconciled) == [BillStateChanged] and reconciled.events[0].new_state == "Posted"
    assert (await poller.reconcile()).events == []


async def test_reference_data_is_cached_in_the_store(sandbox, routed, clock):
    poller = coordinator(sandbox, routed, clock)
    assert (await poller.refresh_reference()).ok
    departments = await routed.load_reference("DEMO-CO", "DEPARTMENT")
    accounts = await routed.load_reference("DEMO-CO", "GLACCOUNT")
    assert len(departments) == 5 and len(accounts) >= 20


async def test_digest_carries_each_figure_its_first_rows_and_departments_and_is_not_a_baseline(sandbox, routed, clock):
    poller = coordinator(sandbox, routed, clock, digest_rows=3)
    outcome = await poller.prepare_digest()
    (digest,) = outcome.events
    assert isinstance(digest, DigestPrepared) and digest.figures is not None
    today = digest.as_of
    assert today == (clock() + timedelta(hours=-8)).date()  # the demo user's zone is UTC-08:00
    for rows, figure, value in (
        (digest.pending_bills, figures.PENDING_APPROVAL, digest.figures.pending_approval),
        (digest.overdue_bills, figures.OVERDUE, digest.figures.overdue),
        (digest.bills_due, figures.DUE_THIS_WEEK, digest.figures.due_this_week),
    ):
        assert value.count and len(rows) == min(3, value.count) and value.complete
        assert all(figure.includes(bill, today) and not bill.lines for bill in rows)  # rows travel without lines
    assert all(figures.PAYMENTS_PENDING_APPROVAL.includes(p) for p in digest.payments_pending)
    # what is due this week per department adds up to the due-this-week figure, per currency
    by_currency: dict[str, Decimal] = {}
    for part in digest.due_by_department:
        for total in part.totals:
            by_currency[total.currency] = by_currency.get(total.currency, Decimal(0)) + total.amount
    assert by_currency == digest.figures.due_this_week.amounts()
    assert [type(e) for e in await outbox_events(routed)] == [DigestPrepared]
    assert not await routed.has_baseline("DEMO-CO")


async def test_burst_after_downtime_becomes_one_summary(sandbox, routed, clock):
    poller = coordinator(sandbox, routed, clock, max_events_per_channel=20)
    await poller.poll()
    clock.advance(3600 * 12)  # the service was down overnight
    for n in range(25):
        await sandbox.add_bill(amount=f"{100 + n}.00")
    outcome = await poller.poll()
    assert len(outcome.events) == 25
    (summary,) = await outbox_events(routed)
    assert isinstance(summary, ChangesSummarized) and summary.total == 25


async def test_backfill_emits_recent_records_on_first_run(sandbox, routed, clock):
    poller = coordinator(sandbox, routed, clock, backfill_since=clock() - timedelta(days=2), max_events_per_channel=1000)
    outcome = await poller.poll()
    assert outcome.events and all(e.kind.value in ("bills", "payments") for e in outcome.events)
    assert all(getattr(e, "bill", None) is None or e.bill.when_modified >= clock() - timedelta(days=2) for e in outcome.events)


async def test_only_one_instance_polls_a_company_at_a_time(sandbox, routed, clock):
    first = coordinator(sandbox, routed, clock, holder="a", lease_seconds=300)
    second = coordinator(sandbox, routed, clock, holder="b", lease_seconds=300)
    assert (await first.poll()).ok
    skipped = await second.poll()
    assert skipped.skipped == "lease held by another instance" and not skipped.ok and skipped.error is None
    assert (skipped.lease_holder, skipped.lease_until) == ("a", clock() + timedelta(seconds=300))  # who, and until when
    clock.advance(301)  # "a" died: its lease expires and "b" takes over
    assert (await second.poll()).ok
    assert (await first.poll()).lease_holder == "b"


async def test_watermark_is_stored_per_object(sandbox, routed, clock):
    poller = coordinator(sandbox, routed, clock)
    await poller.poll()
    watermarks = await routed.get_watermarks("DEMO-CO")
    assert BILLS in watermarks and watermarks[BILLS].tzinfo is not None
