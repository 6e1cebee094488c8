"""Three `python app.py serve` processes on one PostgreSQL: one poller, no double post, takeover.

The instances share a database created on the test session's throwaway PostgreSQL server; the
Intacct sandbox (with a request log) and a fake Bot Connector that enforces Teams' rate limits are
served by this test. What is checked, each from outside the service:

- no double polling: poll cycles as the sandbox sees them (a request reading APBILL, APPYMT and
  VENDOR together) come from one Intacct session — one instance — about once a second;
- no double posting: under a burst that the pacer spreads out (rows given back and claimed again,
  by whichever instance is idle), every changed record gets exactly one card, in its final state;
- takeover: the lease holder (read from the `leases` table) is SIGKILLed while Teams takes its
  cards; another instance polls within the lease time, and the dead one's claimed rows are
  delivered once their claims expire;
- /api/messages: each instance answers a message (the reply goes to the fake connector).
"""

from __future__ import annotations

import asyncio
import random
import re
import time
from pathlib import Path

import aiohttp
import asyncpg
import pytest

from store.sql import open_store
from tests.fakes.ap_workload import ApWorkload, read_truth
from tests.fakes.gateway_log import GatewayLog, running_logged_sandbox
from tests.fakes.postgres import SOCKET_PORT, PostgresServer
from tests.fakes.service_process import WALL_CLOCK, ServiceProcess, sandbox_service_environment, wait_until
from tests.fakes.teams_activities import CHANNEL_ID, TENANT_ID, add_playground_team, install_and_subscribe, mention, post_activity
from tests.fakes.teams_ledger import ChannelLedger
from tests.reliability.chaos import TeamsWithHooks
from tests.reliability.oracle import DeliveryCheck, check_delivery

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

COMPANY = "DEMO-CO"
LEASE_SECONDS = 3
CLAIM_SECONDS = 3
SCHEDULE_SECONDS = 1  # POLL_SCHEDULE "every 1s"
DEADLINE = 60.0


async def test_three_instances_share_one_database_without_double_polling_or_posting(postgres_server: PostgresServer,
                                                                                     tmp_path: Path, figures):
    database = await postgres_server.create_database()
    gateway = GatewayLog()
    async with running_logged_sandbox(gateway, "demo", clock=WALL_CLOCK, sleep=WALL_CLOCK.sleep) as sandbox, \
            TeamsWithHooks(enforce_rate_limits=True, tenant_id=TENANT_ID) as teams, \
            aiohttp.ClientSession() as http:
        add_playground_team(teams)
        oracle = sandbox.client(WALL_CLOCK)  # the test's own client: one session, left out of the poll counts
        truth = await read_truth(oracle)
        oracle_sessions = {gateway.calls[-1].session}
        workload = ApWorkload(sandbox, random.Random(20261126), sorted(truth.vendors))
        instances = [
            ServiceProcess(name, sandbox_service_environment(tmp_path / name, sandbox.gateway_url, lease_seconds=LEASE_SECONDS,
                                                             claim_seconds=CLAIM_SECONDS, database_url=postgres_server.url(database)),
                           tmp_path / f"{name}.log")
            for name in ("a", "b", "c")
        ]
        store = open_store(postgres_server.url(database), data_dir=tmp_path)
        try:
            await asyncio.gather(*(instance.start(http) for instance in instances))
            await install_and_subscribe(http, instances[0].url, teams.service_url)
            await wait_until(lambda: store.has_baseline(COMPANY), timeout=DEADLINE, what="the baseline committed")

            # --- /api/messages on every instance; the subscription made through `a` is shared ---
            for instance in instances:
                [reply] = await _ask(http, instance, teams, "subscriptions")
                assert "1 route, 1 active" in reply.card["fallbackText"], reply.card["fallbackText"]

            # --- steady state: one poller, every card once ---
            window_start = time.monotonic()
            await workload.burst(8)
            await _cycles_after(gateway, time.monotonic(), 4, oracle_sessions)
            # A burst whose first card Teams throttles for longer than a claim lasts: the holder gives
            # its rows back, and when they are due again every instance's notifier goes for them.
            teams.fail_next(429, retry_after=2, conversation_id=CHANNEL_ID, operations={"create"})
            await workload.burst(20)
            check = await _delivered(gateway, oracle, workload, teams, store, oracle_sessions)
            window_end = time.monotonic()
            assert check.complete and check.duplicates == 0, check.describe()

            cycles = [c for c in gateway.poll_cycles(since=window_start, until=window_end) if c.session not in oracle_sessions]
            span = window_end - window_start
            assert len(gateway.sessions(cycles)) == 1, "one instance polls at a time"
            # Three pollers would make about three cycles a second; one makes one (a late tick may
            # crowd two into a second, a busy machine may skip one: hence the slack).
            assert span / (2 * SCHEDULE_SECONDS) - 1 <= len(cycles) <= span / SCHEDULE_SECONDS + 2, (len(cycles), span)
            polls_ok = {i.name: await _metric(http, i, "mlc_polls_total", job="poll", outcome="ok") for i in instances}
            posts = {i.name: await _metric(http, i, "mlc_deliveries_total", action="post", outcome="ok") for i in instances}
            assert sum(1 for n in polls_ok.values() if n) == 1, polls_ok
            figures(f"scale-out steady: {len(cycles)} poll cycles in {span:.1f}s ({len(cycles) / span:.2f}/s) from "
                    f"{len(gateway.sessions(cycles))} session; polls ok per instance {polls_ok}; cards posted per instance "
                    f"{posts}; Teams 429s={sum(c.status == 429 for c in teams.calls)}; records={check.expected} "
                    f"duplicates={check.duplicates}")

            # --- the lease holder dies while Teams takes its cards ---
            holder_pid = await _lease_holder_pid(postgres_server, database)
            victim = next(i for i in instances if i.pid == holder_pid)
            survivors = [i for i in instances if i is not victim]
            victim_session = cycles[-1].session
            killed: list[float] = []

            def kill_on_first_card() -> None:
                if not killed:
                    victim.kill()
                    killed.append(time.monotonic())

            teams.after_write.append(kill_on_first_card)
            await workload.burst(12)
            await wait_until(lambda: bool(killed), timeout=DEADLINE, what="a card of the burst reaching Teams")
            teams.after_write.remove(kill_on_first_card)
            await victim.reap()

            def taken_over() -> bool:
                return any(c.session not in oracle_sessions | {victim_session} for c in gateway.poll_cycles(since=killed[0]))

            await wait_until(taken_over, timeout=DEADLINE, what="another instance polling")
            first = next(c for c in gateway.poll_cycles(since=killed[0]) if c.session not in oracle_sessions | {victim_session})
            takeover = first.arrived - killed[0]
            assert takeover <= LEASE_SECONDS + SCHEDULE_SECONDS + 1.5, f"took over after {takeover:.1f}s"
            assert await _lease_holder_pid(postgres_server, database) in {i.pid for i in survivors}

            await workload.burst(6)
            check = await _delivered(gateway, oracle, workload, teams, store, oracle_sessions | {victim_session})
            assert check.complete, check.describe()
            assert check.duplicates <= 1, check.describe()  # at most the card in flight when it died
            after = [c for c in gateway.poll_cycles(since=first.arrived) if c.session not in oracle_sessions]
            assert len(gateway.sessions(after)) == 1, "after the takeover, still one instance polls"
            for instance in survivors:
                assert len(await _ask(http, instance, teams, "help")) == 1
            figures(f"scale-out takeover: lease {LEASE_SECONDS}s, schedule {SCHEDULE_SECONDS}s, first poll by another "
                    f"instance {takeover:.2f}s after SIGKILL; duplicates after the kill={check.duplicates}")
            assert [await i.stop() for i in survivors] == [0, 0], "a clean shutdown exits 0"
        finally:
            teams.after_write.clear()
            for instance in instances:
                await instance.stop()
            await store.close()


