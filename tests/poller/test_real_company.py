"""A poller facing a company as real Intacct shapes it: one object failing on its own, modules and
fields a company lacks, definitions looked up and cached, payment states as DISPLAYSTATE words."""

from __future__ import annotations

from intacct.client import READS
from intacct.schema import SchemaReport
from poller.coordinator import BASELINE_PENDING, SCHEMA_CACHE
from poller.events import AlertKind, AlertRaised, BillCreated, BillStateChanged, PaymentPending, PaymentStateChanged, VendorStatusChanged
from poller.planning import BILLS, PAYMENTS, VENDORS
from tests.poller.test_coordinator import CHANNEL, OPS, routed, sandbox, store  # noqa: F401  (fixtures)
from tests.poller.test_coordinator import coordinator as poller_for, outbox_events as posted


async def test_one_object_failing_on_an_unknown_field_sinks_nothing_else_loses_nothing_doubles_nothing(sandbox, routed, clock):
    poller = poller_for(sandbox, routed, clock)
    await poller.poll()  # baseline; the client looked up the definitions once
    before = await routed.get_watermarks("DEMO-CO")
    # The company stops showing a payment field the client selects (a role changed): the combined
    # read now carries one failing function, as `Invalid fields list …` on real Intacct.
    await sandbox.admin("POST", "/sandbox/company", {"hidden_fields": {"APPYMT": ["TRX_TOTALPAID"]}})
    clock.advance(60)
    bill = await sandbox.add_bill(amount="420.00")
    payment = await sandbox.add_payment()
    await sandbox.set_vendor_status("V1003", on_hold=True)
    outcome = await poller.poll()
    assert outcome.ok, outcome.error
    assert {type(e) for e in outcome.events} == {BillCreated, BillStateChanged, VendorStatusChanged}
    after = await routed.get_watermarks("DEMO-CO")
    assert after[BILLS] > before[BILLS] and after[VENDORS] > before[VENDORS] and after[PAYMENTS] == before[PAYMENTS]
    assert "payments" in (await routed.poll_states())[0].last_error
    for _ in range(2):  # still failing: no second alert
        clock.advance(60)
        assert (await poller.poll()).events == []
    alerts = [e for e in await posted(routed, OPS) if isinstance(e, AlertRaised)]
    assert [(a.alert, a.subject) for a in alerts] == [(AlertKind.POLLING_FAILED, PAYMENTS)]
    assert "Invalid fields list TRX_TOTALPAID" in alerts[0].detail

    await poller.refresh_reference()  # the reference schedule looks the definitions up again
    clock.advance(60)
    recovered = await poller.poll()
    assert [type(e) for e in recovered.events] == [PaymentPending]
    assert recovered.events[0].payment.record_no == payment["record_no"] and recovered.events[0].payment.amount_paid == 0
    clock.advance(60)
    assert (await poller.poll()).events == []
    alerts = [e for e in await posted(routed, OPS) if isinstance(e, AlertRaised)]
    assert [(a.alert, a.subject) for a in alerts] == [(AlertKind.POLLING_FAILED, PAYMENTS), (AlertKind.POLLING_RECOVERED, PAYMENTS)]
    ap = await posted(routed, CHANNEL)
    keys = [e.key for e in ap]
    assert len(keys) == len(set(keys))  # nothing twice
    assert [e.bill.record_no for e in ap if isinstance(e, BillCreated)] == [bill["record_no"]]
    assert [e.payment.record_no for e in ap if isinstance(e, PaymentPending)] == [payment["record_no"]]
    assert (await routed.poll_states())[0].last_error is None


