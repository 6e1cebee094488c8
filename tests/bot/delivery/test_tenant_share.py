"""Teams' per-tenant budget (50 requests/s per app per tenant) held by several instances together:
each renews its lease in the real store, counts the others, paces at its share; a joining one
waits until the others have counted it. Checked against the fake Bot Connector, which enforces
Teams' published limits and answers 429 past them."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.teams.connector import TeamsConnector, close_adapter, create_adapter
from bot.pacing import ConversationPacer, RateWindow
from bot.delivery.tenant_share import LEASE_PREFIX, TenantBudgetShare, heartbeat_for, shared_limits
from store.sql import open_store
from tests.fakes.bot_connector import FakeBotConnector
from tests.fakes.clock import FakeClock

TENANT = "7f3c1a52-3d2e-4b8a-9d61-0c8e2f4a9b10"
TEAM = "19:finance-team@thread.tacv2"
HEARTBEAT = 1.0


def test_each_instance_paces_an_equal_share_of_every_tenant_window():
    assert shared_limits(1) == (RateWindow(1, 50),)
    assert shared_limits(3) == (RateWindow(1, 16),)
    assert shared_limits(80) == (RateWindow(1, 1),)  # never nothing at all
    assert heartbeat_for(120) == 2 and heartbeat_for(3) == 0.75 and heartbeat_for(1) == 0.5


async def test_three_instances_never_exceed_the_tenant_budget_together(clock: FakeClock, tmp_path: Path):
    store = open_store(None, data_dir=tmp_path)
    await store.migrate()
    adapter = create_adapter("", "")
    teams = TeamsConnector(adapter, clock=clock)
    start = clock()
    # Instance a alone at first, b joins at 0.4 s, c at 5.3 s, while each has cards for 40 channels.
    joins = {"a": 0.0, "b": 0.4, "c": 5.3}
    async with FakeBotConnector(clock=clock, tenant_id=TENANT, enforce_rate_limits=True) as fake:
        channels = {name: [f"19:{name}-{n:02d}@thread.tacv2" for n in range(40)] for name in joins}
        fake.add_team(TEAM, channels={c: c for names in channels.values() for c in names}, tenant_id=TENANT)
        pacers = {name: ConversationPacer(clock, clock.sleep) for name in joins}
        shares = {name: TenantBudgetShare(store, pacers[name], holder=name, clock=clock, sleep=clock.sleep,
                                          heartbeat_seconds=HEARTBEAT) for name in joins}
        joined: set[str] = set()
        next_refresh = {name: start + timedelta(seconds=at) for name, at in joins.items()}
        turn = {name: 0 for name in joins}
        sent: list[tuple[float, str]] = []
        try:
            while clock() < start + timedelta(seconds=12):
                now = clock()
                # The earliest thing any instance does next: a renewal (or its join), or a write.
                events = [(at, 0, name) for name, at in next_refresh.items()]
                for name in joined:
                    channel = channels[name][turn[name] % 40]
                    events.append((now + timedelta(seconds=pacers[name].delay_for(channel, tenant_id=TENANT)), 1, name))
                at, kind, name = min(events)
                clock.set(max(at, now))
                if kind == 0:
                    await (shares[name].refresh() if name in joined else shares[name].join())
                    joined.add(name)
                    next_refresh[name] = clock() + timedelta(seconds=HEARTBEAT)
                    continue
                channel = channels[name][turn[name] % 40]
                turn[name] += 1
                write = await pacers[name].reserve(channel, tenant_id=TENANT)
                try:
                    await teams.send({"serviceUrl": fake.service_url, "channelId": "msteams",
                                      "conversation": {"id": channel, "tenantId": TENANT}}, text="card")
                finally:
                    pacers[name].sent(write)
                sent.append(((clock() - start).total_seconds(), name))
        finally:
            await close_adapter(adapter)
            instances = await store.count_leases(LEASE_PREFIX, now=clock())
            await store.close()

    throttled = [c for c in fake.calls if c.status == 429]
    busiest = max(sum(1 for t, _ in sent if s - 1 < t <= s) for s, _ in sent)
    steady = [t for t, _ in sent if 8 < t <= 12]
    assert throttled == []
    assert busiest <= 50  # Teams' window is (t - 1 s, t]
    assert instances == 3 and {name for _, name in sent} == {"a", "b", "c"}
    assert len(steady) >= 4 * 40  # together they still use most of it (3 x 16 = 48 a second at most)
    assert not [t for t, name in sent if name == "c" and t < 5.3 + 2 * HEARTBEAT]  # c waited to be counted


async def test_a_clean_stop_gives_the_share_back_and_a_dead_instance_times_out(clock: FakeClock, tmp_path: Path):
    store = open_store(None, data_dir=tmp_path)
    await store.migrate()
    pacers = [ConversationPacer(clock, clock.sleep) for _ in range(3)]
    shares = [TenantBudgetShare(store, pacer, holder=f"i{n}", clock=clock, sleep=clock.sleep, heartbeat_seconds=HEARTBEAT)
              for n, pacer in enumerate(pacers)]
    try:
        for share in shares:
            await share.join()
        await shares[0].refresh()
        three = pacers[0].tenant_limits
        await shares[1].leave()  # stopped cleanly
        await shares[0].refresh()
        two = pacers[0].tenant_limits
        clock.advance(3 * HEARTBEAT)  # i2 died without a word: its lease runs out
        await shares[0].refresh()
        one = pacers[0].tenant_limits
    finally:
        await store.close()

    assert (three, two, one) == ((RateWindow(1, 16),), (RateWindow(1, 25),), (RateWindow(1, 50),))
