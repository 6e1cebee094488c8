"""Benchmark (issues 4 and 3): poll cycles over a company with 10,000 bills — baseline, 100 changed, idle.

The sandbox (demo seed + `generate(bills=10_000)`) runs in a child process; the poller is the
real one from `app.build_runtime` (IntacctClient over loopback HTTP, a SQLite store in a temporary
directory, one channel subscribed to bills so a busy cycle queues outbox rows as in production).
In order, as `serve` does at start-up: the reference-data job (it signs in first:
getAPISession, readUserFormatting), then the baseline poll and one idle poll; then 100 Submitted
bills are approved through the sandbox's admin API and one cycle is measured (the busy cycle);
then one more cycle with nothing changed (the idle cycle, which still re-reads the overlap
window, here the 100 bills just changed). Each cycle's requests and functions are counted twice:
by the client (CycleOutcome) and by the sandbox (GET /sandbox/stats); the idle target is 1
request carrying at most 3 functions, checked at the sandbox. Then the reconcile, digest and
reference jobs run once each, to price the default schedules with measured per-job function
counts beside `poller.schedules.estimate_usage`'s assumptions (sign-ins are in neither), both
polling alone and with Intacct wake-ups on (the regular poll then the 15-minute fallback).

Usage: ``python bench/poll_cycle.py [--bills 10000] [--changed 100]``. The last line printed is
``name=value`` pairs.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Awaitable, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))

import aiohttp  # noqa: E402

from _common import (  # noqa: E402
    COMPANY,
    BenchError,
    SandboxProcess,
    StatsDelta,
    figures_line,
    load_1min,
    machine_summary,
    sandbox_environment,
    stats_delta,
    subscribe_channel,
    temporary_data_dir,
    utc_now,
)

IDLE_MAX_REQUESTS = 1
IDLE_MAX_FUNCTIONS = 3
UNUSED_SERVICE_URL = "http://127.0.0.1:9/"  # the notifier does not run here: rows stay queued


@dataclass(frozen=True)
class Measured:
    """One job as the client and the sandbox saw it."""

    label: str
    outcome: Any  # poller.coordinator.CycleOutcome
    seconds: float  # wall clock around the job
    cpu_seconds: float  # this process's CPU (the sandbox has its own)
    sandbox_seconds: float  # time inside the sandbox's gateway handler
    wire: StatsDelta  # what the sandbox counted

    def line(self) -> str:
        """One human line for the log."""
        o = self.outcome
        kinds: dict[str, int] = {}
        for event in o.events:
            kinds[type(event).__name__] = kinds.get(type(event).__name__, 0) + 1
        events = ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())) or "none"
        return (f"{self.label}: {self.seconds:.3f} s (sandbox {self.sandbox_seconds:.3f} s, our CPU {self.cpu_seconds:.3f} s); "
                f"sandbox saw {self.wire.describe()}; client counted {o.requests} requests, {o.functions} functions; "
                f"events: {events}; outbox rows {o.outbox_rows}")  # fmt: skip


async def measure(label: str, job: Callable[[], Awaitable[Any]], sandbox: SandboxProcess, http: aiohttp.ClientSession) -> Measured:
    """Run one coordinator job and read both sides' counters around it."""
    stats, timings = await sandbox.stats(http), await sandbox.timings(http)
    cpu, started = time.process_time(), time.perf_counter()
    outcome = await job()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    after_stats, after_timings = await sandbox.stats(http), await sandbox.timings(http)
    if not outcome.ok:
        raise BenchError(f"the {label} job failed: {outcome.error or outcome.skipped}")
    measured = Measured(label, outcome, seconds, cpu, after_timings.seconds - timings.seconds, stats_delta(stats, after_stats))
    print(measured.line(), flush=True)
    return measured


