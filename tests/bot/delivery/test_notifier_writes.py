"""The notifier's per-row commits merged across lanes (bot/delivery/store_writes.py), on a real SQLite
store: concurrent requests share one transaction, and a refused batch is retried row by row so
that one bad row fails only its own request."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import event

from bot.delivery.store_writes import Coalescer, StoreWrites
from store.api import StoreError
from store.sql import SqlStore, open_store
from store.types import AuditEntry, Delivery
from tests.fakes.clock import FakeClock
from tests.store.builders import OTHER_CHANNEL, T0, commit, new_item


@pytest.fixture
async def store(tmp_path) -> SqlStore:
    opened = open_store(None, data_dir=tmp_path)
    await opened.migrate()
    yield opened
    await opened.close()


def updates_of(store: SqlStore) -> list[str]:
    """Every UPDATE statement the store sends from now on."""
    seen: list[str] = []

    def record(conn, cursor, statement, *rest) -> None:  # noqa: ANN001
        if statement.lstrip().startswith("UPDATE"):
            seen.append(statement)

    event.listen(store.engine.sync_engine, "before_cursor_execute", record)
    return seen


async def claimed(store: SqlStore, clock: FakeClock, count: int) -> list[int]:
    await commit(store, outbox=[new_item(f"k{n}", record_no=n) for n in range(count)])
    return [item.id for item in await store.claim_outbox("a", now=clock(), limit=count, claim_seconds=60)]


async def test_concurrent_sending_marks_share_one_transaction(store: SqlStore, clock: FakeClock):
    ids = await claimed(store, clock, 8)
    writes = StoreWrites(store, "a", clock)
    updates = updates_of(store)

    marked = await asyncio.gather(*(writes.mark_sending(item_id) for item_id in ids))

    assert marked == [True] * 8
    assert len(updates) == 1, "eight lanes, one UPDATE"
    assert [(r.status, r.attempts) for r in await store.outbox_items()] == [("sending", 1)] * 8


async def test_a_lost_claim_is_false_for_its_row_only(store: SqlStore, clock: FakeClock):
    mine = await claimed(store, clock, 2)
    await commit(store, outbox=[new_item("other", record_no=99, conversation=OTHER_CHANNEL)])  # b can have that channel
    [theirs] = [i.id for i in await store.claim_outbox("b", now=clock(), limit=5, claim_seconds=60)]
    writes = StoreWrites(store, "a", clock)

    assert await asyncio.gather(*(writes.mark_sending(i) for i in [*mine, theirs])) == [True, True, False]


async def test_a_refused_batch_is_retried_row_by_row(store: SqlStore, clock: FakeClock):
    ids = await claimed(store, clock, 3)
    writes = StoreWrites(store, "a", clock)
    lines = [AuditEntry(at=T0, action="post", outcome="ok", record_no=n) for n in range(4)]
    deliveries = [Delivery(item_id, clock(), f"act-{n}", None, lines[n]) for n, item_id in enumerate(ids)]
    unknown = Delivery(999, clock(), "act-9", None, lines[3])

    results = await asyncio.gather(*(writes.record_delivery(d) for d in [*deliveries, unknown]), return_exceptions=True)

    assert results[:3] == [None, None, None]
    assert isinstance(results[3], StoreError) and "999" in str(results[3])
    assert [r.status for r in await store.outbox_items()] == ["delivered"] * 3
    assert sorted(e.record_no for e in await store.list_audit()) == [0, 1, 2]


async def test_requests_arriving_during_a_flush_go_together_in_the_next():
    batches: list[list[int]] = []
    first_flush_may_end = asyncio.Event()

    async def flush(requests: list[int]) -> list[int]:
        batches.append(requests)
        return [r * 10 for r in requests]

    async def single(request: int) -> int:
        batches.append([request])
        await first_flush_may_end.wait()
        return request * 10

    merged = Coalescer(flush, single)
    first = asyncio.create_task(merged.submit(1))
    await asyncio.sleep(0)
    await asyncio.sleep(0)  # the lone request is being written
    later = [asyncio.create_task(merged.submit(r)) for r in (2, 3, 4)]
    await asyncio.sleep(0)
    first_flush_may_end.set()

    assert await asyncio.gather(first, *later) == [10, 20, 30, 40]
    assert batches == [[1], [2, 3, 4]]


async def test_a_bug_in_a_flush_reaches_every_waiter_of_that_batch_only():
    async def flush(requests: list[int]) -> list[int]:
        if 13 in requests:
            raise RuntimeError("a bug")
        return [r * 10 for r in requests]

    async def single(request: int) -> int:
        return request * 10

    merged = Coalescer(flush, single)
    results = await asyncio.gather(merged.submit(4), merged.submit(13), return_exceptions=True)

    assert all(isinstance(r, RuntimeError) for r in results)
    assert await asyncio.gather(merged.submit(5), merged.submit(6)) == [50, 60], "the next batch is fine"
