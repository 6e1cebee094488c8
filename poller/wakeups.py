"""Intacct wake-ups move a company's next incremental poll to now: debounced, coalesced, rate-bounded.

A wake-up (an authentic Platform Trigger or Smart Event request; intacct/wakeups.py checks it)
says nothing we trust about what changed: it only asks for the company's normal poll cycle sooner.
The poll stays the only source of truth, so a lost, repeated, late or forged wake-up costs at
most a bounded number of extra polls and never a lost or doubled card.

- **Coalesced**: a company has at most one wake-up poll waiting and one running. The first
  wake-up of a burst waits `debounce` so the rest of the burst joins it; one arriving while a
  poll runs asks for exactly one more poll after it (the running poll may have read before that
  change). A burst of 50 changes costs one or two polls.
- **Rate-bounded**: wake-up polls of a company start at least `min_interval` apart and at most
  `max_per_hour` an hour (a token bucket: a burst may spend the hour's budget, then one poll per
  refill); a wake-up beyond that waits for the budget instead of being dropped.
- **Intacct's lag**: a wake-up poll that finds nothing looks once more after `recheck` (Intacct
  may call before the change is readable); the regular (fallback) poll finds anything else.
- **Several instances**: the receiving instance records the wake-up in the store; every instance
  reads new wake-ups (by count, not clock) every second and asks for a poll, and the poll lease
  lets exactly one of them poll.
- **A broken trigger**: when a regular poll finds changes that no wake-up announced (changed
  after the last wake-up, while this instance was running), the operators get one alert, until a
  wake-up arrives again.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable, Iterable, Mapping, Sequence

from poller.coordinator import BACKOFF, LEASE_HELD, CycleOutcome, PollCoordinator, describe_error
from poller.events import AlertKind, AlertRaised, Event
from store.api import Store

log = logging.getLogger("mlc.poller")

Clock = Callable[[], datetime]

WAKE_UP = "wake-up"
RECHECK = "recheck"
# Intacct's WHENMODIFIED against our clock: seconds-granular, and the user's time-zone offset.
ANNOUNCE_SLACK = timedelta(minutes=2)
# The objects whose triggers ml-connector asks for, by the record kind of the events they cause.
TRIGGER_OBJECTS = {"bill": "APBILL", "payment": "APPYMT", "vendor": "VENDOR"}


@dataclass(frozen=True)
class WakeUpPolicy:
    """How wake-ups become polls (per company)."""

    debounce: timedelta = timedelta(seconds=0.5)
    min_interval: timedelta = timedelta(seconds=2)
    max_per_hour: int = 60
    recheck: timedelta | None = timedelta(seconds=15)

    def __post_init__(self) -> None:
        if self.max_per_hour < 1 or self.min_interval <= timedelta(0) or self.debounce < timedelta(0):
            raise ValueError("a wake-up policy needs max_per_hour >= 1, a positive min_interval and a debounce >= 0")


@dataclass
class _Company:
    """One company's wake-up bookkeeping on this instance."""

    coordinator: PollCoordinator
    tokens: float
    tokens_at: datetime
    due: datetime | None = None  # a wake-up poll is wanted from this moment
    due_reason: str = WAKE_UP
    running: bool = False
    again: bool = False  # a wake-up arrived while a poll ran
    last_start: datetime | None = None
    seen: int | None = None  # the store's wake-up count this instance has acted on (None: not read yet)
    polls: int = 0  # wake-up and recheck polls that ran here
    task: asyncio.Task | None = field(default=None, repr=False)


