"""Schedules every company's jobs with APScheduler 3 (AsyncIOScheduler) on the AP calendar."""

from __future__ import annotations

import asyncio
import functools
import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Awaitable, Callable, Sequence

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from poller.coordinator import PollCoordinator
from poller.schedules import make_trigger

log = logging.getLogger("mlc.poller")


@dataclass(frozen=True)
class CompanySchedule:
    """When one company's jobs run."""

    poll: str
    digest: str
    reconcile: str
    reference: str
    timezone: str


# How long `stop()` lets running jobs finish before cancelling them: a poll's commit takes
# milliseconds, so this only ever waits for Intacct; it ends well inside the 10 s that Docker and
# most process managers give between SIGTERM and SIGKILL.
STOP_GRACE_SECONDS = 5.0


class PollScheduler:
    """Owns the scheduler; jobs of one company never overlap (the coordinator's lock) and a
    missed run is coalesced into one instead of a burst after a pause."""

    def __init__(
        self,
        jobs: list[tuple[PollCoordinator, CompanySchedule]],
        *,
        maintenance: Sequence[tuple[str, str, Callable[[], Awaitable[Any]]]] = (),
        stop_grace_seconds: float = STOP_GRACE_SECONDS,
    ) -> None:
        self.jobs = jobs
        self.maintenance = list(maintenance)  # (name, cron in UTC, job): not per company
        self.stop_grace_seconds = stop_grace_seconds
        self.scheduler = AsyncIOScheduler(timezone=timezone.utc, job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 60})
        self.running: set[asyncio.Task[Any]] = set()  # jobs under way, for `stop()`

    def start(self, *, run_now: bool = True) -> None:
        """Add every job and start; with `run_now`, reference data and a first poll run at once."""
        now = datetime.now(timezone.utc)
        for coordinator, schedule in self.jobs:
            company = coordinator.config.company
            for name, expression, job in (
                ("poll", schedule.poll, coordinator.poll),
                ("digest", schedule.digest, coordinator.prepare_digest),
                ("reconcile", schedule.reconcile, coordinator.reconcile),
                ("reference", schedule.reference, coordinator.refresh_reference),
            ):
                first = now if run_now and name in ("poll", "reference") else None
                kwargs = {"next_run_time": first} if first else {}
                self.scheduler.add_job(self._tracked(job), make_trigger(expression, schedule.timezone), id=f"{company}:{name}", name=f"{name} {company}", **kwargs)
        for name, expression, job in self.maintenance:
            self.scheduler.add_job(self._tracked(job), make_trigger(expression, "UTC"), id=name, name=name)
        self.scheduler.start()
        log.info("scheduler started for %d companies", len(self.jobs))

    async def stop(self) -> None:
        """Stop firing jobs, let the running ones finish (up to `stop_grace_seconds`), then
        cancel what is left, and give up the companies' poll leases. APScheduler's own shutdown
        cancels running jobs at once, which would cut a poll off mid-commit (rolled back, so
        nothing is lost, but the work is wasted)."""
        if not self.scheduler.running:
            return
        self.scheduler.pause()
        running = set(self.running)
        if running:
            _, late = await asyncio.wait(running, timeout=self.stop_grace_seconds)
            if late:
                log.warning("stopping: %d poller job(s) still running after %g s are cancelled; their work is rolled back "
                            "and done again at the next start", len(late), self.stop_grace_seconds)
        self.scheduler.shutdown(wait=False)
        late_jobs = set(self.running)
        for task in late_jobs:
            task.cancel()
        await asyncio.gather(*late_jobs, return_exceptions=True)
        # AsyncIOScheduler.shutdown only schedules the shutdown on the loop: let it run, so the
        # scheduler is stopped when this returns.
        await asyncio.sleep(0)
        # Give the poll leases up: a restart (or another instance) polls at once, not after
        # POLL_LEASE_SECONDS.
        for coordinator, _ in self.jobs:
            await coordinator.release_lease()

    def _tracked(self, job: Callable[[], Awaitable[Any]]) -> Callable[[], Awaitable[Any]]:
        @functools.wraps(job)
        async def run() -> Any:
            task = asyncio.current_task()
            assert task is not None
            self.running.add(task)
            try:
                return await job()
            finally:
                self.running.discard(task)

        return run

    def next_run(self, company: str, job: str = "poll") -> datetime | None:
        """When a company's job fires next (for `status`)."""
        scheduled = self.scheduler.get_job(f"{company}:{job}")
        return scheduled.next_run_time if scheduled is not None else None
