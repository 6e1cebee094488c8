"""The scheduler's stop: jobs under way finish (a poll is not cut off mid-commit), then it stops;
a job that outlasts the grace period is cancelled and rolled back, and nothing is left running."""

from __future__ import annotations

import asyncio

from poller.coordinator import PollCoordinator, PollerConfig
from poller.runner import CompanySchedule, PollScheduler
from store.sql import open_store
from tests.fakes.sandbox import running_sandbox

NEVER = "0 0 1 1 *"


class Gate:
    """The sandbox's sleep for a "delay" fault: it ends when the test opens the gate."""

    def __init__(self) -> None:
        self.entered = asyncio.Event()
        self.opened = asyncio.Event()

    async def __call__(self, seconds: float) -> None:
        self.entered.set()
        await self.opened.wait()


async def a_poll_held_by_intacct(clock, tmp_path, *, grace: float):
    """(scheduler, store, gate, sandbox context) with the start-up poll waiting on the gateway."""
    gate = Gate()
    sandbox_context = running_sandbox(clock, "demo", sleep=gate)
    sandbox = await sandbox_context.__aenter__()
    store = open_store(None, data_dir=tmp_path)
    await store.migrate()
    coordinator = PollCoordinator(PollerConfig("DEMO-CO", "instance-a"), sandbox.client(clock), store, clock=clock, jitter=lambda: 0.5)
    scheduler = PollScheduler([(coordinator, CompanySchedule(NEVER, NEVER, NEVER, NEVER, "UTC"))], stop_grace_seconds=grace)
    await sandbox.fault("delay", seconds=30)
    scheduler.start(run_now=True)
    await asyncio.wait_for(gate.entered.wait(), 10)  # a guard, not a sleep: the poll is at Intacct
    return scheduler, store, gate, sandbox_context


async def test_stop_lets_a_running_poll_finish_and_commit(clock, tmp_path):
    scheduler, store, gate, sandbox_context = await a_poll_held_by_intacct(clock, tmp_path, grace=60)
    try:
        assert len(scheduler.running) >= 1
        stopping = asyncio.create_task(scheduler.stop())
        await asyncio.sleep(0)
        assert not stopping.done(), "stop waits for the poll under way"
        gate.opened.set()
        await asyncio.wait_for(stopping, 30)

        assert scheduler.running == set() and not scheduler.scheduler.running
        [state] = await store.poll_states()
        assert state.last_success_at is not None, "the poll finished and committed"
        assert await store.get_watermarks("DEMO-CO"), "its watermarks are stored"
    finally:
        gate.opened.set()
        await store.close()
        await sandbox_context.__aexit__(None, None, None)


async def test_stop_cancels_a_poll_that_outlasts_the_grace_and_nothing_is_left_running(clock, tmp_path):
    scheduler, store, gate, sandbox_context = await a_poll_held_by_intacct(clock, tmp_path, grace=0)
    try:
        jobs = set(scheduler.running)
        await asyncio.wait_for(scheduler.stop(), 30)

        assert all(job.done() for job in jobs) and scheduler.running == set()
        assert await store.get_watermarks("DEMO-CO") == {}, "the cancelled poll committed nothing"
    finally:
        gate.opened.set()
        await store.close()
        await sandbox_context.__aexit__(None, None, None)


async def test_maintenance_jobs_are_scheduled_in_utc_and_stop_with_the_rest(clock, tmp_path):
    ran: list[str] = []

    async def prune() -> None:
        ran.append("prune")

    scheduler = PollScheduler([], maintenance=[("prune outbox", "30 3 * * *", prune)])
    scheduler.start(run_now=False)
    try:
        job = scheduler.scheduler.get_job("prune outbox")
        assert job is not None and str(job.trigger.timezone) == "UTC"
        assert (job.next_run_time.hour, job.next_run_time.minute) == (3, 30)
        await job.func()  # what the scheduler calls, tracked like the poller's jobs
        assert ran == ["prune"] and scheduler.running == set()
    finally:
        await scheduler.stop()
    assert not scheduler.scheduler.running


async def test_stop_gives_up_the_poll_lease_so_a_restart_polls_at_once(clock, tmp_path):
    async with running_sandbox(clock, "demo") as sandbox:
        store = open_store(None, data_dir=tmp_path)
        await store.migrate()
        try:
            first = PollCoordinator(PollerConfig("DEMO-CO", "instance-a"), sandbox.client(clock), store, clock=clock, jitter=lambda: 0.5)
            scheduler = PollScheduler([(first, CompanySchedule(NEVER, NEVER, NEVER, NEVER, "UTC"))])
            scheduler.start(run_now=False)
            assert (await first.poll()).ok  # holds the lease for POLL_LEASE_SECONDS from now

            await scheduler.stop()

            restarted = PollCoordinator(PollerConfig("DEMO-CO", "instance-b"), sandbox.client(clock), store, clock=clock,
                                        jitter=lambda: 0.5)
            outcome = await restarted.poll()
            assert outcome.ok and outcome.skipped is None, "the new holder polls without waiting for the lease to expire"
        finally:
            await store.close()