async def _ask(http: aiohttp.ClientSession, instance: ServiceProcess, teams: TeamsWithHooks, text: str) -> list:
    """@mention the bot through one instance; the bot messages that reached the fake meanwhile."""
    before = set(teams.messages)
    status = await post_activity(http, instance.url, mention(text, teams.service_url))
    assert status in (200, 201), f"{instance.name}: /api/messages answered {status}\n{instance.log_tail()}"
    return [m for key, m in teams.messages.items() if key not in before and m.from_bot]


async def _cycles_after(gateway: GatewayLog, moment: float, count: int, ignore: set) -> None:
    """Until `count` poll cycles (the service's, not the oracle's) arrived after `moment`."""

    def enough() -> bool:
        return len([c for c in gateway.poll_cycles(since=moment) if c.session not in ignore]) >= count

    await wait_until(enough, timeout=DEADLINE, what=f"{count} poll cycles")


async def _delivered(gateway: GatewayLog, oracle, workload: ApWorkload, teams: TeamsWithHooks, store, ignore: set) -> DeliveryCheck:
    """Wait until two poll cycles arrived after the last change (so the first one's commit is
    done) and the outbox is empty; then compare what Teams shows with what Intacct says."""
    await _cycles_after(gateway, time.monotonic(), 2, ignore)
    await wait_until(lambda: _outbox_empty(store), timeout=DEADLINE, what="the outbox drained")
    truth = await read_truth(oracle)
    return check_delivery(truth, workload, ChannelLedger.read(teams, CHANNEL_ID))


async def _outbox_empty(store) -> bool:
    return await store.outbox_depth() == 0


async def _metric(http: aiohttp.ClientSession, instance: ServiceProcess, name: str, **labels: str) -> float:
    """The sum of an instance's /metrics samples of `name` that carry these labels (0 when none)."""
    async with http.get(f"{instance.url}/metrics") as response:
        text = await response.text()
    total = 0.0
    for found in re.finditer(rf"^{re.escape(name)}\{{(.*)\}} (\S+)$", text, re.MULTILINE):
        sample = dict(re.findall(r'(\w+)="([^"]*)"', found.group(1)))
        if all(sample.get(key) == value for key, value in labels.items()):
            total += float(found.group(2))
    return total


async def _lease_holder_pid(server: PostgresServer, database: str) -> int:
    """The pid in the holder id ("host:pid:suffix", app.build_runtime) of the company's poll lease."""
    conn = await asyncpg.connect(host=str(server.socket_dir), port=SOCKET_PORT, user="postgres", database=database)
    try:
        holder = await conn.fetchval("SELECT holder FROM leases WHERE name = $1", f"poll:{COMPANY}")
    finally:
        await conn.close()
    assert holder, "nobody holds the poll lease"
    return int(holder.split(":")[1])
