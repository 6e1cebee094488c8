"""Intacct faults through the whole service: sandbox → poller → store → notifier → fake Teams.

Each test makes real AP changes, injects one kind of gateway fault, and then only lets time pass
(`Service.run_until`): the service must recover by itself, every change must reach the channel in
its final state, and nothing may be posted twice. The client's own handling of each fault is
unit-tested in tests/intacct; here the question is what the whole service makes of it.
"""

from __future__ import annotations

import asyncio

import pytest

from tests.fakes.ap_workload import ApWorkload, Truth, read_truth
from tests.reliability.conftest import make_workload, subscribed_service
from tests.reliability.harness import COMPANY, Service, running_service
from tests.reliability.oracle import check_delivery


async def changes(service: Service, count: int = 12) -> tuple[ApWorkload, Truth]:
    """`count` seeded AP changes, and the final state they leave (read before any fault is queued)."""
    workload = await make_workload(service)
    await workload.burst(count)
    return workload, await read_truth(service.sandbox.client(service.clock))


async def recover(service: Service, workload: ApWorkload, truth: Truth) -> float:
    """Let the service run until every change shows in its final state; the fake seconds it took."""

    async def delivered() -> bool:
        return check_delivery(truth, workload, service.ledger()).complete and await service.outbox_settled()

    return await service.run_until(delivered, what="every change delivered in its final state")


async def assert_delivered_once(service: Service, workload: ApWorkload, truth: Truth) -> None:
    """Every change shows in its final state, once, and no row was given up on."""
    check = check_delivery(truth, workload, service.ledger())
    assert check.complete and check.duplicates == 0, check.describe()
    assert check.expected >= 4, "the workload must change several records for the test to mean anything"
    assert await service.store.outbox_items(status="failed") == []


def assert_operators_told(service: Service) -> None:
    """The operators' channel heard of the failure once and of the recovery once."""
    alerts = service.alerts()
    assert len(alerts) == 2 and "fails" in alerts[0] and "works again" in alerts[1], alerts


@pytest.mark.parametrize("kind", ["http_500", "http_503"])
async def test_intacct_5xx_fails_polls_until_it_stops_then_everything_arrives(service: Service, kind: str):
    workload, truth = await changes(service)
    await service.sandbox.fault(kind, count=8)  # two whole polls: the client tries 4 times each

    await recover(service, workload, truth)

    failed = service.failed_polls()
    assert len(failed) == 2 and all(f"HTTP {kind[-3:]}" in p.error for p in failed), [p.error for p in failed]
    await assert_delivered_once(service, workload, truth)
    assert_operators_told(service)


async def test_intacct_timeouts_fail_polls_until_answers_come_in_time_again(clock, tmp_path):
    # The sandbox really waits (its own sleep, 1 s) and the client gives up after 0.2 s: a timeout
    # as the transport sees one, not a simulated exception.
    async with subscribed_service(clock, tmp_path, client_timeout=0.2, sandbox_options={"sleep": asyncio.sleep}) as service:
        workload, truth = await changes(service)
        await service.sandbox.fault("delay", count=4, seconds=1.0)  # one whole poll

        await recover(service, workload, truth)

        [failed] = service.failed_polls()
        assert failed.error == "no complete answer from the Intacct gateway within 0.2s" and failed.requests == 4, failed
        await assert_delivered_once(service, workload, truth)
        assert_operators_told(service)


