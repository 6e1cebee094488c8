"""The Store contract: every method and its semantics, on SQLite and on PostgreSQL alike."""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import shutil
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect as sa_inspect, make_url, text

from store.api import Store, StoreError
from store.migrate import VERSION_TABLE, current_revision, head_revision
from store.schema import metadata
from store.sql import SqlStore
from store.types import (
    AuditEntry,
    ConversationRecord,
    Delivery,
    GraphSubscription,
    KeyRingReport,
    OutboxItem,
    PollState,
    PostedCard,
    RouteFilter,
    Snapshot,
    WakeUpState,
)
from tests.fakes.clock import FakeClock
from tests.store.builders import CHANNEL, OTHER_CHANNEL, PLUS_FIVE, T0, Backend, commit, count_statements, new_item


# --- the implementation matches the protocol -------------------------------------------------
def test_sql_store_implements_every_store_method_with_the_same_signature():
    for name, member in inspect.getmembers(Store, inspect.isfunction):
        if name.startswith("_"):
            continue
        implementation = getattr(SqlStore, name, None)
        assert implementation is not None, f"SqlStore lacks {name}"
        assert inspect.iscoroutinefunction(implementation), name
        assert inspect.signature(implementation) == inspect.signature(member), name


# --- migrations --------------------------------------------------------------------------------
async def test_migrate_creates_every_table_on_an_empty_database(empty_backend: Backend):
    store = empty_backend.open()

    async with store.engine.connect() as conn:
        before = await conn.run_sync(lambda c: set(sa_inspect(c).get_table_names()))
    await store.migrate()
    async with store.engine.connect() as conn:
        after = await conn.run_sync(lambda c: set(sa_inspect(c).get_table_names()))
        revision = await conn.run_sync(current_revision)

    assert before == set()
    assert after == set(metadata.tables) | {VERSION_TABLE}
    assert revision == head_revision()


async def test_second_migrate_is_a_no_op(empty_backend: Backend):
    store = empty_backend.open()
    await store.migrate()
    entry_id = await store.append_audit(AuditEntry(at=T0, action="post", outcome="ok"))
    statements = count_statements(store)

    await store.migrate()

    changes = [s for s in statements if s.lstrip().split()[0].upper() in {"CREATE", "ALTER", "DROP", "INSERT", "UPDATE", "DELETE"}]
    assert changes == []
    assert [e.id for e in await store.list_audit()] == [entry_id]


async def test_alembic_head_matches_the_metadata(backend: Backend):
    store = backend.open()

    def diff(conn):  # noqa: ANN001
        context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE, "compare_type": True})
        return compare_metadata(context, metadata)

    async with store.engine.connect() as conn:
        assert await conn.run_sync(diff) == []
        assert await conn.run_sync(current_revision) == head_revision()


async def test_instances_migrating_an_empty_database_at_once_all_succeed(empty_backend: Backend):
    stores = [empty_backend.open() for _ in range(3)]

    await asyncio.gather(*(store.migrate() for store in stores))

    async with stores[0].engine.connect() as conn:
        assert await conn.run_sync(current_revision) == head_revision()
    await stores[1].append_audit(AuditEntry(at=T0, action="post", outcome="ok"))


async def test_a_database_from_a_newer_release_is_refused(backend: Backend):
    store = backend.open()
    async with store.engine.begin() as conn:
        await conn.execute(text(f"UPDATE {VERSION_TABLE} SET version_num = 'from_the_future'"))

    with pytest.raises(StoreError, match="migrate failed"):
        await store.migrate()


async def test_ping_asks_the_database_itself_and_fails_once_it_is_gone(backend: Backend, store: SqlStore, request):
    assert await store.ping() is None

    if backend.url is None:  # SQLite: the file goes, and nothing may quietly create a new one
        await store.close()
        shutil.rmtree(backend.data_dir)
    else:  # PostgreSQL: the database is dropped under the open pool
        await request.getfixturevalue("postgres_server").drop_database(make_url(backend.url).database)

    with pytest.raises(StoreError, match="ping failed"):
        await store.ping()


# --- poller state ------------------------------------------------------------------------------
async def test_commit_cycle_upserts_snapshots(store: SqlStore):
    first = Snapshot(11, T0, {"state": "Submitted", "due": "2026-12-01"})
    await commit(store, snapshots={"APBILL": [first, Snapshot(12, None, {})], "VENDOR": [Snapshot(11, T0, {"status": "active"})]})
    changed = Snapshot(11, T0 + timedelta(minutes=3), {"state": "Posted", "due": "2026-12-01"})
    await commit(store, snapshots={"APBILL": [changed]})

    bills = await store.load_snapshots("DEMO-CO", "APBILL", [11, 12, 13])

    assert bills == {11: changed, 12: Snapshot(12, None, {})}
    assert await store.load_all_snapshots("DEMO-CO", "VENDOR") == {11: Snapshot(11, T0, {"status": "active"})}
    assert await store.load_all_snapshots("OTHER-CO", "APBILL") == {}


async def test_snapshot_times_come_back_aware_in_utc(store: SqlStore):
    local = datetime(2026, 11, 23, 19, 30, 15, 123456, tzinfo=PLUS_FIVE)
    await commit(store, snapshots={"APBILL": [Snapshot(1, local, {})]}, watermarks={"APBILL": local})

    snapshot = (await store.load_snapshots("DEMO-CO", "APBILL", [1]))[1]
    mark = (await store.get_watermarks("DEMO-CO"))["APBILL"]

    for value in (snapshot.when_modified, mark):
        assert value == local and value.tzinfo == timezone.utc and value.hour == 14


async def test_watermarks_never_move_backwards(store: SqlStore):
    await commit(store, watermarks={"APBILL": T0, "APPYMT": T0})
    await commit(store, watermarks={"APBILL": T0 - timedelta(hours=1), "APPYMT": T0 + timedelta(seconds=1)})
    await commit(store, watermarks={"VENDOR": T0 - timedelta(days=2)})

    assert await store.get_watermarks("DEMO-CO") == {
        "APBILL": T0,
        "APPYMT": T0 + timedelta(seconds=1),
        "VENDOR": T0 - timedelta(days=2),
    }
    assert await store.get_watermarks("OTHER-CO") == {}


async def test_has_baseline_after_the_first_commit_even_without_snapshots(store: SqlStore):
    assert not await store.has_baseline("DEMO-CO")

    await commit(store)

    assert await store.has_baseline("DEMO-CO")
    assert not await store.has_baseline("OTHER-CO")


async def test_outbox_insert_skips_pairs_that_exist_and_counts_the_rest(store: SqlStore):
    first = [new_item("k1"), new_item("k1", conversation=OTHER_CHANNEL), new_item("k2")]
    assert await commit(store, outbox=first) == 3

    # A re-planned cycle (crash before the watermark moved, overlapping read) repeats k1 and k2.
    again = [new_item("k1"), new_item("k2"), new_item("k3"), new_item("k3")]
    assert await commit(store, outbox=again) == 1

    rows = await store.outbox_items()
    assert [(r.event_key, r.conversation_id) for r in rows] == [
        ("k1", CHANNEL), ("k1", OTHER_CHANNEL), ("k2", CHANNEL), ("k3", CHANNEL)
    ]


