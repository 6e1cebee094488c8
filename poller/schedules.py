"""AP-calendar schedules: parse cron / `every 30s` expressions and estimate Intacct usage.

Intacct bills every API function as one transaction (Tier 1: 100,000 a month), so `status` and
`check` show what the configured schedules cost before the invoice does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

_INTERVAL = re.compile(r"^every\s+(\d+)\s*(s|m|h)$", re.IGNORECASE)
TIER1_MONTHLY_TRANSACTIONS = 100_000
MONTH = timedelta(days=30)


def make_trigger(expression: str, timezone: str) -> BaseTrigger:
    """An APScheduler trigger for a 5-field cron expression or `every N(s|m|h)`."""
    match = _INTERVAL.match(expression.strip())
    if match:
        seconds = int(match.group(1)) * {"s": 1, "m": 60, "h": 3600}[match.group(2).lower()]
        return IntervalTrigger(seconds=seconds, timezone=ZoneInfo(timezone))
    return CronTrigger.from_crontab(expression.strip(), timezone=ZoneInfo(timezone))


def next_run(expression: str, timezone: str, after: datetime) -> datetime | None:
    """The first fire time strictly after `after`."""
    trigger = make_trigger(expression, timezone)
    if isinstance(trigger, IntervalTrigger):
        return after + trigger.interval
    return trigger.get_next_fire_time(None, after + timedelta(microseconds=1))


def runs_in(expression: str, timezone: str, start: datetime, span: timedelta = MONTH) -> int:
    """How many times the schedule fires in [start, start + span)."""
    trigger = make_trigger(expression, timezone)
    if isinstance(trigger, IntervalTrigger):
        return int(span / trigger.interval)
    end, count, moment = start + span, 0, trigger.get_next_fire_time(None, start)
    while moment is not None and moment < end:
        count += 1
        moment = trigger.get_next_fire_time(moment, moment + timedelta(seconds=1))
    return count


@dataclass(frozen=True)
class UsageEstimate:
    """Intacct API transactions per 30 days for one company's schedules, idle case."""

    poll_runs: int
    poll_functions: int
    reference_runs: int
    reference_functions: int
    reconcile_runs: int
    reconcile_functions: int
    digest_runs: int
    digest_functions: int

    @property
    def total(self) -> int:
        """Transactions per 30 days."""
        return (
            self.poll_runs * self.poll_functions
            + self.reference_runs * self.reference_functions
            + self.reconcile_runs * self.reconcile_functions
            + self.digest_runs * self.digest_functions
        )

    @property
    def share_of_tier1(self) -> float:
        """Fraction of Intacct's Tier 1 monthly entitlement."""
        return self.total / TIER1_MONTHLY_TRANSACTIONS


def estimate_usage(
    *,
    poll_schedule: str,
    poll_timezone: str,
    reference_schedule: str,
    reconcile_schedule: str,
    digest_schedule: str,
    start: datetime,
    poll_functions: int = 3,
    reference_functions: int = 14,
    reconcile_functions: int = 2,
    digest_functions: int = 5,
) -> UsageEstimate:
    """Transactions a company's schedules cost in 30 days when nothing changes (each changed
    bill adds its line read, each extra page a readMore; `status` shows the measured figure).

    Per run: a poll reads bills, payments and vendors (3); a reference refresh looks up the nine
    objects read (`lookup`, to follow the company's definitions) and reads the five reference
    objects (9 + 5 = 14);
    reconciliation reads open bills and open payments (2, plus one readMore per further 1,000
    open records); a digest reads its four figures (bills pending approval, overdue, due this
    week, payments pending approval) and the lines of the bills due this week (5).
    Sign-ins (getAPISession, about one per 49 minutes of activity) are not counted."""
    return UsageEstimate(
        poll_runs=runs_in(poll_schedule, poll_timezone, start),
        poll_functions=poll_functions,
        reference_runs=runs_in(reference_schedule, poll_timezone, start),
        reference_functions=reference_functions,
        reconcile_runs=runs_in(reconcile_schedule, poll_timezone, start),
        reconcile_functions=reconcile_functions,
        digest_runs=runs_in(digest_schedule, poll_timezone, start),
        digest_functions=digest_functions,
    )
