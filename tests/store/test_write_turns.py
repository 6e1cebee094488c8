"""SQLite write transactions of one store take turns (urgent "sending" marks first) instead of
meeting in SQLite's busy handler; the turn queue itself survives cancellation."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import event

from store.sql import SqlStore, WriteTurns, open_store
from store.types import AuditEntry
from tests.fakes.clock import FakeClock
from tests.store.builders import T0, commit, new_item


def trace_sqlite(store: SqlStore) -> list[tuple[int, str]]:
    """(connection, statement) for every statement SQLite runs from now on, in the order run."""
    executed: list[tuple[int, str]] = []

    def on_connect(dbapi, _record) -> None:  # noqa: ANN001
        connection = id(dbapi)
        dbapi.run_async(lambda driver: driver.set_trace_callback(lambda sql: executed.append((connection, sql))))

    event.listen(store.engine.sync_engine, "connect", on_connect)
    return executed


async def test_concurrent_writers_on_one_sqlite_store_never_overlap(tmp_path: Path, clock: FakeClock):
    store = open_store(None, data_dir=tmp_path)
    executed = trace_sqlite(store)  # before any connection opens, so every one is traced
    try:
        await store.migrate()
        await commit(store, outbox=[new_item(f"k{n}", record_no=n) for n in range(20)])
        items = await store.claim_outbox("a", now=clock(), limit=20, claim_seconds=60)
        executed.clear()

        await asyncio.gather(
            *(store.mark_sending(item.id, "a", now=clock()) for item in items[:10]),
            *(store.append_audit(AuditEntry(at=T0, action="post", outcome="ok", record_no=n)) for n in range(10)),
            *(store.mark_retry(item.id, not_before=clock(), error="503") for item in items[10:]),
            store.outbox_depth(),
        )
    finally:
        await store.close()

    writer = None  # the connection inside BEGIN IMMEDIATE … COMMIT, if any
    writes = 0
    for connection, sql in executed:
        if sql.startswith("BEGIN IMMEDIATE"):
            assert writer is None, "a second write transaction began before the first committed"
            writer, writes = connection, writes + 1
        elif sql.startswith(("COMMIT", "ROLLBACK")) and connection == writer:
            writer = None
    assert writes == 30 and writer is None
    connections = {connection for connection, sql in executed if sql.startswith("BEGIN")}
    assert len(connections) > 1, "the reads and writes really ran side by side on several connections"


async def test_turns_go_one_at_a_time_urgent_first_and_survive_cancellation():
    turns = WriteTurns()
    order: list[str] = []
    holder = turns.turn(urgent=False)
    await holder.__aenter__()  # a delivery record holds the turn

    async def write(name: str, urgent: bool) -> None:
        async with turns.turn(urgent=urgent):
            order.append(name)
            await asyncio.sleep(0)  # hold the turn across a switch: nobody else may enter

    waiting = [asyncio.create_task(write(name, urgent)) for name, urgent in
               [("record-1", False), ("sending-1", True), ("claim", False), ("sending-2", True)]]
    cancelled = asyncio.create_task(write("never", True))
    await asyncio.sleep(0)
    cancelled.cancel()
    await asyncio.sleep(0)
    await holder.__aexit__(None, None, None)
    await asyncio.wait_for(asyncio.gather(*waiting), 5)

    assert order == ["sending-1", "sending-2", "record-1", "claim"]
    async with asyncio.timeout(5), turns.turn(urgent=False):  # free again: no turn was lost
        pass


async def test_a_turn_granted_together_with_a_cancellation_is_passed_on():
    turns = WriteTurns()
    first = turns.turn(urgent=False)
    await first.__aenter__()
    unlucky = asyncio.create_task(turns.turn(urgent=True).__aenter__())
    after: list[str] = []

    async def next_writer() -> None:
        async with turns.turn(urgent=False):
            after.append("next")

    follower = asyncio.create_task(next_writer())
    await asyncio.sleep(0)
    await first.__aexit__(None, None, None)  # hands the turn to `unlucky`…
    unlucky.cancel()  # …which is cancelled before it runs
    await asyncio.wait_for(follower, 5)

    assert after == ["next"] and unlucky.cancelled()