async def test_enqueue_outbox_dedupes_like_a_cycle_but_fakes_no_baseline(store: SqlStore):
    alert = new_item("alert|DEMO-CO|polling_failed|2026-11-23T14:00", conversation=OTHER_CHANNEL)

    assert await store.enqueue_outbox([alert, new_item("k1")]) == 2
    assert await store.enqueue_outbox([alert]) == 0
    assert await store.enqueue_outbox([]) == 0
    assert await commit(store, outbox=[new_item("k1"), new_item("k2")]) == 1

    assert not await store.has_baseline("OTHER-CO")
    assert [i.event_key for i in await store.outbox_items()] == [alert.event_key, "k1", "k2"]
    assert await store.get_watermarks("DEMO-CO") == {}


async def test_an_alert_queued_before_the_first_poll_leaves_it_a_baseline(store: SqlStore):
    await store.enqueue_outbox([new_item("alert|DEMO-CO|credentials_rejected")])

    assert not await store.has_baseline("DEMO-CO")


async def test_outbox_rows_keep_what_the_poller_wrote(store: SqlStore):
    modified = T0 - timedelta(minutes=4)
    payload = {"type": "BillCreated", "data": {"amount": "10.50", "vendor": "Ünïcode & Co", "lines": [1, 2]}}
    await commit(store, outbox=[new_item("k1", record_no=42, payload=payload, source_modified_at=modified)])

    [row] = await store.outbox_items()

    assert (row.company, row.event_key, row.event_kind, row.record_kind, row.record_no) == (
        "DEMO-CO", "k1", "bills", "bill", 42
    )
    assert (row.conversation_id, row.route_id, row.payload) == (CHANNEL, 7, payload)
    assert (row.created_at, row.source_modified_at, row.not_before) == (T0, modified, T0)
    assert (row.status, row.attempts, row.last_error) == ("pending", 0, None)


async def test_a_failure_inside_commit_cycle_rolls_back_everything(store: SqlStore):
    bad = new_item("k2", payload={"type": "BillCreated", "data": object()})  # not JSON-serialisable

    with pytest.raises(StoreError, match="commit_cycle"):
        await commit(
            store,
            snapshots={"APBILL": [Snapshot(1, T0, {"state": "Submitted"})]},
            watermarks={"APBILL": T0},
            outbox=[new_item("k1"), bad],
        )

    assert await store.load_all_snapshots("DEMO-CO", "APBILL") == {}
    assert await store.get_watermarks("DEMO-CO") == {}
    assert not await store.has_baseline("DEMO-CO")
    assert await store.outbox_items() == []


async def test_errors_show_neither_bound_values_nor_the_password(backend: Backend):
    store = backend.open()
    secret_payload = {"type": "BillCreated", "data": {"note": "hunter2-in-a-payload", "bad": object()}}

    with pytest.raises(StoreError) as caught:
        await commit(store, outbox=[new_item("k1", payload=secret_payload)])

    chain = [caught.value, caught.value.__cause__, caught.value.__cause__.__context__]
    assert not any("hunter2" in str(error) for error in chain if error is not None)
    assert "hunter2" not in repr(store)


async def test_load_snapshots_reads_a_batch_of_1000_in_one_query(store: SqlStore):
    await commit(store, snapshots={"APBILL": [Snapshot(n, T0, {"state": "Submitted"}) for n in range(1, 2501)]})
    statements = count_statements(store)

    batch = await store.load_snapshots("DEMO-CO", "APBILL", range(1, 1001))
    selects_for_one_batch = sum(s.lstrip().upper().startswith("SELECT") for s in statements)
    everything = await store.load_snapshots("DEMO-CO", "APBILL", range(0, 2600))

    assert sorted(batch) == list(range(1, 1001))
    assert selects_for_one_batch == 1
    assert sorted(everything) == list(range(1, 2501))


@pytest.mark.parametrize(
    "call",
    [
        lambda s, naive: commit(s, now=naive),
        lambda s, naive: commit(s, watermarks={"APBILL": naive}),
        lambda s, naive: commit(s, snapshots={"APBILL": [Snapshot(1, naive, {})]}),
        lambda s, naive: commit(s, outbox=[new_item("k", at=naive)]),
        lambda s, naive: s.try_lease("poller:DEMO-CO", "a", now=naive, ttl_seconds=5),
        lambda s, naive: s.claim_outbox("a", now=naive, limit=5, claim_seconds=5),
        lambda s, naive: s.append_audit(AuditEntry(at=naive, action="post", outcome="ok")),
        lambda s, naive: s.list_audit(since=naive),
        lambda s, naive: s.save_secret("x", b"c", now=naive),
        lambda s, naive: s.save_reference("DEMO-CO", "DEPARTMENT", {}, naive),
    ],
    ids=["now", "watermark", "snapshot", "outbox", "lease", "claim", "audit", "audit-since", "secret", "reference"],
)
async def test_naive_datetimes_are_refused_with_value_error(store: SqlStore, call):
    with pytest.raises(ValueError, match="timezone-aware"):
        await call(store, datetime(2026, 11, 23, 14, 0))


# --- reference data and poll status ------------------------------------------------------------
async def test_reference_maps_are_replaced_and_dated(store: SqlStore):
    assert await store.load_reference("DEMO-CO", "DEPARTMENT") == {}
    assert await store.reference_loaded_at("DEMO-CO", "DEPARTMENT") is None

    await store.save_reference("DEMO-CO", "DEPARTMENT", {"D100": "Finance", "D200": "Sales"}, T0)
    later = T0 + timedelta(hours=6)
    await store.save_reference("DEMO-CO", "DEPARTMENT", {"D100": "Finance & Admin"}, later)
    await store.save_reference("DEMO-CO", "LOCATION", {"L1": "Paris"}, T0)

    assert await store.load_reference("DEMO-CO", "DEPARTMENT") == {"D100": "Finance & Admin"}
    assert await store.reference_loaded_at("DEMO-CO", "DEPARTMENT") == later
    assert await store.load_reference("DEMO-CO", "LOCATION") == {"L1": "Paris"}


async def test_poll_states_are_upserted_per_company(store: SqlStore):
    failing = PollState("DEMO-CO", last_attempt_at=T0, last_error="XL03000006 Sign-in failed", last_error_at=T0,
                        consecutive_failures=3, functions_last_cycle=4, events_last_cycle=0)
    await store.record_poll(failing)
    await store.record_poll(PollState("B-CO", last_attempt_at=T0, last_success_at=T0, functions_last_cycle=3))
    recovered = PollState("DEMO-CO", last_attempt_at=T0 + timedelta(minutes=5), last_success_at=T0 + timedelta(minutes=5),
                          functions_last_cycle=3, events_last_cycle=2)
    await store.record_poll(recovered)

    states = await store.poll_states()

    assert states == [PollState("B-CO", last_attempt_at=T0, last_success_at=T0, functions_last_cycle=3), recovered]


