"""Batch sizes and query plans that keep the store fast: 10,000 snapshots, 1,000-record loads,
the notifier's per-row writes batched. What a commit costs in seconds: bench/store_commit.py."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import event

from store.sql import open_store
from store.types import AuditEntry, Delivery, PostedCard, Snapshot
from tests.store.builders import CHANNEL, T0, Backend, commit, count_statements, new_item


def snapshots(count: int, *, state: str = "Submitted") -> dict[str, list[Snapshot]]:
    """`count` bill snapshots shaped like the poller's."""
    return {"APBILL": [Snapshot(n, T0 - timedelta(seconds=n), {"state": state, "due": "2026-12-01",
                                                              "total": f"{n}.00", "paid": "0.00"})
                       for n in range(1, count + 1)]}


async def test_commit_cycle_uses_executemany_batches(backend: Backend):
    store = backend.open()
    executions: list[bool] = []
    event.listen(store.engine.sync_engine, "before_cursor_execute",
                 lambda conn, cursor, statement, params, context, many: executions.append(many))

    await commit(store, snapshots=snapshots(2_000), watermarks={"APBILL": T0, "APPYMT": T0},
                 outbox=[new_item(f"k{n}", record_no=n) for n in range(300)])

    # BEGIN, snapshots, watermarks, baseline, outbox: a handful of round trips, not thousands.
    assert len(executions) <= 12, len(executions)
    assert len(await store.load_all_snapshots("DEMO-CO", "APBILL")) == 2_000
    assert len(await store.outbox_items()) == 300


@pytest.mark.parametrize("query", ["claim", "audit"])
async def test_claim_and_audit_queries_use_their_indexes_on_sqlite(tmp_path: Path, clock, query):
    store = open_store(None, data_dir=tmp_path)
    seen: list[tuple[str, object]] = []
    try:
        await store.migrate()
        await commit(store, outbox=[new_item(f"k{n}", record_no=n) for n in range(50)])
        for n in range(50):
            await store.append_audit(AuditEntry(at=T0 + timedelta(seconds=n), action="post", outcome="ok"))
        event.listen(store.engine.sync_engine, "before_cursor_execute",
                     lambda conn, cursor, statement, params, context, many: seen.append((statement, params)))
        if query == "claim":
            await store.claim_outbox("a", now=clock(), limit=10, claim_seconds=30)
        else:
            await store.list_audit(since=T0 + timedelta(seconds=10), limit=5)
        statement, params = next((s, p) for s, p in seen if s.lstrip().upper().startswith("SELECT"))
        async with store.engine.connect() as conn:
            plan = " | ".join(str(row[-1]) for row in await conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", params))
    finally:
        await store.close()

    expected = "ix_outbox_status_not_before" if query == "claim" else "ix_audit_at"
    assert expected in plan, plan


async def test_a_batch_of_deliveries_is_a_handful_of_statements_whatever_its_size(backend: Backend, clock):
    store = backend.open()
    await commit(store, outbox=[new_item(f"k{n}", record_no=n) for n in range(40)])
    ids = [item.id for item in await store.claim_outbox("a", now=clock(), limit=40, claim_seconds=60)]
    statements = count_statements(store)

    assert await store.mark_sending_many(ids, "a", now=clock()) == set(ids)
    await store.record_deliveries([
        Delivery(item_id, clock(), f"act-{n}", PostedCard("DEMO-CO", "bill", n, CHANNEL, f"{CHANNEL};messageid={n}", str(n), T0),
                 AuditEntry(at=T0, action="post", outcome="ok", record_no=n))
        for n, item_id in enumerate(ids)
    ])  # fmt: skip

    # One UPDATE for the marks; one batched UPDATE, upsert and INSERT for the records (+ an id check
    # where the driver cannot count a batched UPDATE's rows): not one statement per row.
    assert len(statements) <= 5, statements
    assert [r.status for r in await store.outbox_items()] == ["delivered"] * 40
    assert len(await store.list_audit()) == 40
