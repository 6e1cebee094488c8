"""The `status` view: per company the last poll, next poll, errors, Intacct usage and wake-ups; outbox; Graph."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import Awaitable, Callable, Sequence
from zoneinfo import ZoneInfo

from apscheduler.triggers.interval import IntervalTrigger

from cards.views import CompanyStatus, GraphStatus, RouteView, ScheduleView, StatusView
from poller.schedules import make_trigger
from store.api import Store
from store.types import PollState, Route

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class CompanyFacts:
    """What is fixed for a company while the app runs: its schedule and usage estimate."""

    key: str
    schedule: ScheduleView
    monthly_transactions_estimate: int | None = None
    wakeups: tuple[str, ...] = ()  # the Intacct wake-up kinds it takes


class StatusBuilder:
    """Builds the StatusView from the store (shared by every instance) and this instance's
    scheduler and Graph bridge."""

    def __init__(
        self,
        store: Store,
        companies: Sequence[CompanyFacts],
        *,
        clock: Clock,
        next_poll: Callable[[str], datetime | None],
        graph: Callable[[], Awaitable[GraphStatus]],
        channel_label: Callable[[str | None, str], Awaitable[str]] | None = None,
        company_name: Callable[[str], Awaitable[str | None]] | None = None,
        version: str | None = None,
    ) -> None:
        self.store = store
        self.companies = list(companies)
        self.clock = clock
        self.next_poll = next_poll
        self.graph = graph
        self.channel_label = channel_label
        self.company_name = company_name  # without a request to Intacct: status must answer when Intacct does not
        self.version = version

    async def _label(self, route: Route) -> str | None:
        if self.channel_label is None or not route.team_id:
            return None
        return await self.channel_label(route.team_id, route.conversation_id)

    async def status_view(self) -> StatusView:
        """The current status (one store round trip per kind of fact)."""
        states = {s.company: s for s in await self.store.poll_states()}
        today, month = await peoples_reads(self.store, self.clock())
        wakeups = {w.company: w for w in await self.store.wakeup_states()} if any(f.wakeups for f in self.companies) else {}
        companies = []
        for facts in self.companies:
            woken = wakeups.get(facts.key)
            companies.append(
                replace(
                    company_status(facts.key, states.get(facts.key)),
                    name=await self.company_name(facts.key) if self.company_name else None,
                    schedule=facts.schedule,
                    next_poll_at=self.next_poll(facts.key),
                    monthly_transactions_estimate=facts.monthly_transactions_estimate,
                    wakeups=facts.wakeups,
                    last_wakeup_at=woken.last_at if woken else None,
                    people_functions_today=today.get(facts.key, 0),
                    people_functions_month=month.get(facts.key, 0),
                )
            )
        inactive = [r for r in await self.store.list_routes() if not r.active]
        return StatusView(
            now=self.clock(),
            companies=tuple(companies),
            outbox_depth=await self.store.outbox_depth(),
            graph=await self.graph(),
            inactive_routes=tuple([route_view(r, await self._label(r)) for r in inactive]),
            version=self.version,
        )


def company_status(key: str, state: PollState | None) -> CompanyStatus:
    """A company's line on the status card, from its last poll (None: never polled)."""
    if state is None:
        return CompanyStatus(company=key)
    return CompanyStatus(
        company=key,
        last_attempt_at=state.last_attempt_at,
        last_success_at=state.last_success_at,
        last_error=state.last_error,
        last_error_at=state.last_error_at,
        consecutive_failures=state.consecutive_failures,
        functions_last_cycle=state.functions_last_cycle,
    )


async def peoples_reads(store: Store, now: datetime) -> tuple[dict[str, int], dict[str, int]]:
    """Intacct functions people's reads used per company (bot/live_reads.py): today and this month, UTC."""
    day = now.astimezone(timezone.utc).date()
    today: dict[str, int] = {}
    month: dict[str, int] = {}
    for usage in await store.intacct_usage(since=day.replace(day=1)):
        month[usage.company] = month.get(usage.company, 0) + usage.functions
        if usage.day == day:
            today[usage.company] = today.get(usage.company, 0) + usage.functions
    return today, month