# --- Intacct wake-ups ---------------------------------------------------------------------------
async def test_wakeups_are_counted_per_company_with_the_last_arrival(store: SqlStore):
    assert await store.wakeup_states() == []
    assert await store.record_wakeup("DEMO-CO", kind="smart_event", now=T0) == 1
    assert await store.record_wakeup("B-CO", kind="platform_trigger", now=T0) == 1
    assert await store.record_wakeup("DEMO-CO", kind="platform_trigger", now=T0 + timedelta(seconds=5)) == 2

    assert await store.wakeup_states() == [
        WakeUpState("B-CO", last_at=T0, last_kind="platform_trigger", received=1),
        WakeUpState("DEMO-CO", last_at=T0 + timedelta(seconds=5), last_kind="platform_trigger", received=2),
    ]


async def test_the_trigger_alert_is_raised_once_until_a_wakeup_clears_it(store: SqlStore):
    assert await store.raise_trigger_alert("DEMO-CO", now=T0)  # no wake-up ever: the row is created alerted
    assert not await store.raise_trigger_alert("DEMO-CO", now=T0 + timedelta(minutes=15))
    assert await store.wakeup_states() == [WakeUpState("DEMO-CO", received=0, trigger_alert_at=T0)]

    await store.record_wakeup("DEMO-CO", kind="smart_event", now=T0 + timedelta(hours=1))
    assert (await store.wakeup_states())[0].trigger_alert_at is None
    assert await store.raise_trigger_alert("DEMO-CO", now=T0 + timedelta(hours=2))  # broken again: alerted again


async def test_racing_instances_raise_the_trigger_alert_once(backend: Backend, clock: FakeClock):
    stores = [backend.open() for _ in range(4)]
    await stores[0].record_wakeup("DEMO-CO", kind="smart_event", now=clock())
    raised = await asyncio.gather(*(s.raise_trigger_alert("DEMO-CO", now=clock()) for s in stores))
    assert sum(raised) == 1, raised


# --- leases ------------------------------------------------------------------------------------
async def test_lease_is_held_renewed_refused_and_taken_over_after_expiry(store: SqlStore, clock: FakeClock):
    name = "poller:DEMO-CO"
    assert await store.try_lease(name, "instance-a", now=clock(), ttl_seconds=30)
    assert not await store.try_lease(name, "instance-b", now=clock.advance(10), ttl_seconds=30)
    assert await store.try_lease(name, "instance-a", now=clock.advance(10), ttl_seconds=30)  # renewed to +50
    assert not await store.try_lease(name, "instance-b", now=clock.advance(29), ttl_seconds=30)
    assert await store.try_lease(name, "instance-b", now=clock.advance(1), ttl_seconds=30)  # a's lease expired
    assert not await store.try_lease(name, "instance-a", now=clock(), ttl_seconds=30)
    assert await store.try_lease("poller:B-CO", "instance-a", now=clock(), ttl_seconds=30)


async def test_lease_is_released_only_by_its_holder(store: SqlStore, clock: FakeClock):
    assert await store.try_lease("poller:DEMO-CO", "instance-a", now=clock(), ttl_seconds=300)

    await store.release_lease("poller:DEMO-CO", "instance-b")
    assert not await store.try_lease("poller:DEMO-CO", "instance-b", now=clock(), ttl_seconds=300)

    await store.release_lease("poller:DEMO-CO", "instance-a")
    assert await store.try_lease("poller:DEMO-CO", "instance-b", now=clock(), ttl_seconds=300)


async def test_live_leases_are_counted_by_name_prefix(store: SqlStore, clock: FakeClock):
    assert await store.try_lease("teams-budget:a", "a", now=clock(), ttl_seconds=30)
    assert await store.try_lease("teams-budget:b", "b", now=clock.advance(10), ttl_seconds=30)
    assert await store.try_lease("teams-budget_x", "c", now=clock(), ttl_seconds=30)  # another prefix ("_" is no wildcard)
    assert await store.try_lease("poller:DEMO-CO", "a", now=clock(), ttl_seconds=30)

    assert await store.count_leases("teams-budget:", now=clock()) == 2
    assert await store.count_leases("teams-budget:", now=clock.advance(20)) == 1  # a's expired
    await store.release_lease("teams-budget:b", "b")
    assert await store.count_leases("teams-budget:", now=clock()) == 0


async def test_lease_holder_names_the_live_holder_and_its_expiry(store: SqlStore, clock: FakeClock):
    assert await store.lease_holder("poller:DEMO-CO", now=clock()) is None
    assert await store.try_lease("poller:DEMO-CO", "host-1:42:ab12", now=clock(), ttl_seconds=30)
    assert await store.lease_holder("poller:DEMO-CO", now=clock.advance(10)) == ("host-1:42:ab12", clock() + timedelta(seconds=20))
    assert await store.lease_holder("poller:B-CO", now=clock()) is None
    assert await store.lease_holder("poller:DEMO-CO", now=clock.advance(20)) is None  # expired: nobody holds it
    await store.release_lease("poller:DEMO-CO", "host-1:42:ab12")
    assert await store.lease_holder("poller:DEMO-CO", now=clock.advance(-30)) is None


async def test_racing_holders_exactly_one_wins(backend: Backend, clock: FakeClock):
    stores = [backend.open() for _ in range(4)]
    for round_no in range(5):
        name = f"poller:CO-{round_no}"
        wins = await asyncio.gather(
            *(store.try_lease(name, f"instance-{i}", now=clock(), ttl_seconds=30) for i, store in enumerate(stores))
        )
        assert sum(wins) == 1, wins


# --- outbox ------------------------------------------------------------------------------------
async def test_outbox_row_goes_pending_claimed_sending_delivered(store: SqlStore, clock: FakeClock):
    await commit(store, outbox=[new_item("k1")])
    assert await store.outbox_depth() == 1

    [claimed] = await store.claim_outbox("notifier-a", now=clock(), limit=10, claim_seconds=60)
    assert (claimed.status, claimed.attempts) == ("pending", 0)
    assert await store.mark_sending(claimed.id, "notifier-a", now=clock())
    [sending] = await store.outbox_items(status="sending")
    assert sending.attempts == 1

    await store.mark_delivered(claimed.id, now=clock.advance(1), activity_id="1700000000000")

    [delivered] = await store.outbox_items(status="delivered")
    assert (delivered.id, delivered.attempts, delivered.status) == (claimed.id, 1, "delivered")
    assert await store.outbox_depth() == 0
    assert await store.claim_outbox("notifier-a", now=clock.advance(3600), limit=10, claim_seconds=60) == []


