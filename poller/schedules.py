"""AP-calendar schedules: parse cron / `every 30s` expressions and estimate Intacct usage.

The one parser of schedule expressions: settings validates with it, the scheduler, `status` and
the usage estimate run on it, so what is accepted is what runs. It imports nothing of ours.

Cron expressions are standard 5-field crontab, where day of week 0 and 7 are Sunday, 1 Monday
(POSIX crontab; Vixie cron also takes 7 and three-letter names). APScheduler 3 numbers days of
the week from 0 = Monday, and its own `CronTrigger.from_crontab` keeps that numbering (a mistake
its docstring admits, APScheduler issue 286, fixed only in 4.x): handed `0 8 * * 1-5` it runs
Tuesday to Saturday. So the day-of-week field is read here and given to APScheduler as names.

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


# Day names in crontab's numbering: 0 (and 7) Sunday … 6 Saturday.
_CRONTAB_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_DAY_TERM = re.compile(r"^(?P<range>\*|[0-9a-z]+(?:-[0-9a-z]+)?)(?:/(?P<step>[0-9]+))?$", re.IGNORECASE)


def interval_seconds(expression: str) -> int | None:
    """Seconds of an `every 30s` / `every 2m` / `every 1h` schedule, or None for cron."""
    match = _INTERVAL.match(expression.strip())
    if not match:
        return None
    return int(match.group(1)) * {"s": 1, "m": 60, "h": 3600}[match.group(2).lower()]


def make_trigger(expression: str, timezone: str) -> BaseTrigger:
    """An APScheduler trigger for a 5-field crontab expression or `every N(s|m|h)`; ValueError
    saying what is wrong when the expression is neither."""
    seconds = interval_seconds(expression)
    if seconds is not None:
        return IntervalTrigger(seconds=seconds, timezone=ZoneInfo(timezone))
    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(f"a cron expression has 5 fields, this one has {len(fields)}")
    minute, hour, day, month, day_of_week = fields
    return CronTrigger(minute=minute, hour=hour, day=day, month=month,
                       day_of_week=crontab_weekdays(day_of_week), timezone=ZoneInfo(timezone))


def crontab_weekdays(field: str) -> str:
    """A crontab day-of-week field (0 or 7 = Sunday; names; ranges, lists, steps) as the list of
    day names APScheduler reads without renumbering: `1-5` → `mon,tue,wed,thu,fri`."""
    if field == "*":
        return "*"
    days: set[int] = set()
    for term in field.split(","):
        match = _DAY_TERM.match(term)
        if not match:
            raise ValueError(f"day of week {term!r} is not a day, a range or a step")
        step = int(match.group("step") or 1)
        if step < 1:
            raise ValueError(f"day of week {term!r} has a step of 0")
        if match.group("range") == "*":
            first, last = 0, 6
        else:
            ends = match.group("range").split("-")
            first, last = (_crontab_day(end, term) for end in (ends[0], ends[-1]))
            if len(ends) == 2 and last == 0:
                last = 7  # `5-7` and `fri-sun` end on Sunday
            if first > last:
                raise ValueError(f"day of week {term!r} runs backwards (crontab ranges do not wrap)")
            if len(ends) == 1 and match.group("step"):
                last = 6 if first < 7 else 7  # `1/2`: from Monday on, every other day
        days.update(day % 7 for day in range(first, last + 1, step))
    return ",".join(_CRONTAB_DAYS[day] for day in sorted(days))


def _crontab_day(text: str, term: str) -> int:
    """0–7 or a three-letter name, as crontab's number (7 stays 7: it ends ranges on Sunday)."""
    if text.isdigit():
        number = int(text)
        if number > 7:
            raise ValueError(f"day of week {term!r}: days are 0–7 (0 and 7 are Sunday)")
        return number
    name = text.lower()
    if name not in _CRONTAB_DAYS:
        raise ValueError(f"day of week {term!r}: {text!r} is not a day name (sun, mon, … sat)")
    return _CRONTAB_DAYS.index(name)


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
