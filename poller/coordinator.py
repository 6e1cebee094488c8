"""Runs the jobs of one company (poll, reconcile, reference refresh, digest); never raises.

Each job: take the company's lease (one instance polls a company at a time), read from Intacct,
plan with the pure functions, and commit snapshots + watermarks + outbox rows in ONE store
transaction. A failed read or commit advances nothing, so the next run re-reads the same window
and re-plans the same events under the same keys. Failures back off with jitter; the first
failure and the recovery are logged once each and told to the operators' channel.

One object failing on its own in a poll (its function refused, its page unreadable, the company
lacking it) does not fail the job: the others are planned and committed as usual, the failing
one keeps its watermark and is read again next cycle, and its first failure and its recovery
are each told once. If it failed during the company's first (baseline) cycle, it is remembered
as still needing its baseline (`baseline-pending` in the store), so its first successful read
remembers what exists instead of announcing it all as new.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Awaitable, Callable, Mapping, Sequence

from intacct import figures
from intacct.bills import Bill, BillLine
from intacct.dimensions import DimensionKind
from intacct.client import READS
from intacct.errors import AuthenticationError, IntacctError
from intacct.company import TeamZone
from intacct.schema import SchemaReport
from poller.events import AlertKind, AlertRaised, BillCreated, BillStateChanged, DigestFigures, DigestPrepared, Event
from poller.planning import BILLS, OBJECTS, PAYMENTS, VENDORS, CyclePlan, RecordsRead, plan_cycle
from poller.routing import fan_out
from store.api import Store, StoreError
from store.types import PollState

log = logging.getLogger("mlc.poller")

Clock = Callable[[], datetime]
REFERENCE_KINDS = tuple(DimensionKind)
LEASE_HELD = "lease held by another instance"  # CycleOutcome.skipped: another instance polls this company
BACKOFF = "backoff"  # CycleOutcome.skipped: the company's polls fail and wait their back-off
SCHEMA_CACHE = "lookup"  # store.reference_maps kind: the company's definitions, {object: "FIELD …"}
BASELINE_PENDING = "baseline-pending"  # store.reference_maps kind: objects whose first read is still due
OBJECT_NAMES = {BILLS: "bills", PAYMENTS: "payments", VENDORS: "vendors"}


@dataclass
class ObjectFailure:
    """One object that cannot be read while the others can: since when, how often, why."""

    since: datetime
    count: int
    error: str
    fix: str | None


@dataclass(frozen=True)
class PollerConfig:
    """Per-company knobs of the coordinator."""

    company: str
    holder: str  # this instance's id, for the lease
    timezone: str = "UTC"  # the schedule's zone (POLL_TIMEZONE)
    team_timezone: str | None = None  # the AP team's zone for "today" and "this week"; None: the Intacct user's
    overlap: timedelta = timedelta(minutes=5)
    max_events_per_channel: int = 20
    backfill_since: datetime | None = None
    lease_seconds: float = 600.0
    backoff_base_seconds: float = 30.0
    backoff_max_seconds: float = 900.0
    digest_read_limit: int = 1000  # rows read per digest figure (one readByQuery page)
    digest_rows: int = 10  # rows kept per digest section (the card lists at most 5)


@dataclass
class CycleOutcome:
    """What one job did, for logs, `poll --once` and tests."""

    job: str
    reason: str = "schedule"  # what started a poll: "schedule", "wake-up", "recheck" (an Intacct wake-up's follow-up)
    ok: bool = False
    skipped: str | None = None  # why nothing ran: BACKOFF or LEASE_HELD
    lease_holder: str | None = None  # with LEASE_HELD: the instance that holds the lease…
    lease_until: datetime | None = None  # …and until when (None when it expired meanwhile)
    events: list[Event] = field(default_factory=list)
    outbox_rows: int = 0
    requests: int = 0
    functions: int = 0
    error: str | None = None
    fix: str | None = None  # with an error: what the operator can do about it, when known
    seconds: float = 0.0


class PollCoordinator:
    """One company's jobs, serialised (at most one Intacct request in flight per company)."""

    def __init__(
        self,
        config: PollerConfig,
        client,
        store: Store,
        *,
        clock: Clock,
        jitter: Callable[[], float] = random.random,
        metrics=None,
        on_outbox: Callable[[], None] | None = None,
        after_poll: Callable[[CycleOutcome], Awaitable[None]] | None = None,
    ) -> None:
        self.config = config
        self.client = client
        self.store = store
        self.clock = clock
        self.jitter = jitter
        self.metrics = metrics
        self.on_outbox = on_outbox  # e.g. the notifier's wake(): new rows go out without waiting
        self.after_poll = after_poll  # e.g. the wake-ups' check that the fallback poll found nothing unannounced
        self._lock = asyncio.Lock()
        self.failing_since: datetime | None = None
        self.consecutive_failures = 0
        self.next_attempt_at: datetime | None = None
        self.last_success_at: datetime | None = None
        self.last_error: str | None = None
        self.object_failures: dict[str, ObjectFailure] = {}

    # --- jobs ------------------------------------------------------------------------------
    async def poll(self, *, dry_run: bool = False, reason: str = "schedule") -> CycleOutcome:
        """Read what changed since the watermark (minus the overlap), plan, commit. `reason` says
        what asked for it (logs; a wake-up's poll is the same incremental cycle)."""
        outcome = await self._run("poll", lambda outcome: self._poll(outcome, dry_run), dry_run=dry_run, reason=reason)
        if self.after_poll is not None and not dry_run:
            try:
                await self.after_poll(outcome)
            except Exception as exc:  # noqa: BLE001 - a follow-up check must not turn a poll into a failure
                log.error("%s: the check after the poll failed: %s", self.config.company, describe_error(exc))
        return outcome

    async def reconcile(self) -> CycleOutcome:
        """Digest-compare open bills and payments (catches records whose WHENMODIFIED did not move)."""
        return await self._run("reconcile", self._reconcile)

    async def refresh_reference(self) -> CycleOutcome:
        """Re-read GL accounts, departments, locations, classes and projects into the store."""
        return await self._run("reference", self._refresh_reference, lease=False)

    async def prepare_digest(self) -> CycleOutcome:
        """Queue the "pending bills and payments due this week" digest for subscribed channels."""
        return await self._run("digest", self._prepare_digest)

    # --- the guarded runner ----------------------------------------------------------------
    async def _run(self, job: str, work: Callable[[CycleOutcome], Awaitable[None]], *, lease: bool = True, dry_run: bool = False,
                   reason: str = "schedule") -> CycleOutcome:
        outcome = CycleOutcome(job, reason)
        now = self.clock()
        if job == "poll" and self.next_attempt_at is not None and now < self.next_attempt_at:
            outcome.skipped = BACKOFF
            return outcome
        async with self._lock:
            started = time.perf_counter()
            before = _counts(self.client)
            try:
                if lease and not dry_run and not await self.store.try_lease(self._lease_name, self.config.holder, now=now, ttl_seconds=self.config.lease_seconds):
                    outcome.skipped = LEASE_HELD
                    held = await self.store.lease_holder(self._lease_name, now=now)
                    if held is not None:
                        outcome.lease_holder, outcome.lease_until = held
                    return outcome
                await work(outcome)
                outcome.ok = True
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the loop must survive anything; it is logged and alerted
                outcome.error, outcome.fix = describe_error(exc), _fix_for(exc)
                await self._on_failure(job, exc, outcome, dry_run)
            else:
                if not dry_run:
                    await self._on_success(job, outcome)
            finally:
                after = _counts(self.client)
                outcome.requests, outcome.functions = after[0] - before[0], after[1] - before[1]
                outcome.seconds = time.perf_counter() - started
                self._observe(outcome)
        return outcome

    async def release_lease(self) -> None:
        """Give up this instance's poll lease (a clean shutdown), so a restarted or another
        instance polls at once instead of after the lease expires. A store failure is logged:
        the lease then simply expires."""
        async with self._lock:  # never in the middle of a cycle that holds it
            try:
                await self.store.release_lease(self._lease_name, self.config.holder)
            except StoreError as exc:
                log.warning("%s: could not give up the poll lease (it expires by itself): %s", self.config.company, exc)

    @property
    def _lease_name(self) -> str:
        return f"poll:{self.config.company}"

    async def _on_success(self, job: str, outcome: CycleOutcome) -> None:
        now = self.clock()
        if outcome.outbox_rows and self.on_outbox is not None:
            self.on_outbox()
        recovered = self.failing_since is not None
        if recovered:
            log.info("%s: Intacct reachable again after %d failed runs", self.config.company, self.consecutive_failures,
                     extra={"company": self.config.company, "job": job})
            await self._alert(AlertRaised(self.config.company, AlertKind.POLLING_RECOVERED, now,
                                          f"Polling {self.config.company} works again",
                                          detail=f"{self.consecutive_failures} failed runs since {self.failing_since.isoformat(timespec='minutes')}"))
        self.failing_since, self.consecutive_failures, self.next_attempt_at, self.last_error = None, 0, None, None
        self.last_success_at = now
        if self.object_failures:
            self.last_error = "; ".join(f"{OBJECT_NAMES.get(name, name)}: {f.error}" for name, f in self.object_failures.items())
        if job == "poll":
            await self._record_state(outcome)

    async def _on_failure(self, job: str, exc: Exception, outcome: CycleOutcome, dry_run: bool) -> None:
        now = self.clock()
        self.consecutive_failures += 1
        self.last_error = outcome.error
        delay = min(self.config.backoff_max_seconds, self.config.backoff_base_seconds * 2 ** (self.consecutive_failures - 1))
        self.next_attempt_at = now + timedelta(seconds=delay * (0.5 + self.jitter() / 2))
        if self.failing_since is None:
            self.failing_since = now
            log.error("%s: %s job failed, backing off: %s", self.config.company, job, outcome.error,
                      extra={"company": self.config.company, "job": job})
            if not dry_run:
                auth = isinstance(exc, AuthenticationError)
                await self._alert(AlertRaised(
                    self.config.company,
                    AlertKind.CREDENTIALS_REJECTED if auth else AlertKind.POLLING_FAILED,
                    now,
                    f"Intacct rejected the credentials of {self.config.company}" if auth else f"Polling {self.config.company} fails",
                    detail=outcome.error,
                    fix=outcome.fix,
                ))
        else:
            log.debug("%s: %s still failing (%d): %s", self.config.company, job, self.consecutive_failures, outcome.error)
        if not dry_run:
            await self._record_state(outcome, failed=True)

    async def tell_operators(self, alert: AlertRaised) -> None:
        """Queue an alert card for the operators' channels (a failure to queue is logged, not raised)."""
        await self._alert(alert)

    async def _alert(self, alert: AlertRaised) -> None:
        try:
            routes = await self.store.list_routes(active_only=True)
            items = fan_out([alert], routes, now=alert.at, max_per_channel=self.config.max_events_per_channel)
            if items:
                await self.store.enqueue_outbox(items)
        except Exception as exc:  # noqa: BLE001 - an alert must not turn one failure into two
            log.error("%s: could not queue the operators' alert: %s", self.config.company, describe_error(exc))

    async def _record_state(self, outcome: CycleOutcome, *, failed: bool = False) -> None:
        now = self.clock()
        try:
            await self.store.record_poll(PollState(
                company=self.config.company,
                last_attempt_at=now,
                last_success_at=self.last_success_at,
                last_error=self.last_error,
                last_error_at=now if failed else None,
                consecutive_failures=self.consecutive_failures,
                functions_last_cycle=outcome.functions,
                events_last_cycle=len(outcome.events),
            ))
        except Exception as exc:  # noqa: BLE001 - status is best effort; the poll itself is committed
            log.warning("%s: could not record poll status: %s", self.config.company, describe_error(exc))

    def _observe(self, outcome: CycleOutcome) -> None:
        job = outcome.job if outcome.reason == "schedule" else f"{outcome.job} ({outcome.reason})"
        if outcome.skipped and outcome.skipped != BACKOFF:
            # Every instance hears of a wake-up and tries; only the lease holder polls.
            level = logging.INFO if outcome.reason == "schedule" else logging.DEBUG
            log.log(level, "%s: %s skipped (%s: %s)", self.config.company, job, outcome.skipped, outcome.lease_holder or "since expired")
        elif outcome.ok:
            log.info("%s: %s ok: %d events, %d outbox rows, %d requests, %d functions, %.2fs",
                     self.config.company, job, len(outcome.events), outcome.outbox_rows,
                     outcome.requests, outcome.functions, outcome.seconds)
        if self.metrics is not None and not outcome.skipped:
            self.metrics.polls.labels(self.config.company, outcome.job, "ok" if outcome.ok else "failed").inc()
            self.metrics.poll_duration.labels(self.config.company, outcome.job).observe(outcome.seconds)
            for event in outcome.events:
                self.metrics.events.labels(self.config.company, event.kind.value).inc()

    # --- the work --------------------------------------------------------------------------
    async def _poll(self, outcome: CycleOutcome, dry_run: bool) -> None:
        company = self.config.company
        await self._restore_schema()
        watermarks = await self.store.get_watermarks(company)
        first_cycle = not await self.store.has_baseline(company)
        pending = set(await self.store.load_reference(company, BASELINE_PENDING))
        baseline = set(OBJECTS) if first_cycle else {name for name in pending if name not in watermarks}
        since = {name: (None if name in baseline or name not in watermarks else watermarks[name] - self.config.overlap)
                 for name in OBJECTS}
        read_at = self.clock()
        changes = await self.client.read_changes(since)
        failed = set(changes.failures)
        records = RecordsRead(bills=changes.bills, payments=changes.payments, vendors=changes.vendors)
        plan = plan_cycle(company, await self._known(records), records, watermarks=watermarks,
                          baseline=baseline, backfill_since=self.config.backfill_since,
                          read_at=read_at, read=set(OBJECTS) - failed)
        if not dry_run and baseline & failed and not (baseline & failed) <= pending:
            # Before the commit marks the company's baseline done: an object whose first read
            # failed must not later announce everything that already existed.
            await self.store.save_reference(company, BASELINE_PENDING, {name: "" for name in pending | (baseline & failed)}, read_at)
        await self._commit(plan, outcome, dry_run)
        if not dry_run:
            done = {name for name in pending if name in plan.watermarks}
            if done:
                await self.store.save_reference(company, BASELINE_PENDING, {name: "" for name in pending - done}, read_at)
            await self._track_object_failures(changes.failures)

    async def _track_object_failures(self, failures: Mapping[str, IntacctError]) -> None:
        """Tell the operators once when an object starts failing on its own, and once when it recovers."""
        now, company = self.clock(), self.config.company
        for name, exc in failures.items():
            known = self.object_failures.get(name)
            if known is not None:
                known.count += 1
                log.debug("%s: reading %s still fails (%d): %s", company, name, known.count, describe_error(exc))
                continue
            failure = ObjectFailure(now, 1, describe_error(exc), _fix_for(exc))
            self.object_failures[name] = failure
            what = OBJECT_NAMES.get(name, name)
            log.error("%s: reading %s (%s) fails; the other objects are polled as usual: %s", company, what, name, failure.error,
                      extra={"company": company, "job": "poll"})
            await self._alert(AlertRaised(company, AlertKind.POLLING_FAILED, now, f"Reading {what} from {company} fails",
                                          detail=failure.error, fix=failure.fix, subject=name))
        for name in [n for n in self.object_failures if n not in failures]:
            failure = self.object_failures.pop(name)
            what = OBJECT_NAMES.get(name, name)
            log.info("%s: reading %s (%s) works again after %d failed cycles", company, what, name, failure.count,
                     extra={"company": company, "job": "poll"})
            await self._alert(AlertRaised(company, AlertKind.POLLING_RECOVERED, now, f"Reading {what} from {company} works again",
                                          detail=f"{failure.count} failed cycles since {failure.since.isoformat(timespec='minutes')}",
                                          subject=name))

    async def _restore_schema(self) -> None:
        """Before the first read: the company's definitions cached by an earlier run, if any, so
        the first poll does not wait for a `lookup` (the reference job refreshes them)."""
        if self.client.schema is not None:
            return
        cached = await self.store.load_reference(self.config.company, SCHEMA_CACHE)
        if cached:
            self.client.use_schema(SchemaReport.from_cache(READS, cached))
            log.info("%s: using the Intacct definitions cached at the last reference refresh", self.config.company)

    async def refresh_schema(self) -> SchemaReport:
        """Ask Intacct for the company's definitions (`lookup`) and cache them in the store."""
        report = await self.client.check_schema()
        await self.store.save_reference(self.config.company, SCHEMA_CACHE, report.to_cache(), self.clock())
        return report

    async def _reconcile(self, outcome: CycleOutcome) -> None:
        if not await self.store.has_baseline(self.config.company):
            return  # nothing known yet: the first poll is the baseline
        bills = await self.client.query_bills(open_only=True, limit=100_000)
        payments = await self.client.query_payments(states=sorted(figures.PAYMENT_PENDING_APPROVAL | figures.PAYMENT_APPROVED), limit=100_000)
        records = RecordsRead(bills=bills.bills, payments=payments.payments)
        plan = plan_cycle(self.config.company, await self._known(records), records, watermarks={})
        await self._commit(replace(plan, watermarks={}), outcome, dry_run=False)

    async def _refresh_reference(self, outcome: CycleOutcome) -> None:
        await self.refresh_schema()
        dimensions = await self.client.fetch_dimensions(REFERENCE_KINDS)
        now = self.clock()
        for kind, rows in dimensions.items():
            await self.store.save_reference(self.config.company, kind.value, {d.id: d.name for d in rows}, now)

    async def _prepare_digest(self, outcome: CycleOutcome) -> None:
        zone = await self.team_zone()
        today = zone.today(self.clock())
        read, keep = self.config.digest_read_limit, self.config.digest_rows
        # Each figure as intacct/figures.py defines it, over Intacct's whole result (one page of
        # up to 1,000 rows per figure: one function each); the card lists the first few.
        pending = await self.client.query_bills(**figures.PENDING_APPROVAL.query(today), limit=read)
        overdue = await self.client.query_bills(**figures.OVERDUE.query(today), limit=read)
        due = await self.client.query_bills(**figures.DUE_THIS_WEEK.query(today), limit=read)
        payments = await self.client.query_payments(**figures.PAYMENTS_PENDING_APPROVAL.query(), limit=read)
        # What is due this week per department comes from the lines of every bill due this week.
        lined = await self._bills_with_lines(due.bills)
        soonest = sorted(payments.payments, key=lambda p: (p.payment_date is None, p.payment_date or date.max, p.record_no))
        digest = DigestPrepared(
            self.config.company,
            today,
            pending_bills=tuple(replace(b, lines=()) for b in pending.bills[:keep]),
            payments_pending=tuple(soonest[:keep]),
            bills_due=tuple(replace(b, lines=()) for b in due.bills[:keep]),
            overdue_bills=tuple(replace(b, lines=()) for b in overdue.bills[:keep]),
            figures=DigestFigures(
                pending_approval=figures.tally(pending.bills, figures.amount_due, count=pending.total),
                due_this_week=figures.tally(due.bills, figures.amount_due, count=due.total),
                overdue=figures.tally(overdue.bills, figures.amount_due, count=overdue.total),
                payments_pending_approval=figures.tally(payments.payments, figures.payment_amount, count=payments.total),
            ),
            due_by_department=figures.amount_due_by_department(lined.get(b.record_no, b) for b in due.bills),
        )
        outcome.events = [digest]
        routes = await self.store.list_routes(active_only=True)
        items = fan_out([digest], routes, now=self.clock(), max_per_channel=self.config.max_events_per_channel)
        # Not commit_cycle: a digest is not a poll and must not count as the company's baseline.
        outcome.outbox_rows = await self.store.enqueue_outbox(items)

    async def team_zone(self) -> TeamZone:
        """The AP team's zone: the company's configured IANA zone, else the Intacct user's."""
        if self.config.team_timezone:
            return TeamZone.from_name(self.config.team_timezone)
        return TeamZone.from_offset((await self.client.time_zone()).utcoffset(None))

    async def _known(self, records: RecordsRead) -> dict[str, dict]:
        company = self.config.company
        return {
            BILLS: await self.store.load_snapshots(company, BILLS, [b.record_no for b in records.bills]),
            PAYMENTS: await self.store.load_snapshots(company, PAYMENTS, [p.record_no for p in records.payments]),
            VENDORS: await self.store.load_snapshots(company, VENDORS, [v.record_no for v in records.vendors]),
        }

    async def _commit(self, plan: CyclePlan, outcome: CycleOutcome, dry_run: bool) -> None:
        events = await self._with_lines(plan.events)
        outcome.events = events
        if dry_run:
            return
        now = self.clock()
        routes = await self.store.list_routes(active_only=True)
        items = fan_out(events, routes, now=now, max_per_channel=self.config.max_events_per_channel)
        outcome.outbox_rows = await self.store.commit_cycle(
            self.config.company, watermarks=plan.watermarks, snapshots=plan.snapshots, outbox=items, now=now, links=plan.links
        )

    async def _with_lines(self, events: Sequence[Event]) -> list[Event]:
        """Bill events carry their lines with GL account and dimension names (cards need them)."""
        named = await self._bills_with_lines(
            [e.bill for e in events if isinstance(e, (BillCreated, BillStateChanged)) and not e.bill.lines]
        )
        return [
            replace(e, bill=named[e.bill.record_no])
            if isinstance(e, (BillCreated, BillStateChanged)) and e.bill.record_no in named
            else e
            for e in events
        ]

    async def _bills_with_lines(self, bills: Sequence[Bill]) -> dict[int, Bill]:
        """The given bills with their lines read from Intacct (one function per 200 bills)."""
        if not bills:
            return {}
        lines = await self.client.fetch_bill_lines(sorted({b.record_no for b in bills}))
        names = await self._reference_names(lines)
        return {
            b.record_no: replace(b, lines=tuple(_named(line, names) for line in lines.get(b.record_no, ())))
            for b in bills
        }

    async def _reference_names(self, lines: dict[int, tuple[BillLine, ...]]) -> dict[str, dict[str, str]]:
        company = self.config.company
        names = {kind.value: await self.store.load_reference(company, kind.value) for kind in REFERENCE_KINDS}
        if any(_missing_names(line, names) for rows in lines.values() for line in rows):
            # A cache miss (new account or department): refresh once, then use what Intacct says.
            dimensions = await self.client.fetch_dimensions(REFERENCE_KINDS)
            now = self.clock()
            for kind, rows in dimensions.items():
                names[kind.value] = {d.id: d.name for d in rows}
                await self.store.save_reference(company, kind.value, names[kind.value], now)
        return names