class WakeUps:
    """The wake-up side of the poller for every company that takes wake-ups."""

    def __init__(
        self,
        coordinators: Mapping[str, PollCoordinator],
        store: Store,
        *,
        clock: Clock,
        policy: WakeUpPolicy = WakeUpPolicy(),
        fallback_url: Callable[[str], str | None] | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.policy = policy
        self.started_at = clock()
        self.changed = asyncio.Event()  # set when a due time moved: the loop recomputes its sleep
        self._fallback_url = fallback_url
        self._store_failing = False
        now = self.started_at
        self._companies = {key: _Company(c, float(policy.max_per_hour), now) for key, c in coordinators.items()}

    @property
    def companies(self) -> Sequence[str]:
        """The companies that take wake-ups."""
        return tuple(self._companies)

    # --- wake-ups in -----------------------------------------------------------------------
    async def receive(self, company: str, kind: str) -> None:
        """An authentic wake-up for `company` arrived here: record it for every instance (and
        `status`), then ask for a poll. A store failure is logged; the poll is still asked for."""
        state = self._companies[company]
        try:
            count = await self.store.record_wakeup(company, kind=kind, now=self.clock())
        except Exception as exc:  # noqa: BLE001 - the wake-up still helps this instance
            if not self._store_failing:  # once per outage, not once per wake-up
                log.warning("could not record Intacct wake-ups (other instances will not hear of them until the store "
                            "answers again): %s", describe_error(exc))
            self._store_failing = True
        else:
            if self._store_failing:
                log.info("recording Intacct wake-ups works again")
            self._store_failing = False
            state.seen = count if state.seen is None else max(state.seen, count)
        self.note(company)

    def note(self, company: str) -> None:
        """Ask for a wake-up poll of `company` (coalesced with any already asked for or running)."""
        state = self._companies[company]
        if state.running:
            state.again = True
            return
        self._want(state, self._earliest_start(state, self.clock() + self.policy.debounce), WAKE_UP)

    async def sync(self) -> None:
        """Hear of wake-ups other instances received (their store count grew since we looked)."""
        try:
            rows = {row.company: row for row in await self.store.wakeup_states()}
        except Exception as exc:  # noqa: BLE001 - next second's sync tries again
            log.debug("could not read the wake-ups of other instances: %s", describe_error(exc))
            return
        for company, state in self._companies.items():
            row = rows.get(company)
            count = row.received if row is not None else 0
            if state.seen is None:
                state.seen = count  # wake-ups before this instance started: the start-up poll covers them
            elif count > state.seen:
                state.seen = count
                self.note(company)

    # --- polls out -------------------------------------------------------------------------
    def next_due(self) -> datetime | None:
        """When the earliest wanted poll may start (None: none is wanted)."""
        dues = [s.due for s in self._companies.values() if s.due is not None and not s.running]
        return min(dues) if dues else None

    def start_due(self) -> list[asyncio.Task[CycleOutcome]]:
        """Start every poll whose time has come (one task per company); the caller keeps the tasks."""
        now = self.clock()
        started = []
        for company, state in self._companies.items():
            if state.due is not None and not state.running and state.due <= now:
                reason, state.due = state.due_reason, None
                state.running, state.last_start = True, now
                self._spend(state, now)
                state.task = asyncio.create_task(self._poll(company, state, reason), name=f"wake-up poll {company}")
                started.append(state.task)
        return started

    async def run_due(self) -> list[CycleOutcome]:
        """Start the due polls and wait for them (tests and the loop's shutdown)."""
        return list(await asyncio.gather(*self.start_due()))

    async def stop(self) -> None:
        """Cancel polls under way (their cycle rolls back; the next start polls at once)."""
        tasks = [s.task for s in self._companies.values() if s.task is not None and not s.task.done()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def polls_run(self, company: str) -> int:
        """Wake-up and recheck polls this instance ran for `company` (lease skips not counted)."""
        return self._companies[company].polls

    async def _poll(self, company: str, state: _Company, reason: str) -> CycleOutcome:
        try:
            outcome = await state.coordinator.poll(reason=reason)
        finally:
            state.running = False
        if outcome.skipped in (LEASE_HELD, BACKOFF):
            state.tokens = min(float(self.policy.max_per_hour), state.tokens + 1)  # Intacct was not asked
        else:
            state.polls += 1
        if state.again:
            state.again = False
            self.note(company)  # the wake-up that arrived during the poll
        elif reason == WAKE_UP and outcome.ok and not outcome.events and self.policy.recheck is not None:
            # Nothing new yet: Intacct may have called before the change was readable.
            self._want(state, self._earliest_start(state, self.clock() + self.policy.recheck), RECHECK)
        return outcome

    def _want(self, state: _Company, at: datetime, reason: str) -> None:
        if state.due is None or at < state.due:
            state.due, state.due_reason = at, reason
            self.changed.set()

    def _earliest_start(self, state: _Company, wanted: datetime) -> datetime:
        """`wanted`, or later when the minimum interval or the hourly budget says so."""
        earliest = wanted
        if state.last_start is not None:
            earliest = max(earliest, state.last_start + self.policy.min_interval)
        tokens = self._tokens(state, earliest)
        if tokens < 1:
            earliest += timedelta(hours=(1 - tokens) / self.policy.max_per_hour)
        return earliest

    def _tokens(self, state: _Company, at: datetime) -> float:
        """The hourly budget left at `at` (refilled continuously, up to a full hour's)."""
        gained = max(timedelta(0), at - state.tokens_at) / timedelta(hours=1) * self.policy.max_per_hour
        return min(float(self.policy.max_per_hour), state.tokens + gained)

    def _spend(self, state: _Company, now: datetime) -> None:
        state.tokens, state.tokens_at = self._tokens(state, now) - 1, max(now, state.tokens_at)

    # --- the broken-trigger check ------------------------------------------------------------
    async def check_announced(self, outcome: CycleOutcome) -> None:
        """After a regular poll: were its changes announced by wake-ups? If not (changed after the
        last wake-up, while this instance ran), tell the operators once (the coordinator's
        `after_poll` hook)."""
        if outcome.reason != "schedule" or not outcome.ok or not outcome.events:
            return
        company = outcome.events[0].company
        if company not in self._companies:
            return
        rows = {row.company: row for row in await self.store.wakeup_states()}
        row = rows.get(company)
        last = row.last_at if row is not None else None
        if row is not None and row.trigger_alert_at is not None:
            return  # already told; a wake-up clears it
        silent = sorted(unannounced(outcome.events, last_wakeup=last, since=self.started_at))
        if not silent:
            return
        now = self.clock()
        if not await self.store.raise_trigger_alert(company, now=now):
            return  # another instance told them
        objects = ", ".join(TRIGGER_OBJECTS[kind] for kind in silent)
        since = f"since {last.isoformat(timespec='minutes')}" if last else "since ml-connector started"
        log.warning("%s: the regular poll found changes of %s that no Intacct wake-up announced (no wake-up %s): "
                    "the trigger looks broken", company, objects, since)
        url = self._fallback_url(company) if self._fallback_url else None
        await self._companies[company].coordinator.tell_operators(AlertRaised(
            company,
            AlertKind.WAKEUPS_MISSING,
            now,
            f"Intacct wake-ups for {company} look broken: the regular poll found changes of {objects} that no wake-up announced",
            detail=f"no wake-up {since}; cards now come with the regular poll only",
            fix=(f"In Intacct, check the Platform Triggers or Smart Events of {objects} (events add and set) and that they call "
                 f"{url or 'the /api/intacct/events URL'}; `python app.py check` shows the set-up."),
        ))


def unannounced(events: Iterable[Event], *, last_wakeup: datetime | None, since: datetime) -> set[str]:
    """Record kinds (bill, payment, vendor) with a change made while we listened (after `since`)
    and after the last wake-up: changes that no wake-up announced."""
    kinds = set()
    for event in events:
        changed_at = changed_at_of(event)
        if changed_at is None or event.record_kind not in TRIGGER_OBJECTS or changed_at <= since + ANNOUNCE_SLACK:
            continue
        if last_wakeup is None or changed_at > last_wakeup + ANNOUNCE_SLACK:
            kinds.add(event.record_kind)
    return kinds


def changed_at_of(event: Event) -> datetime | None:
    """The record's WHENMODIFIED behind a bill, payment or vendor event (None for the others)."""
    for attribute in ("bill", "payment", "vendor"):
        record = getattr(event, attribute, None)
        if record is not None:
            return getattr(record, "when_modified", None)
    return None