async def test_claim_takes_due_rows_oldest_first_up_to_the_limit(store: SqlStore, clock: FakeClock):
    await commit(store, outbox=[new_item(f"k{n}", record_no=n, at=T0 + timedelta(seconds=n)) for n in range(5)])

    first = await store.claim_outbox("a", now=T0 + timedelta(seconds=3), limit=3, claim_seconds=60)
    rest = await store.claim_outbox("a", now=T0 + timedelta(seconds=10), limit=10, claim_seconds=60)

    assert [i.event_key for i in first] == ["k0", "k1", "k2"]
    assert [i.event_key for i in rest] == ["k3", "k4"]  # k0–k2 stay claimed by a
    assert await store.claim_outbox("c", now=T0, limit=0, claim_seconds=60) == []


async def test_a_conversation_belongs_to_one_holder_while_its_claims_last(store: SqlStore, clock: FakeClock):
    # Teams' limits count per conversation and each instance paces only its own writes.
    await commit(store, outbox=[new_item("k1", record_no=1), new_item("k2", record_no=2),
                                new_item("k3", record_no=3, conversation=OTHER_CHANNEL)])  # fmt: skip
    [mine] = await store.claim_outbox("a", now=clock(), limit=1, claim_seconds=60)

    theirs = await store.claim_outbox("b", now=clock(), limit=10, claim_seconds=60)

    assert mine.event_key == "k1"
    assert [i.event_key for i in theirs] == ["k3"]  # not k2: a holds its channel
    assert [i.event_key for i in await store.claim_outbox("a", now=clock(), limit=10, claim_seconds=60)] == ["k2"]
    await store.mark_delivered(mine.id, now=clock.advance(1), activity_id="1")
    assert await store.claim_outbox("b", now=clock(), limit=10, claim_seconds=60) == [], "k2 is still a's"
    again = await store.claim_outbox("b", now=clock.advance(60), limit=10, claim_seconds=60)
    assert [i.event_key for i in again] == ["k2", "k3"]  # a's claim on k2 ran out (b's own on k3 too)


async def test_an_expired_claim_makes_the_row_claimable_again(store: SqlStore, clock: FakeClock):
    await commit(store, outbox=[new_item("k1")])
    [item] = await store.claim_outbox("dead", now=clock(), limit=10, claim_seconds=30)

    assert await store.claim_outbox("alive", now=clock.advance(29), limit=10, claim_seconds=30) == []
    [again] = await store.claim_outbox("alive", now=clock.advance(1), limit=10, claim_seconds=30)

    assert again.id == item.id
    assert not await store.mark_sending(item.id, "dead", now=clock())  # the dead holder lost it
    assert await store.mark_sending(item.id, "alive", now=clock())


async def test_a_row_whose_holder_died_mid_send_is_claimed_again_as_sending(store: SqlStore, clock: FakeClock):
    await commit(store, outbox=[new_item("k1")])
    [item] = await store.claim_outbox("dead", now=clock(), limit=10, claim_seconds=30)
    assert await store.mark_sending(item.id, "dead", now=clock())

    assert await store.outbox_depth() == 1
    [again] = await store.claim_outbox("alive", now=clock.advance(31), limit=10, claim_seconds=30)

    assert (again.id, again.status, again.attempts) == (item.id, "sending", 1)
    assert await store.mark_sending(again.id, "alive", now=clock())
    assert (await store.outbox_items())[0].attempts == 2


async def test_mark_sending_fails_once_the_claim_expired(store: SqlStore, clock: FakeClock):
    await commit(store, outbox=[new_item("k1")])
    [item] = await store.claim_outbox("slow", now=clock(), limit=10, claim_seconds=30)

    assert not await store.mark_sending(item.id, "slow", now=clock.advance(30))
    assert not await store.mark_sending(item.id, "never-claimed-it", now=T0)
    assert (await store.outbox_items())[0].attempts == 0


async def test_mark_retry_releases_the_row_until_not_before(store: SqlStore, clock: FakeClock):
    await commit(store, outbox=[new_item("k1")])
    [item] = await store.claim_outbox("a", now=clock(), limit=10, claim_seconds=60)
    assert await store.mark_sending(item.id, "a", now=clock())

    await store.mark_retry(item.id, not_before=clock() + timedelta(seconds=30), error="429 Too Many Requests")

    [row] = await store.outbox_items()
    assert (row.status, row.attempts, row.last_error) == ("pending", 1, "429 Too Many Requests")
    assert row.not_before == clock() + timedelta(seconds=30)
    assert await store.claim_outbox("b", now=clock.advance(29), limit=10, claim_seconds=60) == []
    [again] = await store.claim_outbox("b", now=clock.advance(1), limit=10, claim_seconds=60)
    assert again.id == item.id


async def test_mark_failed_is_final(store: SqlStore, clock: FakeClock):
    await commit(store, outbox=[new_item("k1"), new_item("k2", record_no=2)])
    [first, _] = await store.claim_outbox("a", now=clock(), limit=10, claim_seconds=60)

    await store.mark_failed(first.id, now=clock(), error="403 Forbidden: bot not in the team")

    [failed] = await store.outbox_items(status="failed")
    assert (failed.id, failed.last_error) == (first.id, "403 Forbidden: bot not in the team")
    assert await store.outbox_depth() == 1
    assert [i.event_key for i in await store.claim_outbox("b", now=clock.advance(3600), limit=10, claim_seconds=60)] == ["k2"]


async def test_a_finished_row_is_not_reopened_by_a_late_retry_or_failure(store: SqlStore, clock: FakeClock):
    await commit(store, outbox=[new_item("k1")])
    [item] = await store.claim_outbox("a", now=clock(), limit=10, claim_seconds=60)
    await store.mark_delivered(item.id, now=clock(), activity_id="1")

    await store.mark_retry(item.id, not_before=clock(), error="late timeout")
    await store.mark_failed(item.id, now=clock(), error="late failure")

    [row] = await store.outbox_items()
    assert (row.status, row.last_error) == ("delivered", None)


async def test_marking_an_unknown_outbox_row_raises_store_error(store: SqlStore, clock: FakeClock):
    for call in (
        store.mark_sending(999, "a", now=clock()),
        store.mark_delivered(999, now=clock(), activity_id=None),
        store.mark_retry(999, not_before=clock(), error="x"),
        store.mark_failed(999, now=clock(), error="x"),
    ):
        with pytest.raises(StoreError, match="999"):
            await call


