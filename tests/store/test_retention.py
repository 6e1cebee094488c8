"""The nightly outbox clean-up on a real store: it removes what the retention allows, says so in
one line, and a store that is down costs one ERROR line, not the scheduler's job."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

import pytest

from store.retention import prune_finished_outbox
from store.sql import open_store
from tests.fakes.clock import FakeClock
from tests.store.builders import T0, commit, new_item


async def test_rows_finished_longer_ago_than_the_retention_are_removed_and_counted(tmp_path: Path, clock: FakeClock, caplog):
    store = open_store(None, data_dir=tmp_path)
    await store.migrate()
    try:
        await commit(store, outbox=[new_item(f"k{n}", record_no=n) for n in range(3)])
        items = await store.claim_outbox("a", now=clock(), limit=3, claim_seconds=60)
        for item in items:
            await store.mark_delivered(item.id, now=T0, activity_id=f"act-{item.id}")
        clock.set(T0 + timedelta(days=29))
        caplog.set_level(logging.INFO, logger="mlc.store")

        assert await prune_finished_outbox(store, clock, retention_days=30) == 0
        assert len(await store.outbox_items()) == 3 and caplog.records == [], "nothing to say"
        clock.set(T0 + timedelta(days=30, seconds=1))
        assert await prune_finished_outbox(store, clock, retention_days=30) == 3
        assert await store.outbox_items() == []
        [line] = caplog.records
        assert "removed 3" in line.getMessage() and "30 days" in line.getMessage()
    finally:
        await store.close()


@pytest.mark.postgres
async def test_a_store_that_is_down_is_logged_once_and_the_job_ends_normally(tmp_path: Path, clock: FakeClock, caplog):
    store = open_store(f"postgresql://mlc@/mlc?host={tmp_path}&port=5432", data_dir=tmp_path)  # nothing listens there
    try:
        assert await prune_finished_outbox(store, clock, retention_days=30) == 0
    finally:
        await store.close()
    [line] = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert "tried again tomorrow" in line.getMessage()
