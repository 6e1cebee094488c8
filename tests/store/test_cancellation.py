"""A store call cancelled half-way (a shutdown cancels whatever runs) rolls back cleanly and
leaves nothing behind: no task that never ends (asyncio.run's clean-up would wait for it forever,
and the process would not exit), no pooled connection left inside a transaction (a BEGIN still
queued on its thread when the call was cancelled: its next use failed, and it held SQLite's write
lock), no lost row, and the store keeps working. Both showed only under load, in a few of the
rounds: hence many rounds."""

from __future__ import annotations

import asyncio
from pathlib import Path

from store.sql import open_store
from store.types import AuditEntry
from tests.store.builders import T0

ROUNDS = 1500


async def test_writes_cancelled_at_every_point_leave_no_task_behind_and_lose_nothing_committed(tmp_path: Path):
    store = open_store(None, data_dir=tmp_path)
    await store.migrate()
    before = asyncio.all_tasks()
    committed = 0
    try:
        for round_no in range(ROUNDS):
            task = asyncio.create_task(store.append_audit(AuditEntry(at=T0, action="post", outcome="ok", record_no=round_no)))
            # Let the write get a little further each round: BEGIN, INSERT, COMMIT, the pool's
            # return — so some cancellations land inside the driver's round trips.
            for _ in range(round_no % 40):
                await asyncio.sleep(0)
            task.cancel()
            # A shutdown may cancel again while the first cancellation is still being handled
            # (asyncio.run's clean-up cancels every task left, however far it got).
            for _ in range(round_no % 7):
                await asyncio.sleep(0)
            task.cancel()
            try:
                await task
                committed += 1
            except asyncio.CancelledError:
                pass
        assert len(await store.list_audit()) == committed, "a cancelled write is all or nothing"
        await store.append_audit(AuditEntry(at=T0, action="post", outcome="ok", record_no=-1))
    finally:
        await store.close()
    # Whatever the driver started to tidy up a cancelled connection must end by itself.
    leftovers = asyncio.all_tasks() - before - {asyncio.current_task()}
    if leftovers:
        done, pending = await asyncio.wait(leftovers, timeout=10)
        assert not pending, f"tasks that never end: {pending}"