async def test_a_later_change_of_a_record_waits_for_the_earlier_one_in_the_same_channel(store: SqlStore, clock: FakeClock):
    await commit(store, outbox=[
        new_item("bill-5-created", record_no=5),
        new_item("bill-5-created", record_no=5, conversation=OTHER_CHANNEL),
        new_item("bill-5-approved", record_no=5),
        new_item("bill-6-created", record_no=6),
    ])

    first = await store.claim_outbox("a", now=clock(), limit=10, claim_seconds=60)
    assert [(i.event_key, i.conversation_id) for i in first] == [
        ("bill-5-created", CHANNEL), ("bill-5-created", OTHER_CHANNEL), ("bill-6-created", CHANNEL)
    ]
    created = first[0]
    await store.mark_retry(created.id, not_before=clock() + timedelta(seconds=10), error="503")
    assert await store.claim_outbox("a", now=clock.advance(5), limit=10, claim_seconds=60) == []

    [retried] = await store.claim_outbox("a", now=clock.advance(5), limit=10, claim_seconds=60)
    assert retried.id == created.id
    await store.mark_delivered(retried.id, now=clock(), activity_id="1")
    [approved] = await store.claim_outbox("a", now=clock(), limit=10, claim_seconds=60)
    assert approved.event_key == "bill-5-approved"


async def test_outbox_items_filters_by_status_and_limits(store: SqlStore, clock: FakeClock):
    await commit(store, outbox=[new_item(f"k{n}", record_no=n) for n in range(4)])
    [item, *_] = await store.claim_outbox("a", now=clock(), limit=1, claim_seconds=60)
    await store.mark_delivered(item.id, now=clock(), activity_id="1")

    assert [i.event_key for i in await store.outbox_items(status="pending")] == ["k1", "k2", "k3"]
    assert [i.event_key for i in await store.outbox_items(limit=2)] == ["k0", "k1"]


async def test_a_huge_error_text_is_cut_visibly(store: SqlStore, clock: FakeClock):
    await commit(store, outbox=[new_item("k1")])
    [item] = await store.claim_outbox("a", now=clock(), limit=1, claim_seconds=60)

    await store.mark_retry(item.id, not_before=clock(), error="<html>" + "x" * 100_000)

    [row] = await store.outbox_items()
    assert row.last_error is not None and len(row.last_error) <= 4000 and row.last_error.endswith("[truncated]")


async def test_concurrent_claimers_never_claim_the_same_row_or_share_a_channel(backend: Backend, clock: FakeClock):
    setup = backend.open()
    channel = [f"19:channel-{n % 20}@thread.tacv2" for n in range(500)]
    await commit(setup, outbox=[new_item(f"k{n}", record_no=n, conversation=channel[n]) for n in range(500)])
    claimers = [backend.open() for _ in range(5)]

    # Every claimer makes its first claim before any makes a second, so they really compete for the
    # rows, however the machine schedules them (one claimer alone could otherwise hold all 20
    # channels after three claims, before the others start).
    first_claims = asyncio.Barrier(len(claimers))

    async def drain(store: SqlStore, holder: str) -> list[OutboxItem]:
        mine = await store.claim_outbox(holder, now=clock(), limit=7, claim_seconds=300)
        await first_claims.wait()
        while batch := await store.claim_outbox(holder, now=clock(), limit=7, claim_seconds=300):
            mine.extend(batch)
        return mine

    results = await asyncio.gather(*(drain(store, f"instance-{n}") for n, store in enumerate(claimers)))

    claimed = [item.id for result in results for item in result]
    assert len(claimed) == 500 and len(set(claimed)) == 500
    assert sum(1 for result in results if result) > 1  # they really ran side by side
    holders = [{item.conversation_id for item in result} for result in results]
    assert sum(map(len, holders)) == len(set().union(*holders)) == 20, "a channel went to two instances"


def line(n: int, *, action: str = "post", outcome: str = "ok", error: str | None = None) -> AuditEntry:
    """The audit line of row `n`'s delivery."""
    return AuditEntry(at=T0, action=action, outcome=outcome, company="DEMO-CO", event_key=f"k{n}", record_kind="bill",
                      record_no=n, conversation_id=CHANNEL, activity_id=None if error else f"act-{n}", error=error)


def card_of(n: int, activity_id: str | None = None) -> PostedCard:
    """Where the card of bill `n` sits."""
    activity = activity_id or f"act-{n}"
    return PostedCard("DEMO-CO", "bill", n, CHANNEL, f"{CHANNEL};messageid={activity}", activity, T0)


async def claimed_sending(store: SqlStore, clock: FakeClock, count: int) -> list[int]:
    """`count` new rows, claimed by "a" and committed as sending."""
    await commit(store, outbox=[new_item(f"k{n}", record_no=n) for n in range(count)])
    ids = [item.id for item in await store.claim_outbox("a", now=clock(), limit=count, claim_seconds=60)]
    assert await store.mark_sending_many(ids, "a", now=clock()) == set(ids)
    return ids


async def test_record_delivery_commits_the_row_its_card_and_its_audit_line_together(store: SqlStore, clock: FakeClock):
    [item_id] = await claimed_sending(store, clock, 1)

    await store.record_delivery(item_id, now=clock.advance(1), activity_id="act-0", posted_card=card_of(0), audit=line(0))

    [row] = await store.outbox_items()
    assert (row.status, row.attempts, await store.outbox_depth()) == ("delivered", 1, 0)
    assert await store.get_posted_card("DEMO-CO", "bill", 0, CHANNEL) == card_of(0)
    [entry] = await store.list_audit()
    assert entry == dataclasses.replace(line(0), id=entry.id)


async def test_record_delivery_of_an_unknown_row_writes_nothing(store: SqlStore, clock: FakeClock):
    with pytest.raises(StoreError, match="999"):
        await store.record_delivery(999, now=clock(), activity_id="act-9", posted_card=card_of(9), audit=line(9))

    assert await store.get_posted_card("DEMO-CO", "bill", 9, CHANNEL) is None
    assert await store.list_audit() == []


async def test_record_deliveries_commits_a_batch_and_refuses_it_whole_for_one_unknown_row(store: SqlStore, clock: FakeClock):
    first, second, third = await claimed_sending(store, clock, 3)
    batch = [
        Delivery(first, clock(), "act-0", card_of(0), line(0)),
        Delivery(second, clock(), None, None, line(1, action="skip", outcome="skipped")),
    ]

    with pytest.raises(StoreError, match="999"):
        await store.record_deliveries([*batch, Delivery(999, clock(), "act-9", card_of(9), line(9))])
    assert [r.status for r in await store.outbox_items()] == ["sending"] * 3 and await store.list_audit() == []

    await store.record_deliveries(batch)
    await store.record_deliveries([])

    assert [r.status for r in await store.outbox_items()] == ["delivered", "delivered", "sending"]
    assert await store.get_posted_card("DEMO-CO", "bill", 0, CHANNEL) == card_of(0)
    assert await store.get_posted_card("DEMO-CO", "bill", 1, CHANNEL) is None
    assert [(e.event_key, e.action) for e in await store.list_audit()] == [("k0", "post"), ("k1", "skip")]


