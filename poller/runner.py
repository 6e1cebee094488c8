"""Schedules every company's jobs with APScheduler 3 (AsyncIOScheduler) on the AP calendar."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timezone

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


class PollScheduler:
    """Owns the scheduler; jobs of one company never overlap (the coordinator's lock) and a
    missed run is coalesced into one instead of a burst after a pause."""

    def __init__(self, jobs: list[tuple[PollCoordinator, CompanySchedule]]) -> None:
        self.jobs = jobs
        self.scheduler = AsyncIOScheduler(timezone=timezone.utc, job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 60})

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
                self.scheduler.add_job(job, make_trigger(expression, schedule.timezone), id=f"{company}:{name}", name=f"{name} {company}", **kwargs)
        self.scheduler.start()
        log.info("scheduler started for %d companies", len(self.jobs))

    def stop(self) -> None:
        """Stop firing jobs (running ones finish under the coordinator's lock)."""
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    def next_run(self, company: str, job: str = "poll") -> datetime | None:
        """When a company's job fires next (for `status`)."""
        scheduled = self.scheduler.get_job(f"{company}:{job}")
        return scheduled.next_run_time if scheduled is not None else None
