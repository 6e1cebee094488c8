"""Kill -9, twenty times, during a busy run: nothing lost, duplicates within one per kill.

`python app.py serve` runs as a real process (SQLite in its data dir, the default deployment)
against the Intacct sandbox and a fake Bot Connector that enforces Teams' rate limits, both served
by this test over HTTP on random ports. An AP workload keeps changing bills, payments and vendors
through the sandbox's admin API: after every start, while the service is dead, and on some of the
poll cycles the sandbox answers. Twenty times the service is SIGKILLed at a seeded point of its
own progress (tests/reliability/chaos.py) and started again. Then the workload stops, the service
gets a quiet period to catch up, and the oracle (tests/reliability/oracle.py) compares what Teams
shows with what Intacct says: every changed record has a card in its final state, nothing else
was posted, and repeats stay within one per kill (in total; the most any single kill caused, and
at which point, is printed with the seed).

The seed is printed; `ML_CONNECTOR_CHAOS_SEED=<seed>` replays the same kill plan and workload.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from pathlib import Path

import aiohttp
import pytest

from store.sql import open_store
from tests.fakes.ap_workload import ApWorkload, read_truth
from tests.fakes.gateway_log import GatewayCall, GatewayLog, running_logged_sandbox
from tests.fakes.service_process import (
    WALL_CLOCK,
    ServiceProcess,
    ServiceProcessError,
    sandbox_service_environment,
    wait_until,
)
from tests.fakes.teams_activities import CHANNEL_ID, TENANT_ID, add_playground_team, install_and_subscribe
from tests.fakes.teams_ledger import ChannelLedger, fallback, repeated_writes, written_card
from tests.reliability.chaos import SEED_ENV, KillSwitch, TeamsWithHooks, chaos_seed, kill_plan
from tests.reliability.oracle import check_delivery

pytestmark = pytest.mark.slow

KILLS = 20
COMPANY = "DEMO-CO"
KILL_DEADLINE = 20.0  # seconds for the armed point to come; then the kill happens anyway
QUIET_DEADLINE = 90.0
LEASE_SECONDS = 3
CLAIM_SECONDS = 3
# Intacct keeps changing while the service is down: at least this many changes per kill so far,
# so how busy the run is does not depend on how fast a loaded machine reaches each kill point.
MIN_CHANGES_PER_KILL = 2.5


class Pump:
    """Workload changes on some of the poll cycles the sandbox answers (changes while polls run)."""

    def __init__(self, workload: ApWorkload, rng: random.Random, gateway: GatewayLog) -> None:
        self.workload, self.rng = workload, rng
        self.tasks: set[asyncio.Task] = set()
        self.on = False
        gateway.after.append(self._maybe_change)

    def _maybe_change(self, call: GatewayCall) -> None:
        if self.on and call.is_poll_cycle and self.rng.random() < 0.5:
            task = asyncio.get_running_loop().create_task(self.workload.step())
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def stop(self) -> None:
        """No more changes; wait for those in flight (their errors fail the test)."""
        self.on = False
        while self.tasks:
            await asyncio.gather(*list(self.tasks))

    def cancel(self) -> None:
        """No more changes, and none finishing after the test (a failed test's cleanup)."""
        self.on = False
        for task in self.tasks:
            task.cancel()


async def test_kill_9_twenty_times_during_a_busy_run_loses_nothing(tmp_path: Path, figures):
    seed = chaos_seed()
    plan_rng, work_rng, pump_rng = (random.Random(f"{seed}:{part}") for part in ("plan", "work", "pump"))
    plan = kill_plan(plan_rng, KILLS)
    figures(f"chaos seed={seed} (replay with {SEED_ENV}={seed}); plan: {', '.join(map(str, plan))}")
    data_dir = tmp_path / "instance"
    gateway = GatewayLog()
    started = time.monotonic()
    async with running_logged_sandbox(gateway, "demo", clock=WALL_CLOCK, sleep=WALL_CLOCK.sleep) as sandbox, \
            TeamsWithHooks(enforce_rate_limits=True, tenant_id=TENANT_ID) as teams, \
            aiohttp.ClientSession() as http:
        add_playground_team(teams)
        truth = await read_truth(sandbox.client(WALL_CLOCK))
        workload = ApWorkload(sandbox, work_rng, sorted(truth.vendors))
        service = ServiceProcess("serve", sandbox_service_environment(data_dir, sandbox.gateway_url, lease_seconds=LEASE_SECONDS,
                                                                       claim_seconds=CLAIM_SECONDS), tmp_path / "serve.log")
        store = open_store(None, data_dir=data_dir)
        switch = KillSwitch(service, gateway, teams)
        pump = Pump(workload, pump_rng, gateway)
        try:
            await service.start(http)
            await install_and_subscribe(http, service.url, teams.service_url)
            await wait_until(lambda: store.has_baseline(COMPANY), timeout=30, what="the baseline committed")
            assert len(await store.list_routes(active_only=True)) == 1
            await service.stop()  # the chaos starts from a clean restart

            pump.on = True
            for number, point in enumerate(plan, 1):
                switch.arm(point)
                await service.spawn()
                await _healthy_or_killed(service, switch, http)
                if not switch.fired.is_set():
                    await workload.burst(work_rng.randint(1, 3))
                    try:
                        await asyncio.wait_for(switch.fired.wait(), KILL_DEADLINE)
                    except asyncio.TimeoutError:
                        switch.kill_now(f"{point} (deadline)")
                await service.reap()
                behind = math.ceil(MIN_CHANGES_PER_KILL * number) - workload.changes
                await workload.burst(max(work_rng.randint(0, 3), behind))  # Intacct goes on while the service is down

            switch.disarm()
            await service.start(http)
            await pump.stop()
            quiet = await _caught_up(gateway, store, time.monotonic())
            truth = await read_truth(sandbox.client(WALL_CLOCK))
            check = check_delivery(truth, workload, ChannelLedger.read(teams, CHANNEL_ID))
            repeats = repeated_writes(teams, CHANNEL_ID)
            diagnosis = "" if check.complete else await _diagnose(check, store, teams, workload, service)
            failed = await store.outbox_items(status="failed")
        finally:
            switch.disarm()
            pump.cancel()
            await service.stop()
            await store.close()

    elapsed = time.monotonic() - started
    blamed = switch.blame([r.first_at for r in repeats])
    late = sum("(deadline)" in point for point in switch.fired_at)
    figures(f"chaos kills={len(switch.fired_at)} (at the deadline: {late}) changes={workload.changes} records={check.expected} "
            f"duplicates={check.duplicates} (posts={check.duplicate_posts} updates={check.duplicate_updates}) "
            f"duplicates_per_kill={check.duplicates / KILLS:.2f} max_duplicates_after_one_kill={max(blamed.values(), default=0)} "
            f"catch_up_after_last_start={quiet:.1f}s run={elapsed:.0f}s")
    figures("duplicates by kill point: " + (", ".join(f"#{k} {switch.fired_at[k - 1] if k <= len(switch.fired_at) else 'after the last kill'}: {n}"
                                                      for k, n in sorted(blamed.items())) or "none"))
    figures("repeats: " + "; ".join(f"{r.kind} {r.record} first {r.first_at:%H:%M:%S.%f} again {r.again_at:%H:%M:%S.%f}" for r in repeats)
            + " | kills at " + ", ".join(f"{t:%H:%M:%S.%f}" for t in switch.kill_times))
    assert len(switch.fired_at) == KILLS and service.starts == KILLS + 2
    assert check.complete, check.describe() + "\n" + diagnosis
    assert len(repeats) == check.duplicates, (repeats, check.describe())
    assert check.duplicates <= KILLS, check.describe()
    assert failed == [], [f"{r.event_key}: {r.last_error}" for r in failed]
    assert workload.changes >= MIN_CHANGES_PER_KILL * KILLS and check.expected >= 25, "the workload must have kept the service busy"


async def _healthy_or_killed(service: ServiceProcess, switch: KillSwitch, http: aiohttp.ClientSession) -> None:
    """Until /healthz answers (then tell the switch) or the switch killed the process first."""
    try:
        await service.wait_healthy(http, timeout=30)
    except ServiceProcessError:
        if not switch.fired.is_set():
            raise
        return
    switch.healthy()


async def _caught_up(gateway: GatewayLog, store, changes_done: float) -> float:
    """The quiet period: two poll cycles arrive after the last change (the first one's commit is
    then done: a company's cycles run one at a time) and the outbox is empty; its length."""
    began = time.monotonic()
    await wait_until(lambda: len(gateway.poll_cycles(since=changes_done)) >= 2, timeout=QUIET_DEADLINE,
                     what="two poll cycles after the last change")
    await wait_until(lambda: _outbox_empty(store), timeout=QUIET_DEADLINE, what="the outbox drained")
    return time.monotonic() - began


async def _outbox_empty(store) -> bool:
    return await store.outbox_depth() == 0


async def _diagnose(check, store, teams: TeamsWithHooks, workload: ApWorkload, service: ServiceProcess) -> str:
    """For a failed check: each missing or stale record's outbox rows, audit lines and Teams writes."""
    lines = [f"workload: {workload.log}"]
    rows = await store.outbox_items(limit=100_000)
    audit = await store.list_audit()
    for problem in [*check.missing, *check.stale][:5]:
        obj, number = problem.split(":")[0].split()
        record, kind = (obj, int(number)), {"APBILL": "bill", "APPYMT": "payment", "VENDOR": "vendor"}[obj]
        lines.append(f"--- {problem}")
        lines += [f"row {r.id} {r.event_key} {r.status} attempts={r.attempts} error={r.last_error}"
                  for r in rows if r.record_kind == kind and r.record_no == record[1]]
        lines += [f"audit {a.at:%H:%M:%S.%f} {a.action} {a.outcome} {a.event_key} {a.activity_id}"
                  for a in audit if a.record_kind == kind and a.record_no == record[1]]
        for call in teams.calls:
            written, _, activity = written_card(call) if call.operation in ("create", "update") else (None, [], {})
            if written == record:
                lines.append(f"teams {call.at:%H:%M:%S.%f} {call.operation} {call.status} {call.activity_id} {fallback(activity)}")
    lines.append(service.log_tail(30))
    return "\n".join(lines)