async def test_record_delivery_updates_a_card_already_recorded(store: SqlStore, clock: FakeClock):
    [item_id] = await claimed_sending(store, clock, 1)
    await store.save_posted_card(card_of(0))
    moved = dataclasses.replace(card_of(0), updated_at=T0 + timedelta(minutes=5))

    await store.record_delivery(item_id, now=clock(), activity_id="act-0", posted_card=moved, audit=line(0, action="update"))

    assert await store.get_posted_card("DEMO-CO", "bill", 0, CHANNEL) == moved


async def test_record_failure_fails_the_row_with_its_line_and_keeps_a_delivered_row_delivered(store: SqlStore, clock: FakeClock):
    first, second = await claimed_sending(store, clock, 2)
    await store.mark_delivered(second, now=clock(), activity_id="act-1")

    refused = "HTTP 400 BadArgument"
    await store.record_failure(first, now=clock(), error=refused, audit=line(0, outcome="failed", error=refused))
    await store.record_failure(second, now=clock(), error="late", audit=line(1, outcome="failed", error="late"))

    assert [(r.status, r.last_error) for r in await store.outbox_items()] == [("failed", refused), ("delivered", None)]
    assert [(e.event_key, e.outcome) for e in await store.list_audit()] == [("k0", "failed"), ("k1", "failed")]
    with pytest.raises(StoreError, match="999"):
        await store.record_failure(999, now=clock(), error="x", audit=line(9, outcome="failed", error="x"))
    assert len(await store.list_audit()) == 2, "the unknown row's line was rolled back"


async def test_mark_unsent_releases_the_row_and_takes_its_attempt_back(store: SqlStore, clock: FakeClock):
    [item_id] = await claimed_sending(store, clock, 1)
    later = clock() + timedelta(minutes=5)

    await store.mark_unsent(item_id, not_before=later, error="HTTP 401 BotNotRegistered")

    [row] = await store.outbox_items()
    assert (row.status, row.attempts, row.not_before, row.last_error) == ("pending", 0, later, "HTTP 401 BotNotRegistered")
    assert await store.claim_outbox("b", now=later - timedelta(seconds=1), limit=5, claim_seconds=60) == []
    [again] = await store.claim_outbox("b", now=later, limit=5, claim_seconds=60)
    await store.mark_unsent(again.id, not_before=later, error="never below zero")
    assert (await store.outbox_items())[0].attempts == 0
    await store.mark_delivered(again.id, now=later, activity_id="act-0")
    await store.mark_unsent(again.id, not_before=later, error="late")
    assert (await store.outbox_items())[0].status == "delivered", "a finished row stays finished"
    with pytest.raises(StoreError, match="999"):
        await store.mark_unsent(999, not_before=later, error="x")


async def test_mark_sending_many_marks_the_rows_still_claimed_in_one_statement(store: SqlStore, clock: FakeClock):
    await commit(store, outbox=[new_item(f"k{n}", record_no=n, conversation=CHANNEL if n < 2 else OTHER_CHANNEL) for n in range(4)])
    mine = [i.id for i in await store.claim_outbox("a", now=clock(), limit=2, claim_seconds=30)]
    theirs = [i.id for i in await store.claim_outbox("b", now=clock(), limit=2, claim_seconds=30)]
    statements = count_statements(store)

    marked = await store.mark_sending_many([*mine, *theirs], "a", now=clock())

    assert marked == set(mine)
    assert [(r.status, r.attempts) for r in await store.outbox_items()] == [("sending", 1)] * 2 + [("pending", 0)] * 2
    assert len([s for s in statements if s.lstrip().upper().startswith("UPDATE")]) == 1
    assert await store.mark_sending_many(mine, "a", now=clock.advance(31)) == set(), "claims expired"
    assert await store.mark_sending_many([], "a", now=clock()) == set()
    with pytest.raises(StoreError, match="999"):
        await store.mark_sending_many([theirs[0], 999], "b", now=T0)
    assert [r.status for r in await store.outbox_items()][2:] == ["pending", "pending"], "nothing marked"


async def test_prune_outbox_removes_only_rows_finished_before_the_cutoff(store: SqlStore, clock: FakeClock):
    await commit(store, outbox=[new_item(f"k{n}", record_no=n) for n in range(5)])
    ids = [item.id for item in await store.claim_outbox("a", now=clock(), limit=5, claim_seconds=60)]
    assert await store.mark_sending_many(ids, "a", now=clock()) == set(ids)
    await store.mark_delivered(ids[0], now=T0, activity_id="act-0")  # old: goes
    await store.mark_failed(ids[1], now=T0, error="HTTP 400")  # old: goes
    await store.mark_delivered(ids[2], now=T0 + timedelta(days=31), activity_id="act-2")  # recent: stays
    await store.mark_retry(ids[3], not_before=T0, error="503")  # pending, however old: stays
    # ids[4] is still "sending": stays

    removed = await store.prune_outbox(finished_before=T0 + timedelta(days=30))

    assert removed == 2
    assert sorted((r.id, r.status) for r in await store.outbox_items()) == [
        (ids[2], "delivered"), (ids[3], "pending"), (ids[4], "sending")]
    assert await store.prune_outbox(finished_before=T0 + timedelta(days=30)) == 0


# --- routes ------------------------------------------------------------------------------------
async def add(store: SqlStore, kinds: set[str], *, conversation: str = CHANNEL, filter: RouteFilter = RouteFilter(),
              company: str | None = "DEMO-CO", team: str | None = "team-guid-1", name: str | None = "AP approvals",
              now: datetime = T0):
    """Add a route with sensible defaults."""
    return await store.add_route(
        conversation, frozenset(kinds), filter=filter, company=company, team_id=team,
        tenant_id="tenant-guid", channel_name=name, created_by="29:user", now=now,
    )


async def test_add_route_stores_every_field(store: SqlStore):
    flt = RouteFilter(department="D100", location="L1", vendor="V-ACME", min_amount=Decimal("1234567.8901"), entity="E1")

    route = await add(store, {"payments", "bills"}, filter=flt)

    assert route.event_kinds == frozenset({"bills", "payments"})
    assert (route.filter, route.company, route.team_id, route.tenant_id) == (flt, "DEMO-CO", "team-guid-1", "tenant-guid")
    assert (route.channel_name, route.active, route.inactive_reason, route.created_by, route.created_at) == (
        "AP approvals", True, None, "29:user", T0
    )
    assert await store.list_routes() == [route]
    assert (await store.list_routes())[0].filter.min_amount == Decimal("1234567.8901")