KIND_ORDER = ("bills", "payments", "vendors", "digest", "alerts")


def route_view(route: Route, channel_name: str | None = None, *, company_name: str | None = None) -> RouteView:
    """A stored route as the subscriptions and status cards show it (kinds in a fixed order)."""
    f = route.filter
    return RouteView(
        route_id=route.id,
        conversation_id=route.conversation_id,
        event_kinds=tuple(kind for kind in KIND_ORDER if kind in route.event_kinds)
        + tuple(sorted(route.event_kinds - set(KIND_ORDER))),
        channel_name=channel_name or route.channel_name,
        company=route.company,
        company_name=company_name,
        department=f.department,
        location=f.location,
        vendor=f.vendor,
        min_amount=f.min_amount,
        entity=f.entity,
        active=route.active,
        inactive_reason=route.inactive_reason,
    )


def company_facts(key: str, schedule: str, timezone: str, estimate: int | None, wakeups: tuple[str, ...] = ()) -> CompanyFacts:
    """CompanyFacts with the schedule's shape worked out for the status card."""
    return CompanyFacts(key, schedule_view(schedule, timezone), estimate, wakeups)


# A week without daylight-saving changes in either hemisphere's usual rules (Monday 2024-01-08).
_REFERENCE_MONDAY = datetime(2024, 1, 8)
_MAX_RUNS = 7 * 24 * 60 + 1  # a run every minute for a week, and one more to know it was cut


def schedule_view(expression: str, timezone: str) -> ScheduleView:
    """How a schedule runs, read off its own trigger (so cron's quirks need no second parser):
    the runs of one reference week in its zone, grouped by weekday. Every day that runs must run
    at the same times, and those times must be evenly spaced or few; anything else keeps the
    expression as written (`words=False`)."""
    raw = ScheduleView(expression, timezone, words=False)
    trigger = make_trigger(expression, timezone)
    if isinstance(trigger, IntervalTrigger):
        return ScheduleView(expression, timezone, every_seconds=int(trigger.interval.total_seconds()))
    zone = ZoneInfo(timezone)
    start = _REFERENCE_MONDAY.replace(tzinfo=zone)
    end = start + timedelta(days=7)
    by_day: dict[int, list[int]] = {}
    moment, runs = trigger.get_next_fire_time(None, start), 0
    while moment is not None and moment < end and runs < _MAX_RUNS:
        local = moment.astimezone(zone)
        by_day.setdefault(local.weekday(), []).append(local.hour * 60 + local.minute)
        runs += 1
        moment = trigger.get_next_fire_time(moment, moment + timedelta(seconds=1))
    if not by_day or runs >= _MAX_RUNS or any(s != 0 for s in _seconds(trigger)):
        return raw
    times = next(iter(by_day.values()))
    if any(day_times != times for day_times in by_day.values()):
        return raw
    weekdays = tuple(sorted(by_day))
    gaps = {b - a for a, b in zip(times, times[1:])}
    if len(times) > 3 and len(gaps) == 1:
        gap = gaps.pop()
        # "06:00–20:00" for runs every few minutes from 06:00 to 19:58; hourly runs end at the last run.
        end = times[-1] + gap if gap < 60 else times[-1]
        return ScheduleView(expression, timezone, every_seconds=gap * 60, start_minute=times[0], end_minute=end, weekdays=weekdays)
    if len(times) <= 3:
        return ScheduleView(expression, timezone, at_minutes=tuple(times), weekdays=weekdays)
    return raw


def _seconds(trigger: object) -> list[int]:
    """The second field of a cron trigger (runs at :30 seconds are not what people expect to read)."""
    fields = {f.name: f for f in getattr(trigger, "fields", [])}
    second = fields.get("second")
    return [] if second is None or str(second) == "0" else [1]