async def test_a_session_that_dies_between_readbyquery_and_readmore_does_not_break_paging(clock, tmp_path):
    async with running_service(clock, tmp_path) as service:
        service.sandbox.state.generate(bills=1500)  # more bills than one 1,000-row page
        expired: list[bool] = []

        async def expire_before_first_read_more(call) -> None:
            if call.carries("readMore") and not expired:
                expired.append(True)
                await service.sandbox.fault("expire_sessions")  # applies to this very request

        service.gateway.before.append(expire_before_first_read_more)
        await service.subscribe()  # the baseline reads every bill: it pages

        truth = await read_truth(service.sandbox.client(clock))
        known = await service.store.load_all_snapshots(COMPANY, "APBILL")
        assert len(truth.bill_states) > 1500 and set(known) == set(truth.bill_states), "the baseline lost bills"
        refused = [c for c in service.gateway.calls if c.carries("readMore") and c.auth_failed]
        assert expired and len(refused) == 1, "the readMore must have met the dead session"
        login, stale, restart, more = service.gateway.calls[service.gateway.calls.index(refused[0]) + 1:][:4]
        assert login.functions == (("getAPISession", None),), "a new session first"
        assert stale.carries("readMore") and all(status == "failure" for status, _ in stale.results), \
            "the resultIds died with the old session"
        assert {name for name, _ in restart.functions} == {"readByQuery"}, "those reads start again from their first page"
        assert more.carries("readMore") and all(status == "success" for status, _ in more.results)
        assert (await service.sandbox.stats())["sessions_issued"] == 3  # the service's two, the oracle's one
        assert not service.failed_polls()

        workload, truth = await changes(service)
        await recover(service, workload, truth)
        await assert_delivered_once(service, workload, truth)


async def test_truncated_xml_answers_fail_polls_until_they_stop(service: Service):
    workload, truth = await changes(service)
    await service.sandbox.fault("malformed_xml", count=4)  # the client retries a malformed answer once: two polls

    await recover(service, workload, truth)

    failed = service.failed_polls()
    assert len(failed) == 2 and all(p.error.startswith("response is not well-formed XML") for p in failed), [p.error for p in failed]
    assert await service.admin_faults() == []
    await assert_delivered_once(service, workload, truth)
    assert_operators_told(service)


async def test_control_characters_in_answers_are_removed_and_nothing_fails(service: Service, caplog):
    workload, truth = await changes(service)
    await service.sandbox.fault("control_chars", count=2)  # the first data value of the poll's read and of the lines' read

    await recover(service, workload, truth)

    assert service.failed_polls() == [] and await service.admin_faults() == []
    assert sum("removed 3 forbidden character(s)" in r.getMessage() for r in caplog.records) == 2
    await assert_delivered_once(service, workload, truth)
    assert service.alerts() == []


@pytest.mark.parametrize("function, transient", [("APPYMT", False), ("VENDOR", True)])
async def test_one_object_failing_in_the_polls_read_holds_back_only_that_object(service: Service, function, transient):
    # APPYMT / VENDOR fail inside the poll's three-function read: the cycle still commits the other
    # objects; the failing one keeps its watermark, is read again next cycle, and nothing is lost
    # or posted twice.
    workload, truth = await changes(service)
    await service.sandbox.fault("error_response", function=f"readByQuery:{function}", transient=transient)

    await recover(service, workload, truth)

    async def recovery_told() -> bool:
        return len(service.alerts()) == 2 and await service.outbox_settled()

    await service.run_until(recovery_told, what="the failure and the recovery told")  # the next read of that object
    assert service.failed_polls() == []
    results = [c.results for c in service.gateway.calls if ("readByQuery", function) in c.functions]
    failed = [r for r in results if any(status == "failure" for status, _ in r)]
    assert len(failed) == 1 and any(status == "success" for status, _ in failed[0]), "only that function failed"
    await assert_delivered_once(service, workload, truth)
    alerts = service.alerts()
    assert len(alerts) == 2 and "fails" in alerts[0] and "works again" in alerts[1], alerts
    errors = [errorno for r in failed for status, errorno in r if status == "failure"]
    assert errors == (["Service Unavailable"] if transient else ["BL01001973"]), errors


async def test_a_failed_read_of_the_new_bills_lines_commits_nothing_until_it_works(service: Service):
    # APBILLITEM fails in the read of the new bills' lines, after the changes were read but before
    # anything is committed: the whole cycle fails and is replayed.
    workload, truth = await changes(service)
    await service.sandbox.fault("error_response", function="readByQuery:APBILLITEM")

    await recover(service, workload, truth)

    [failed] = service.failed_polls()
    assert "BL01001973" in failed.error, failed.error
    results = [c.results for c in service.gateway.calls if ("readByQuery", "APBILLITEM") in c.functions]
    assert any(any(status == "failure" for status, _ in r) for r in results), "the fault never hit the service"
    await assert_delivered_once(service, workload, truth)
    assert_operators_told(service)