async def test_adding_an_identical_route_returns_the_existing_one(store: SqlStore):
    first = await add(store, {"bills", "payments"}, filter=RouteFilter(min_amount=Decimal("100.00")))

    same = await add(store, {"payments", "bills"}, filter=RouteFilter(min_amount=Decimal("100")), now=T0 + timedelta(days=1))
    other_amount = await add(store, {"bills", "payments"}, filter=RouteFilter(min_amount=Decimal("100.01")))
    other_kinds = await add(store, {"bills"}, filter=RouteFilter(min_amount=Decimal("100")))
    other_company = await add(store, {"bills", "payments"}, filter=RouteFilter(min_amount=Decimal("100")), company=None)
    other_channel = await add(store, {"bills", "payments"}, filter=RouteFilter(min_amount=Decimal("100")), conversation=OTHER_CHANNEL)

    assert same.id == first.id and same.created_at == T0
    assert len({first.id, other_amount.id, other_kinds.id, other_company.id, other_channel.id}) == 5
    assert len(await store.list_routes()) == 5


async def test_adding_an_identical_inactive_route_switches_it_back_on(store: SqlStore):
    first = await add(store, {"bills"})
    await store.set_routes_active(CHANNEL, False, reason="bot removed from the team")

    again = await add(store, {"bills"})

    assert (again.id, again.active, again.inactive_reason) == (first.id, True, None)


async def test_add_route_refuses_empty_or_malformed_kinds(store: SqlStore):
    for kinds in (set(), {"bills,payments"}, {""}):
        with pytest.raises(ValueError):
            await add(store, kinds)


async def test_list_routes_by_channel_team_and_activity(store: SqlStore):
    a = await add(store, {"bills"})
    b = await add(store, {"payments"}, conversation=OTHER_CHANNEL, team="team-guid-2")
    c = await add(store, {"vendors"}, conversation="19:third@thread.tacv2", team="team-guid-2")
    await store.set_routes_active("19:third@thread.tacv2", False, reason="channel deleted")

    assert [r.id for r in await store.list_routes(conversation_id=CHANNEL)] == [a.id]
    assert [r.id for r in await store.list_routes(team_id="team-guid-2")] == [b.id, c.id]
    assert [r.id for r in await store.list_routes(team_id="team-guid-2", active_only=True)] == [b.id]
    assert [r.id for r in await store.list_routes(active_only=True)] == [a.id, b.id]


async def test_set_routes_active_counts_the_routes_that_changed(store: SqlStore):
    await add(store, {"bills"})
    await add(store, {"payments"})
    await add(store, {"bills"}, conversation=OTHER_CHANNEL)

    assert await store.set_routes_active(CHANNEL, False, reason="403 Forbidden") == 2
    assert await store.set_routes_active(CHANNEL, False, reason="403 Forbidden") == 0
    assert {(r.active, r.inactive_reason) for r in await store.list_routes(conversation_id=CHANNEL)} == {(False, "403 Forbidden")}
    assert await store.set_routes_active(CHANNEL, True, reason=None) == 2
    assert {(r.active, r.inactive_reason) for r in await store.list_routes(conversation_id=CHANNEL)} == {(True, None)}


async def test_rename_channel_updates_its_routes(store: SqlStore):
    await add(store, {"bills"})
    await add(store, {"payments"})
    await add(store, {"bills"}, conversation=OTHER_CHANNEL, name="Finance")

    assert await store.rename_channel(CHANNEL, "AP – approvals") == 2

    assert {r.channel_name for r in await store.list_routes(conversation_id=CHANNEL)} == {"AP – approvals"}
    assert [r.channel_name for r in await store.list_routes(conversation_id=OTHER_CHANNEL)] == ["Finance"]


async def test_remove_routes_by_kinds_narrows_or_deletes(store: SqlStore):
    both = await add(store, {"bills", "payments"})
    bills_only = await add(store, {"bills"}, filter=RouteFilter(vendor="V-ACME"))
    payments = await add(store, {"payments"}, company=None)
    other = await add(store, {"bills"}, conversation=OTHER_CHANNEL)

    assert await store.remove_routes(CHANNEL, frozenset({"bills"})) == 2

    left = await store.list_routes()
    assert [(r.id, r.event_kinds) for r in left] == [
        (both.id, frozenset({"payments"})), (payments.id, frozenset({"payments"})), (other.id, frozenset({"bills"}))
    ]
    assert bills_only.id not in {r.id for r in left}
    # The narrowed route is now the same subscription as a plain payments route: no duplicate.
    assert (await add(store, {"payments"})).id == both.id


async def test_narrowing_onto_an_existing_route_deletes_the_duplicate(store: SqlStore):
    await add(store, {"bills", "payments"})
    payments = await add(store, {"payments"})

    assert await store.remove_routes(CHANNEL, frozenset({"bills"})) == 1

    assert [r.id for r in await store.list_routes()] == [payments.id]


async def test_remove_all_routes_of_a_channel_and_one_by_id(store: SqlStore):
    await add(store, {"bills"})
    await add(store, {"payments"})
    keep = await add(store, {"bills"}, conversation=OTHER_CHANNEL)
    gone = await add(store, {"vendors"}, conversation=OTHER_CHANNEL)

    assert await store.remove_routes(CHANNEL) == 2
    assert await store.remove_route(gone.id)
    assert not await store.remove_route(gone.id)
    assert [r.id for r in await store.list_routes()] == [keep.id]


# --- conversations and posted cards ------------------------------------------------------------
def conversation(conversation_id: str, *, team: str | None = "19:team@thread.tacv2", at: datetime = T0) -> ConversationRecord:
    """A channel conversation reference as the bot stores it."""
    return ConversationRecord(
        conversation_id=conversation_id,
        reference={"bot": {"id": "28:bot"}, "conversation": {"id": conversation_id, "isGroup": True},
                   "serviceUrl": "https://smba.trafficmanager.net/amer/"},
        scope="channel", team_id=team, aad_group_id="team-guid-1", channel_id=conversation_id,
        tenant_id="tenant-guid", service_url="https://smba.trafficmanager.net/amer/", updated_at=at,
    )


async def test_conversations_are_upserted_listed_and_forgotten(store: SqlStore):
    first = conversation(CHANNEL)
    await store.save_conversation(first)
    await store.save_conversation(conversation(OTHER_CHANNEL))
    personal = ConversationRecord("a:1personal", {"conversation": {"id": "a:1personal"}}, "personal")
    await store.save_conversation(personal)
    moved = conversation(CHANNEL, at=T0 + timedelta(hours=1))
    await store.save_conversation(moved)

    assert await store.get_conversation(CHANNEL) == moved
    assert await store.get_conversation("19:unknown@thread.tacv2") is None
    assert await store.get_conversation("a:1personal") == personal
    assert [c.conversation_id for c in await store.list_conversations(team_id="19:team@thread.tacv2")] == [
        CHANNEL, OTHER_CHANNEL
    ]
    assert len(await store.list_conversations()) == 3

    assert await store.forget_conversations(conversation_id="a:1personal") == 1
    assert await store.forget_conversations(team_id="19:team@thread.tacv2") == 2
    assert await store.list_conversations() == []
    with pytest.raises(ValueError):
        await store.forget_conversations()