async def run(bills: int, changed: int) -> dict[str, object]:
    """Baseline, busy and idle cycles, then reconcile and digest; returns the figures."""
    from app import build_runtime
    from poller.schedules import estimate_usage
    from settings import (
        DEFAULT_DIGEST_SCHEDULE,
        DEFAULT_POLL_SCHEDULE,
        DEFAULT_RECONCILE_SCHEDULE,
        DEFAULT_REFERENCE_SCHEDULE,
        DEFAULT_WAKEUP_POLL_SCHEDULE,
        load_settings,
    )

    with SandboxProcess("demo", bills=bills) as sandbox, temporary_data_dir() as tmp:
        print(f"sandbox: {sandbox.rows['APBILL']} bills, {sandbox.rows['APBILLITEM']} lines, {sandbox.rows['APPYMT']} payments, "
              f"{sandbox.rows['VENDOR']} vendors (generated in {sandbox.generate_seconds:.1f} s)", flush=True)  # fmt: skip
        runtime = await build_runtime(load_settings(sandbox_environment(sandbox, Path(tmp))))
        try:
            async with aiohttp.ClientSession() as http:
                await subscribe_channel(runtime.store, UNUSED_SERVICE_URL, frozenset({"bills"}), now=utc_now())
                coordinator = runtime.companies[COMPANY].coordinator
                await measure("reference at start-up (signs in first)", coordinator.refresh_reference, sandbox, http)
                baseline = await measure("baseline", coordinator.poll, sandbox, http)
                quiet = await measure("idle after baseline", coordinator.poll, sandbox, http)

                targets = await sandbox.bills_in_state(http, "S", changed)
                if len(targets) < changed:
                    raise BenchError(f"only {len(targets)} Submitted bills to approve; {changed} asked")
                started = time.perf_counter()
                for record_no in targets:
                    await sandbox.admin(http, "POST", f"/sandbox/bills/{record_no}/state", {"state": "Approved"})
                print(f"approved {changed} Submitted bills through the admin API in {time.perf_counter() - started:.2f} s", flush=True)

                busy = await measure(f"busy ({changed} changed)", coordinator.poll, sandbox, http)
                idle = await measure("idle (overlap re-reads the changed bills)", coordinator.poll, sandbox, http)
                reconcile = await measure("reconcile", coordinator.reconcile, sandbox, http)
                digest = await measure("digest", coordinator.prepare_digest, sandbox, http)
                reference = await measure("reference", coordinator.refresh_reference, sandbox, http)
        finally:
            await runtime.close()

    problems = []
    idle_ok = all(c.wire.requests <= IDLE_MAX_REQUESTS and c.wire.function_count <= IDLE_MAX_FUNCTIONS for c in (quiet, idle))
    for cycle in (quiet, idle):
        if cycle.wire.requests > IDLE_MAX_REQUESTS or cycle.wire.function_count > IDLE_MAX_FUNCTIONS:
            problems.append(f"{cycle.label}: {cycle.wire.describe()} (target {IDLE_MAX_REQUESTS} request, ≤ {IDLE_MAX_FUNCTIONS} functions)")
    for cycle in (baseline, quiet, busy, idle):
        if (cycle.outcome.requests, cycle.outcome.functions) != (cycle.wire.requests, cycle.wire.function_count):
            problems.append(f"{cycle.label}: the client counted {cycle.outcome.requests} requests / {cycle.outcome.functions} "
                            f"functions, the sandbox {cycle.wire.requests} / {cycle.wire.function_count}")  # fmt: skip
    if len(busy.outcome.events) != changed:
        problems.append(f"busy cycle: {len(busy.outcome.events)} events for {changed} changed bills")
    for problem in problems:
        print(f"PROBLEM: {problem}", flush=True)

    start = utc_now()
    schedules = dict(poll_schedule=DEFAULT_POLL_SCHEDULE, poll_timezone="UTC", reference_schedule=DEFAULT_REFERENCE_SCHEDULE,
                     reconcile_schedule=DEFAULT_RECONCILE_SCHEDULE, digest_schedule=DEFAULT_DIGEST_SCHEDULE, start=start)  # fmt: skip
    default = estimate_usage(**schedules)
    measured = estimate_usage(**schedules, poll_functions=idle.wire.function_count, reference_functions=reference.wire.function_count,
                              reconcile_functions=reconcile.wire.function_count, digest_functions=digest.wire.function_count)  # fmt: skip
    print(f"monthly estimate, default schedules from {start:%Y-%m-%d} (30 days, UTC): {default.poll_runs} polls × "
          f"{default.poll_functions} + {default.reference_runs} reference × {default.reference_functions} + {default.reconcile_runs} "
          f"reconcile × {default.reconcile_functions} + {default.digest_runs} digest × {default.digest_functions} = {default.total} "
          f"({default.share_of_tier1:.0%} of Tier 1); with the functions measured here per job: {measured.total} "
          f"({measured.share_of_tier1:.0%})")  # fmt: skip
    # With Intacct wake-ups on, the regular poll is the 15-minute fallback (issue 18: ≤ 10% of Tier 1).
    woken = estimate_usage(**{**schedules, "poll_schedule": DEFAULT_WAKEUP_POLL_SCHEDULE})
    woken_measured = estimate_usage(**{**schedules, "poll_schedule": DEFAULT_WAKEUP_POLL_SCHEDULE}, poll_functions=idle.wire.function_count,
                                    reference_functions=reference.wire.function_count, reconcile_functions=reconcile.wire.function_count,
                                    digest_functions=digest.wire.function_count)  # fmt: skip
    print(f"with Intacct wake-ups on ({DEFAULT_WAKEUP_POLL_SCHEDULE}): {woken.poll_runs} polls × {woken.poll_functions} + the same "
          f"reference, reconcile and digest = {woken.total} ({woken.share_of_tier1:.1%} of Tier 1); measured per job: "
          f"{woken_measured.total} ({woken_measured.share_of_tier1:.1%}); plus {idle.wire.function_count} per wake-up poll")  # fmt: skip

    return {
        "bills": sandbox.rows["APBILL"],
        "changed": changed,
        "baseline_s": baseline.seconds,
        "baseline_requests": baseline.wire.requests,
        "baseline_functions": baseline.wire.function_count,
        "busy_s": busy.seconds,
        "busy_sandbox_s": busy.sandbox_seconds,
        "busy_requests": busy.wire.requests,
        "busy_functions": busy.wire.function_count,
        "busy_events": len(busy.outcome.events),
        "busy_outbox_rows": busy.outcome.outbox_rows,
        "idle_s": idle.seconds,
        "idle_requests": idle.wire.requests,
        "idle_functions": idle.wire.function_count,
        "idle_after_baseline_requests": quiet.wire.requests,
        "idle_after_baseline_functions": quiet.wire.function_count,
        "idle_ok": "yes" if idle_ok else "no",
        "reference_functions": reference.wire.function_count,
        "reconcile_functions": reconcile.wire.function_count,
        "digest_functions": digest.wire.function_count,
        "monthly_estimate": default.total,
        "monthly_measured": measured.total,
        "monthly_estimate_wakeups": woken.total,
        "monthly_measured_wakeups": woken_measured.total,
        "problems": len(problems),
        "load_1min": f"{load_1min():.2f}",
    }


def main() -> None:
    """Parse options, run, print the figures last."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bills", type=int, default=10_000, help="bills generated on top of the demo company's")
    parser.add_argument("--changed", type=int, default=100, help="bills approved between the baseline and the measured cycle")
    args = parser.parse_args()
    if args.bills < 0 or args.changed < 1:
        parser.error("--bills must be ≥ 0 and --changed ≥ 1")
    print(machine_summary(), flush=True)
    try:
        figures = asyncio.run(run(args.bills, args.changed))
    except BenchError as exc:
        raise SystemExit(f"{Path(__file__).name}: {exc}") from None
    print(figures_line(figures))


if __name__ == "__main__":
    main()