async def test_an_object_failing_in_the_first_cycle_gets_its_own_baseline_later(sandbox, routed, clock):
    poller = poller_for(sandbox, routed, clock)
    await poller.refresh_reference()  # definitions known: the fault below hits the read, not the lookup
    await sandbox.fault("error_response", function="APPYMT")
    first = await poller.poll()
    assert first.ok and first.events == [] and await routed.has_baseline("DEMO-CO")
    assert PAYMENTS not in await routed.get_watermarks("DEMO-CO")
    assert await routed.load_reference("DEMO-CO", BASELINE_PENDING) == {PAYMENTS: ""}
    clock.advance(60)
    second = await poller.poll()  # the payments' own baseline: the existing ones are remembered, not announced
    assert second.events == [] and PAYMENTS in await routed.get_watermarks("DEMO-CO")
    assert await routed.load_reference("DEMO-CO", BASELINE_PENDING) == {}
    clock.advance(60)
    new = await sandbox.add_payment()
    third = await poller.poll()
    assert [(type(e), e.payment.record_no) for e in third.events if isinstance(e, PaymentPending)] == [(PaymentPending, new["record_no"])]


async def test_a_payment_moving_submitted_approved_confirmed_gives_the_real_words(sandbox, routed, clock):
    poller = poller_for(sandbox, routed, clock)
    await poller.poll()
    clock.advance(60)
    payment = await sandbox.add_payment()
    submitted = await poller.poll()
    [pending] = [e for e in submitted.events if isinstance(e, PaymentPending)]
    assert (pending.payment.state, pending.payment.state_code) == ("Submitted", "S")
    assert pending.payment.amount == pending.payment.amount_due > 0
    moves = []
    for state in ("Approved", "Confirmed"):
        clock.advance(60)
        await sandbox.set_payment_state(payment["record_no"], state)
        moves += [e for e in (await poller.poll()).events if isinstance(e, PaymentStateChanged)]
    assert [(e.old_state, e.new_state, e.payment.state_code) for e in moves] == [("Submitted", "Approved", "A"), ("Approved", "Confirmed", "C")]
    confirmed = moves[-1].payment
    assert confirmed.amount_paid == confirmed.amount and confirmed.amount_due == 0 and confirmed.paid_date is not None


async def test_a_company_without_projects_polls_with_one_warning(sandbox, routed, clock, caplog):
    await sandbox.admin("POST", "/sandbox/company", {
        "missing_objects": ["PROJECT"], "hidden_fields": {"APBILLITEM": ["PROJECTID", "PROJECTNAME"]},
    })
    poller = poller_for(sandbox, routed, clock)
    assert (await poller.refresh_reference()).ok
    assert await routed.load_reference("DEMO-CO", "PROJECT") == {}
    await poller.poll()
    clock.advance(60)
    await sandbox.add_bill(amount="99.00")
    outcome = await poller.poll()
    await poller.refresh_reference()  # the same definitions again: no second warning
    [created] = [e for e in outcome.events if isinstance(e, BillCreated)]
    assert created.bill.lines and all(line.project_id is None for line in created.bill.lines)
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING" and r.name == "intacct.client"]
    assert sum("APBILLITEM has no PROJECTID, PROJECTNAME" in w for w in warnings) == 1
    assert sum("has no PROJECT " in w for w in warnings) == 1
    assert (await sandbox.stats())["functions"].get("lookup") == 2 * len(READS)


async def test_definitions_are_cached_in_the_store_and_counted(sandbox, routed, clock):
    poller = poller_for(sandbox, routed, clock)
    await poller.poll()  # signed in, time zone known
    outcome = await poller.refresh_reference()
    assert outcome.functions == len(READS) + 5 == 14  # the lookups, then the five reference objects (the usage estimate's figure)
    cached = await routed.load_reference("DEMO-CO", SCHEMA_CACHE)
    assert set(cached) == {spec.object for spec in READS} and "DISPLAYSTATE" in cached["APPYMT"].split()
    report = SchemaReport.from_cache(READS, cached)
    assert report.fields("APPYMT") == poller.client.schema.fields("APPYMT")
    restarted = poller_for(sandbox, routed, clock)  # a new process: the cache spares the lookup
    before = (await sandbox.stats())["functions"].get("lookup", 0)
    await restarted.poll()
    assert (await sandbox.stats())["functions"].get("lookup", 0) == before
    assert restarted.client.schema.fields("APBILL") == poller.client.schema.fields("APBILL")