async def test_posted_cards_are_saved_updated_and_forgotten(store: SqlStore):
    card = PostedCard("DEMO-CO", "bill", 5, CHANNEL, f"{CHANNEL};messageid=1700000000000", "1700000000000", T0)
    await store.save_posted_card(card)
    updated = PostedCard("DEMO-CO", "bill", 5, CHANNEL, f"{CHANNEL};messageid=1700000000000", "1700000000000", T0,
                         updated_at=T0 + timedelta(minutes=5))
    await store.save_posted_card(updated)

    assert await store.get_posted_card("DEMO-CO", "bill", 5, CHANNEL) == updated
    assert await store.get_posted_card("DEMO-CO", "bill", 5, OTHER_CHANNEL) is None
    assert await store.get_posted_card("DEMO-CO", "payment", 5, CHANNEL) is None

    await store.forget_posted_card("DEMO-CO", "bill", 5, CHANNEL)
    assert await store.get_posted_card("DEMO-CO", "bill", 5, CHANNEL) is None


# --- audit -------------------------------------------------------------------------------------
async def test_audit_is_listed_in_time_order_with_since_until_and_limit(store: SqlStore):
    times = [T0 + timedelta(minutes=m) for m in (3, 1, 2, 1, 5)]
    ids = [
        await store.append_audit(AuditEntry(at=at, action="post", outcome="ok", company="DEMO-CO", event_key=f"k{n}",
                                            record_kind="bill", record_no=n, conversation_id=CHANNEL, activity_id=str(n)))
        for n, at in enumerate(times)
    ]
    failure = AuditEntry(at=T0 + timedelta(minutes=4), action="failure", outcome="gone", error="404 ConversationNotFound")
    failure_id = await store.append_audit(failure)

    everything = await store.list_audit()

    assert ids == sorted(ids) and failure_id > ids[-1]
    assert [e.event_key for e in everything] == ["k1", "k3", "k2", "k0", None, "k4"]
    assert everything[4] == dataclasses.replace(failure, id=failure_id)
    assert everything[0].at == T0 + timedelta(minutes=1) and everything[0].at.tzinfo == timezone.utc
    assert [e.event_key for e in await store.list_audit(since=T0 + timedelta(minutes=2))] == ["k2", "k0", None, "k4"]
    assert [e.event_key for e in await store.list_audit(until=T0 + timedelta(minutes=3))] == ["k1", "k3", "k2"]
    assert [e.event_key for e in await store.list_audit(since=T0 + timedelta(minutes=1), limit=2)] == ["k1", "k3"]


# --- secrets and Graph ---------------------------------------------------------------------------
async def test_secrets_are_stored_as_bytes_and_replaced(store: SqlStore):
    assert await store.load_secrets() == {}
    await store.save_secret("intacct.sender_password", b"gAAAAAB\x00\xff-ciphertext", now=T0)
    await store.save_secret("graph.client_secret", b"first", now=T0)
    await store.save_secret("graph.client_secret", b"second", now=T0 + timedelta(seconds=1))

    assert await store.load_secrets() == {
        "intacct.sender_password": b"gAAAAAB\x00\xff-ciphertext",
        "graph.client_secret": b"second",
    }


async def test_secrets_are_deleted_by_name(store: SqlStore):
    for name in ("APP_ID", "APP_PASSWORD", "INTACCT_USER_PASSWORD"):
        await store.save_secret(name, b"token-" + name.encode(), now=T0)

    assert await store.delete_secrets({"APP_PASSWORD", "INTACCT_USER_PASSWORD", "NEVER_STORED"}) == 2
    assert await store.delete_secrets(set()) == 0
    assert await store.load_secrets() == {"APP_ID": b"token-APP_ID"}


async def test_key_ring_reports_are_upserted_listed_since_and_forgotten(store: SqlStore):
    await store.report_key_ring("host-a:1:aa", ("new00001", "old00002"), now=T0)
    await store.report_key_ring("host-b:2:bb", ("old00002",), now=T0)
    await store.report_key_ring("host-b:2:bb", ("new00001", "old00002"), now=T0 + timedelta(minutes=5))

    assert await store.key_ring_reports(since=T0) == [
        KeyRingReport("host-a:1:aa", ("new00001", "old00002"), T0),
        KeyRingReport("host-b:2:bb", ("new00001", "old00002"), T0 + timedelta(minutes=5)),
    ]
    assert [r.holder for r in await store.key_ring_reports(since=T0 + timedelta(minutes=1))] == ["host-b:2:bb"]
    await store.forget_key_ring("host-a:1:aa")
    assert [r.holder for r in await store.key_ring_reports(since=T0)] == ["host-b:2:bb"]
    with pytest.raises(ValueError):
        await store.report_key_ring("host-c", ("a,b",), now=T0)


async def test_graph_subscriptions_are_upserted_listed_and_deleted(store: SqlStore):
    later = GraphSubscription("sub-1", "team-guid-1", "/teams/team-guid-1/channels", "state-1", T0 + timedelta(days=3), T0)
    sooner = GraphSubscription("sub-2", "team-guid-2", "/teams/team-guid-2/channels", "state-2", T0 + timedelta(days=1), T0)
    await store.save_subscription(later)
    await store.save_subscription(sooner)
    renewed = GraphSubscription("sub-2", "team-guid-2", "/teams/team-guid-2/channels", "state-2", T0 + timedelta(days=4), T0)
    await store.save_subscription(renewed)

    assert await store.list_subscriptions() == [later, renewed]
    await store.delete_subscription("sub-1")
    await store.delete_subscription("sub-unknown")
    assert await store.list_subscriptions() == [renewed]


async def test_any_object_shaped_like_a_subscription_can_be_saved(store: SqlStore):
    @dataclasses.dataclass(frozen=True)
    class GraphsOwnRecord:  # graph/ hands over its own record type (duck typing)
        id: str
        team_id: str
        resource: str
        client_state: str
        expires_at: datetime
        created_at: datetime
        etag: str = "ignored"

    await store.save_subscription(GraphsOwnRecord("sub-9", "team-guid-9", "/teams/team-guid-9/channels", "s", T0, T0))

    assert await store.list_subscriptions() == [
        GraphSubscription("sub-9", "team-guid-9", "/teams/team-guid-9/channels", "s", T0, T0)
    ]


async def test_channel_names_are_replaced_per_team(store: SqlStore):
    await store.save_channel_names("team-guid-1", {CHANNEL: "AP approvals", "19:old@thread.tacv2": "Old"}, now=T0)
    await store.save_channel_names("team-guid-2", {OTHER_CHANNEL: "Finance"}, now=T0)
    await store.save_channel_names("team-guid-1", {CHANNEL: "AP – approvals"}, now=T0 + timedelta(hours=1))

    assert await store.channel_names("team-guid-1") == {CHANNEL: "AP – approvals"}
    assert await store.channel_names() == {CHANNEL: "AP – approvals", OTHER_CHANNEL: "Finance"}
    await store.save_channel_names("team-guid-2", {}, now=T0)
    assert await store.channel_names("team-guid-2") == {}
