"""LiveReads: people's reads of Intacct shared while fresh, paced per company, counted once in the
store's usage (sandbox over HTTP, real SQLite)."""

from __future__ import annotations

import asyncio

import pytest

from bot.live_reads import LiveReads, LiveReadsBusyError
from observability.metrics import Metrics
from store.sql import open_store
from tests.fakes.sandbox import running_sandbox
from tests.poller.test_coordinator import store  # noqa: F401 - the migrated SQLite store fixture


@pytest.fixture
async def client(clock):
    async with running_sandbox(clock, "demo") as sandbox:
        client = sandbox.client(clock)
        await client.check_schema()
        await client.time_zone()  # the definitions and the user's zone are read once, before the tests count
        yield client


def reads(store, clock, **options) -> LiveReads:
    return LiveReads(store, clock, Metrics(), **options)


async def usage(store, clock) -> dict[str, int]:
    return {u.source: u.functions for u in await store.intacct_usage(since=clock().date())}


async def test_a_read_is_counted_in_the_companys_usage_by_source(store, clock, client):
    live = reads(store, clock)

    page = await live.read("DEMO-CO", client, "search", ("search", "a"), lambda: client.search_bills("a"))

    assert page.bills and await usage(store, clock) == {"search": 1}


async def test_the_same_read_while_fresh_is_shared_and_costs_nothing_more(store, clock, client):
    live = reads(store, clock)
    read = lambda: client.search_bills("a")  # noqa: E731

    first = await live.read("DEMO-CO", client, "search", "k", read)
    clock.advance(14)
    again = await live.read("DEMO-CO", client, "search", "k", read)
    clock.advance(2)
    later = await live.read("DEMO-CO", client, "search", "k", read)

    assert again is first and later is not first
    assert await usage(store, clock) == {"search": 2}


async def test_reads_asked_while_one_runs_wait_for_it(store, clock, client):
    live = reads(store, clock)
    started = 0

    async def read():
        nonlocal started
        started += 1
        return await client.search_bills("a")

    pages = await asyncio.gather(*(live.read("DEMO-CO", client, "refresh", "k", read) for _ in range(20)))

    assert started == 1 and all(page is pages[0] for page in pages)


async def test_a_companys_budget_is_a_quarter_minute_at_once_then_its_rate(store, clock, client):
    live = reads(store, clock, per_minute=8)  # 2 at once, then one every 7.5 s

    for key in ("a", "b"):
        await live.read("DEMO-CO", client, "link", key, lambda: client.read_vendor(1))
    with pytest.raises(LiveReadsBusyError) as busy:
        await live.read("DEMO-CO", client, "link", "c", lambda: client.read_vendor(1))
    await live.read("OTHER-CO", client, "link", "c", lambda: client.read_vendor(1))  # another company's budget
    clock.advance(7.5)
    await live.read("DEMO-CO", client, "link", "c", lambda: client.read_vendor(1))

    assert busy.value.retry_after == pytest.approx(7.5)


async def test_a_failed_read_is_counted_shared_with_those_waiting_and_never_kept(store, clock, client):
    live = reads(store, clock)
    calls = 0

    async def failing():
        nonlocal calls
        calls += 1
        await client.read_vendor(1)
        raise RuntimeError("boom")

    results = await asyncio.gather(*(live.read("DEMO-CO", client, "refresh", "k", failing) for _ in range(3)), return_exceptions=True)
    again = await live.read("DEMO-CO", client, "refresh", "k", lambda: client.search_bills("a"))

    assert all(isinstance(r, RuntimeError) for r in results) and calls == 1 and again.bills
    assert await usage(store, clock) == {"refresh": 2}


async def test_a_block_counted_around_reads_counts_them_once(store, clock, client):
    live = reads(store, clock)

    async with live.counted("DEMO-CO", client, "command"):
        await client.search_bills("a")
        await live.read("DEMO-CO", client, "search", "k", lambda: client.search_bills("b"))

    assert await usage(store, clock) == {"command": 2}


async def test_a_store_that_cannot_count_loses_the_count_not_the_answer(tmp_path, clock, client, caplog):
    broken = open_store(None, data_dir=tmp_path)  # never migrated: no intacct_usage table
    live = reads(broken, clock)
    try:
        page = await live.read("DEMO-CO", client, "search", "k", lambda: client.search_bills("a"))
    finally:
        await broken.close()

    assert page.bills and "could not count" in caplog.text


def test_unknown_sources_and_budgets_are_programming_errors(store, clock):
    with pytest.raises(ValueError):
        reads(store, clock, per_minute=0)


async def test_answers_no_longer_fresh_are_not_kept(store, clock, client):
    live = reads(store, clock)
    for n in range(5):
        await live.read("DEMO-CO", client, "search", ("search", n), lambda: client.search_bills("a"))
        clock.advance(5)

    assert live.shared_answers == 3  # those of the last 15 s