_LINE_NAME_FIELDS = (
    ("gl_account_no", "gl_account_title", DimensionKind.GL_ACCOUNT),
    ("department_id", "department_name", DimensionKind.DEPARTMENT),
    ("location_id", "location_name", DimensionKind.LOCATION),
    ("class_id", "class_name", DimensionKind.CLASS),
    ("project_id", "project_name", DimensionKind.PROJECT),
)


def _missing_names(line: BillLine, names: dict[str, dict[str, str]]) -> bool:
    return any(
        getattr(line, id_field) and not getattr(line, name_field) and getattr(line, id_field) not in names[kind.value]
        for id_field, name_field, kind in _LINE_NAME_FIELDS
    )


def _named(line: BillLine, names: dict[str, dict[str, str]]) -> BillLine:
    updates = {
        name_field: names[kind.value].get(getattr(line, id_field))
        for id_field, name_field, kind in _LINE_NAME_FIELDS
        if getattr(line, id_field) and not getattr(line, name_field)
    }
    return replace(line, **{k: v for k, v in updates.items() if v})


def _counts(client) -> tuple[int, int]:
    stats = getattr(client, "stats", None)
    return (getattr(stats, "requests", 0), getattr(stats, "functions", 0)) if stats is not None else (0, 0)


def describe_error(exc: BaseException) -> str:
    """One line for logs, status and alerts: Intacct's own error number and text when it gave them."""
    if isinstance(exc, IntacctError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _fix_for(exc: BaseException) -> str | None:
    correction = getattr(exc, "correction", None)
    if correction:
        return correction
    if isinstance(exc, AuthenticationError):
        return "Check the sender and user credentials (python app.py setup) and that the sender id is on the company's Web Services authorizations list."
    if isinstance(exc, IntacctError) and getattr(exc, "transient", False):
        return "Intacct or the network is unavailable; ml-connector retries by itself with back-off."
    return None

