"""The Store contract for the record-link index and the Intacct usage of people's reads, on SQLite
and PostgreSQL alike."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest

from store.api import StoreError
from store.sql import SqlStore
from store.types import IntacctUsage, RecordLink, Snapshot
from tests.store.builders import T0, commit, new_item


async def test_commit_cycle_stores_the_links_of_the_records_read_with_them(store: SqlStore):
    links = [RecordLink("DEMO-CO", "r:tok-1", "APBILL", 1), RecordLink("DEMO-CO", "vendor:V100", "VENDOR", 7)]

    await commit(store, snapshots={"APBILL": [Snapshot(1, T0, {"state": "Submitted"})]}, watermarks={"APBILL": T0}, links=links)

    assert await store.find_record_links(["r:tok-1", "vendor:V100", "r:unknown"]) == sorted(links, key=lambda link: link.key)


async def test_a_key_that_now_names_another_record_moves_to_it(store: SqlStore):
    await commit(store, links=[RecordLink("DEMO-CO", "apbill:B-1", "APBILL", 1)])

    # A bill recreated by Purchasing gets a new RECORDNO under the same bill number.
    await commit(store, links=[RecordLink("DEMO-CO", "apbill:B-1", "APBILL", 2), RecordLink("DEMO-CO", "apbill:B-1", "APBILL", 3)])

    assert await store.find_record_links(["apbill:B-1"]) == [RecordLink("DEMO-CO", "apbill:B-1", "APBILL", 3)]


async def test_one_key_known_in_two_companies_comes_back_for_both(store: SqlStore):
    await commit(store, company="US", links=[RecordLink("US", "vendor:V1", "VENDOR", 1)])
    await commit(store, company="UK", links=[RecordLink("UK", "vendor:V1", "VENDOR", 9)])

    found = await store.find_record_links(["vendor:V1"])

    assert found == [RecordLink("UK", "vendor:V1", "VENDOR", 9), RecordLink("US", "vendor:V1", "VENDOR", 1)]


async def test_links_roll_back_with_the_cycle(store: SqlStore):
    bad = new_item("k2", payload={"type": "BillCreated", "data": object()})  # not JSON-serialisable

    with pytest.raises(StoreError):
        await commit(store, links=[RecordLink("DEMO-CO", "r:tok", "APBILL", 1)], outbox=[bad])

    assert await store.find_record_links(["r:tok"]) == []


async def test_many_keys_are_found_across_in_chunks(store: SqlStore):
    links = [RecordLink("DEMO-CO", f"r:{n}", "APBILL", n) for n in range(2500)]
    await commit(store, links=links)

    assert len(await store.find_record_links([link.key for link in links])) == 2500


async def test_usage_adds_up_per_company_day_and_source(store: SqlStore):
    day, later = date(2026, 12, 1), date(2026, 12, 2)
    await store.add_intacct_usage("DEMO-CO", day=day, source="search", requests=1, functions=1)
    await store.add_intacct_usage("DEMO-CO", day=day, source="search", requests=2, functions=3)
    await store.add_intacct_usage("DEMO-CO", day=later, source="refresh", requests=1, functions=2)
    await store.add_intacct_usage("OTHER", day=later, source="link", requests=1, functions=1)

    assert await store.intacct_usage(since=day) == [
        IntacctUsage("DEMO-CO", day, "search", 3, 4),
        IntacctUsage("DEMO-CO", later, "refresh", 1, 2),
        IntacctUsage("OTHER", later, "link", 1, 1),
    ]
    assert [u.day for u in await store.intacct_usage(since=later)] == [later, later]


async def test_usage_counted_at_once_by_many_instances_loses_nothing(store: SqlStore):
    day = date(2026, 12, 1)

    await asyncio.gather(*(store.add_intacct_usage("DEMO-CO", day=day, source="refresh", requests=1, functions=2) for _ in range(20)))

    assert await store.intacct_usage(since=day) == [IntacctUsage("DEMO-CO", day, "refresh", 20, 40)]


async def test_negative_usage_is_a_programming_error(store: SqlStore):
    with pytest.raises(ValueError):
        await store.add_intacct_usage("DEMO-CO", day=date(2026, 12, 1), source="search", requests=-1, functions=0)
